"""The ``portico`` command line: serve, migrate, check-config, generate-secret, users, credentials, keys, policy,
tools, audit."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from app.audit_cli import AuditCommandError
from app.audit_cli import install as install_audit_commands
from app.config import ConfigError, PorticoConfig, load_config
from app.config.loader import resolve_config_path
from app.crypto import RootKeyError, generate_secret
from app.keys_cli import KeysCommandError
from app.keys_cli import install as install_keys_commands
from app.limits_cli import install as install_limits_commands
from app.policy_cli import install as install_policy_commands
from app.tools_cli import ToolsCommandError
from app.tools_cli import install as install_tools_commands

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

T = TypeVar("T")


class CommandError(Exception):
    """A user-facing failure of a command; the message is printed after ``portico:``."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code (0 ok, 1 a user-facing error)."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 1
    try:
        code: int = args.handler(args)
        return code
    except (ConfigError, RootKeyError, CommandError, KeysCommandError, AuditCommandError) as error:
        print(f"portico: {error}", file=sys.stderr)
        return 1
    except ToolsCommandError as error:
        print(f"portico: {error}", file=sys.stderr)
        return error.exit_code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="portico", description="OAuth 2.1 authorization server and MCP gateway.")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the gateway (uvicorn)")
    serve.add_argument("--config", help="configuration file (default: $PORTICO_CONFIG or examples/quickstart.yaml)")
    serve.add_argument("--host", help="override listen.host")
    serve.add_argument("--port", type=int, help="override listen.port")
    serve.add_argument(
        "--mcp-access-log",
        action="store_true",
        help="also write access-log lines for /<name>/mcp and /<name>/sse traffic (off: ~7%% of a proxied call)",
    )
    serve.set_defaults(handler=_serve)

    migrate = commands.add_parser("migrate", help="apply database migrations and exit")
    migrate.add_argument("--config", help="configuration file")
    migrate.set_defaults(handler=_migrate)

    check = commands.add_parser("check-config", help="validate a configuration file (exit 0 valid, 1 invalid)")
    check.add_argument("path", nargs="?", help="configuration file")
    check.add_argument("--strict", action="store_true", help="exit 1 on warnings too (a stdio command not found, …)")
    check.add_argument("--probe", action="store_true", help="try each HTTP upstream once (short timeout)")
    check.set_defaults(handler=_check_config)

    secret = commands.add_parser("generate-secret", help="print a new PORTICO_SECRET_KEY")
    secret.set_defaults(handler=lambda _args: print(generate_secret()) or 0)

    users_parser = commands.add_parser("users", help="list, disable or enable users")
    users_parser.set_defaults(handler=lambda _args: _print_help(users_parser))
    users = users_parser.add_subparsers(title="actions", metavar="ACTION")
    users_list = users.add_parser("list", help="list users: id, email, provider, disabled, last sign-in")
    users_list.add_argument("--config", help="configuration file")
    users_list.set_defaults(handler=_users_list)
    users_disable = users.add_parser("disable", help="disable a user and end their login sessions")
    users_disable.add_argument("email", help="the user's email address (case-insensitive)")
    users_disable.add_argument("--config", help="configuration file")
    users_disable.set_defaults(handler=_users_disable)
    users_enable = users.add_parser("enable", help="enable a disabled user again (they sign in and consent anew)")
    users_enable.add_argument("email", help="the user's email address (case-insensitive)")
    users_enable.add_argument("--config", help="configuration file")
    users_enable.set_defaults(handler=_users_enable)

    credentials_parser = commands.add_parser("credentials", help="inspect users' upstream credentials (never values)")
    credentials_parser.set_defaults(handler=lambda _args: _print_help(credentials_parser))
    credentials = credentials_parser.add_subparsers(title="actions", metavar="ACTION")
    explain = credentials.add_parser("explain", help="where each upstream header/env key of a user comes from")
    explain.add_argument("email", help="the user's email address (case-insensitive)")
    explain.add_argument("server", help="the server name")
    explain.add_argument("--config", help="configuration file")
    explain.set_defaults(handler=_credentials_explain)
    install_keys_commands(commands)
    install_policy_commands(commands)
    install_limits_commands(commands)
    install_tools_commands(commands)
    install_audit_commands(commands)
    return parser


