"""Peer cells for bench/run.py: each peer in front of the same echo, driven by the same wrk client.

For every peer (``$BENCH_PEERS``, comma-separated names, selects a subset): install and start it,
check readiness per client revision with one real call, then time it exactly like the Portico
cells (warm-up discarded, ``reps`` runs per concurrency, medians). A peer or a revision that
cannot be installed, started or driven is recorded as "not run: <reason>"; nothing here fails
the whole run. Rows join the run's tables with ``direct-http-<rev>`` as their baseline.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.peers.contextforge import CONTEXTFORGE
from bench.peers.fastmcp_proxy import FASTMCP, FASTMCP_REUSE
from bench.peers.install import PeerUnavailableError
from bench.peers.mcp_proxy import MCP_PROXY
from bench.peers.peer import Front, Peer, Upstream
from bench.peers.probe import LEGACY_REV, MODERN_REV, ready
from bench.peers.supergateway import SUPERGATEWAY

if TYPE_CHECKING:
    from bench.run import Cell, Target

PEERS: list[Peer] = [FASTMCP, FASTMCP_REUSE, MCP_PROXY, SUPERGATEWAY, CONTEXTFORGE]
REVISIONS = ((LEGACY_REV, "2025"), (MODERN_REV, "2026"))


@dataclass
class Outcome:
    """What happened to one peer: per client revision tag, "ran" or "not run: <reason>"."""

    peer: Peer
    results: dict[str, str] = field(default_factory=dict)


def selected() -> list[Peer]:
    names = [name.strip() for name in os.environ.get("BENCH_PEERS", "").split(",") if name.strip()]
    if not names:
        return PEERS
    unknown = set(names) - {peer.name for peer in PEERS}
    if unknown:
        raise SystemExit(f"BENCH_PEERS: unknown peer(s) {', '.join(sorted(unknown))}")
    return [peer for peer in PEERS if peer.name in names]


@contextmanager
def _tool(name: str) -> Iterator[None]:
    """The tool name call.lua sends (wrk inherits this process's environment)."""
    before = os.environ.get("BENCH_TOOL")
    os.environ["BENCH_TOOL"] = name
    try:
        yield
    finally:
        if before is None:
            del os.environ["BENCH_TOOL"]
        else:
            os.environ["BENCH_TOOL"] = before


def _measure(
    target: Target, tool: str, concurrencies: list[int], args: argparse.Namespace, log: Callable[[str], None]
) -> list[Cell]:
    from bench.run import Cell, run_wrk

    cells = []
    with _tool(tool):
        for concurrency in concurrencies:
            run_wrk(target, concurrency, args.warmup)  # discarded
            cell = Cell(target.name, concurrency)
            for _ in range(args.reps):
                cell.runs.append(run_wrk(target, concurrency, args.duration))
            cells.append(cell)
            log(
                f"  {target.name:<28} c={concurrency:<3} {cell.median('rps'):>9.1f}/s p50 {cell.median('p50'):.3f} "
                f"p99 {cell.median('p99'):.3f} ms errors {cell.errors}"
            )
    return cells


def _run_peer(
    peer: Peer,
    upstream: Upstream,
    targets: dict[str, Target],
    concurrencies: list[int],
    args: argparse.Namespace,
    log: Callable[[str], None],
) -> tuple[Outcome, list[Cell]]:
    outcome = Outcome(peer)
    cells: list[Cell] = []
    with tempfile.TemporaryDirectory(prefix=f"bench-{peer.name}-") as tmp:
        try:
            with peer.start(upstream, Path(tmp)) as front:
                for revision, tag in REVISIONS:
                    outcome.results[tag] = _run_revision(
                        peer, front, revision, tag, targets, cells, concurrencies, args, log
                    )
        except PeerUnavailableError as exc:
            reason = f"not run: {exc}"
            outcome.results = {tag: outcome.results.get(tag, reason) for _, tag in REVISIONS}
        except Exception as exc:  # noqa: BLE001 - a peer's failure is reported, never fails the run
            reason = f"not run: {type(exc).__name__}: {str(exc)[:240]}"
            outcome.results = {tag: outcome.results.get(tag, reason) for _, tag in REVISIONS}
    for tag, result in outcome.results.items():
        if result != "ran":
            log(f"  {peer.name}-{peer.upstream}-{tag}: {result}")
    return outcome, cells


def _run_revision(
    peer: Peer,
    front: Front,
    revision: str,
    tag: str,
    targets: dict[str, Target],
    cells: list[Cell],
    concurrencies: list[int],
    args: argparse.Namespace,
    log: Callable[[str], None],
) -> str:
    from bench.run import Target

    try:
        session = ready(front.url, revision, front.token, front.tool)
    except PeerUnavailableError as exc:
        return f"not run: {exc}"
    name = f"{peer.name}-{peer.upstream}-{tag}"
    target = Target(name, front.url, revision, front.pids, token=front.token, session=session)
    target.baseline = f"direct-http-{tag}"
    targets[name] = target
    try:
        cells.extend(_measure(target, front.tool, concurrencies, args, log))
    except RuntimeError as exc:
        return f"stopped while timing: {str(exc)[:240]}"
    return "ran"


def peer_cells(
    echo_url: str,
    echo_pid: int,
    targets: dict[str, Target],
    extra: dict[str, Any],
    concurrencies: list[int],
    args: argparse.Namespace,
    log: Callable[[str], None],
) -> list[Cell]:
    """Time every selected peer in front of the echo at ``echo_url``; adds targets and ``extra["peers"]``."""
    from bench.run import ECHO

    upstream = Upstream(echo_url, echo_pid, [sys.executable, str(ECHO), "stdio"])
    log(f"Peers in front of the same echo ({', '.join(peer.name for peer in selected())}), same wrk client")
    cells: list[Cell] = []
    outcomes: list[Outcome] = []
    for peer in selected():
        outcome, measured = _run_peer(peer, upstream, targets, concurrencies, args, log)
        outcomes.append(outcome)
        cells += measured
    extra["peers"] = outcomes
    return cells
