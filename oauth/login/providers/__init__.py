"""Sign-in providers (upstream IdPs): each contributes its own routes under ``/login/<id>``."""

from __future__ import annotations

from fastapi import APIRouter

from app.config.schema import DevProviderConfig, ProviderConfig
from oauth.login.providers import dev
from oauth.login.upstream_idp import build_upstream_idp, upstream_idp_router


def provider_router(provider: ProviderConfig) -> APIRouter:
    """The routes of one configured provider."""
    if isinstance(provider, DevProviderConfig):
        return dev.dev_router(provider)
    return upstream_idp_router(build_upstream_idp(provider))
