"""Scopes, leniently: a client's odd scope string never fails a request.

Portico grants ``mcp`` (access to the MCP server named by the resource) and, when asked,
``offline_access``. Unknown scopes are dropped and an empty result becomes the default set, so
``invalid_scope`` is never returned (clients such as Claude send scopes like ``claudeai``).
Refresh tokens are issued whether or not ``offline_access`` was asked for.
"""

from __future__ import annotations

from oauth.tokens.resources import DEFAULT_SCOPES, MCP_SCOPE, OFFLINE_ACCESS_SCOPE

SCOPES_SUPPORTED = (MCP_SCOPE, OFFLINE_ACCESS_SCOPE)


def scope_set(scope: str | None) -> frozenset[str]:
    return frozenset((scope or "").split())


def scope_string(scopes: frozenset[str] | set[str]) -> str:
    return " ".join(sorted(scopes))


def granted_scope(requested: str | None, *, within: str | None = None) -> str:
    """The scope to grant for ``requested``: supported values only, never without the defaults.

    With ``within`` (a refresh), the result is further limited to that originally granted scope
    and falls back to it when nothing of the request remains.
    """
    granted = set(scope_set(requested) & set(SCOPES_SUPPORTED))
    if within is not None:
        original = scope_set(within)
        granted = (granted & original) or set(original)
    if not granted & set(DEFAULT_SCOPES):
        granted |= set(DEFAULT_SCOPES)
    return scope_string(granted)
