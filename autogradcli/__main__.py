"""`python -m autogradcli` runs the agrad command line."""

from .cli import main

main()
