"""The benchmark harness: ``python -m bench.run [--quick] [--duration S] [--reps N] [--out FILE]``.

Starts the echo upstream (HTTP and stdio) and Portico in their own processes, sets up tokens and
sessions before timing, then drives warm ``tools/call`` with wrk (one thread, connections =
concurrency, distinct arguments per call, every answer checked) directly and through Portico, for
both client revisions. A warm-up run per cell is discarded; each cell is repeated and the
medians reported. Writes ``bench/results/<date>.md`` and prints one summary line.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
LUA = BENCH / "call.lua"
ECHO = BENCH / "echo_server.py"
SDK_ECHO = BENCH / "sdk_echo_server.py"
LEGACY_REV = "2025-11-25"
MODERN_REV = "2026-07-28"
ACCEPT = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
TICKS = os.sysconf("SC_CLK_TCK")

# Targets from the issue, recorded as met or not.
ADDED_P50_MS = 0.6
ADDED_P99_MS = 3.0
THROUGHPUT_RATIO = 0.5
STREAM_BYTES = 64 * 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, process: subprocess.Popen[bytes], deadline_s: float = 30.0) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process {process.args!r} exited with {process.returncode} during startup")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"port {port} did not open within {deadline_s} s")


def descendants(root: int) -> list[int]:
    """``root`` and every live process below it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def cpu_seconds(root: int) -> float:
    total = 0
    for pid in descendants(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / TICKS


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent busy (all cores; /proc/stat, idle and iowait excluded)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / TICKS


def rss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


@contextmanager
def started(args: list[str], port: int | None, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        if port is not None:
            try:
                wait_for_port(port, process)
            except RuntimeError:
                log.seek(0)
                sys.stderr.write(log.read().decode(errors="replace")[-4000:])
                raise
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, 15)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)
                process.wait()
        log.close()


@dataclass
class Target:
    """One way of calling the echo tool: direct or through Portico, one upstream transport, one revision."""

    name: str
    url: str
    revision: str
    server_pids: list[int]
    token: str = ""
    session: str = ""
    via_portico: bool = False
    baseline: str = ""  # the direct target this one is compared with


@dataclass
class Cell:
    target: str
    concurrency: int
    runs: list[dict[str, Any]] = field(default_factory=list)

    def median(self, key: str) -> float:
        return float(statistics.median(float(run[key]) for run in self.runs))

    @property
    def errors(self) -> int:
        return sum(run["socket_errors"] + run["bad"] for run in self.runs)


