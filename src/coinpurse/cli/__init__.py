"""The command-line interface: parse, call one library function, render the result."""

from coinpurse.speedups.collector import CollectorPaused

# Importing typer and the app makes many objects that live as long as the process;
# main() keeps the collector off for the rest of the short-lived run.
with CollectorPaused():
    from coinpurse.cli.app import app, main

__all__ = ["app", "main"]