def _print_help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 1


def _load(path: str | None) -> PorticoConfig:
    return load_config(resolve_config_path(path))


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from app.access_log import quiet_data_plane_access_log
    from app.log import configure_logging
    from app.main import create_app
    from app.shutdown import SHUTDOWN_DRAIN, GracefulServer, uvicorn_grace

    config = _load(args.config)
    configure_logging(config.logging.level, config.logging.format)
    if not args.mcp_access_log:
        quiet_data_plane_access_log()
    app = create_app(config)
    settings = uvicorn.Config(
        app,
        host=args.host or config.listen.host,
        port=args.port or config.listen.port,
        loop="uvloop",
        http="httptools",
        log_config=None,
        server_header=False,
        proxy_headers=False,
        timeout_graceful_shutdown=uvicorn_grace(config.listen.shutdown_grace),
    )
    server = GracefulServer(settings, SHUTDOWN_DRAIN.find_app(app))
    try:
        server.run()
    except KeyboardInterrupt:  # SIGINT re-raised by uvicorn once it has shut down
        pass
    return 0 if server.started else 1


def _migrate(args: argparse.Namespace) -> int:
    from app import migrate
    from app.db import create_db_engine

    config = _load(args.config)
    engine = create_db_engine(config.database_url)
    migrate.upgrade(engine)
    engine.dispose()
    print("migrations applied")
    return 0


def _check_config(args: argparse.Namespace) -> int:
    """Validate (errors: exit 1), then warn about what would fail at the first call (``--strict``: exit 1)."""
    import anyio

    from proxy.upstream.preflight import missing_commands, probe_upstreams

    path = resolve_config_path(args.path)
    config = load_config(path)
    print(f"{path}: ok")
    warnings = missing_commands(config)
    if args.probe:
        for result in anyio.run(probe_upstreams, config):
            print(f"probe: {result.describe()}")
            if not result.reachable:
                warnings.append(f"servers.{result.server}.url: the upstream is unreachable")
    for warning in warnings:
        print(f"{path}: warning: {warning}", file=sys.stderr)
    return 1 if warnings and args.strict else 0


def _users_list(args: argparse.Namespace) -> int:
    from oauth.login.api import list_users, users_table

    print(users_table(_in_database(args.config, list_users)))
    return 0


def _users_disable(args: argparse.Namespace) -> int:
    from app.audit.sinks import CLI_ACTOR, record_now
    from app.observe.auth_events import auth_event
    from oauth.consent.remembered import revoke_user_grants
    from oauth.grant_tokens import RevokedGrants
    from oauth.login.api import AmbiguousEmailError, DisabledUser, disable_user_reporting

    audit = _load(args.config).audit

    def disable(db: Session) -> tuple[DisabledUser, RevokedGrants, str] | None:
        disabled = disable_user_reporting(db, args.email)
        if disabled is None:
            return None
        # Recorded in revocation_events in this transaction: running instances learn it from there.
        revoked = revoke_user_grants(db, disabled.subject)
        subject, email = disabled.subject, args.email.strip().lower()
        events = [
            auth_event("user_disabled", subject=subject, email=email, reason="portico users disable", actor=CLI_ACTOR)
        ]
        if revoked.grants:
            revoked_event = auth_event(
                "token_revoked",
                subject=subject,
                email=email,
                reason="user_disabled",
                actor=CLI_ACTOR,
                revoked="grants",
                refresh_tokens=str(revoked.refresh_tokens),
                access_tokens=str(revoked.access_tokens),
            )
            events.append(revoked_event)
        record_now(audit, db, events)  # in the same transaction: no disable without its record
        return disabled, revoked, db.get_bind().dialect.name

    try:
        outcome = _in_database(args.config, disable)
    except AmbiguousEmailError as error:
        raise CommandError(str(error)) from None
    if outcome is None:
        raise CommandError(f"no user has the email {args.email}")
    disabled, revoked, dialect = outcome
    print(f"disabled user {disabled.user_id} ({args.email})")
    print(f"  login sessions ended: {disabled.sessions_ended}")
    print(f"  refresh tokens revoked: {revoked.refresh_tokens} (in {revoked.grants} grant(s); consents removed)")
    print(f"  access tokens revoked: {revoked.access_tokens}")
    print(f"  running instances: {_revocation_delivery(dialect, revoked.access_tokens)}")
    return 0


