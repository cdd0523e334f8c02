"""The authorization server's HTTP endpoints, one per module; thin: parse, delegate, respond."""
