"""One module per command. Each defines ``register(app)``.

A command parses its options, makes one library call and hands the result to
its JSON or to a renderer in ``coinpurse.cli.render*``. It catches no error and
draws nothing itself: the run's one catch is in ``coinpurse.cli.app``.
"""
