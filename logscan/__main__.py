"""`python -m logscan`."""

from logscan.cli import main

main()
