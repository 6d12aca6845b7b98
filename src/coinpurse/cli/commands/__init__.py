"""One module per command. Each defines ``register(app)``; the work is one library call."""
