"""Portico as each user's OAuth client towards an upstream's authorization server (``credentials: oauth``).

Built on the vault (:mod:`proxy.credentials.vault`), below the resolver:

- :mod:`.grant`: the stored grant (access token, refresh token, expiry, scope) and its JSON form.
- :mod:`.endpoints`: the authorization server's endpoints, configured or discovered (RFC 8414 / OIDC).
- :mod:`.client`: the OAuth client calls (Authlib over httpx2): authorization URL, code, refresh, revoke.
- :mod:`.discovery`, :mod:`.client_store`, :mod:`.client_metadata_document`: ``discover: true``.
- :mod:`.user_grants`: the vault-backed grant of a user for a server, refreshed ahead of expiry, one at a time.
- :mod:`.revoke`: revocation on disconnect (RFC 7009).
"""
