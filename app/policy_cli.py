"""``portico policy explain USER SERVER [TOOL]``: the policy decision for a stored user, and why.

USER is an email (case-insensitive; one account per sign-in provider, each explained) or a
subject. The decision is :meth:`app.policy.engine.RulePolicy.explain`, the function the gateway's
:class:`~app.policy.access.ServerAccess` uses; the user's groups are those stored at their last
sign-in, as the gateway sees them. Exit 0 with a decision, 2 for an unknown user, server or bad
arguments, 1 for a configuration or database problem. Prints no secret (docs/policy.md §Explain).
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app import migrate
from app.config import PorticoConfig, load_config
from app.config.loader import resolve_config_path
from app.config.login_providers import OidcProviderConfig
from app.config.suggest import closest_key
from app.db import create_db_engine, session_factory, transaction
from app.policy.access import TargetKind
from app.policy.decision import Decision
from app.policy.engine import RulePolicy
from app.policy.principal import Principal
from app.policy.summary import summarize
from oauth.login.api import UserAccount, accounts_by_email, find_account

USAGE_ERROR = 2


class PolicyCommandError(Exception):
    """A user-facing failure of ``portico policy``; ``exit_code`` is 2 (usage) or 1 (setup)."""

    def __init__(self, message: str, exit_code: int = USAGE_ERROR) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def install(commands: Any) -> None:
    """Add ``policy explain`` to the ``portico`` sub-command parser."""
    policy_parser: argparse.ArgumentParser = commands.add_parser("policy", help="explain access policy decisions")
    policy_parser.set_defaults(handler=lambda _args: _print_help(policy_parser))
    actions = policy_parser.add_subparsers(title="actions", metavar="ACTION")
    explain = actions.add_parser(
        "explain", help="may USER use SERVER (or one of its tools, resources, prompts), and which rule says so"
    )
    explain.add_argument(
        "user",
        metavar="USER",
        help="the user's email (case-insensitive) or subject (one beginning with - goes after --)",
    )
    explain.add_argument("server", metavar="SERVER", help="the server name (servers.<name>)")
    explain.add_argument("tool", metavar="TOOL", nargs="?", help="a tool name")
    explain.add_argument("--resource", metavar="URI", help="a resource URI or URI template instead of a tool")
    explain.add_argument("--prompt", metavar="NAME", help="a prompt name instead of a tool")
    explain.add_argument(
        "--client",
        metavar="CLIENT_ID",
        help="the OAuth client_id or CIMD URL acting for the user (--client=ID for one beginning with -)",
    )
    explain.add_argument("--config", help="configuration file")
    explain.set_defaults(handler=_explain)


def _print_help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 1


def _explain(args: argparse.Namespace) -> int:
    try:
        target = _target(args)
        config = load_config(resolve_config_path(args.config))
        _require_server(config, args.server)
        accounts = _accounts(config, args.user)
    except PolicyCommandError as error:
        print(f"portico: {error}", file=sys.stderr)
        return error.exit_code
    engine = RulePolicy.from_config(config)
    blocks = ["\n".join(_explain_account(config, engine, account, args, target)) for account in accounts]
    print("\n\n".join(blocks))
    return 0


def _target(args: argparse.Namespace) -> tuple[TargetKind, str] | None:
    named: tuple[tuple[TargetKind, str | None], ...] = (
        ("tool", args.tool),
        ("resource", args.resource),
        ("prompt", args.prompt),
    )
    given = [(kind, name) for kind, name in named if name is not None]
    if len(given) > 1:
        raise PolicyCommandError("give one of TOOL, --resource and --prompt")
    return given[0] if given else None


def _require_server(config: PorticoConfig, server: str) -> None:
    if server in config.servers:
        return
    hint = closest_key(server, sorted(config.servers))
    raise PolicyCommandError(f"no server named {server!r}" + (f"; did you mean '{hint}'?" if hint else ""))


def _accounts(config: PorticoConfig, user: str) -> list[UserAccount]:
    engine = create_db_engine(config.database_url)
    try:
        if not migrate.is_current(engine):
            raise PolicyCommandError("the database is not up to date: run `portico migrate` first", exit_code=1)
        with transaction(session_factory(engine)) as db:
            found = _lookup(db, user)
    finally:
        engine.dispose()
    if not found:
        what = "email" if "@" in user else "subject"
        raise PolicyCommandError(f"no user has the {what} {user}")
    return found


def _lookup(db: Session, user: str) -> list[UserAccount]:
    if "@" in user:
        return accounts_by_email(db, user)
    account = find_account(db, user)
    return [account] if account is not None else []


def _explain_account(
    config: PorticoConfig,
    engine: RulePolicy,
    account: UserAccount,
    args: argparse.Namespace,
    target: tuple[TargetKind, str] | None,
) -> list[str]:
    principal = Principal(account.subject, account.email, account.groups, args.client or "")
    lines = [f"{account.email} (subject {account.subject}, {_signed_in(account)})"]
    if account.disabled:
        lines.append("  this account is disabled: Portico refuses it whatever the policy says")
    lines.append(f"  groups: {_groups(config, account)}")
    if args.client:
        lines.append(f"  client: {args.client}")
    elif any(rule.clients for rule in config.policy.rules):
        lines.append("  client: none given, so rules naming clients do not apply (pass --client)")
    if target is None:
        decision = engine.explain(principal, args.server)
        lines.append(f"  server {args.server}: {'usable' if decision.allowed else 'NOT usable'}")
        lines += _because(config, account, decision)
        if decision.allowed:
            standing = engine.standing(principal, args.server)
            lines += [f"    {s.kind}s: {s.text}" for s in summarize(standing)]
        return lines
    kind, name = target
    decision = engine.explain(principal, args.server, kind, name)
    lines.append(f"  {kind} {name!r} on {args.server}: {'allowed' if decision.allowed else 'DENIED'}")
    return lines + _because(config, account, decision)


def _because(config: PorticoConfig, account: UserAccount, decision: Decision) -> list[str]:
    lines = [f"    by {decision.source.describe()}"]
    subject = decision.source.subject or ""
    if subject.startswith("group "):
        lines.append(f"    {subject} {_group_origin(config, account)}")
    return lines


def _signed_in(account: UserAccount) -> str:
    when = _when(account.last_sign_in_at)
    return f"provider {account.provider!r}, last sign-in {when}" if account.provider else f"last sign-in {when}"


def _groups(config: PorticoConfig, account: UserAccount) -> str:
    if not account.groups:
        return "none stored"
    return f"{', '.join(account.groups)} ({_group_origin(config, account)})"


def _group_origin(config: PorticoConfig, account: UserAccount) -> str:
    """Where the stored groups came from: the provider's groups claim at the last sign-in."""
    when = _when(account.last_sign_in_at)
    for index, provider in enumerate(config.login.providers):
        if provider.id != account.provider:
            continue
        if isinstance(provider, OidcProviderConfig):
            claim = f"login.providers.{index}.groups_claim = {provider.groups_claim!r}"
            return f"from the groups claim of sign-in provider {provider.id!r} ({claim}) at the last sign-in, {when}"
        return f"from sign-in provider {provider.id!r} (login.providers.{index}) at the last sign-in, {when}"
    return f"from sign-in provider {account.provider!r} (no longer configured) at the last sign-in, {when}"


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC" if moment is not None else "unknown"
