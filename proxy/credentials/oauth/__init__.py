"""Portico as each user's OAuth client towards an upstream's authorization server (``credentials: oauth``).

- :mod:`.grant`: the stored grant (access token, refresh token, expiry, scope) and its JSON form.
- :mod:`.endpoints`: the authorization server's endpoints, configured or discovered (RFC 8414 / OIDC).
- :mod:`.client`: the OAuth client calls (Authlib over httpx2): authorization URL, code, refresh, revoke.
- :mod:`.grants`: the vault-backed grant of a user for a server, refreshed ahead of expiry, one at a time.
- :mod:`.routes`: ``POST /connections/oauth/start`` and ``GET /connections/<server>/callback``.
"""
