"""Where a warm proxied call spends Portico's CPU: ``python -m bench.profile [http|sdk|stdio] [2025|2026] [SECONDS]``.

Starts the echo upstream and Portico (one worker) as ``bench.run`` does, drives warm
``tools/call`` with wrk at concurrency 1, and samples Portico with py-spy meanwhile (``py-spy``
on ``PATH`` or ``$PY_SPY``; it is not a project dependency: ``pip install py-spy`` in any venv).
Writes ``bench/.work/prof/<case>.txt`` (py-spy's collapsed stacks) and prints the inclusive
share of the frames that matter, plus the top leaf functions, over the samples in Python frames
(a sample whose leaf is ``Runner.run`` is inside uvloop's C loop — mostly waiting in ``epoll`` —
and is counted apart).
"""

from __future__ import annotations

import collections
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from bench.run import (
    BENCH,
    ECHO,
    LEGACY_REV,
    MODERN_REV,
    SDK_ECHO,
    Target,
    free_port,
    open_session,
    portico,
    run_wrk,
    started,
)

# (label, substring of a frame) — inclusive shares, so rows overlap.
PARTS = (
    ("McpFastPath (all of the request)", "proxy/inbound/fast_path.py"),
    ("bearer check (BearerAuthenticator.authenticate)", "authenticate (proxy/auth/resource_server.py"),
    ("upstream request (HttpBackend._send)", "_send (proxy/backends/http.py"),
    ("relay of the answer (relay_json)", "relay_json (proxy/upstream/http_relay.py"),
    ("relay of an SSE answer (relay_sse)", "relay_sse (proxy/upstream/http_relay.py"),
    ("era checks (serve_modern_era / serve_handshake_era)", "_era.py"),
    ("inbound ladder (mcp.shared.inbound)", "inbound.py"),
    ("JSON decode of the request (decode_json)", "decode_json"),
    ("aiohttp client", "aiohttp/"),
    ("uvicorn httptools protocol", "httptools_impl.py"),
    ("socket writes (aiohttp _writelines, uvicorn send → transport.write)", "_writelines (aiohttp"),
)


def main() -> None:
    transport = sys.argv[1] if len(sys.argv) > 1 else "http"
    tag = sys.argv[2] if len(sys.argv) > 2 else "2026"
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 10.0
    py_spy = os.environ.get("PY_SPY") or shutil.which("py-spy")
    if py_spy is None:
        sys.exit("py-spy not found: pip install py-spy (any venv) and set PY_SPY=/path/to/py-spy")
    out_dir = BENCH / ".work" / "prof"
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{transport}-{tag}.txt"
    revision = MODERN_REV if tag == "2026" else LEGACY_REV
    with tempfile.TemporaryDirectory(prefix="portico-prof-") as tmp:
        echo_port, sdk_port = free_port(), free_port()
        with (
            started([sys.executable, str(ECHO), "http", str(echo_port)], echo_port),
            started([sys.executable, str(SDK_ECHO), str(sdk_port)], sdk_port),
        ):
            with portico(Path(tmp), echo_port, 1, sdk_port=sdk_port) as (server, base, tokens):
                url = f"{base}/echo-{transport}/mcp"
                target = Target("profile", url, revision, [server.pid], token=tokens[f"echo-{transport}"]["1"])
                if revision == LEGACY_REV:
                    target.session = open_session(url, target.token)
                run_wrk(target, 1, 2)  # warm-up
                spy = [py_spy, "record", "-r", "500", "-d", str(int(seconds)), "-f", "raw", "-o", str(out)]
                spy += ["--nonblocking", *os.environ.get("PY_SPY_ARGS", "").split(), "-p", str(server.pid)]
                recorder = threading.Thread(target=subprocess.run, args=(spy,), kwargs={"capture_output": True})
                recorder.start()
                result = run_wrk(target, 1, seconds + 1)
                recorder.join()
    print(
        f"{result['rps']:.0f} calls/s, p50 {result['p50']:.3f} ms, {result['server_cpu_ms_per_call']:.3f} ms CPU/call"
    )
    summarize(out)


def summarize(path: Path) -> None:
    stacks: list[tuple[str, int]] = []
    idle = 0
    for line in path.read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        if stack.rsplit(";", 1)[-1].startswith("Runner.run "):
            idle += int(samples)  # inside uvloop's C loop: mostly waiting in epoll, not attributable
            continue
        stacks.append((stack, int(samples)))
    total = sum(count for _stack, count in stacks)
    print(f"{total} samples in Python frames, {idle} more inside the C event loop (idle or C callbacks) ({path})")
    for label, needle in PARTS:
        share = sum(count for stack, count in stacks if needle in stack)
        print(f"  {share * 100 / max(1, total):5.1f} %  {label}")
    leaves: collections.Counter[str] = collections.Counter()
    for stack, count in stacks:
        leaves[stack.rsplit(";", 1)[-1]] += count
    print("top leaf frames:")
    for frame, count in leaves.most_common(15):
        print(f"  {count * 100 / max(1, total):5.1f} %  {frame}")


if __name__ == "__main__":
    main()
