"""Authlib grants with Portico's storage and rules (the synchronous side of the adapter)."""
