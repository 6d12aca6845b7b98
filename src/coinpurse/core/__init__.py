"""The domain core: money, names, rates, transactions and the rules of the economy.

Nothing here imports typer or rich, touches the terminal or exits the process.
"""
