"""Table ``tool_definitions``: every definition of every tool Portico has seen, and which is approved.

One row per (server, tool, definition hash) with the canonical definition
(:mod:`proxy.pinning.canonical`), when it was first and last seen, and when and how it was approved
(``first_use``: trust on first use; ``admin``: ``portico tools approve``). For each tool the
*approved* definition is the row approved last and the *latest-seen* one the row seen last; rows
are never deleted, so the history stays. Timestamps of one tool only ever increase (a tie on a
coarse or fake clock is broken by one microsecond), so "last" is never ambiguous.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import String, Text, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.db import Base, UtcDateTime

ApprovedBy = Literal["first_use", "admin"]
_TICK = timedelta(microseconds=1)
_ROWS_PER_INSERT = 500  # 8 bound parameters a row: well under SQLite's 32766


class ToolDefinitionRow(Base):
    __tablename__ = "tool_definitions"

    server: Mapped[str] = mapped_column(String(63), primary_key=True)
    tool: Mapped[str] = mapped_column(String(255), primary_key=True)
    definition_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    definition: Mapped[str] = mapped_column(Text())
    first_seen_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime())
    approved_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    approved_by: Mapped[str | None] = mapped_column(String(16), nullable=True)


@dataclass(frozen=True)
class SeenDefinition:
    """One tool of a listing: its name, definition hash and canonical JSON."""

    tool: str
    definition_hash: str
    definition: str


@dataclass(frozen=True)
class ToolState:
    """What is known of one tool: its approved definition (None: never approved) and its latest-seen one."""

    approved: str | None
    latest: str
    approved_at: datetime | None = None
    approved_by: str | None = None
    first_seen_at: datetime | None = None

    @property
    def status(self) -> Literal["approved", "changed", "new"]:
        """``approved`` (latest = approved), ``changed`` (another one is approved), ``new`` (none is)."""
        if self.approved is None:
            return "new"
        return "approved" if self.approved == self.latest else "changed"


@dataclass(frozen=True)
class Recorded:
    """A definition this call inserted: ``previous`` is the tool's approved hash before (None: a new tool)."""

    seen: SeenDefinition
    previous: str | None
    approved: bool


def record_definitions(
    db: Session, server: str, seen: Sequence[SeenDefinition], *, hold_new: bool, now: datetime
) -> list[Recorded]:
    """Record definitions seen in a listing of ``server`` and make each its tool's latest-seen one.

    When nothing at all is recorded for ``server`` the listing is the baseline: every definition is
    approved (``first_use``). Otherwise a tool with no row yet is approved on first use unless
    ``hold_new``; a new definition of a known tool is recorded unapproved. Safe against another
    process recording the same definitions at once (insert-if-absent on the key).
    """
    rows = _rows(db, server)
    baseline = not rows
    by_tool: dict[str, list[ToolDefinitionRow]] = {}
    for row in rows:
        by_tool.setdefault(row.tool, []).append(row)
    candidates: dict[tuple[str, str], tuple[SeenDefinition, str | None, bool]] = {}
    values: list[dict[str, object]] = []
    for item in seen:
        history = by_tool.get(item.tool, [])
        latest = max((row.last_seen_at for row in history), default=None)
        seen_at = now if latest is None or now > latest else latest + _TICK
        existing = next((row for row in history if row.definition_hash == item.definition_hash), None)
        if existing is not None:
            existing.last_seen_at = seen_at
            continue
        approve = baseline or (not history and not hold_new)
        candidates[(item.tool, item.definition_hash)] = (item, _approved_of(history), approve)
        values.append(_row_values(server, item, seen_at, approved_by="first_use" if approve else None))
    db.flush()
    return [Recorded(*candidates[key]) for key in _insert_absent(db, values)]


def _row_values(
    server: str, item: SeenDefinition, now: datetime, *, approved_by: ApprovedBy | None
) -> dict[str, object]:
    return {
        "server": server,
        "tool": item.tool,
        "definition_hash": item.definition_hash,
        "definition": item.definition,
        "first_seen_at": now,
        "last_seen_at": now,
        "approved_at": now if approved_by else None,
        "approved_by": approved_by,
    }


