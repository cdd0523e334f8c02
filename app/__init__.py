"""The ground every package builds on (config, crypto, storage, logs, pages, cookies, CSRF, clock, slots)
and, in ``main.py``, ``cli.py`` and ``runtime.py``, the composition root that wires the packages together."""