def run_wrk(target: Target, concurrency: int, duration: float, method: str = "tools/call") -> dict[str, Any]:
    env = {
        **os.environ,
        "BENCH_REV": target.revision,
        "BENCH_AUTH": target.token,
        "BENCH_SESSION": target.session,
        "BENCH_METHOD": method,
    }
    args = ["wrk", "-t1", f"-c{concurrency}", f"-d{max(1, round(duration))}s", "--timeout", "10s", "-s", str(LUA)]
    cpu_before = sum(cpu_seconds(pid) for pid in target.server_pids)
    busy_before = machine_busy_seconds()
    process = subprocess.Popen([*args, target.url], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    out = process.stdout.read().decode() if process.stdout else ""
    err = process.stderr.read().decode() if process.stderr else ""
    cpu_after = sum(cpu_seconds(pid) for pid in target.server_pids)
    busy_after = machine_busy_seconds()
    line = next((line for line in out.splitlines() if line.startswith("BENCH_JSON ")), None)
    if process.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({process.returncode}): {err or out}")
    result: dict[str, Any] = json.loads(line.removeprefix("BENCH_JSON "))
    seconds = result["duration_us"] / 1e6
    result["rps"] = result["requests"] / seconds
    for key in ("p50", "p95", "p99"):
        result[key] = result[key] / 1000  # ms
    result["server_cpu_ms_per_call"] = (cpu_after - cpu_before) * 1000 / max(1, result["requests"])
    result["server_cpu_pct"] = (cpu_after - cpu_before) * 100 / seconds
    result["wrk_cpu_pct"] = (usage.ru_utime + usage.ru_stime) * 100 / seconds
    result["other_cpu_pct"] = max(
        0.0, (busy_after - busy_before) * 100 / seconds - result["server_cpu_pct"] - result["wrk_cpu_pct"]
    )
    bad = next((line for line in out.splitlines() if line.startswith("BENCH_BAD ")), None)
    if bad:
        result["bad_sample"] = bad.removeprefix("BENCH_BAD ")
    return result


def open_session(url: str, token: str) -> str:
    """A 2025-11-25 session (initialize + initialized), set up before timing."""
    headers = {**ACCEPT, "mcp-protocol-version": LEGACY_REV}
    if token:
        headers["authorization"] = f"Bearer {token}"
    init = {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {"protocolVersion": LEGACY_REV, "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}},
    }
    with httpx2.Client(timeout=30) as http:
        response = http.post(url, json=init, headers=headers)
        response.raise_for_status()
        session: str = response.headers["mcp-session-id"]
        notified = http.post(
            url,
            json={"jsonrpc": "2.0", "method": "notifications/initialized"},
            headers={**headers, "mcp-session-id": session},
        )
        assert notified.status_code == 202, notified.text
        return session


def measure(
    targets: list[Target], concurrencies: list[int], duration: float, warmup: float, reps: int, log: Any
) -> list[Cell]:
    cells = []
    for target in targets:
        if target.revision == LEGACY_REV and not target.session:
            target.session = open_session(target.url, target.token)
        for concurrency in concurrencies:
            run_wrk(target, concurrency, warmup)  # discarded
            cell = Cell(target.name, concurrency)
            for _ in range(reps):
                cell.runs.append(run_wrk(target, concurrency, duration))
            cells.append(cell)
            log(
                f"  {target.name:<28} c={concurrency:<3} {cell.median('rps'):>9.1f}/s p50 {cell.median('p50'):.3f} "
                f"p99 {cell.median('p99'):.3f} ms errors {cell.errors}"
            )
            if cell.errors:
                sample = next((run.get("bad_sample") for run in cell.runs if run.get("bad_sample")), "")
                log(f"    first bad answer: {sample}")
    return cells


def portico_config(
    port: int, work: Path, echo_port: int, tools: int = 1, sdk_port: int | None = None
) -> dict[str, Any]:
    config: dict[str, Any] = {
        "public_url": f"http://127.0.0.1:{port}",
        "listen": {"host": "127.0.0.1", "port": port},
        "database_url": f"sqlite:///{work / 'portico.db'}",
        "secrets": {"secret_key": "b" * 64, "generated_key_file": str(work / "generated.key")},
        "logging": {"level": "warning"},
        "gateway": {"max_sessions_per_user": 10000, "max_processes_per_user": 1000, "max_processes": 1000},
        "servers": {
            "echo-http": {"transport": "streamable-http", "url": f"http://127.0.0.1:{echo_port}/mcp"},
            "echo-stdio": {
                "transport": "stdio",
                "command": sys.executable,
                "args": [str(ECHO), "stdio"],
                "env": {"BENCH_TOOLS": str(tools)},
            },
        },
    }
    if sdk_port is not None:
        config["servers"]["echo-sdk"] = {"transport": "streamable-http", "url": f"http://127.0.0.1:{sdk_port}/mcp"}
    return config


@contextmanager
def portico(
    work: Path,
    echo_port: int,
    workers: int,
    subjects: int = 1,
    fake_login: bool = False,
    sdk_port: int | None = None,
) -> Iterator[tuple[subprocess.Popen[bytes], str, dict[str, dict[str, str]]]]:
    port = free_port()
    config = portico_config(port, work, echo_port, sdk_port=sdk_port)
    if fake_login:
        config["oauth"] = {"authorization_code_lifetime": 600}
    config_path, tokens_path = work / f"portico-{port}.json", work / f"tokens-{port}.json"
    config_path.write_text(json.dumps(config))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "BENCH_SUBJECTS": str(subjects)}
    if fake_login:
        env["BENCH_FAKE_LOGIN"] = "1"
    args = [sys.executable, "-m", "bench.portico_server", str(config_path), str(tokens_path), str(workers)]
    with started(args, port, env) as process:
        yield process, config["public_url"], json.loads(tokens_path.read_text())


def stats(base: str) -> dict[str, Any]:
    with httpx2.Client(timeout=10) as http:
        result: dict[str, Any] = http.get(f"{base}/__bench/stats").json()
        return result


def memory_per_stream(base: str, pid: int, token: str, streams: int) -> dict[str, float]:
    """Portico's RSS growth per idle handshake-era session, and per idle GET (SSE) stream on top of it."""
    import threading

    url = f"{base}/echo-http/mcp"
    sessions = [open_session(url, token) for _ in range(3)]  # warm the code paths
    time.sleep(0.5)
    before = rss_bytes(pid)
    sessions = [open_session(url, token) for _ in range(streams)]
    time.sleep(0.5)
    after_sessions = rss_bytes(pid)
    opened = threading.Semaphore(0)
    stop = threading.Event()

    def hold(session: str) -> None:
        headers = {
            **ACCEPT,
            "authorization": f"Bearer {token}",
            "mcp-session-id": session,
            "mcp-protocol-version": LEGACY_REV,
        }
        with httpx2.Client(timeout=httpx2.Timeout(10, read=None)) as http:
            with http.stream("GET", url, headers=headers) as response:
                opened.release()
                if response.status_code == 200:
                    stop.wait()

    threads = [threading.Thread(target=hold, args=(session,), daemon=True) for session in sessions]
    for thread in threads:
        thread.start()
    for _ in threads:
        opened.acquire(timeout=30)
    time.sleep(1.0)
    after_streams = rss_bytes(pid)
    stop.set()
    return {
        "streams": streams,
        "per_session": (after_sessions - before) / streams,
        "per_stream": (after_streams - after_sessions) / streams,
    }


def memory_per_process(base: str, pid: int, tokens: dict[str, str], users: int) -> dict[str, float]:
    """RSS per stdio user process (the child) and Portico's own growth per user, 2026-07-28 calls."""
    url = f"{base}/echo-stdio/mcp"
    headers = {**ACCEPT, "mcp-protocol-version": MODERN_REV, "mcp-method": "tools/call", "mcp-name": "echo"}
    meta = {"io.modelcontextprotocol/protocolVersion": MODERN_REV, "io.modelcontextprotocol/clientCapabilities": {}}
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "echo", "arguments": {"text": "x"}, "_meta": meta},
    }
    with httpx2.Client(timeout=30) as http:
        before_children = set(descendants(pid)) - {pid}
        before = rss_bytes(pid)
        for subject in range(2, users + 2):
            response = http.post(url, json=body, headers={**headers, "authorization": f"Bearer {tokens[str(subject)]}"})
            response.raise_for_status()
        time.sleep(0.5)
        after = rss_bytes(pid)
        children = set(descendants(pid)) - {pid} - before_children
        child_rss = [rss_bytes(child) for child in children]
    return {
        "users": users,
        "processes": len(children),
        "per_process_rss": statistics.median(child_rss) if child_rss else 0.0,
        "portico_per_user": (after - before) / users,
    }


