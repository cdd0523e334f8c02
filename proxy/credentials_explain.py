"""``portico credentials explain EMAIL SERVER``: where each upstream key of a user comes from.

Prints, for one user and one server, every header (HTTP upstreams) or environment variable
(stdio) Portico would present and its source — the configuration, or the user's ``user_token``
in the vault (stored when, whether it decrypts for this user) — and what is missing. Values are
never printed: this is for operators debugging "why does the upstream say 401".
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from app.config import PorticoConfig
from app.config.schema import NoCredentialsConfig, StdioServerConfig
from app.crypto import Envelope
from proxy.credential_guard import connect_url
from proxy.credential_vault import USER_TOKEN, load_secret
from proxy.store.upstream_credentials import find_credential


class ExplainError(Exception):
    """Unknown server or user (the message is shown to the operator)."""


def explain_credentials(
    db: Session, config: PorticoConfig, envelope: Envelope, *, subject: str, email: str, server: str, now: datetime
) -> list[str]:
    """Lines describing the sources of ``server``'s upstream keys for the user ``subject``.

    Raises:
        ExplainError: ``server`` is not configured.
    """
    spec = config.servers.get(server)
    if spec is None:
        raise ExplainError(f"no server named {server!r} (configured: {', '.join(sorted(config.servers)) or 'none'})")
    stdio = isinstance(spec, StdioServerConfig)
    what = "environment variable" if stdio else "header"
    static_keys = sorted(spec.env if isinstance(spec, StdioServerConfig) else spec.headers)
    lines = [f"server {server} ({spec.transport}), user {email} (subject {subject}), kind {_kind(spec.credentials)}"]
    lines += [
        f"  {what} {key}: from the configuration (servers.{server}.{'env' if stdio else 'headers'})"
        for key in static_keys
    ]
    token = spec.user_token
    if token is None:
        if not static_keys:
            lines.append("  nothing is presented upstream")
        return lines
    key = token.env if stdio else (token.header or "Authorization")
    row = find_credential(db, subject=subject, server=server)
    if row is None:
        lines.append(
            f"  {what} {key}: MISSING — the user has not connected a token ({connect_url(config.public_url, server)})"
        )
        return lines
    opened = load_secret(db, envelope, subject=subject, server=server, kind=USER_TOKEN, now=now) is not None
    state = "decrypts for this user" if opened else "DOES NOT decrypt or has expired (treated as missing)"
    lines.append(
        f"  {what} {key}: the user's token (format {token.format!r}), stored {row.created_at:%Y-%m-%d %H:%M} UTC, "
        f"updated {row.updated_at:%Y-%m-%d %H:%M} UTC; {state}"
    )
    return lines


def _kind(credentials: object) -> str:
    if isinstance(credentials, NoCredentialsConfig):
        return "none"
    return str(getattr(credentials, "type", "static"))
