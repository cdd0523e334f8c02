"""Group and default values of upstream credential keys (the resolution order of the Reflow gateway).

Per key: the user's own value (a ``user_token``) wins over a group's value over the default.

- ``credentials: {type: static, groups: {GROUP: {KEY: value}}}``: for a member of GROUP, KEY is
  that value instead of the configured ``headers``/``env`` one (which is the default).
- ``credentials: {type: user_token, groups: {GROUP: token}, default: token}``: a user who has not
  pasted a token gets the first matching group's token, else the default, else nothing (missing).

Groups are the IdP groups claim stored on the user at sign-in (``users.groups``); when a user is
in several configured groups, the first one listed in the configuration wins. Values are
revealed from the configuration once and registered with the log redactor.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pydantic import SecretStr
from sqlalchemy.orm import Session

from app.config.schema import StaticCredentialsConfig, UserTokenConfig
from app.log import register_secret
from oauth.login.store.users import find_user


@dataclass(frozen=True)
class Sourced:
    """A value and where it came from: ``group <name>`` or ``default``."""

    source: str
    value: str


def user_groups(db: Session, subject: str) -> list[str]:
    """The IdP groups stored for the user ``subject`` (``str(users.id)``); [] for unknown subjects."""
    try:
        row = find_user(db, int(subject))
    except ValueError:
        return []
    return list(row.groups or []) if row is not None else []


def static_group_values(spec: StaticCredentialsConfig, groups: Sequence[str]) -> dict[str, Sourced]:
    """Per key, the value of the first configured group the user belongs to."""
    member = set(groups)
    values: dict[str, Sourced] = {}
    for group, keys in spec.groups.items():
        if group in member:
            for key, secret in keys.items():
                values.setdefault(key, Sourced(f"group {group}", _reveal(secret)))
    return values


def token_fallback(spec: UserTokenConfig, groups: Sequence[str]) -> Sourced | None:
    """For a user without a token of their own: the first matching group's token, else the default."""
    member = set(groups)
    for group, secret in spec.groups.items():
        if group in member:
            return Sourced(f"group {group}", _reveal(secret))
    return Sourced("default", _reveal(spec.default)) if spec.default is not None else None


def has_group_values(spec: object) -> bool:
    """True when resolving ``spec`` needs the user's groups."""
    return bool(getattr(spec, "groups", None))


def overlay(base: Mapping[str, str], values: Mapping[str, Sourced]) -> dict[str, str]:
    return {**base, **{key: sourced.value for key, sourced in values.items()}}


def _reveal(secret: SecretStr) -> str:
    value = secret.get_secret_value()
    register_secret(value)
    return value
