"""Sign-in providers (upstream IdPs): each contributes its own routes under ``/login/<id>``."""

from __future__ import annotations

from fastapi import APIRouter

from app.config.schema import ProviderConfig
from oauth.login.providers import dev


def provider_router(provider: ProviderConfig) -> APIRouter:
    """The routes of one configured provider."""
    match provider.type:
        case "dev":
            return dev.dev_router(provider)
