"""Per-user upstream credentials: configured values, group and default values, the encrypted
vault, OAuth grants at upstream authorization servers, and the one resolver behind them.

Bottom up: :mod:`.vault` (the encrypted table), :mod:`.oauth` (upstream grants, stored in the
vault), then the modules here — :mod:`.reading` (what is read for one user), :mod:`.resolver`
(the decision, :mod:`.decision`), :mod:`.sources` (the gateway's seam), :mod:`.explain`.
docs/credentials.md, "Resolution order".
"""
