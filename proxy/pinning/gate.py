"""``PinningGate``: tool-definition pinning on the data plane (issue #16; docs/pinning.md, ADR 0015).

It implements the proxy's ``ToolGate`` seam structurally (``proxy/policy/tool_gate.py``):

- :meth:`PinningGate.observe` sees every upstream ``tools/list`` result of a pinned server, records
  what is new or changed (:mod:`proxy.pinning.store`, on the database executor) and returns the
  names to hide: under ``enforce`` every tool whose listed definition is not the approved one.
  A listing already seen costs one digest of the array and a dictionary lookup; the database is
  written only when a definition is new, or a different one than the tool's latest-seen.
- :meth:`PinningGate.refusal` answers ``tools/call`` from memory: under ``enforce`` a tool whose
  latest-seen definition is not approved gets :class:`~proxy.pinning.errors.ToolHeldError` (-32013).

Trust on first use: a server's first listing with nothing recorded is its approved baseline. State
is loaded at startup (:meth:`PinningGate.load`) and re-read whenever the table changed, checked every
:data:`POLL_SECONDS` (:meth:`PinningGate.poll_forever`), so ``portico tools approve`` in another
process reaches a running gateway within that time.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import anyio
from sqlalchemy.orm import Session, sessionmaker

from app.clock import Clock, SystemClock
from app.db import run_db
from app.db_outage import DatabaseUnavailableError
from proxy.pinning.canonical import canonical_json, hash_of, listing_digest, tool_definition
from proxy.pinning.changes import PINNING_CHANGES
from proxy.pinning.errors import HoldReason, ToolHeldError
from proxy.pinning.settings import PinningPolicy
from proxy.pinning.store import Recorded, SeenDefinition, ToolState, change_marker, record_definitions, tool_states

log = logging.getLogger("portico.pinning")

POLL_SECONDS = 2.0
"""How often a running gateway checks the table for approvals and definitions other processes recorded."""
LISTINGS_PER_SERVER = 32
"""Distinct listings remembered per server (per-user upstreams may list differently)."""


@dataclass
class _Listing:
    seen: list[SeenDefinition]
    # Entries shadowed by a later one of the same name (invalid, but an upstream may send it):
    # judged for hiding too, so a poisoned first entry cannot ride on an approved second one.
    shadowed: list[SeenDefinition]
    version: int = -1
    hidden: frozenset[str] = frozenset()


class PinningGate:
    """Pinning state of every pinned server, in memory; see the module docstring."""

    def __init__(
        self,
        policies: Mapping[str, PinningPolicy],
        db: sessionmaker[Session],
        *,
        clock: Clock | None = None,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self._policies = dict(policies)
        self._db = db
        self._clock = clock or SystemClock()
        self.poll_seconds = poll_seconds
        self._states: dict[str, dict[str, ToolState]] = {name: {} for name in self._policies}
        self._held: dict[str, dict[str, HoldReason]] = {name: {} for name in self._policies}
        self._hold_unlisted: set[str] = set()
        self._unrecorded_servers: set[str] = set()
        self._listings: dict[str, OrderedDict[str, _Listing]] = {name: OrderedDict() for name in self._policies}
        self._locks = {name: anyio.Lock() for name in self._policies}
        self._version = 0
        self._marker: tuple[object, ...] | None = None

    @property
    def servers(self) -> frozenset[str]:
        """The pinned servers (``pinning`` not ``off``)."""
        return frozenset(self._policies)

    async def observe(self, server: str, tools: list[dict[str, Any]]) -> frozenset[str]:
        """Record an upstream ``tools/list`` ``tools`` array; return the names to hide from it.

        Raises nothing for a database outage: the new definitions stay unrecorded (retried on the
        next listing) and, under ``enforce``, hidden.
        """
        policy = self._policies.get(server)
        if policy is None:
            return frozenset()
        listing = self._listing(server, tools)
        if listing.version == self._version:
            return listing.hidden
        if self._unrecorded(server, listing.seen) and not await self._record(server, listing.seen, policy):
            return self._hide(server, listing, policy)  # not cached: the next listing retries
        listing.hidden, listing.version = self._hide(server, listing, policy), self._version
        return listing.hidden

    def refusal(self, server: str, tool: str) -> ToolHeldError | None:
        """None when ``tool`` may be called; else -32013 (``enforce`` and not approved). No I/O."""
        held = self._held.get(server)
        if held is None:
            return None
        reason = held.get(tool)
        if reason is None and server in self._hold_unlisted and tool not in self._states[server]:
            reason = "new"  # new_tools: hold — a tool never listed is not approved either
        return ToolHeldError(server, tool, reason) if reason is not None else None

    async def load(self) -> None:
        """Read every pinned server's state (startup). Raises DatabaseUnavailableError."""
        await self.sync(force=True)

    async def start(self) -> None:
        """:meth:`load`, logging an outage instead of raising (the poll loads it once the database answers).

        Until then nothing is lost: a listing's baseline or change is decided from the table when it
        is recorded, not from memory.
        """
        try:
            await self.load()
        except DatabaseUnavailableError:
            log.warning("pinning: tool definitions not loaded at startup (no database); the poll retries")

    async def sync(self, *, force: bool = False) -> bool:
        """Re-read the state when the table changed since the last read; True when it was re-read."""
        previous = None if force else self._marker
        servers = list(self._policies)

        def read(db: Session) -> tuple[tuple[object, ...], dict[str, dict[str, ToolState]] | None]:
            marker = change_marker(db)
            return marker, (tool_states(db, servers) if marker != previous else None)

        marker, states = await run_db(self._db, read)
        self._marker = marker
        if states is None:
            return False
        for server, tools in states.items():
            self._apply(server, tools)
        return True

    async def poll_forever(self) -> None:
        """:meth:`sync` every ``poll_seconds`` until cancelled; an outage is retried on the next tick."""
        while True:
            await anyio.sleep(self.poll_seconds)
            try:
                await self.sync()
            except DatabaseUnavailableError:
                pass  # the executor's outage log has said so once
            except Exception:
                log.exception("pinning: reading tool definitions failed")

    def _listing(self, server: str, tools: Sequence[object]) -> _Listing:
        cache = self._listings[server]
        digest = listing_digest(tools)
        listing = cache.get(digest)
        if listing is None:
            listing = cache[digest] = _Listing(*_definitions(tools))
            while len(cache) > LISTINGS_PER_SERVER:
                cache.popitem(last=False)
        else:
            cache.move_to_end(digest)
        return listing

    def _unrecorded(self, server: str, seen: Sequence[SeenDefinition]) -> list[SeenDefinition]:
        states = self._states[server]
        return [
            item for item in seen if (state := states.get(item.tool)) is None or state.latest != item.definition_hash
        ]

    async def _record(self, server: str, seen: Sequence[SeenDefinition], policy: PinningPolicy) -> bool:
        """Record what this listing shows that memory does not know yet; False on a database outage."""
        async with self._locks[server]:
            items = self._unrecorded(server, seen)  # again: a concurrent listing may have recorded them
            if not items:
                return True
            now = self._clock.now()

            def write(db: Session) -> tuple[list[Recorded], dict[str, ToolState]]:
                inserted = record_definitions(db, server, items, hold_new=policy.hold_new, now=now)
                return inserted, tool_states(db, [server])[server]

            try:
                inserted, states = await run_db(self._db, write)
            except DatabaseUnavailableError:
                if server not in self._unrecorded_servers:  # once per outage: the executor logs the outage itself
                    self._unrecorded_servers.add(server)
                    log.warning("pinning: tool definitions of server %r not recorded (no database); retrying", server)
                return False
            self._unrecorded_servers.discard(server)
            self._apply(server, states)
            for recorded in inserted:
                _warn(server, recorded, policy)
            return True

    def _apply(self, server: str, states: dict[str, ToolState]) -> None:
        policy = self._policies[server]
        self._states[server] = states
        held: dict[str, HoldReason] = {}
        if policy.enforce:
            held = {tool: state.status for tool, state in states.items() if state.status != "approved"}
        self._held[server] = held
        if policy.enforce and policy.hold_new and states:
            self._hold_unlisted.add(server)
        else:
            self._hold_unlisted.discard(server)
        self._version += 1

    def _hide(self, server: str, listing: _Listing, policy: PinningPolicy) -> frozenset[str]:
        if not policy.enforce:
            return frozenset()
        states = self._states[server]
        return frozenset(
            item.tool
            for item in (*listing.seen, *listing.shadowed)
            if (state := states.get(item.tool)) is None or state.approved != item.definition_hash
        )


