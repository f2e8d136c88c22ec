"""`python -m xfedlint` runs the same command line as `xfedlint`."""

from xfedlint.cli import main

main()
