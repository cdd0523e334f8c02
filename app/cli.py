"""The ``portico`` command line: serve, migrate, check-config, generate-secret."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from app.config import ConfigError, PorticoConfig, load_config
from app.config.loader import resolve_config_path
from app.crypto import RootKeyError, generate_secret


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
    except (ConfigError, RootKeyError) as error:
        print(f"portico: {error}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="portico", description="OAuth 2.1 authorization server and MCP gateway.")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the gateway (uvicorn)")
    serve.add_argument("--config", help="configuration file (default: $PORTICO_CONFIG or examples/quickstart.yaml)")
    serve.add_argument("--host", help="override listen.host")
    serve.add_argument("--port", type=int, help="override listen.port")
    serve.set_defaults(handler=_serve)

    migrate = commands.add_parser("migrate", help="apply database migrations and exit")
    migrate.add_argument("--config", help="configuration file")
    migrate.set_defaults(handler=_migrate)

    check = commands.add_parser("check-config", help="validate a configuration file (exit 0 valid, 1 invalid)")
    check.add_argument("path", nargs="?", help="configuration file")
    check.set_defaults(handler=_check_config)

    secret = commands.add_parser("generate-secret", help="print a new PORTICO_SECRET_KEY")
    secret.set_defaults(handler=lambda _args: print(generate_secret()) or 0)
    return parser


def _load(path: str | None) -> PorticoConfig:
    return load_config(resolve_config_path(path))


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from app.log import configure_logging
    from app.main import create_app

    config = _load(args.config)
    configure_logging(config.logging.level, config.logging.format)
    app = create_app(config)
    uvicorn.run(
        app,
        host=args.host or config.listen.host,
        port=args.port or config.listen.port,
        loop="uvloop",
        http="httptools",
        log_config=None,
        server_header=False,
        proxy_headers=False,
        timeout_graceful_shutdown=10,
    )
    return 0


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
    path = resolve_config_path(args.path)
    load_config(path)
    print(f"{path}: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