def versions() -> dict[str, str]:
    from importlib.metadata import version

    found = {"python": platform.python_version()}
    for package in ("uvicorn", "uvloop", "httptools", "mcp", "httpx2", "starlette", "fastapi"):
        try:
            found[package] = version(package)
        except Exception:  # noqa: BLE001, S112 - a missing package is just not reported
            continue
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    found["wrk"] = (wrk.stdout or wrk.stderr).splitlines()[0] if (wrk.stdout or wrk.stderr) else "?"
    try:
        found["portico"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        pass
    return found


def machine() -> str:
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
    return f"{platform.system()} {platform.release()}, {os.cpu_count()} CPUs ({cpu}), {int(mem) // 1024} MiB RAM"


def fmt(value: float) -> str:
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3f}" if value < 1 else f"{value:.2f}"


def table(cells: list[Cell], targets: dict[str, Target], concurrency: int) -> list[str]:
    by_name = {(cell.target, cell.concurrency): cell for cell in cells}
    rows = [
        "| target | calls/s | p50 ms | p95 ms | p99 ms | errors | added p50 ms | added p99 ms | throughput ÷ direct "
        "| server CPU ms/call | server CPU % | wrk CPU % | other CPU % |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for cell in cells:
        if cell.concurrency != concurrency:
            continue
        target = targets[cell.target]
        base = by_name.get((target.baseline, concurrency))
        added50 = added99 = ratio = "—"
        if base is not None and target.baseline != target.name:
            added50 = fmt(cell.median("p50") - base.median("p50"))
            added99 = fmt(cell.median("p99") - base.median("p99"))
            ratio = fmt(cell.median("rps") / base.median("rps"))
        rows.append(
            f"| {cell.target} | {cell.median('rps'):.1f} | {fmt(cell.median('p50'))} | {fmt(cell.median('p95'))} "
            f"| {fmt(cell.median('p99'))} | {cell.errors} | {added50} | {added99} | {ratio} "
            f"| {fmt(cell.median('server_cpu_ms_per_call'))} | {cell.median('server_cpu_pct'):.0f} "
            f"| {cell.median('wrk_cpu_pct'):.0f} | {cell.median('other_cpu_pct'):.0f} |"
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per timed run")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of discarded warm-up per cell")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--concurrency", default="1,8,32")
    parser.add_argument(
        "--cases",
        help=(
            "comma-separated subset of http,sdk,stdio,workers,memory,token,policy,limits,observability,tracing,"
            "identity (default all)"
        ),
    )
    parser.add_argument("--token-calls", type=int, default=300, help="code exchanges (and refreshes) per concurrency")
    parser.add_argument("--quick", action="store_true", help="a tiny load for the smoke test (seconds)")
    parser.add_argument("--out", type=Path, help="results file (default bench/results/<date>.md)")
    parser.add_argument(  # peer gateways (bench/peers); $BENCH_PEERS picks a subset
        "--peers",
        action=argparse.BooleanOptionalAction,
        help="time the peer gateways too (default: on, off in --quick)",
    )
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the servers on the way out
    if args.quick:
        args.duration, args.warmup, args.reps, args.concurrency = 1.0, 1.0, 1, "1"
        args.cases = args.cases or "http,sdk,stdio,memory,token,policy,limits,observability,tracing,identity"
        args.token_calls = 20
    if args.peers is None:
        args.peers = not args.quick
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install -y wrk)", file=sys.stderr)
        return 2
    args.cases = args.cases or "http,sdk,stdio,workers,memory,token,policy,limits,observability,tracing,identity"
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    cases = set(args.cases.split(","))
    today = datetime.now(UTC)
    out: Path = args.out or BENCH / "results" / f"{today:%Y-%m-%d}.md"
    commands = " ".join(["python -m bench.run", *(argv if argv is not None else sys.argv[1:])])
    lines: list[str] = []

    def log(message: str) -> None:
        print(message, flush=True)

    started_at = time.monotonic()
    extra: dict[str, Any] = {"loadavg_start": " ".join(Path("/proc/loadavg").read_text().split()[:3])}
    cells: list[Cell] = []
    targets: dict[str, Target] = {}
    with tempfile.TemporaryDirectory(prefix="portico-bench-") as tmp:
        work = Path(tmp)
        echo_port = free_port()
        sdk_port = free_port()
        sdk_args = [sys.executable, str(SDK_ECHO), str(sdk_port)] if "sdk" in cases else ["sleep", "infinity"]
        with (
            started([sys.executable, str(ECHO), "http", str(echo_port)], echo_port) as echo,
            started(sdk_args, sdk_port if "sdk" in cases else None) as sdk,
        ):
            subjects = 200 if "memory" in cases else 1
            with portico(work, echo_port, 1, subjects=subjects, sdk_port=sdk_port) as (server, base, tokens):
                echo_url = f"http://127.0.0.1:{echo_port}/mcp"
                both = [echo.pid, server.pid]
                run: list[Target] = []
                if "http" in cases:
                    for rev, tag in ((LEGACY_REV, "2025"), (MODERN_REV, "2026")):
                        direct = f"direct-http-{tag}"
                        run += [
                            Target(direct, echo_url, rev, [echo.pid], baseline=direct),
                            Target(
                                f"portico-http-{tag}",
                                f"{base}/echo-http/mcp",
                                rev,
                                both,
                                token=tokens["echo-http"]["1"],
                                via_portico=True,
                                baseline=direct,
                            ),
                        ]
                if "sdk" in cases:
                    sdk_url = f"http://127.0.0.1:{sdk_port}/mcp"
                    for rev, tag in ((LEGACY_REV, "2025"), (MODERN_REV, "2026")):
                        direct = f"direct-sdk-{tag}"
                        run += [
                            Target(direct, sdk_url, rev, [sdk.pid], baseline=direct),
                            Target(
                                f"portico-sdk-{tag}",
                                f"{base}/echo-sdk/mcp",
                                rev,
                                [sdk.pid, server.pid],
                                token=tokens["echo-sdk"]["1"],
                                via_portico=True,
                                baseline=direct,
                            ),
                        ]
                if "stdio" in cases:
                    for rev, tag in ((LEGACY_REV, "2025"), (MODERN_REV, "2026")):
                        run.append(
                            Target(
                                f"portico-stdio-{tag}",
                                f"{base}/echo-stdio/mcp",
                                rev,
                                [server.pid],
                                token=tokens["echo-stdio"]["1"],
                                via_portico=True,
                                baseline=f"direct-http-{tag}",
                            )
                        )
                targets.update({target.name: target for target in run})
                log(f"Warm tools/call, {args.reps}× {args.duration:g} s per cell after {args.warmup:g} s warm-up")
                stats_before = stats(base)
                cells += measure(run, concurrencies, args.duration, args.warmup, args.reps, log)
                stats_after = stats(base)
                extra["db_queries"] = stats_after["db_queries"] - stats_before["db_queries"]
                extra["db_statements"] = {
                    statement: count - stats_before["statements"].get(statement, 0)
                    for statement, count in stats_after["statements"].items()
                    if count > stats_before["statements"].get(statement, 0)
                }
                extra["db_calls"] = sum(
                    run["requests"] for cell in cells if targets[cell.target].via_portico for run in cell.runs
                )
                if "memory" in cases:
                    count = 20 if args.quick else 100
                    extra["stream"] = memory_per_stream(base, server.pid, tokens["echo-http"]["1"], count)
                    extra["process"] = memory_per_process(
                        base, server.pid, tokens["echo-stdio"], 5 if args.quick else 20
                    )
                    log(f"  memory: {extra['stream']} {extra['process']}")
            if args.peers:  # the peer gateways in front of the same echo, same wrk client (bench/peers)
                from bench.peers import peer_cells

                cells += peer_cells(echo_url, echo.pid, targets, extra, concurrencies, args, log)
            if "workers" in cases:
                log("Saturation (c=32), 2026-07-28 over HTTP, Portico with 1 and 2 workers")
                for workers in (1, 2):
                    with portico(work, echo_port, workers) as (server, base, tokens):
                        name = f"portico-http-2026-w{workers}"
                        target = Target(
                            name,
                            f"{base}/echo-http/mcp",
                            MODERN_REV,
                            [echo.pid, server.pid],
                            token=tokens["echo-http"]["1"],
                            via_portico=True,
                            baseline="direct-http-2026",
                        )
                        targets[name] = target
                        cells += measure([target], [max(concurrencies)], args.duration, args.warmup, args.reps, log)

        if "token" in cases:
            import asyncio

            from bench.token_endpoint import measure_token_endpoint

            log("Token endpoint: code exchanges and refreshes (asyncio httpx2 client)")
            with portico(work, echo_port, 1, fake_login=True) as (server, base, tokens):
                token_concurrency = [1] if args.quick else [1, 8]
                extra["token"] = asyncio.run(
                    measure_token_endpoint(base, f"{base}/echo-http/mcp", args.token_calls, token_concurrency)
                )
                for result in extra["token"]:
                    log(
                        f"  {result.name:<14} c={result.concurrency:<3} {result.rate:>7.1f}/s "
                        f"p50 {result.percentile(50):.2f} ms errors {result.errors}"
                    )

    if "observability" in cases:
        import asyncio

        from bench.observability_cost import measure as measure_observability

        log("Observability: warm tools/call CPU, both off vs metrics vs metrics+audit (in-process, stdio echo)")
        extra["observability"] = asyncio.run(measure_observability(50 if args.quick else 300))
        observed = extra["observability"]
        log(f"  off {observed['off best']:.1f} µs, metrics + audit {observed['metrics+audit best']:.1f} µs (best)")
    if "policy" in cases:
        import asyncio

        from bench.policy_cost import measure as measure_policy

        log("Access policy: warm tools/call CPU, no policy vs 50 rules (in-process, stdio echo)")
        extra["policy"] = asyncio.run(measure_policy(50 if args.quick else 300))
        log(f"  off {extra['policy']['off best']:.1f} µs, 50 rules {extra['policy']['on best']:.1f} µs (best)")

    if "limits" in cases:
        import asyncio

        from bench.limits_cost import measure as measure_limits

        log("Rate limits: warm tools/call CPU, no rules vs one rule (no match, in process, Redis exact/leased) (stdio)")
        extra["limits"] = asyncio.run(measure_limits(50 if args.quick else 300))
        log(f"  off {extra['limits']['off best']:.1f} µs, in process {extra['limits']['memory best']:.1f} µs (best)")

    if "tracing" in cases:
        import asyncio

        from bench.tracing_cost import measure as measure_tracing

        log("Tracing: warm tools/call CPU, off vs on at 100 % sampling (in-process, stdio echo)")
        extra["tracing"] = asyncio.run(measure_tracing(50 if args.quick else 300))
        log(f"  off {extra['tracing']['off best']:.1f} µs, on {extra['tracing']['on best']:.1f} µs (best)")

    if "identity" in cases:
        import asyncio

        from bench.identity_cost import measure as measure_identity

        log("Signed identity: warm lookup vs cold mint (in-process, SQLite)")
        extra["identity"] = asyncio.run(measure_identity(2_000 if args.quick else 20_000, 20 if args.quick else 200))
        log(f"  warm {extra['identity']['warm']:.2f} µs, cold {extra['identity']['cold']:.1f} µs (best)")

    extra["loadavg_end"] = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    elapsed = time.monotonic() - started_at
    lines += report(cells, targets, concurrencies, extra, args, commands, elapsed, today)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    summary = summary_line(cells, targets, concurrencies, extra)
    print(summary)
    print(f"results: {out}")
    return 0