def _users_enable(args: argparse.Namespace) -> int:
    from app.audit.sinks import CLI_ACTOR, record_now
    from app.observe.auth_events import auth_event
    from oauth.login.api import AmbiguousEmailError, EnabledUser, enable_user

    audit = _load(args.config).audit

    def enable(db: Session) -> EnabledUser | None:
        enabled = enable_user(db, args.email)
        if enabled is not None and enabled.was_disabled:  # an enabled user stays as is: nothing to record
            email = args.email.strip().lower()
            event = auth_event(
                "user_enabled", subject=enabled.subject, email=email, reason="portico users enable", actor=CLI_ACTOR
            )
            record_now(audit, db, [event])  # in the same transaction: no enable without its record
        return enabled

    try:
        enabled = _in_database(args.config, enable)
    except AmbiguousEmailError as error:
        raise CommandError(str(error)) from None
    if enabled is None:
        raise CommandError(f"no user has the email {args.email}")
    if not enabled.was_disabled:
        print(f"user {enabled.user_id} ({args.email}) is not disabled: nothing to do")
        return 0
    print(f"enabled user {enabled.user_id} ({args.email}): they may sign in again")
    print("  their grants and consents stay revoked: they approve their applications anew")
    return 0


def _revocation_delivery(dialect: str, access_tokens: int) -> str:
    """What the running instances do about the revoked access tokens (ADR 0009)."""
    from oauth.housekeeping import REVOCATION_SYNC_SECONDS
    from oauth.revocation_events import POLL_SECONDS

    fallback = f"at the latest within {REVOCATION_SYNC_SECONDS:.0f} s (periodic sync)"
    if access_tokens == 0:
        return "nothing to tell them (no live access tokens)"
    if dialect == "postgresql":
        return f"notified on commit (PostgreSQL NOTIFY); an instance not listening then catches up {fallback}"
    return f"will refuse them within {POLL_SECONDS:.0f} s (they poll the revocation log), {fallback}"


def _credentials_explain(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from app.crypto import KeyRing, Sealer, load_root_keys
    from oauth.login.api import accounts_by_email
    from proxy.credentials.explain import ExplainError, explain_credentials

    config = _load(args.config)
    sealer = Sealer(KeyRing(tuple(load_root_keys(config))))

    def explain(db: Session) -> list[str]:
        accounts = accounts_by_email(db, args.email)
        if not accounts:
            raise CommandError(f"no user has the email {args.email}")
        lines: list[str] = []
        for account in accounts:
            lines += explain_credentials(
                db,
                config,
                sealer,
                subject=account.subject,
                email=account.email,
                server=args.server,
                now=datetime.now(UTC),
            )
        return lines

    try:
        print("\n".join(_in_database(args.config, explain)))
    except ExplainError as error:
        raise CommandError(str(error)) from None
    return 0


def _in_database(path: str | None, work: Callable[[Session], T]) -> T:
    """Run ``work`` in one transaction on the configured database, which must be fully migrated."""
    from app import migrate
    from app.db import create_db_engine, session_factory, transaction

    engine = create_db_engine(_load(path).database_url)
    try:
        if not migrate.is_current(engine):
            raise CommandError("the database is not up to date: run `portico migrate` first")
        with transaction(session_factory(engine)) as db:
            return work(db)
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
