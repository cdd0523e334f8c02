"""Portico as an OAuth client (RFC 6749 §1.1) of upstream authorization servers.

Two users: sign-in at upstream IdPs (:mod:`oauth.login.upstream_idp`) and each user's grant at an
upstream MCP server's authorization server (:mod:`proxy.credentials.oauth`). This package imports
only the ground (``app``) and third-party libraries.

- :mod:`.flow`: one authorization code flow in flight: ``state`` (RFC 6749 §10.12), PKCE
  ``code_verifier`` (RFC 7636 §4.1) and ``nonce`` (OpenID Connect Core 1.0 §3.1.2.1), sealed
  into a browser-bound cookie for 10 minutes.
- :mod:`.callback`: the authorization response at the redirect URI: the flow claimed once
  (``used_states``), then ``iss`` (RFC 9207 §2.4), ``error`` (RFC 6749 §4.1.2.1) and ``code``.
- :mod:`.authlib_client`: the client calls, through Authlib over httpx2: the authorization
  request (RFC 6749 §4.1.1, S256 per RFC 7636 §4.2), the code exchange (RFC 6749 §4.1.3),
  refresh (RFC 6749 §6), revocation (RFC 7009 §2.1) and bearer API calls (RFC 6750 §2.1); the
  token endpoint's answers mapped to :mod:`.errors`. The only module here that imports Authlib.
- :mod:`.discovery`: where an authorization server's metadata is (RFC 8414 §3.1, OpenID Connect
  Discovery 1.0 §4), fetched with its ``issuer`` checked (RFC 8414 §3.3, OIDC Discovery §4.3),
  and its endpoints, configured or discovered, https only (http on loopback).
- :mod:`.http`: plain GETs of public JSON documents (metadata, JWKS), size-capped, failures made
  uniform; the timeout of every client request.
- :mod:`.ssrf`: the SSRF guard for URLs someone else chose (draft-ietf-oauth-client-id-metadata-
  document-00 §6; MCP security best practices, SSRF): resolve once, refuse non-public addresses,
  with its own errors (:class:`~.ssrf.HostNotResolvedError`, :class:`~.ssrf.AddressNotAllowedError`).
- :mod:`.guarded_http`: that guard as an httpx2 transport that connects only to checked
  addresses (no DNS rebinding), the URL check and a guarded JSON GET, for discovered upstreams.
- :mod:`.errors`: the client's failures (:class:`~.errors.OAuthClientError`:
  :class:`~.errors.AuthorizationServerUnavailableError`, :class:`~.errors.TokenRequestError`
  (RFC 6749 §5.2), :class:`~.errors.AuthorizationResponseError` (RFC 6749 §4.1.2.1),
  :class:`~.errors.FlowStateError`), with page-safe messages.
"""
