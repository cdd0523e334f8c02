"""Dependencies shared by the endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from oauth.login.api import SignedInUser, current_user
from oauth.tokens.context import TOKEN_CONTEXT, TokenContext

RuntimeDep = Annotated[TokenContext, Depends(TOKEN_CONTEXT.of)]
UserDep = Annotated[SignedInUser | None, Depends(current_user)]
