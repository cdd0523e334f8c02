"""The peer harness (bench/peers): a real peer installed, started, probed and driven by wrk on a tiny load.

supergateway is the cheap one: an npm install into ``.bench-peers/`` and a Node process in front
of the stdio echo. No timing is asserted; only that the command line it builds serves both client
revisions, that a peer that cannot serve is reported "not run" instead of failing the run, and
that the comparison with Portico reads the medians the right way round.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

import pytest

from bench.peers.cells import Outcome, _run_peer
from bench.peers.peer import Upstream
from bench.peers.probe import LEGACY_REV, MODERN_REV, ready
from bench.peers.report import ahead_of_peers, peer_report
from bench.peers.supergateway import SUPERGATEWAY
from bench.run import ECHO, Cell, Target, run_wrk
from tests.support.requirements import NODE_DIR, require

pytestmark = pytest.mark.node


def _stdio_echo(command: list[str]) -> Upstream:
    return Upstream(http_url="http://127.0.0.1:9/unused", http_pid=os.getpid(), stdio_command=command)


def _require_tools() -> None:
    require((NODE_DIR / "node_modules" / ".bin" / "node").exists(), "Node 22 is not installed (make node-deps)")
    require(shutil.which("npm") is not None, "npm is not installed")


def test_supergateway_serves_both_revisions_from_the_stdio_echo_and_stops(tmp_path: Path) -> None:
    _require_tools()
    require(shutil.which("wrk") is not None, "wrk is not installed (make bench and .ci/run install it)")
    with SUPERGATEWAY.start(_stdio_echo([sys.executable, str(ECHO), "stdio"]), tmp_path) as front:
        session = ready(front.url, LEGACY_REV, front.token, front.tool)
        assert session  # --stateful: one Mcp-Session-Id (and stdio child) per client session
        assert ready(front.url, MODERN_REV, front.token, front.tool) == ""
        target = Target("supergateway-stdio-2025", front.url, LEGACY_REV, front.pids, session=session)
        result = run_wrk(target, 1, 1.0)
        leader = front.pids[0]
    assert result["requests"] > 0
    assert result["socket_errors"] + result["bad"] == 0, result.get("bad_sample")
    with pytest.raises(ProcessLookupError):
        os.killpg(leader, 0)  # the peer's whole process group is gone


def test_a_peer_whose_upstream_dies_is_reported_not_run_without_failing(tmp_path: Path) -> None:
    _require_tools()
    args = argparse.Namespace(duration=1.0, warmup=1.0, reps=1)
    targets: dict[str, Target] = {}
    outcome, cells = _run_peer(
        SUPERGATEWAY, _stdio_echo([sys.executable, "-c", "pass"]), targets, [1], args, lambda _line: None
    )
    assert cells == []
    assert targets == {}
    assert set(outcome.results) == {"2025", "2026"}
    assert all(result.startswith("not run: ") for result in outcome.results.values()), outcome.results
    lines = peer_report([], targets, {"peers": [outcome]})
    assert any(line.startswith("| supergateway | `supergateway@") and "not run: " in line for line in lines)


def _cell(name: str, rps: float, p50: float, p99: float) -> Cell:
    return Cell(name, 8, [{"rps": rps, "p50": p50, "p99": p99, "socket_errors": 0, "bad": 0}])


def test_portico_is_ahead_only_when_faster_and_lower_latency_than_every_peer_cell() -> None:
    outcomes = [Outcome(SUPERGATEWAY, {"2025": "ran", "2026": "ran"})]
    portico = _cell("portico-stdio-2025", rps=900, p50=1.0, p99=4.0)
    slower_peer = _cell("supergateway-stdio-2025", rps=300, p50=3.0, p99=9.0)
    assert ahead_of_peers([portico, slower_peer], {"peers": outcomes}).startswith(
        "ahead of every peer: latency yes, throughput yes (1 peer cells"
    )
    tail_worse = _cell("supergateway-stdio-2025", rps=300, p50=3.0, p99=3.5)
    assert "latency no, throughput yes" in ahead_of_peers([portico, tail_worse], {"peers": outcomes})
    faster_peer = _cell("supergateway-stdio-2025", rps=1000, p50=0.5, p99=2.0)
    assert "latency no, throughput no" in ahead_of_peers([portico, faster_peer], {"peers": outcomes})
    silent_peer = Cell("supergateway-stdio-2025", 8, [{"requests": 0, "rps": 0, "p50": 0, "p99": 0, "bad": 0}])
    assert "latency yes, throughput yes" in ahead_of_peers([portico, silent_peer], {"peers": outcomes})
    assert ahead_of_peers([portico], {"peers": outcomes}) == "ahead of every peer: no peer cell to compare"
