"""Authlib's authorization server behind one adapter: the grants, registration, revocation and
introspection endpoints registered on it, and the authorization endpoint's decisions."""
