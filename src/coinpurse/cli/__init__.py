"""The command-line interface: parse, call one library function, render the result."""

import gc

# Importing typer and the app allocates many objects that live as long as the
# process; the cyclic collector would scan them again and again (about 5 ms of
# every start). main() keeps it off for the whole short-lived run.
gc.disable()
try:
    from coinpurse.cli.app import app, main
finally:
    gc.enable()

__all__ = ["app", "main"]
