"""``portico tools list | approve | diff``: review and approve pinned tool definitions (docs/pinning.md).

Reads and writes table ``tool_definitions`` (:mod:`proxy.pinning.store`) directly; running gateways
pick up an approval on their next poll (:data:`proxy.pinning.POLL_SECONDS`). Each approval is audited
(``tool_approved``) in the transaction that approves it when ``audit`` is on. An unknown server or
tool is a :class:`ToolsCommandError`: ``portico:`` and the message on stderr, exit 2.
"""

from __future__ import annotations

import argparse
import difflib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from app import migrate
from app.audit.sinks import CLI_ACTOR, record_now
from app.config import PorticoConfig, load_config
from app.config.loader import resolve_config_path
from app.db import create_db_engine, session_factory, transaction
from app.observe.auth_events import auth_event
from app.observe.records import AuthEvent
from proxy.pinning import POLL_SECONDS
from proxy.pinning.canonical import pretty_json
from proxy.pinning.store import ToolDefinitionRow, ToolState, approve_latest, definitions_of, tool_states

T = TypeVar("T")


class ToolsCommandError(Exception):
    """A user-facing failure of a ``portico tools`` command (printed after ``portico:``, exit 2)."""

    exit_code = 2


def install(commands: Any) -> None:
    """Add ``tools list``, ``tools approve`` and ``tools diff`` to the ``portico`` sub-command parser."""
    tools_parser: argparse.ArgumentParser = commands.add_parser(
        "tools", help="pinned tool definitions: list, approve, diff"
    )
    tools_parser.set_defaults(handler=lambda _args: _print_help(tools_parser))
    tools = tools_parser.add_subparsers(title="actions", metavar="ACTION")

    listing = tools.add_parser("list", help="each recorded tool: approved, changed, new or held; when seen/approved")
    listing.add_argument("server", nargs="?", help="only this server")
    listing.add_argument("--config", help="configuration file")
    listing.set_defaults(handler=_list)

    approve = tools.add_parser("approve", help="approve the latest-seen definition of a tool")
    approve.add_argument("server", help="the server name")
    approve.add_argument("tool", nargs="?", help="the tool name")
    approve.add_argument("--all", action="store_true", help="every tool of the server that awaits approval")
    approve.add_argument("--config", help="configuration file")
    approve.set_defaults(handler=_approve)

    diff = tools.add_parser("diff", help="unified diff: approved definition → latest-seen definition")
    diff.add_argument("server", help="the server name")
    diff.add_argument("tool", help="the tool name")
    diff.add_argument("--config", help="configuration file")
    diff.set_defaults(handler=_diff)


def _print_help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 1


def status(state: ToolState, mode: str) -> str:
    """``approved``; ``held`` (``enforce``: hidden and refused until approved); else ``changed`` or ``new``."""
    if state.status == "approved":
        return "approved"
    return "held" if mode == "enforce" else state.status


def _list(args: argparse.Namespace) -> int:
    config = _config(args)
    servers = [_server(config, args.server)] if args.server else sorted(config.servers)
    states = _in_database(config, lambda db: tool_states(db, servers))
    rows = [("SERVER", "TOOL", "STATUS", "PINNING", "FIRST SEEN", "APPROVED")]
    for server in servers:
        mode = config.servers[server].pinning
        for tool, state in sorted(states[server].items()):
            approved = f"{_when(state.approved_at)} ({_by(state.approved_by)})" if state.approved_at else "-"
            rows.append((server, tool, status(state, mode), mode, _when(state.first_seen_at), approved))
    if len(rows) == 1:
        print("no tool definitions recorded yet" + (f" for server {args.server!r}" if args.server else ""))
        return 0
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return 0