def _insert_absent(db: Session, values: list[dict[str, object]]) -> list[tuple[str, str]]:
    """Multi-row ``INSERT … ON CONFLICT DO NOTHING RETURNING`` (in chunks): the keys this call inserted."""
    module = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    table = ToolDefinitionRow.__table__
    inserted: list[tuple[str, str]] = []
    for start in range(0, len(values), _ROWS_PER_INSERT):
        statement = module.insert(table).values(values[start : start + _ROWS_PER_INSERT]).on_conflict_do_nothing()
        inserted += [
            (tool, digest) for tool, digest in db.execute(statement.returning(table.c.tool, table.c.definition_hash))
        ]
    return inserted


def _approved_of(history: Iterable[ToolDefinitionRow]) -> str | None:
    approved = [row for row in history if row.approved_at is not None]
    return max(approved, key=lambda row: row.approved_at or row.first_seen_at).definition_hash if approved else None


def _rows(db: Session, server: str, tool: str | None = None) -> list[ToolDefinitionRow]:
    query = select(ToolDefinitionRow).where(ToolDefinitionRow.server == server)
    if tool is not None:
        query = query.where(ToolDefinitionRow.tool == tool)
    return list(db.scalars(query))


def tool_states(db: Session, servers: Iterable[str]) -> dict[str, dict[str, ToolState]]:
    """Every tool's :class:`ToolState` of ``servers``, by server then tool (definitions not read)."""
    names = list(servers)
    columns = (
        ToolDefinitionRow.server,
        ToolDefinitionRow.tool,
        ToolDefinitionRow.definition_hash,
        ToolDefinitionRow.first_seen_at,
        ToolDefinitionRow.last_seen_at,
        ToolDefinitionRow.approved_at,
        ToolDefinitionRow.approved_by,
    )
    states: dict[str, dict[str, ToolState]] = {name: {} for name in names}
    if not names:
        return states
    found: dict[tuple[str, str], list[tuple[str, datetime, datetime, datetime | None, str | None]]] = {}
    for server, tool, digest, first, last, approved_at, by in db.execute(
        select(*columns).where(ToolDefinitionRow.server.in_(names))
    ):
        found.setdefault((server, tool), []).append((digest, first, last, approved_at, by))
    for (server, tool), history in found.items():
        latest = max(history, key=lambda entry: entry[2])
        approved = [entry for entry in history if entry[3] is not None]
        chosen = max(approved, key=lambda entry: entry[3] or entry[1]) if approved else None
        states[server][tool] = ToolState(
            approved=chosen[0] if chosen else None,
            latest=latest[0],
            approved_at=chosen[3] if chosen else None,
            approved_by=chosen[4] if chosen else None,
            first_seen_at=min(entry[1] for entry in history),
        )
    return states


def change_marker(db: Session) -> tuple[object, ...]:
    """A cheap value that changes whenever a row is added, seen again or approved (the poll's watermark)."""
    row = db.execute(
        select(
            func.count(),
            func.count(ToolDefinitionRow.approved_at),
            func.max(ToolDefinitionRow.last_seen_at),
            func.max(ToolDefinitionRow.approved_at),
        )
    ).one()
    return tuple(row)


def definitions_of(db: Session, server: str, tool: str) -> list[ToolDefinitionRow]:
    """Every recorded definition of one tool, oldest first."""
    return sorted(_rows(db, server, tool), key=lambda row: row.first_seen_at)


def approve_latest(db: Session, server: str, tool: str, now: datetime) -> ToolDefinitionRow | None:
    """Approve (``admin``) the latest-seen definition of ``tool``; None when nothing is recorded for it.

    A latest-seen definition that is already the approved one is returned unchanged.
    """
    history = _rows(db, server, tool)
    if not history:
        return None
    latest = max(history, key=lambda row: row.last_seen_at)
    if _approved_of(history) == latest.definition_hash:
        return latest
    newest = max((row.approved_at for row in history if row.approved_at is not None), default=None)
    latest.approved_at = now if newest is None or now > newest else newest + _TICK
    latest.approved_by = "admin"
    db.flush()
    return latest


def recorded_tools(db: Session, server: str) -> list[str]:
    """The names of the tools recorded for ``server``, sorted."""
    query = select(ToolDefinitionRow.tool).where(ToolDefinitionRow.server == server).distinct()
    return sorted(db.scalars(query))
