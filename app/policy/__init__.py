"""Access policy: who may use which server, tool, resource and prompt (docs/policy.md).

- :mod:`app.policy.principal`: :class:`Principal`, who asks.
- :mod:`app.policy.access`: :class:`ServerAccess` and the :class:`AccessPolicy` seam the gateway uses.
- :mod:`app.policy.engine`: :class:`RulePolicy`, the configured rules (``RulePolicy.from_config``).
- :mod:`app.policy.decide`: the one decision function, and when a server is usable.
- :mod:`app.policy.decision`: :class:`Decision` and its :class:`Source` (for explain).
- :mod:`app.policy.summary`: what a principal may use, in words (explain, consent page).
- :mod:`app.policy.rules`, :mod:`app.policy.subjects`, :mod:`app.policy.targets`,
  :mod:`app.policy.globs`: the compiled pieces.
"""
