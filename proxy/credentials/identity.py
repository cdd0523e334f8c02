"""Signed identity for HTTP upstreams (``servers.<name>.identity``): minted cold, reused warm.

:class:`UpstreamIdentities` answers the header a request to such a server carries: an identity
assertion (:mod:`oauth.tokens.identity_assertions`) for the token's user and client, audience the
server's ``url``. The cold path reads the user's stored account (email, IdP groups) on the bounded
database executor (:func:`app.db.run_db`, as :mod:`proxy.policy.decisions` does) and signs once;
the result is kept per ``(subject, client_id, server, kid)`` until less than a fifth of its
lifetime remains, so a warm request does one dictionary lookup: no database, no signature. The
signing key's ``kid`` is part of the key: after a rotation the next request mints with the new key.
A subject without an account is named with the token's email and no groups.

Entries are bounded by ``max_entries``: the stale ones are dropped first, then the oldest tenth.
Group changes reach the upstream with the next assertion (at most 80 % of ``lifetime`` later).
Assertions are JWTs, which the log redactor removes by their shape (:func:`app.log.redact`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import anyio
from joserfc.jwk import ECKey

from app.config.schema import IdentityConfig, StreamableHttpServerConfig
from app.db import run_db
from oauth.login.api import find_account
from oauth.tokens.access_tokens import AccessTokenClaims
from oauth.tokens.context import TokenContext
from oauth.tokens.identity_assertions import IdentityStatement, issue_identity_assertion
from proxy.wire.mcp_sessions import McpSession

DEFAULT_MAX_ENTRIES: Final = 10_000
RENEW_FRACTION: Final = 0.2
"""An assertion is replaced once less than this fraction of its lifetime remains."""

_Key = tuple[str, str, str, str]  # (subject, client_id, server, kid)


@dataclass(frozen=True)
class _Minted:
    headers: Mapping[str, str]
    renew_at: float  # epoch seconds


class UpstreamIdentities:
    """The identity header of each server with ``identity`` configured, per user, client and signing key."""

    def __init__(self, tokens: TokenContext, *, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        self._tokens = tokens
        self._max_entries = max_entries
        self._servers: dict[str, tuple[IdentityConfig, str]] = {
            name: (spec.identity, spec.url)
            for name, spec in tokens.config.servers.items()
            if isinstance(spec, StreamableHttpServerConfig) and spec.identity is not None
        }
        self._entries: dict[_Key, _Minted] = {}
        self._minting: dict[_Key, anyio.Event] = {}

    def configured(self, server: str) -> bool:
        """True when ``server`` sends a signed identity."""
        return server in self._servers

    async def headers(self, server: str, claims: AccessTokenClaims | None) -> Mapping[str, str]:
        """``{header: value}`` naming ``claims``' user and client to ``server`` (empty: no identity there).

        Raises:
            app.db_outage.DatabaseUnavailableError: a cold mint could not read the account (nothing cached).
            LookupError: ``server`` sends an identity but the request carries no verified token.
        """
        spec = self._servers.get(server)
        if spec is None:
            return {}
        if claims is None:
            raise LookupError(f"servers.{server}.identity: the request has no verified access token to vouch for")
        tokens = self._tokens
        now = tokens.clock.now().timestamp()
        signing = tokens.signing_keys.key_at(now)
        key = (claims.subject, claims.client_id, server, str(signing.kid))
        hit = self._entries.get(key)
        if hit is not None and hit.renew_at > now:
            return hit.headers
        return await self._mint(key, signing, spec, claims)

    async def _mint(
        self, key: _Key, signing: ECKey, spec: tuple[IdentityConfig, str], claims: AccessTokenClaims
    ) -> Mapping[str, str]:
        waiting = self._minting.get(key)
        if waiting is not None:  # one user's first requests arrive together: one read, one signature
            await waiting.wait()
            hit = self._entries.get(key)
            if hit is not None:
                return hit.headers
        done = self._minting[key] = anyio.Event()
        try:
            account = await run_db(self._tokens.db, lambda db: find_account(db, claims.subject))
            statement = IdentityStatement(
                subject=claims.subject,
                email=account.email if account is not None else claims.email,
                groups=account.groups if account is not None else (),
                client_id=claims.client_id,
            )
            minted = self._sign(signing, spec, statement)
            self._store(key, minted)
        finally:
            if self._minting.get(key) is done:
                del self._minting[key]
            done.set()
        return minted.headers

    def _sign(self, signing: ECKey, spec: tuple[IdentityConfig, str], statement: IdentityStatement) -> _Minted:
        config, audience = spec
        tokens = self._tokens
        now = tokens.clock.now().timestamp()
        assertion = issue_identity_assertion(
            signing,
            statement,
            issuer=tokens.config.public_url,
            audience=audience,
            now=int(now),
            lifetime=config.lifetime,
        )
        renew_at = int(now) + config.lifetime * (1 - RENEW_FRACTION)
        return _Minted({config.header: config.render(assertion)}, renew_at)

    def _store(self, key: _Key, minted: _Minted) -> None:
        if len(self._entries) >= self._max_entries:
            now = self._tokens.clock.now().timestamp()
            self._entries = {k: v for k, v in self._entries.items() if v.renew_at > now}
            if len(self._entries) >= self._max_entries:  # all fresh: drop the oldest tenth at once
                for stale in list(self._entries)[: max(1, self._max_entries // 10)]:
                    del self._entries[stale]
        self._entries[key] = minted

    def __len__(self) -> int:
        return len(self._entries)


SESSION_CLAIMS: Final = "identity_claims"
"""``McpSession.attachments`` key: the token claims a session was opened with, for Portico's own
requests on it (re-initialize after an upstream restart, cancellation, DELETE)."""


def session_claims(session: McpSession | None) -> AccessTokenClaims | None:
    """The claims :data:`SESSION_CLAIMS` holds for ``session`` (None: none kept)."""
    claims = session.attachments.get(SESSION_CLAIMS) if session is not None else None
    return claims if isinstance(claims, AccessTokenClaims) else None
