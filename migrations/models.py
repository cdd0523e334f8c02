"""The registry of model modules, so Alembic and tests see every table."""

from __future__ import annotations

import importlib

MODEL_MODULES = (
    "oauth.tokens.store.signing_keys",
    "oauth.login.store.users",
    "oauth.login.store.login_sessions",
    "oauth.store.clients",
    "oauth.store.authorization_codes",
    "oauth.store.refresh_tokens",
    "oauth.store.issued_access_tokens",
    "oauth.store.consents",
    "app.used_states",
    "proxy.credentials.store",
    "proxy.credentials.oauth.client_store",
)


def import_all_models() -> None:
    """Import every module that defines tables on ``app.db.Base``."""
    for name in MODEL_MODULES:
        importlib.import_module(name)
