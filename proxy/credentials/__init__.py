"""Per-user upstream credentials: configured values, group and default values, the encrypted
vault, OAuth grants at upstream authorization servers, and the one resolver behind them."""
