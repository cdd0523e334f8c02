"""The one resolver: from a server's configuration and what was read for one user, every value
presented upstream and its source (docs/credentials.md, "Resolution order").

:func:`resolve` is pure apart from registering each revealed value with the log redactor: the I/O
(:mod:`proxy.credentials.reading`, and the gateway's OAuth refresh) happens before it. The gateway
(:class:`~proxy.credentials.sources.VaultCredentials`), ``portico credentials explain``
(:mod:`proxy.credentials.explain`) and the ``/connections`` page all decide through it.

Per key, in order:

- configured ``headers`` (HTTP) / ``env`` (stdio): always, for every user;
- ``static`` group values: for a member of a listed group, instead of the configured value;
- ``user_token``: the user's own token when it opens; else (absent, expired, does not decrypt) the
  first matching group's token, else the ``default``, else missing;
- ``oauth``: the access token of the user's grant, unless it is absent, does not open, or has
  expired without a refresh token (missing). A refreshable token within ``refresh_margin`` (or
  expired) is chosen with ``refresh_due``: the gateway refreshes it first and resolves again;
- a user's token or grant that cannot be delivered (control characters; not an RFC 9110 field value for
  a header, :mod:`proxy.credentials.deliverable`) is not chosen (``undeliverable``): connect again;
- a disabled user: the configured values only; no group value, no token of their own, no
  default, no grant — the per-user credential is missing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Final

from pydantic import SecretStr

from app.clock import epoch_seconds
from app.config.schema import (
    OAuthCredentialsConfig,
    ServerConfig,
    StaticCredentialsConfig,
    StdioServerConfig,
    UserTokenConfig,
)
from app.log import register_secret
from proxy.credentials.decision import (
    Decision,
    GrantState,
    PerUserDecision,
    Presented,
    Source,
    SourceKind,
    Unused,
)
from proxy.credentials.deliverable import delivery_problem
from proxy.credentials.groups import has_group_values, static_group_values, token_fallback
from proxy.credentials.oauth.grant import OAuthGrant
from proxy.credentials.reading import Readings
from proxy.credentials.vault import Opening, StoredCredential

_NOT_OPENED: Final = {
    Opening.ABSENT: Unused.NOT_CONNECTED,
    Opening.EXPIRED: Unused.EXPIRED,
    Opening.UNDECRYPTABLE: Unused.UNDECRYPTABLE,
}


def resolve(name: str, server: ServerConfig, readings: Readings, now: datetime) -> Decision:
    """What the server ``name`` is presented for the user of ``readings`` at ``now`` (UTC).

    Raises nothing: every case of the module's table is a decision (a missing credential too).
    """
    account = readings.account
    disabled = account is not None and account.disabled
    groups = account.groups if account is not None else ()
    usable_groups = () if disabled else groups
    per_user = _per_user(name, server, readings.stored, usable_groups, disabled, now)
    return Decision(
        server=name,
        transport=server.transport,
        kind=server.credentials.type,
        disabled=disabled,
        groups=groups if has_group_values(server.credentials) else None,
        static=_static(name, server, usable_groups),
        per_user=per_user,
        refresh_at=_refresh_at(server, per_user),
    )


def _static(name: str, server: ServerConfig, groups: tuple[str, ...]) -> tuple[Presented, ...]:
    stdio = isinstance(server, StdioServerConfig)
    configured = server.env if isinstance(server, StdioServerConfig) else server.headers
    source = Source(SourceKind.CONFIGURATION, f"servers.{name}.{'env' if stdio else 'headers'}")
    values = {key: Presented(key, source, _reveal(secret)) for key, secret in configured.items()}
    if isinstance(server.credentials, StaticCredentialsConfig):
        for key, (group, secret) in static_group_values(name, server.credentials, groups).items():
            values[key] = Presented(key, group, _reveal(secret))
    return tuple(values[key] for key in sorted(values))


def _per_user(
    name: str, server: ServerConfig, stored: StoredCredential, groups: tuple[str, ...], disabled: bool, now: datetime
) -> PerUserDecision | None:
    spec = server.per_user
    if spec is None:
        return None
    key = spec.env if isinstance(server, StdioServerConfig) else (spec.header or "Authorization")
    if disabled:
        return PerUserDecision(key, spec.format, stored, None, None, Unused.DISABLED)
    header = not isinstance(server, StdioServerConfig)
    if isinstance(spec, OAuthCredentialsConfig):
        return _oauth(name, key, spec, stored, now, header=header)
    return _user_token(name, key, spec, stored, groups, header=header)


def _user_token(
    name: str,
    key: str | None,
    spec: UserTokenConfig,
    stored: StoredCredential,
    groups: tuple[str, ...],
    *,
    header: bool,
) -> PerUserDecision:
    unused = _NOT_OPENED.get(stored.opening)
    if stored.opening is Opening.OPENED and stored.secret is not None:
        rendered = _render(spec, stored.secret)
        if delivery_problem(rendered, header=header) is None:
            own = Presented(key, Source(SourceKind.USER_TOKEN, f"servers.{name}.credentials"), rendered)
            return PerUserDecision(key, spec.format, stored, None, own, None)
        unused = Unused.UNDELIVERABLE
    fallback = token_fallback(name, spec, groups)
    chosen = None if fallback is None else Presented(key, fallback[0], _render(spec, _reveal(fallback[1])))
    return PerUserDecision(key, spec.format, stored, None, chosen, unused)


def _oauth(
    name: str, key: str | None, spec: OAuthCredentialsConfig, stored: StoredCredential, now: datetime, *, header: bool
) -> PerUserDecision:
    if stored.opening is not Opening.OPENED or stored.secret is None:
        return PerUserDecision(key, spec.format, stored, None, None, _NOT_OPENED[stored.opening])
    grant = OAuthGrant.from_json(stored.secret)
    if grant is None:
        return PerUserDecision(key, spec.format, stored, None, None, Unused.NOT_A_GRANT)
    state = _grant_state(grant, spec, now)
    if state.expired and not state.refreshable:
        return PerUserDecision(key, spec.format, stored, state, None, Unused.GRANT_EXPIRED)
    register_secret(grant.access_token)
    if grant.refresh_token:
        register_secret(grant.refresh_token)
    rendered = _render(spec, grant.access_token)
    if delivery_problem(rendered, header=header) is not None:
        return PerUserDecision(key, spec.format, stored, state, None, Unused.UNDELIVERABLE)
    source = Source(SourceKind.OAUTH_GRANT, f"servers.{name}.credentials")
    return PerUserDecision(key, spec.format, stored, state, Presented(key, source, rendered), None)


def _grant_state(grant: OAuthGrant, spec: OAuthCredentialsConfig, now: datetime) -> GrantState:
    epoch, refreshable = epoch_seconds(now), grant.refresh_token is not None
    due = refreshable and grant.needs_refresh(epoch, spec.refresh_margin)
    return GrantState(grant.expires_at, refreshable, grant.expired(epoch), due)


def _refresh_at(server: ServerConfig, per_user: PerUserDecision | None) -> datetime | None:
    """When an OAuth access token enters its refresh margin: cached resolutions end there."""
    spec = server.oauth
    if spec is None or per_user is None or per_user.chosen is None or per_user.grant is None:
        return None
    expires_at = per_user.grant.expires_at
    return (
        None if expires_at is None else datetime.fromtimestamp(expires_at, UTC) - timedelta(seconds=spec.refresh_margin)
    )


def _render(spec: UserTokenConfig | OAuthCredentialsConfig, token: str) -> str:
    register_secret(token)
    rendered = spec.render(token)
    register_secret(rendered)
    return rendered


def _reveal(secret: SecretStr) -> str:
    value = secret.get_secret_value()
    register_secret(value)
    return value
