"""xfedlint: static audit and lint for workload identity federation."""

__version__ = "0.1.0"
