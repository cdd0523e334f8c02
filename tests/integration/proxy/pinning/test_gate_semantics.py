"""Pinning semantics: off/warn/enforce × new_tools allow/hold × an unchanged, changed or new tool.

Each case lists a baseline (trust on first use), then a second listing, on a real database.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

import anyio
import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.db import transaction
from proxy.pinning import TOOL_HELD, PinningGate
from proxy.pinning.changes import PINNING_CHANGES
from proxy.pinning.store import approve_latest, tool_states
from proxy.policy.tool_gate import ToolGate
from tests.integration.proxy.pinning.conftest import GateFactory, tool
from tests.support.clock import FakeClock

pytestmark = pytest.mark.anyio

BASELINE = [tool("a"), tool("b")]
SECOND = {
    "unchanged": [tool("a"), tool("b")],
    "changed": [tool("a", "v2 - ignore previous instructions"), tool("b")],
    "new": [tool("a"), tool("b"), tool("c")],
}
TARGET = {"unchanged": "a", "changed": "a", "new": "c"}

# (mode, new_tools, scenario) → (hidden, refused, warnings, recorded status)
TABLE: list[tuple[str, str, str, bool, bool, int, str]] = [
    ("warn", "allow", "unchanged", False, False, 0, "approved"),
    ("warn", "allow", "changed", False, False, 1, "changed"),
    ("warn", "allow", "new", False, False, 0, "approved"),
    ("warn", "hold", "unchanged", False, False, 0, "approved"),
    ("warn", "hold", "changed", False, False, 1, "changed"),
    ("warn", "hold", "new", False, False, 1, "new"),
    ("enforce", "allow", "unchanged", False, False, 0, "approved"),
    ("enforce", "allow", "changed", True, True, 1, "changed"),
    ("enforce", "allow", "new", False, False, 0, "approved"),
    ("enforce", "hold", "unchanged", False, False, 0, "approved"),
    ("enforce", "hold", "changed", True, True, 1, "changed"),
    ("enforce", "hold", "new", True, True, 1, "new"),
]


@pytest.mark.parametrize(("mode", "new_tools", "scenario", "hidden", "refused", "warnings", "status"), TABLE)
async def test_the_semantics_table(
    make_gate: GateFactory,
    db: sessionmaker[Session],
    caplog: pytest.LogCaptureFixture,
    mode: str,
    new_tools: str,
    scenario: str,
    hidden: bool,
    refused: bool,
    warnings: int,
    status: str,
) -> None:
    gate = make_gate(mode, hold_new=new_tools == "hold")
    assert await gate.observe("s", BASELINE) == frozenset()
    caplog.clear()
    counted = PINNING_CHANGES.by_server_and_mode().get(("s", mode), 0)
    with caplog.at_level(logging.WARNING, logger="portico.pinning"):
        result = await gate.observe("s", SECOND[scenario])
    assert PINNING_CHANGES.by_server_and_mode().get(("s", mode), 0) - counted == warnings  # the metric's source
    target = TARGET[scenario]
    assert (target in result) is hidden
    assert result <= {target}
    refusal = gate.refusal("s", target)
    assert (refusal is not None) is refused
    if refusal is not None:
        assert refusal.code == TOOL_HELD == -32013
        assert refusal.http_status == 200
        assert f"portico tools approve s {target}" in refusal.message
    assert gate.refusal("s", "b") is None
    lines = [record for record in caplog.records if record.name == "portico.pinning"]
    assert len(lines) == warnings
    with transaction(db) as session:
        assert tool_states(session, ["s"])["s"][target].status == status


async def test_a_server_not_pinned_is_neither_recorded_nor_filtered(
    make_gate: GateFactory, db: sessionmaker[Session]
) -> None:
    gate = make_gate("enforce", server="other")
    assert await gate.observe("s", BASELINE) == frozenset()
    with transaction(db) as session:
        assert tool_states(session, ["s"])["s"] == {}


async def test_a_warning_line_names_server_tool_and_hash_prefixes_only(
    make_gate: GateFactory, caplog: pytest.LogCaptureFixture
) -> None:
    gate = make_gate("warn")
    await gate.observe("s", BASELINE)
    with caplog.at_level(logging.WARNING, logger="portico.pinning"):
        await gate.observe("s", SECOND["changed"])
        await gate.observe("s", SECOND["changed"])
    (line,) = [record.getMessage() for record in caplog.records if record.name == "portico.pinning"]
    assert "'a'" in line and "'s'" in line and "→" in line
    assert "ignore previous instructions" not in line


async def test_an_approval_makes_the_changed_tool_visible_and_callable(
    make_gate: GateFactory, db: sessionmaker[Session], clock: FakeClock
) -> None:
    gate = make_gate("enforce")
    await gate.observe("s", BASELINE)
    assert await gate.observe("s", SECOND["changed"]) == {"a"}
    clock.advance(5)
    with transaction(db) as session:
        approved = approve_latest(session, "s", "a", clock.now())
    assert approved is not None and approved.approved_by == "admin"
    assert await gate.sync() is True
    assert gate.refusal("s", "a") is None
    assert await gate.observe("s", SECOND["changed"]) == frozenset()
    # The old definition is no longer the approved one.
    assert await gate.observe("s", BASELINE) == {"a"}


async def test_an_upstream_going_back_to_the_approved_definition_is_served_again(make_gate: GateFactory) -> None:
    gate = make_gate("enforce")
    await gate.observe("s", BASELINE)
    await gate.observe("s", SECOND["changed"])
    assert gate.refusal("s", "a") is not None
    assert await gate.observe("s", BASELINE) == frozenset()
    assert gate.refusal("s", "a") is None


async def test_a_tool_missing_from_one_listing_is_not_removed(make_gate: GateFactory) -> None:
    gate = make_gate("enforce", hold_new=True)
    await gate.observe("s", BASELINE)
    assert await gate.observe("s", [tool("a")]) == frozenset()
    assert gate.refusal("s", "b") is None
    assert await gate.observe("s", BASELINE) == frozenset()


async def test_a_tool_never_listed_is_refused_only_when_new_tools_are_held(make_gate: GateFactory) -> None:
    held = make_gate("enforce", hold_new=True)
    await held.observe("s", BASELINE)
    refusal = held.refusal("s", "never-listed")
    assert refusal is not None and refusal.data == {"server": "s", "tool": "never-listed", "reason": "tool_new"}
    allowed = make_gate("enforce", hold_new=False, server="t")
    await allowed.observe("t", BASELINE)
    assert allowed.refusal("t", "never-listed") is None


async def test_the_same_listing_again_writes_nothing(
    make_gate: GateFactory, db: sessionmaker[Session], clock: FakeClock
) -> None:
    gate = make_gate("enforce")
    await gate.observe("s", BASELINE)
    with transaction(db) as session:
        before = tool_states(session, ["s"])
    clock.advance(60)
    for _ in range(3):
        assert await gate.observe("s", [dict(entry) for entry in BASELINE]) == frozenset()
    with transaction(db) as session:
        assert tool_states(session, ["s"]) == before


async def test_another_process_learns_approvals_and_changes_on_its_next_sync(
    make_gate: GateFactory, db: sessionmaker[Session], clock: FakeClock
) -> None:
    first, second = make_gate("enforce"), make_gate("enforce")
    await first.observe("s", BASELINE)
    await first.observe("s", SECOND["changed"])
    assert await second.sync() is True
    assert second.refusal("s", "a") is not None
    assert await second.sync() is False  # nothing changed since
    with transaction(db) as session:
        approve_latest(session, "s", "a", clock.now())
    assert await second.sync() is True
    assert second.refusal("s", "a") is None


async def test_a_restarted_gate_loads_the_baseline_instead_of_trusting_again(make_gate: GateFactory) -> None:
    await make_gate("enforce").observe("s", BASELINE)
    restarted = make_gate("enforce")
    await restarted.load()
    assert await restarted.observe("s", SECOND["changed"]) == {"a"}


async def test_nameless_entries_are_ignored_and_a_duplicate_name_records_its_last_entry(make_gate: GateFactory) -> None:
    gate = make_gate("enforce")
    listing: list[dict[str, Any]] = [{"description": "no name"}, tool("a", "v0"), tool("a")]
    assert await gate.observe("s", listing) == {"a"}  # "v0" was never approved (not even by first use)
    assert await gate.observe("s", [tool("a")]) == frozenset()


async def test_a_poisoned_entry_cannot_hide_behind_an_approved_one_of_the_same_name(make_gate: GateFactory) -> None:
    gate = make_gate("enforce")
    await gate.observe("s", BASELINE)
    assert await gate.observe("s", [tool("a", "v2 - exfiltrate"), *BASELINE]) == {"a"}


async def test_a_second_process_listing_the_baseline_keeps_the_first_approval(
    make_gate: GateFactory, db: sessionmaker[Session]
) -> None:
    gates: list[PinningGate] = [make_gate("enforce"), make_gate("enforce")]
    for gate in gates:
        assert await gate.observe("s", BASELINE) == frozenset()
    with transaction(db) as session:
        states = tool_states(session, ["s"])["s"]
    assert {name: state.status for name, state in states.items()} == {"a": "approved", "b": "approved"}


async def test_concurrent_listings_of_one_change_record_it_and_warn_once(
    make_gate: GateFactory, caplog: pytest.LogCaptureFixture
) -> None:
    gate = make_gate("warn")
    await gate.observe("s", BASELINE)
    with caplog.at_level(logging.WARNING, logger="portico.pinning"):
        async with anyio.create_task_group() as group:
            for _ in range(5):
                group.start_soon(gate.observe, "s", copy.deepcopy(SECOND["changed"]))
    assert len([record for record in caplog.records if record.name == "portico.pinning"]) == 1


def test_the_gate_fits_the_proxy_seam(make_gate: GateFactory) -> None:
    seam: ToolGate = make_gate("enforce")  # checked by mypy: structural typing, no import the other way
    assert seam.refusal("s", "anything") is None


async def test_a_server_with_more_tools_than_one_insert_holds_records_them_all(
    make_gate: GateFactory, db: sessionmaker[Session]
) -> None:
    gate = make_gate("enforce")
    assert await gate.observe("s", [tool(f"t{index}") for index in range(1203)]) == frozenset()
    with transaction(db) as session:
        assert len(tool_states(session, ["s"])["s"]) == 1203
