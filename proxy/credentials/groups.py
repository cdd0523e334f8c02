"""Group and default values of upstream credential keys (the resolution order of the Reflow gateway).

Per key: the user's own value (a ``user_token``) wins over a group's value over the default.

- ``credentials: {type: static, groups: {GROUP: {KEY: value}}}``: for a member of GROUP, KEY is
  that value instead of the configured ``headers``/``env`` one (which is the default).
- ``credentials: {type: user_token, groups: {GROUP: token}, default: token}``: a user without a
  usable token of their own gets the first matching group's token, else the default, else nothing
  (missing).

Groups are the IdP groups claim stored on the user at sign-in, read by
:mod:`proxy.credentials.reading` through :func:`oauth.login.api.find_account`; when a user is in
several configured groups, the first one listed in the configuration wins. This module only
selects: values stay :class:`~pydantic.SecretStr` until the resolver reveals and registers them.
docs/credentials.md, "Group and default values".
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import SecretStr

from app.config.schema import StaticCredentialsConfig, UserTokenConfig
from proxy.credentials.decision import Source, SourceKind


def has_group_values(credentials: object) -> bool:
    """True when resolving ``credentials`` (a server's ``credentials`` settings) needs the user's groups."""
    return bool(getattr(credentials, "groups", None))


def static_group_values(
    server: str, spec: StaticCredentialsConfig, groups: Sequence[str]
) -> dict[str, tuple[Source, SecretStr]]:
    """Per key, the value of the first configured group the user belongs to, and its source."""
    member = set(groups)
    values: dict[str, tuple[Source, SecretStr]] = {}
    for group, keys in spec.groups.items():
        if group in member:
            for key, secret in keys.items():
                values.setdefault(key, (_group_source(server, group), secret))
    return values


def token_fallback(server: str, spec: UserTokenConfig, groups: Sequence[str]) -> tuple[Source, SecretStr] | None:
    """For a user without a usable token of their own: the first matching group's token, else the default."""
    member = set(groups)
    for group, secret in spec.groups.items():
        if group in member:
            return _group_source(server, group), secret
    if spec.default is None:
        return None
    return Source(SourceKind.DEFAULT, f"servers.{server}.credentials.default"), spec.default


def _group_source(server: str, group: str) -> Source:
    return Source(SourceKind.GROUP, f"servers.{server}.credentials.groups.{group}", group)
