"""The token kernel's view of the running Portico: the ground plus keys, resources and revocations.

:class:`TokenContext` is what the authorization server and the resource server share: the ES256
signing keys, the protected resources (audiences) of every server route, and the in-process
list of revoked access tokens. Satisfied by the composition root's :class:`app.runtime.Runtime`.
"""

from __future__ import annotations

from typing import Protocol

from app.context import AppContext
from app.slots import Slot
from oauth.tokens.resources import ResourceRegistry
from oauth.tokens.revocation_list import RevokedTokens
from oauth.tokens.signing_keys import SigningKeys


class TokenContext(AppContext, Protocol):
    signing_keys: SigningKeys  # replaced by a reload (oauth.housekeeping) after a rotation

    @property
    def resources(self) -> ResourceRegistry: ...

    @property
    def revoked_tokens(self) -> RevokedTokens: ...


TOKEN_CONTEXT: Slot[TokenContext] = Slot("runtime")
"""The running Portico, as the token kernel sees it (the same object as :data:`app.context.APP_CONTEXT`)."""
