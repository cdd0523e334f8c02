"""Dependencies shared by the endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.runtime import Runtime
from oauth.login.api import SignedInUser, current_user


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
UserDep = Annotated[SignedInUser | None, Depends(current_user)]
