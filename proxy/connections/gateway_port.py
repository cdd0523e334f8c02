"""What the connections portal needs from the gateway: a typed seam instead of ``app.state`` chains.

The ``/connections`` pages and the connect step after consent store and remove a user's upstream
credentials; the gateway must then forget what it cached for that user and server (and restart
their stdio process), and the OAuth connect flow works on the gateway's own grant manager (its
refresh locks and endpoint cache are per process). :class:`~proxy.gateway.Gateway` satisfies
:class:`ConnectionsGateway`; the composition root puts it in :data:`CONNECTIONS_GATEWAY`.
"""

from __future__ import annotations

from typing import Protocol

from app.slots import Slot
from proxy.credentials.oauth.user_grants import OAuthGrants


class ConnectionsGateway(Protocol):
    @property
    def oauth_grants(self) -> OAuthGrants:
        """Every user's grants at ``credentials: oauth`` servers."""
        ...

    async def credential_missing(self, subject: str, server: str) -> bool:
        """True when ``server`` needs a per-user credential that ``subject`` has not connected."""
        ...

    async def credential_changed(self, subject: str, server: str) -> None:
        """``subject`` connected, replaced or removed their credential for ``server``."""
        ...


CONNECTIONS_GATEWAY: Slot[ConnectionsGateway] = Slot("gateway")
"""The gateway, as the portal sees it (put by ``app.main.create_app``)."""