def _approve(args: argparse.Namespace) -> int:
    config = _config(args)
    server = _server(config, args.server)
    if (args.tool is None) == (not args.all):
        raise ToolsCommandError("name one TOOL or give --all (every tool of the server that awaits approval)")
    now = datetime.now(UTC)

    def approve(db: Session) -> list[tuple[str, str | None, ToolDefinitionRow]]:
        states = tool_states(db, [server])[server]
        if args.tool is not None and args.tool not in states:
            raise ToolsCommandError(_unknown_tool(server, args.tool, states))
        names = [args.tool] if args.tool is not None else sorted(t for t, s in states.items() if s.status != "approved")
        approved: list[tuple[str, str | None, ToolDefinitionRow]] = []
        for name in names:
            row = approve_latest(db, server, name, now)
            if row is not None:
                approved.append((name, states[name].approved, row))
        record_now(config.audit, db, _approval_events(server, approved))  # no approval without its record
        return approved

    approved = _in_database(config, approve)
    if not approved:
        print(f"nothing awaits approval on server {server!r}")
        return 0
    for name, previous, row in approved:
        if previous == row.definition_hash:
            print(f"{server} {name}: already approved ({row.definition_hash[:12]}…)")
            continue
        was = f"{previous[:12]}…" if previous else "none"
        print(
            f"approved {server} {name}: {row.definition_hash[:12]}… (first seen {_when(row.first_seen_at)}; was {was})"
        )
    print(f"running gateways serve it within {POLL_SECONDS:.0f} s")
    return 0


def _approval_events(server: str, approved: list[tuple[str, str | None, ToolDefinitionRow]]) -> list[AuthEvent]:
    """One ``tool_approved`` per definition this run approved (not those already approved); hashes cut to 12."""
    return [
        auth_event(
            "tool_approved",
            reason="portico tools approve",
            actor=CLI_ACTOR,
            server=server,
            tool=name,
            hash=row.definition_hash[:12],
            previous=previous[:12] if previous else "none",
        )
        for name, previous, row in approved
        if previous != row.definition_hash
    ]


def _diff(args: argparse.Namespace) -> int:
    config = _config(args)
    server = _server(config, args.server)

    def read(db: Session) -> tuple[ToolState | None, list[ToolDefinitionRow]]:
        return tool_states(db, [server])[server].get(args.tool), definitions_of(db, server, args.tool)

    state, rows = _in_database(config, read)
    if state is None:
        raise ToolsCommandError(_unknown_tool(server, args.tool, {}))
    by_hash = {row.definition_hash: row for row in rows}
    latest = by_hash[state.latest]
    if state.approved == state.latest:
        print(f"{server} {args.tool}: the latest-seen definition is the approved one ({state.latest[:12]}…)")
        return 0
    before = pretty_json(by_hash[state.approved].definition) if state.approved else ""
    label = f"approved {state.approved[:12]} ({_when(state.approved_at)})" if state.approved else "approved: none"
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        pretty_json(latest.definition).splitlines(keepends=True),
        fromfile=f"{server}/{args.tool} {label}",
        tofile=f"{server}/{args.tool} latest {state.latest[:12]} (first seen {_when(latest.first_seen_at)})",
    )
    print("".join(lines), end="")
    return 0


def _config(args: argparse.Namespace) -> PorticoConfig:
    return load_config(resolve_config_path(args.config))


def _server(config: PorticoConfig, name: str) -> str:
    if name not in config.servers:
        known = ", ".join(sorted(config.servers)) or "none"
        raise ToolsCommandError(f"unknown server {name!r} (configured servers: {known})")
    return name


def _unknown_tool(server: str, tool: str, states: dict[str, ToolState]) -> str:
    known = ", ".join(sorted(states)) or "none recorded yet"
    return f"no definition of tool {tool!r} is recorded for server {server!r} (recorded tools: {known})"


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%SZ}" if moment is not None else "-"


def _by(approved_by: str | None) -> str:
    return {"first_use": "first use", "admin": "admin"}.get(approved_by or "", approved_by or "-")


def _in_database(config: PorticoConfig, work: Callable[[Session], T]) -> T:
    engine = create_db_engine(config.database_url)
    try:
        if not migrate.is_current(engine):
            raise ToolsCommandError("the database is not up to date: run `portico migrate` first")
        with transaction(session_factory(engine)) as db:
            return work(db)
    finally:
        engine.dispose()
