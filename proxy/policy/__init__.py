"""Access-policy enforcement on the data plane: decisions cached per (token, server), the guard, list filtering."""
