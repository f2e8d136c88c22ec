"""Reporters render one `RunResult`. Each module imports only what its own format needs."""
