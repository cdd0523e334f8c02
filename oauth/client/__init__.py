"""Portico as an OAuth client: the PKCE flow, guarded HTTP with the SSRF guard, token requests and
their errors. Used by sign-in at upstream IdPs and by upstream OAuth credentials alike."""
