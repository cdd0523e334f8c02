"""Tables of the token kernel."""
