"""``portico limits explain USER SERVER [TOOL]``: which rate limits and quotas count a user's request.

Reads only the configuration (:mod:`app.limits.explain`): no database, no Redis. Exit 0 with the
answer, 2 for an unknown server (with the closest name), 1 for a configuration problem (the
loader's message). Prints no secret (the Redis URL is never printed). docs/limits.md §Explain.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from app.config import load_config
from app.config.errors import ConfigError
from app.config.loader import resolve_config_path
from app.config.suggest import closest_key
from app.limits.explain import explain
from app.limits.rules import CompiledLimits

USAGE_ERROR = 2


def install(commands: Any) -> None:
    """Add ``limits explain`` to the ``portico`` sub-command parser."""
    limits_parser: argparse.ArgumentParser = commands.add_parser("limits", help="explain rate limits and quotas")
    limits_parser.set_defaults(handler=lambda _args: _print_help(limits_parser))
    actions = limits_parser.add_subparsers(title="actions", metavar="ACTION")
    action = actions.add_parser("explain", help="which rate limits and quotas count USER's requests to SERVER")
    action.add_argument("user", metavar="USER", help="the user (email or subject; shown, not looked up)")
    action.add_argument("server", metavar="SERVER", help="the server name (servers.<name>)")
    action.add_argument("tool", metavar="TOOL", nargs="?", help="a tool name (a tools/call of it)")
    action.add_argument("--config", help="configuration file")
    action.set_defaults(handler=_explain)


def _print_help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 1


def _explain(args: argparse.Namespace) -> int:
    try:
        config = load_config(resolve_config_path(args.config))
    except ConfigError as error:
        print(f"portico: {error}", file=sys.stderr)
        return 1
    if args.server not in config.servers:
        hint = closest_key(args.server, sorted(config.servers))
        suffix = f"; did you mean '{hint}'?" if hint else ""
        print(f"portico: no server named {args.server!r}{suffix}", file=sys.stderr)
        return USAGE_ERROR
    compiled = CompiledLimits.of(config.limits.rules, config.limits.quotas, list(config.servers))
    lines = explain(compiled, user=args.user, server=args.server, tool=args.tool, shared=config.redis.url is not None)
    print("\n".join(lines))
    return 0