def _cell(cells: list[Cell], name: str, concurrency: int) -> Cell | None:
    return next((cell for cell in cells if cell.target == name and cell.concurrency == concurrency), None)


# The housekeeping task's once-a-minute revocation sync (oauth/housekeeping.py), not a per-call query.
_REVOCATION_SYNC = "SELECT issued_access_tokens."


def targets_met(
    cells: list[Cell], targets: dict[str, Target], concurrencies: list[int], extra: dict[str, Any]
) -> list[tuple[str, str, bool | None]]:
    """(target, measured, met) for each of the issue's targets, per client revision over HTTP."""
    found: list[tuple[str, str, bool | None]] = []
    high = max(concurrencies)
    for tag in ("2025", "2026"):
        direct, via = f"direct-http-{tag}", f"portico-http-{tag}"
        d1, p1 = _cell(cells, direct, 1), _cell(cells, via, 1)
        if d1 and p1:
            added50 = p1.median("p50") - d1.median("p50")
            added99 = p1.median("p99") - d1.median("p99")
            found.append(
                (f"added p50 ≤ {ADDED_P50_MS} ms at c=1 ({tag})", f"{added50:.3f} ms", added50 <= ADDED_P50_MS)
            )
            found.append(
                (f"added p99 ≤ {ADDED_P99_MS} ms at c=1 ({tag})", f"{added99:.3f} ms", added99 <= ADDED_P99_MS)
            )
        dh, ph = _cell(cells, direct, high), _cell(cells, via, high)
        if dh and ph and high >= 32:
            ratio = ph.median("rps") / dh.median("rps")
            found.append(
                (f"throughput ≥ 50 % of direct at c={high} ({tag})", f"{ratio * 100:.0f} %", ratio >= THROUGHPUT_RATIO)
            )
    if "db_queries" in extra:
        statements: dict[str, int] = extra.get("db_statements", {})
        background = sum(count for text, count in statements.items() if text.startswith(_REVOCATION_SYNC))
        per_call = extra["db_queries"] - background
        found.append(
            (
                "zero DB queries on warm tools/call",
                f"{per_call} in {extra['db_calls']} calls (+{background} from the once-a-minute revocation sync)",
                per_call == 0,
            )
        )
    if "stream" in extra:
        per = extra["stream"]["per_stream"]
        found.append(("≤ 64 KiB per idle SSE stream", f"{per / 1024:.1f} KiB", per <= STREAM_BYTES))
    return found


