"""The federation graph (pure, no I/O): who can become whom, across files and clouds. See model.py."""
