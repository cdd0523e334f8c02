"""The peers' part of the results: how each ran, and Portico against each peer cell.

Each peer cell is compared with the Portico cell of the same upstream transport, client revision
and concurrency (``portico-stdio-<rev>`` for peers that front the stdio echo, falling back to
``portico-http-<rev>`` when the stdio case did not run). "Ahead" on latency means a lower-or-equal
p50 *and* p99; on throughput, at least as many calls/s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.peers.cells import Outcome
    from bench.run import Cell, Target


def _cell(cells: list[Cell], name: str, concurrency: int) -> Cell | None:
    return next((cell for cell in cells if cell.target == name and cell.concurrency == concurrency), None)


def pairs(cells: list[Cell], outcomes: list[Outcome]) -> list[tuple[Cell, Cell]]:
    """(peer cell, comparable Portico cell) for every timed peer cell that has one."""
    found = []
    upstream_of = {outcome.peer.name: outcome.peer.upstream for outcome in outcomes}
    for cell in cells:
        peer, _, tag = cell.target.rpartition("-")
        name, _, upstream = peer.rpartition("-")
        if name not in upstream_of or upstream != upstream_of[name]:
            continue
        portico = _cell(cells, f"portico-{upstream}-{tag}", cell.concurrency) or _cell(
            cells, f"portico-http-{tag}", cell.concurrency
        )
        if portico is not None:
            found.append((cell, portico))
    return found


def _silent(cell: Cell) -> bool:
    """No call came back within any timed run (every call took longer than the run; wrk reports 0)."""
    return sum(int(run.get("requests", 1)) for run in cell.runs) == 0


def _ahead(peer: Cell, portico: Cell) -> tuple[bool, bool]:
    if _silent(peer):
        return True, True
    latency = portico.median("p50") <= peer.median("p50") and portico.median("p99") <= peer.median("p99")
    return latency, portico.median("rps") >= peer.median("rps")


def ahead_of_peers(cells: list[Cell], extra: dict[str, Any]) -> str:
    """The summary line's part: ``ahead of every peer: latency yes/no, throughput yes/no (...)``."""
    outcomes: list[Outcome] = extra.get("peers", [])
    found = pairs(cells, outcomes)
    not_run = [outcome.peer.name for outcome in outcomes if all(r != "ran" for r in outcome.results.values())]
    if not found:
        return "ahead of every peer: no peer cell to compare"
    latency = all(_ahead(peer, portico)[0] for peer, portico in found)
    throughput = all(_ahead(peer, portico)[1] for peer, portico in found)
    text = f"ahead of every peer: latency {'yes' if latency else 'no'}, throughput {'yes' if throughput else 'no'}"
    text += f" ({len(found)} peer cells"
    return text + (f"; not run: {', '.join(not_run)})" if not_run else ")")


def _fmt(value: float) -> str:
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3f}" if value < 1 else f"{value:.2f}"


def _ratio(top: float, bottom: float) -> str:
    return _fmt(top / bottom) if bottom > 0 else "—"


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def peer_report(cells: list[Cell], targets: dict[str, Target], extra: dict[str, Any]) -> list[str]:
    """Markdown lines: the peers, how each was run and what could not run, then Portico vs each cell."""
    outcomes: list[Outcome] = extra.get("peers", [])
    lines = [
        "",
        "## Peers",
        "",
        "Same echo upstream, same wrk client and request forms, same warm-up/repetitions as the Portico cells; "
        "each peer installed on demand at a pinned version into its own venv or npm prefix (`bench/peers/`, "
        "cache `.bench-peers/`). Peers that can only front stdio servers front the stdio echo and are compared "
        "with `portico-stdio-<rev>`; their rows' ratios in the tables above are, like Portico's stdio rows, "
        "against the direct HTTP echo. Server CPU of a peer row = the peer's processes (children included) plus "
        "the HTTP echo when it fronts that.",
        "",
        "| peer | package | upstream | how it is run | 2025-11-25 | 2026-07-28 |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {outcome.peer.name} | `{outcome.peer.package}` | {outcome.peer.upstream} echo | {outcome.peer.mode} "
        f"| {_escape(outcome.results.get('2025', '?'))} | {_escape(outcome.results.get('2026', '?'))} |"
        for outcome in outcomes
    ]
    found = pairs(cells, outcomes)
    if not found:
        return lines
    lines += [
        "",
        "| peer cell | c | calls/s | p50 ms | p99 ms | errors | throughput ÷ direct | compared with | Portico calls/s "
        "÷ peer | peer p50 ÷ Portico p50 | peer p99 ÷ Portico p99 | Portico ahead: latency / throughput |",
        "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---|",
    ]
    for cell, portico in sorted(found, key=lambda pair: (pair[0].concurrency, pair[0].target)):
        base = _cell(cells, targets[cell.target].baseline, cell.concurrency)
        ratio = _ratio(cell.median("rps"), base.median("rps")) if base else "—"
        latency, throughput = _ahead(cell, portico)
        if _silent(cell):
            lines.append(
                f"| {cell.target} | {cell.concurrency} | 0 | — | — | {cell.errors} | 0 | {portico.target} | — | — | — "
                "| yes / yes (no call completed within a timed run) |"
            )
            continue
        lines.append(
            f"| {cell.target} | {cell.concurrency} | {cell.median('rps'):.1f} | {_fmt(cell.median('p50'))} "
            f"| {_fmt(cell.median('p99'))} | {cell.errors} | {ratio} | {portico.target} "
            f"| {_ratio(portico.median('rps'), cell.median('rps'))} "
            f"| {_ratio(cell.median('p50'), portico.median('p50'))} "
            f"| {_ratio(cell.median('p99'), portico.median('p99'))} "
            f"| {'yes' if latency else 'no'} / {'yes' if throughput else 'no'} |"
        )
    return lines