def summary_line(cells: list[Cell], targets: dict[str, Target], concurrencies: list[int], extra: dict[str, Any]) -> str:
    parts = []
    for tag in ("2025", "2026"):
        d1, p1 = _cell(cells, f"direct-http-{tag}", 1), _cell(cells, f"portico-http-{tag}", 1)
        if d1 and p1:
            parts.append(
                f"{tag}: {p1.median('p50') - d1.median('p50'):+.2f} ms p50 / "
                f"{p1.median('p99') - d1.median('p99'):+.2f} ms p99 added at c=1"
            )
        high = max(concurrencies)
        dh, ph = _cell(cells, f"direct-http-{tag}", high), _cell(cells, f"portico-http-{tag}", high)
        if dh and ph and high >= 32:
            parts.append(f"{ph.median('rps') / dh.median('rps') * 100:.0f} % of direct at c={high}")
    met = targets_met(cells, targets, concurrencies, extra)
    parts.append(f"targets met {sum(1 for *_, ok in met if ok)}/{len(met)}")
    if "peers" in extra:
        from bench.peers import ahead_of_peers

        parts.append(ahead_of_peers(cells, extra))
    errors = sum(cell.errors for cell in cells)
    parts.append(f"{errors} errors")
    return "Portico vs direct (echo, Streamable HTTP): " + "; ".join(parts)


