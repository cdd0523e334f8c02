"""The benchmark harness runs end to end on a tiny load and writes a results file (no timing asserted)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.support.requirements import require

ROOT = Path(__file__).resolve().parents[2]


def test_harness_runs_on_a_tiny_load_and_writes_results(tmp_path: Path) -> None:
    require(shutil.which("wrk") is not None, "wrk is not installed (make bench and .ci/run install it)")
    out = tmp_path / "results.md"
    args = [sys.executable, "-m", "bench.run", "--quick", "--cases", "http,stdio", "--out", str(out)]
    completed = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=180, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert completed.stdout.splitlines()[-2].startswith("Portico vs direct")
    text = out.read_text()
    for target in (
        "direct-http-2025",
        "portico-http-2025",
        "direct-http-2026",
        "portico-http-2026",
        "portico-stdio-2026",
    ):
        assert f"| {target} |" in text
    assert "| zero DB queries on warm tools/call |" in text
