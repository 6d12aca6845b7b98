"""Speed tricks, each in one named place with a test that it gives what the plain way gives.

- ``collector``: the cyclic garbage collector paused where a run makes many objects and no cycles;
- ``jsontext``: compact and canonical JSON text from C encoders built once;
- ``jsonfile``: a JSON ledger's head, history and ending found without parsing the history.
- ``lotcosts``: what an account's coin lots cost, counted from their stored text without parsing it.

The lowest layer but errors: it imports nothing of coinpurse, so any layer may use it.
Why each trick pays, and the measurements, are in docs/performance.md.
"""
