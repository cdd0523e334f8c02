"""Asking the upstream IdP to sign the user in again (OpenID Connect Core 1.0 §3.1.2.1).

When an MCP client sends ``prompt=login`` (or ``max_age`` that the login session exceeds) or
``prompt=select_account`` to Portico, Portico's own sign-in passes it on:

- OpenID providers (Google, ``type: oidc``): ``prompt=login`` with ``max_age=0`` (either forces
  re-authentication at IdPs that ignore one of them), or ``prompt=select_account``;
- GitHub has no ``prompt=login`` (its authorize endpoint knows only ``prompt=select_account``, the
  account picker): a user signed in at GitHub is not asked for their password again; the account
  picker is shown instead;
- the ``dev`` provider always shows its form.

Any other value is dropped: only these two reach the routes' query strings.
"""

from __future__ import annotations

from typing import Final

UPSTREAM_PROMPTS: Final = frozenset({"login", "select_account"})


def upstream_prompt(value: str | None) -> str | None:
    """``value`` when it is one Portico passes upstream, else None."""
    return value if value in UPSTREAM_PROMPTS else None


def openid_prompt_params(prompt: str | None) -> dict[str, str]:
    """Authorization request parameters for an OpenID provider (OIDC Core §3.1.2.1)."""
    if prompt == "login":
        return {"prompt": "login", "max_age": "0"}
    if prompt == "select_account":
        return {"prompt": "select_account"}
    return {}


def github_prompt_params(prompt: str | None) -> dict[str, str]:
    """GitHub's authorize endpoint: only ``prompt=select_account`` exists (no forced re-authentication)."""
    return {"prompt": "select_account"} if prompt is not None else {}