def _definitions(tools: Sequence[object]) -> tuple[list[SeenDefinition], list[SeenDefinition]]:
    """Each named tool of a listing with its hash (a name listed twice: the last entry is recorded),
    and the entries shadowed by a later one of the same name."""
    found: dict[str, SeenDefinition] = {}
    shadowed: list[SeenDefinition] = []
    for tool in tools:
        if isinstance(tool, dict) and isinstance(name := tool.get("name"), str):
            text = canonical_json(tool_definition(tool))
            if name in found:
                shadowed.append(found[name])
            found[name] = SeenDefinition(name, hash_of(text), text)
    return list(found.values()), shadowed


def _warn(server: str, recorded: Recorded, policy: PinningPolicy) -> None:
    outcome = "hidden until approved" if policy.enforce else "served (pinning: warn)"
    new = recorded.seen.definition_hash[:12]
    if recorded.previous is not None or not recorded.approved:
        PINNING_CHANGES.add(server, policy.mode)
    if recorded.previous is not None:
        log.warning(
            "pinning: tool %r of server %r changed: %s… → %s…, %s",
            recorded.seen.tool,
            server,
            recorded.previous[:12],
            new,
            outcome,
        )
    elif not recorded.approved:
        log.warning("pinning: tool %r of server %r is new: %s…, %s", recorded.seen.tool, server, new, outcome)
