"""Disconnecting an OAuth grant: revoke its tokens at the upstream (RFC 7009), then forget it.

The refresh token is revoked first (RFC 7009 §2.1: the server then also invalidates the access
tokens of the same grant, where it supports that), then the access token. A failed revocation is
logged (without the token) and does not keep the grant: the user asked to disconnect.
"""

from __future__ import annotations

import logging

from oauth.client.errors import OAuthClientError
from proxy.credentials.oauth.user_grants import OAuthGrants

log = logging.getLogger("portico.credentials")


async def revoke_grant(grants: OAuthGrants, subject: str, server: str) -> bool:
    """Revoke the user's stored grant for ``server`` at the upstream; True when every revocation succeeded.

    The caller deletes the grant afterwards, whatever the outcome.
    """
    grant = await grants.load(subject, server)
    if grant is None:
        return True
    try:
        client = await grants.client(server)
        if client.endpoints.revocation_endpoint is None:
            return True
        if grant.refresh_token:
            await client.revoke(grant.refresh_token, "refresh_token")
        await client.revoke(grant.access_token, "access_token")
    except OAuthClientError as error:
        log.warning("revoking user %s's grant for server %s failed: %s", subject, server, error)
        return False
    log.info("revoked user %s's grant for server %s at the upstream", subject, server)
    return True
