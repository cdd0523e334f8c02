"""The authorization server's routes, as one router that ``app.main.create_app`` includes."""

from __future__ import annotations

from fastapi import APIRouter

from oauth.endpoints import introspect, jwks, register, revoke, token, well_known

router = APIRouter()
for _module in (well_known, jwks, token, register, revoke, introspect):
    router.include_router(_module.router)
