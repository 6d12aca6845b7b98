"""File formats around the domain: how text is read (no floats) and located, what exports write, the rates TOML, the demo scenario.

``core`` holds the economy's rules and types only; what a file looks like lives here.
"""
