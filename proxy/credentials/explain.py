"""``portico credentials explain EMAIL SERVER``: where each upstream key of a user comes from.

Prints, for one user and one server, every header (HTTP upstreams) or environment variable
(stdio) Portico would present and its source — the configuration, or the user's ``user_token``
in the vault (stored when, whether it decrypts for this user) — and what is missing. Values are
never printed: this is for operators debugging "why does the upstream say 401".
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from app.config import PorticoConfig
from app.config.schema import NoCredentialsConfig, StaticCredentialsConfig, StdioServerConfig, UserTokenConfig
from app.crypto import Envelope
from proxy.credentials.connect import connect_url
from proxy.credentials.groups import has_group_values, static_group_values, token_fallback, user_groups
from proxy.credentials.oauth.grant import OAUTH, OAuthGrant
from proxy.credentials.vault import USER_TOKEN, load_secret
from proxy.credentials.vault.store import find_credential


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
    configured = spec.env if isinstance(spec, StdioServerConfig) else spec.headers
    groups = user_groups(db, subject) if has_group_values(spec.credentials) else []
    by_group = (
        static_group_values(spec.credentials, groups) if isinstance(spec.credentials, StaticCredentialsConfig) else {}
    )
    static_keys = sorted({*configured, *by_group})
    lines = [f"server {server} ({spec.transport}), user {email} (subject {subject}), kind {_kind(spec.credentials)}"]
    if has_group_values(spec.credentials):
        lines.append(f"  the user's groups: {', '.join(groups) or 'none'}")
    for name in static_keys:
        if name in by_group:
            origin = f"{by_group[name].source} (servers.{server}.credentials.groups.{by_group[name].source[6:]})"
        else:
            origin = f"the configuration (servers.{server}.{'env' if stdio else 'headers'})"
        lines.append(f"  {what} {name}: from {origin}")
    token = spec.per_user
    if token is None:
        if not static_keys:
            lines.append("  nothing is presented upstream")
        return lines
    key = token.env if stdio else (token.header or "Authorization")
    row = find_credential(db, subject=subject, server=server)
    fallback = token_fallback(token, groups) if isinstance(token, UserTokenConfig) else None
    if row is None and fallback is not None:
        where = "default" if fallback.source == "default" else f"groups.{fallback.source[6:]}"
        lines.append(
            f"  {what} {key}: from {fallback.source} (servers.{server}.credentials.{where}; "
            f"format {token.format!r}) — the user has no token of their own"
        )
        return lines
    if row is None:
        lines.append(
            f"  {what} {key}: MISSING — the user has not connected a token ({connect_url(config.public_url, server)})"
        )
        return lines
    kind = USER_TOKEN if token.type == USER_TOKEN else OAUTH
    opened = load_secret(db, envelope, subject=subject, server=server, kind=kind, now=now)
    state = "decrypts for this user" if opened is not None else "DOES NOT decrypt or has expired (treated as missing)"
    source = "the user's token" if kind == USER_TOKEN else "the access token of the user's OAuth grant"
    if kind == OAUTH and opened is not None:
        grant = OAuthGrant.from_json(opened)
        expiry = grant.expires_at if grant is not None else None
        refreshable = grant is not None and grant.refresh_token is not None
        state += f"; access token expires {_when(expiry)}, {'refreshable' if refreshable else 'no refresh token'}"
    lines.append(
        f"  {what} {key}: {source} (format {token.format!r}), stored {row.created_at:%Y-%m-%d %H:%M} UTC, "
        f"updated {row.updated_at:%Y-%m-%d %H:%M} UTC; {state}"
    )
    return lines


def _when(epoch: int | None) -> str:
    return "never" if epoch is None else f"{datetime.fromtimestamp(epoch, UTC):%Y-%m-%d %H:%M} UTC"


def _kind(credentials: object) -> str:
    if isinstance(credentials, NoCredentialsConfig):
        return "none"
    return str(getattr(credentials, "type", "static"))
