"""``portico serve`` as a real process on the quickstart-like embedded default (SQLite, no secret set)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2

PORTICO = Path(sys.executable).parent / "portico"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_up(url: str, process: subprocess.Popen[bytes], deadline_s: float = 20.0) -> httpx2.Response:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        assert process.poll() is None, "portico exited during startup"
        try:
            return httpx2.get(url, timeout=1.0)
        except httpx2.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer within {deadline_s} s")


def test_serve_on_a_fresh_directory_answers_health_and_readiness(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "portico.yaml"
    config.write_text(f"public_url: http://127.0.0.1:{port}\nlisten: {{port: {port}}}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTICO_")}
    with (tmp_path / "stderr.log").open("wb") as stderr:
        process = subprocess.Popen(
            [str(PORTICO), "serve", "--config", str(config)], cwd=tmp_path, env=env, stdout=stderr, stderr=stderr
        )
        try:
            assert wait_until_up(f"http://127.0.0.1:{port}/healthz", process).status_code == 200
            assert httpx2.get(f"http://127.0.0.1:{port}/readyz").json()["status"] == "ok"
        finally:
            process.terminate()
            process.wait(timeout=15)
    log = (tmp_path / "stderr.log").read_text()
    assert "generated a development secret key" in log
    assert (tmp_path / "portico.db").exists()
    assert (tmp_path / ".portico" / "secret.key").read_text().strip() not in log


def test_serve_creates_the_database_file_0600_and_the_key_directory_0700(tmp_path: Path) -> None:
    """Own rule (issue #15, finding 9): the SQLite file holds sealed secrets and token hashes."""
    port = free_port()
    config = tmp_path / "portico.yaml"
    config.write_text(f"public_url: http://127.0.0.1:{port}\nlisten: {{port: {port}}}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTICO_")}
    old_umask = os.umask(0o022)  # the usual umask, which made the file 0644 before
    try:
        process = subprocess.Popen(
            [str(PORTICO), "serve", "--config", str(config)],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    finally:
        os.umask(old_umask)
    try:
        assert wait_until_up(f"http://127.0.0.1:{port}/readyz", process, deadline_s=90).status_code == 200
        modes = {
            name: (tmp_path / name).stat().st_mode & 0o777
            for name in ("portico.db", "portico.db-wal", ".portico", ".portico/secret.key")
        }
    finally:
        process.terminate()
        process.wait(timeout=15)
    assert modes == {
        "portico.db": 0o600,
        "portico.db-wal": 0o600,
        ".portico": 0o700,
        ".portico/secret.key": 0o600,
    }


def test_serve_refuses_a_public_url_without_a_secret_key(tmp_path: Path) -> None:
    config = tmp_path / "portico.yaml"
    config.write_text("public_url: https://gw.example.com\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTICO_")}
    result = subprocess.run(
        [str(PORTICO), "serve", "--config", str(config)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 1
    assert b"PORTICO_SECRET_KEY" in result.stderr
    assert not (tmp_path / "portico.db").exists()
