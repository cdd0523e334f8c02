"""HTTP endpoints of the authorization and resource servers, one per module; thin: parse, delegate, respond."""
