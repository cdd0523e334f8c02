"""``portico credentials explain EMAIL SERVER``: where each upstream key of a user comes from.

Prints, for one user and one server, every header (HTTP upstreams) or environment variable
(stdio) Portico would present and its source — the configuration, a group, the default, the
user's ``user_token`` or OAuth grant in the vault (stored when, whether it opens) — and what is
missing. The lines are the resolver's decision (:func:`proxy.credentials.resolver.resolve`, fed
by the same reading as the gateway), so they cannot disagree with what the gateway sends; only
an OAuth refresh that is due is not performed (the line says so). Values are never printed:
this is for operators debugging "why does the upstream say 401" (docs/credentials.md).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from app.config import PorticoConfig
from app.config.schema import TOKEN_PLACEHOLDER, StdioServerConfig
from app.crypto import Sealer
from proxy.credentials.connect import connect_url
from proxy.credentials.decision import Decision, GrantState, PerUserDecision, Source, SourceKind, Unused
from proxy.credentials.reading import read
from proxy.credentials.resolver import resolve
from proxy.credentials.vault import StoredCredential


class ExplainError(Exception):
    """Unknown server or user (the message is shown to the operator)."""


def explain_credentials(
    db: Session, config: PorticoConfig, sealer: Sealer, *, subject: str, email: str, server: str, now: datetime
) -> list[str]:
    """Lines describing the sources of ``server``'s upstream keys for the user ``subject`` at ``now`` (UTC).

    Raises:
        ExplainError: ``server`` is not configured.
    """
    spec = config.servers.get(server)
    if spec is None:
        raise ExplainError(f"no server named {server!r} (configured: {', '.join(sorted(config.servers)) or 'none'})")
    decision = resolve(server, spec, read(db, sealer, spec, name=server, subject=subject, now=now), now)
    in_args = isinstance(spec, StdioServerConfig) and any(TOKEN_PLACEHOLDER in arg for arg in spec.args)
    header = f"server {server} ({decision.transport}), user {email} (subject {subject}), kind {decision.kind}"
    return [header, *describe(decision, connect=connect_url(config.public_url, server), in_args=in_args)]


def describe(decision: Decision, *, connect: str, in_args: bool = False) -> list[str]:
    """The decision's printable trace, one line per fact (never a value)."""
    lines = []
    what = "environment variable" if decision.stdio else "header"
    if decision.disabled:
        configured = "env" if decision.stdio else "headers"
        lines.append(
            f"  the user is disabled: only the configured {configured} are presented (no group value, token or grant)"
        )
    if decision.groups is not None:
        lines.append(f"  the user's groups: {', '.join(decision.groups) or 'none'}")
    lines += [f"  {what} {p.key}: from {_origin(p.source)}" for p in decision.static]
    per_user = decision.per_user
    if per_user is None:
        return lines if decision.static else [*lines, "  nothing is presented upstream"]
    label = f"{what} {per_user.key}" if per_user.key is not None else f"argument {TOKEN_PLACEHOLDER}"
    if per_user.key is not None and in_args:
        label += f" and argument {TOKEN_PLACEHOLDER}"
    return [*lines, f"  {label}: {_per_user(per_user, connect)}"]


def _per_user(per_user: PerUserDecision, connect: str) -> str:
    chosen, stored, fmt = per_user.chosen, per_user.stored, per_user.format
    if chosen is None:
        reason = _missing(per_user)
        return f"MISSING — {reason}" if per_user.unused is Unused.DISABLED else f"MISSING — {reason} ({connect})"
    if chosen.source.kind is SourceKind.USER_TOKEN:
        return f"the user's token (format {fmt!r}), {_stored(stored)}; decrypts for this user"
    if chosen.source.kind is SourceKind.OAUTH_GRANT:
        where = f"(format {fmt!r}), {_stored(stored)}"
        return f"the access token of the user's OAuth grant {where}; decrypts for this user; {_grant(per_user.grant)}"
    return f"from {_origin(chosen.source, fmt)} — {_why_not_own(per_user)}"


def _origin(source: Source, fmt: str | None = None) -> str:
    where = source.path if fmt is None else f"{source.path}; format {fmt!r}"
    if source.kind is SourceKind.GROUP:
        return f"group {source.group} ({where})"
    if source.kind is SourceKind.DEFAULT:
        return f"default ({where})"
    return f"the configuration ({where})"


def _why_not_own(per_user: PerUserDecision) -> str:
    if per_user.unused is Unused.EXPIRED:
        return f"the user's own token has expired ({_stored(per_user.stored)})"
    if per_user.unused is Unused.UNDECRYPTABLE:
        return f"the user's own token does not decrypt for this user ({_stored(per_user.stored)})"
    if per_user.unused is Unused.UNDELIVERABLE:
        return f"the user's own token cannot be sent, it must be connected again ({_stored(per_user.stored)})"
    return "the user has no token of their own"


def _missing(per_user: PerUserDecision) -> str:
    stored = _stored(per_user.stored)
    reasons = {
        Unused.DISABLED: "the user is disabled",
        Unused.EXPIRED: f"the user's token has expired ({stored})",
        Unused.UNDECRYPTABLE: f"the stored credential does not decrypt for this user ({stored})",
        Unused.NOT_A_GRANT: f"the stored value is not an OAuth grant ({stored})",
        Unused.GRANT_EXPIRED: f"the OAuth grant's {_grant(per_user.grant)} ({stored})",
        Unused.UNDELIVERABLE: f"the stored value cannot be sent (control or non-ASCII characters) ({stored})",
    }
    return reasons.get(per_user.unused or Unused.NOT_CONNECTED, "the user has not connected a token")


def _grant(grant: GrantState | None) -> str:
    """The access token's state, e.g. ``access token expires 2026-01-01 10:00 UTC, refreshable``."""
    if grant is None:
        return "access token: no state"
    when = _when(grant.expires_at)
    if grant.expired:
        return f"access token expired {when}, " + (
            "refreshable: the next call refreshes it" if grant.refreshable else "no refresh token: connect again"
        )
    if grant.refresh_due:
        return f"access token expires {when}, refreshable: the next call refreshes it"
    return f"access token expires {when}, " + ("refreshable" if grant.refreshable else "no refresh token")


def _stored(stored: StoredCredential) -> str:
    if stored.created_at is None or stored.updated_at is None:
        return "nothing stored"
    return f"stored {stored.created_at:%Y-%m-%d %H:%M} UTC, updated {stored.updated_at:%Y-%m-%d %H:%M} UTC"


def _when(epoch: int | None) -> str:
    return "never" if epoch is None else f"{datetime.fromtimestamp(epoch, UTC):%Y-%m-%d %H:%M} UTC"