def report(
    cells: list[Cell],
    targets: dict[str, Target],
    concurrencies: list[int],
    extra: dict[str, Any],
    args: argparse.Namespace,
    commands: str,
    elapsed: float,
    today: datetime,
) -> list[str]:
    lines = [
        f"# Portico benchmark, {today:%Y-%m-%d %H:%M} UTC",
        "",
        summary_line(cells, targets, concurrencies, extra),
        "",
        f"- Machine: {machine()}",
        "- Versions: " + ", ".join(f"{key} {value}" for key, value in versions().items()),
        f"- Command: `{commands}` (total {elapsed:.0f} s)",
        f"- Load: wrk -t1, connections = concurrency, {args.warmup:g} s warm-up discarded, {args.reps} × "
        f"{args.duration:g} s per cell, medians of the runs; distinct id and arguments per call; every answer "
        "checked (errors = socket errors + timeouts + non-200 / JSON-RPC error / isError / missing echo).",
        "- Unpinned: wrk, Portico and the upstream share the machine's cores. Upstream: `bench/echo_server.py` "
        "(raw ASGI on uvicorn + uvloop + httptools; stdio: newline JSON-RPC on uvloop); `sdk` rows: "
        "`bench/sdk_echo_server.py` (the MCP SDK's `MCPServer`, Streamable HTTP with SSE answers, same uvicorn).",
        "- 2025-11-25 cells use one session set up before timing (all connections share it); 2026-07-28 cells are "
        "stateless with the routing headers. Tokens are minted before timing. stdio rows are compared with the "
        "direct HTTP echo (there is no direct stdio path over HTTP).",
        "- Server CPU = user+system time of the upstream and Portico processes (and Portico's children) during the "
        "run; other CPU = the rest of the machine's busy time (processes outside the benchmark; 100 % = one core). "
        f"Load average at start {extra.get('loadavg_start', '?')}, at end {extra.get('loadavg_end', '?')}.",
        "",
        "## Targets",
        "",
        "| target | measured | met |",
        "|---|---:|---|",
    ]
    for name, measured, ok in targets_met(cells, targets, concurrencies, extra):
        lines.append(f"| {name} | {measured} | {'yes' if ok else 'no'} |")
    all_conc = sorted({cell.concurrency for cell in cells})
    for concurrency in all_conc:
        lines += ["", f"## Warm tools/call, concurrency {concurrency}", ""]
        lines += table(cells, targets, concurrency)
    if "stream" in extra or "process" in extra:
        lines += ["", "## Memory", ""]
        if "stream" in extra:
            s = extra["stream"]
            lines.append(
                f"- {s['streams']} idle 2025-11-25 sessions through Portico to the HTTP echo: "
                f"{s['per_session'] / 1024:.1f} KiB RSS per session; {s['per_stream'] / 1024:.1f} KiB per idle "
                "GET (SSE) stream on top of its session."
            )
        if "process" in extra:
            p = extra["process"]
            lines.append(
                f"- {p['users']} users calling the stdio echo (2026-07-28): {p['processes']} processes, median "
                f"child RSS {p['per_process_rss'] / 1024 / 1024:.1f} MiB; Portico's own growth "
                f"{p['portico_per_user'] / 1024:.1f} KiB per user."
            )
    if "token" in extra:
        from bench.token_endpoint import token_table

        lines += [
            "",
            "## Token endpoint",
            "",
            "Real `POST /token` calls (PKCE, code consumed, ES256 JWT signed, refresh token stored / rotated), SQLite, "
            "1 worker; codes minted through `/authorize` + consent before timing; asyncio httpx2 client at fixed "
            "concurrency (the endpoint, not the client, is the limit).",
            "",
            *token_table(extra["token"]),
        ]
    if "observability" in extra:
        from bench.observability_cost import report_lines as observability_lines

        lines += [
            "",
            "## Observability (bench/observability_cost.py)",
            "",
            *observability_lines(extra["observability"]),
        ]
    if "policy" in extra:
        from bench.policy_cost import report_lines

        lines += ["", "## Access policy (bench/policy_cost.py)", "", *report_lines(extra["policy"])]
    if "limits" in extra:
        from bench.limits_cost import report_lines as limits_lines

        lines += ["", "## Rate limits (bench/limits_cost.py)", "", *limits_lines(extra["limits"])]
    if "tracing" in extra:
        from bench.tracing_cost import report_lines as tracing_lines

        lines += ["", "## Tracing (bench/tracing_cost.py)", "", *tracing_lines(extra["tracing"])]
    if "identity" in extra:
        from bench.identity_cost import report_lines as identity_lines

        lines += ["", "## Signed identity (bench/identity_cost.py)", "", *identity_lines(extra["identity"])]
    if extra.get("db_statements"):
        lines += ["", "## SQL statements during the warm tools/call cells", ""]
        lines += [f"- {count}× `{statement}`" for statement, count in extra["db_statements"].items()]
    if "peers" in extra:
        from bench.peers import peer_report

        lines += peer_report(cells, targets, extra)
    lines += [
        "",
        "Not measured: a tools/list fan-out (Portico has none: each `/<name>/mcp` is one upstream, so a "
        "tools/list is one relayed call like tools/call).",
    ]
    return lines


if __name__ == "__main__":
    sys.exit(main())
