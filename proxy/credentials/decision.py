"""What the resolver decided for one (subject, server): every value presented upstream, where it came
from, and whether the server's per-user credential is missing.

A :class:`Decision` is also its own trace: every field except the values (``repr=False``) may be
printed, and ``portico credentials explain`` prints nothing else, so the explanation and what the
gateway sends come from one decision (docs/credentials.md, "Group and default values").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from proxy.credentials.vault import StoredCredential


class SourceKind(StrEnum):
    CONFIGURATION = "configuration"  # servers.<name>.headers / .env
    GROUP = "group"  # servers.<name>.credentials.groups.<group>
    DEFAULT = "default"  # servers.<name>.credentials.default
    USER_TOKEN = "user_token"  # noqa: S105 - the user's own pasted token (the vault), not a secret
    OAUTH_GRANT = "oauth_grant"  # the access token of the user's OAuth grant (the vault)


@dataclass(frozen=True)
class Source:
    """Where a value comes from. ``path`` is the configuration key path that holds it, or, for the
    user's own token and OAuth grant, the one that asks for it (``servers.<name>.credentials``)."""

    kind: SourceKind
    path: str
    group: str | None = None

    @property
    def per_user(self) -> bool:
        """True for the user's own token or OAuth grant (the user is connected)."""
        return self.kind in (SourceKind.USER_TOKEN, SourceKind.OAUTH_GRANT)


@dataclass(frozen=True)
class Presented:
    """One value presented upstream: ``key`` is the header (HTTP) or environment variable (stdio);
    None for a per-user value that goes only into a stdio server's ``{token}`` argument.
    ``value`` is the rendered secret, registered with the log redactor; never in ``repr``."""

    key: str | None
    source: Source
    value: str = field(repr=False, compare=False)


class Unused(StrEnum):
    """Why the user's own credential is not what is presented."""

    NOT_CONNECTED = "not_connected"  # nothing stored
    EXPIRED = "expired"  # the stored row is past its expires_at
    UNDECRYPTABLE = "undecryptable"  # it does not decrypt for this user, server and kind
    NOT_A_GRANT = "not_a_grant"  # oauth: the stored value is not a grant
    GRANT_EXPIRED = "grant_expired"  # oauth: the access token expired and there is no refresh token
    DISABLED = "disabled"  # the user is disabled (portico users disable)
    UNDELIVERABLE = "undeliverable"  # it holds characters its header or environment cannot carry


@dataclass(frozen=True)
class GrantState:
    """The stored OAuth grant's access token: ``expires_at`` in epoch seconds (None: no expiry known)."""

    expires_at: int | None
    refreshable: bool
    expired: bool
    refresh_due: bool  # refreshable and within refresh_margin: the gateway refreshes before using it


@dataclass(frozen=True)
class PerUserDecision:
    """The server's per-user credential (``user_token`` or ``oauth``): the key it goes to (None: only
    the ``{token}`` argument), what was stored, and the value chosen — the user's own, a group's, the
    default — or None when it is missing. ``unused`` says why the user's own was not chosen."""

    key: str | None
    format: str
    stored: StoredCredential
    grant: GrantState | None
    chosen: Presented | None
    unused: Unused | None


@dataclass(frozen=True)
class Decision:
    """Everything presented to server ``server`` for one user.

    ``groups`` are the user's groups when the configuration has group values (None: not consulted);
    ``static`` the configured keys and group values, by key; ``refresh_at`` (UTC) when an OAuth
    access token enters its refresh margin (None: never).
    """

    server: str
    transport: str
    kind: str
    disabled: bool
    groups: tuple[str, ...] | None
    static: tuple[Presented, ...]
    per_user: PerUserDecision | None
    refresh_at: datetime | None

    @property
    def stdio(self) -> bool:
        return self.transport == "stdio"

    @property
    def presented(self) -> tuple[Presented, ...]:
        chosen = self.per_user.chosen if self.per_user is not None else None
        return self.static if chosen is None else (*self.static, chosen)

    def headers(self) -> dict[str, str]:
        """The headers of an HTTP upstream ({} for a stdio server)."""
        return {} if self.stdio else _keyed(self.presented)

    def env(self) -> dict[str, str]:
        """The environment of a stdio upstream ({} for an HTTP server)."""
        return _keyed(self.presented) if self.stdio else {}

    @property
    def token(self) -> str | None:
        """The rendered per-user value for ``{token}`` in a stdio server's ``args`` (None: none)."""
        chosen = self.per_user.chosen if self.per_user is not None else None
        return chosen.value if chosen is not None else None

    @property
    def missing(self) -> bool:
        """True when the server takes a per-user credential and none is presented."""
        return self.per_user is not None and self.per_user.chosen is None

    @property
    def refresh_due(self) -> bool:
        """True when the chosen OAuth access token should be refreshed before it is used."""
        per_user = self.per_user
        return (
            per_user is not None and per_user.chosen is not None and bool(per_user.grant and per_user.grant.refresh_due)
        )


def _keyed(presented: tuple[Presented, ...]) -> dict[str, str]:
    return {p.key: p.value for p in presented if p.key is not None}
