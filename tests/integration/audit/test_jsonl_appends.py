"""The JSON-lines sink under concurrent appenders: two real processes append to one file at once and
every line comes out whole (one ``write()`` per line, ``O_APPEND``; docs/observability.md §Audit)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parents[3]
BATCHES = 150
ROWS_PER_BATCH = 4
# Each process writes batches of lines from 100 bytes to ~40 KB: far above a stdio buffer (8 KiB),
# so a sink that wrote a batch in buffered pieces would interleave them.
APPENDER = f"""
import sys
from app.audit.rows import auth_row
from app.audit.sinks import JsonlSink
from app.observe.records import AuthEvent

path, writer = sys.argv[1], sys.argv[2]
sink = JsonlSink(path)
for batch in range({BATCHES}):
    rows = []
    for index in range({ROWS_PER_BATCH}):
        n = batch * {ROWS_PER_BATCH} + index
        details = {{"n": str(n), "pad": writer * (100 + n * 67 % 40_000)}}
        rows.append(auth_row(AuthEvent(at=1.0, kind="sign_in", subject=writer, details=details)))
    sink.write(rows)
"""


def test_two_processes_appending_at_once_never_interleave_within_a_line(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    writers = [subprocess.Popen([sys.executable, "-c", APPENDER, str(path), name], cwd=ROOT) for name in ("a", "b")]
    assert [writer.wait(timeout=120) for writer in writers] == [0, 0]

    lines = path.read_bytes().split(b"\n")
    assert lines.pop() == b""  # the file ends with a newline
    records = [json.loads(line) for line in lines]  # a torn line would not parse
    assert all(set(r["details"]["pad"]) == {r["subject"]} for r in records)
    assert Counter(r["subject"] for r in records) == {"a": BATCHES * ROWS_PER_BATCH, "b": BATCHES * ROWS_PER_BATCH}
    for writer in ("a", "b"):  # each process's own lines keep their order
        numbers = [int(r["details"]["n"]) for r in records if r["subject"] == writer]
        assert numbers == sorted(numbers)


def test_standard_output_gets_one_line_per_record(tmp_path: Path) -> None:
    script = "import sys\nprint('before')\n" + APPENDER.replace("sink = JsonlSink(path)", "sink = JsonlSink('-')")
    done = subprocess.run(
        [sys.executable, "-c", script, "-", "c"], cwd=ROOT, capture_output=True, check=True, timeout=120
    )
    first, *lines = done.stdout.decode().splitlines()
    assert first == "before"  # what print() buffered is flushed before the records
    assert [int(json.loads(line)["details"]["n"]) for line in lines] == list(range(BATCHES * ROWS_PER_BATCH))
