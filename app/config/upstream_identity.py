"""``servers.<name>.identity``: a signed statement of the user's identity sent to an HTTP upstream.

Portico mints a short-lived JWT (``typ: portico-identity+jwt``, signed with its access-token keys,
published at ``/jwks``) naming the user and the client, and sends it in ``header`` on every request
to the server. Only HTTP upstreams (``streamable-http``, ``auto``) take it; the checks that depend
on the transport and the credential live in :mod:`app.config.servers`.
See docs/credentials.md §identity and docs/configuration.md §``servers.<name>``.
"""

from __future__ import annotations

from typing import Final

from pydantic import Field, field_validator

from app.config.strict import Strict
from app.config.value_checks import HEADER_NAME

__all__ = ["DEFAULT_IDENTITY_HEADER", "IdentityConfig"]

DEFAULT_IDENTITY_HEADER: Final = "X-Portico-Identity"


class IdentityConfig(Strict):
    """``servers.<name>.identity: {header, lifetime}``.

    ``header``: where the JWT goes (default ``X-Portico-Identity``); ``Authorization`` sends it as
    ``Bearer <jwt>``. ``lifetime``: seconds from ``iat`` to ``exp`` (30–3600, default 300); one JWT
    is reused until less than a fifth of it remains.
    """

    header: str = DEFAULT_IDENTITY_HEADER
    lifetime: int = Field(default=300, ge=30, le=3600)

    @field_validator("header")
    @classmethod
    def _header_name(cls, value: str) -> str:
        if not HEADER_NAME.match(value):
            raise ValueError(f"header {value!r} is not an HTTP header name")
        return value

    @property
    def is_authorization(self) -> bool:
        """True when the JWT goes in ``Authorization`` (rendered ``Bearer <jwt>``)."""
        return self.header.lower() == "authorization"

    def render(self, assertion: str) -> str:
        """The header value for ``assertion``."""
        return f"Bearer {assertion}" if self.is_authorization else assertion
