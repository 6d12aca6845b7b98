"""The command-line interface: parse, call one library function, render the result."""

from coinpurse.cli.app import app, main

__all__ = ["app", "main"]
