"""The Docker image, built without a container engine (issue #15 finding 13).

The build context is assembled the way ``docker build`` would: the repository minus
``.dockerignore``, then the Dockerfile's ``COPY`` lines of the build stage into ``/app``. From
that directory the wheel is built (``uv build``) and the image's virtualenv is made as its
``RUN uv sync --frozen --no-dev --no-editable`` does — offline, from the uv cache that
``make install`` warmed. The virtualenv must then: check ``examples/quickstart.yaml`` as shipped
inside it, resolve every console script (``portico-example-notes`` included), and pass the
Dockerfile's own ``HEALTHCHECK`` command against ``portico serve``; the same command fails once
the server is gone.
"""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import httpx2
import pytest

from tests.support.processes import free_port
from tests.support.requirements import require

ROOT = Path(__file__).resolve().parents[3]
DOCKERFILE = ROOT / "Dockerfile"
COMMAND_TIMEOUT = 300


def uv_binary() -> Path:
    found = ROOT / ".uv" / "bin" / "uv"
    located = found if found.exists() else Path(shutil.which("uv") or found)
    require(located.exists(), "uv is not installed (make install puts it in .uv/)")
    return located


def dockerignore_patterns() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def is_ignored(path: PurePosixPath, patterns: list[str]) -> bool:
    """Docker's rule for the subset we use: a pattern matches the path or one of its parents; ``**/`` any depth."""
    candidates = [PurePosixPath(*path.parts[: index + 1]).as_posix() for index in range(len(path.parts))]
    for pattern in patterns:
        anywhere = pattern.removeprefix("**/")
        for candidate in candidates:
            name = candidate.rpartition("/")[2]
            if fnmatch.fnmatchcase(candidate, pattern) or (pattern != anywhere and fnmatch.fnmatchcase(name, anywhere)):
                return True
    return False


def build_stage_copies() -> list[tuple[list[str], str]]:
    """``COPY <src>... <dest>`` of the build stage (sources from the context, not ``--from``)."""
    copies = []
    for line in DOCKERFILE.read_text().splitlines():
        words = line.split()
        if words[:1] == ["COPY"] and not any(word.startswith("--from") for word in words):
            copies.append((words[1:-1], words[-1]))
    return copies


def dockerfile_instruction(prefix: str) -> str:
    """The one instruction that starts with ``prefix``, its continuation lines joined."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    [line] = [line for line in text.splitlines() if line.startswith(prefix)]
    return line


def copy_from_context(source: Path, target: Path, patterns: list[str]) -> None:
    relative = PurePosixPath(source.relative_to(ROOT).as_posix())
    assert source.exists(), f"COPY source {relative} is missing from the repository"
    if is_ignored(relative, patterns):
        return
    if source.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        return
    for child in sorted(source.iterdir()):
        copy_from_context(child, target / child.name, patterns)


def assemble_build_directory(directory: Path) -> Path:
    """``/app`` of the build stage after its COPY lines."""
    patterns = dockerignore_patterns()
    app = directory / "app"
    app.mkdir()
    for sources, destination in build_stage_copies():
        for source in sources:
            target = app / destination / Path(source).name if destination.endswith("/") else app / destination
            copy_from_context(ROOT / source, target, patterns)
    return app


def run(command: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT, check=False
    )
    assert result.returncode == 0, f"{command[:3]} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """(the build stage's /app, the image's virtualenv), built offline."""
    uv = uv_binary()
    directory = tmp_path_factory.mktemp("docker-context")
    app = assemble_build_directory(directory)
    venv = directory / "venv"
    # UV_CACHE_DIR is kept: it is the cache `make install` filled (.ci/run moves XDG_CACHE_HOME after it).
    env = {
        k: v
        for k, v in os.environ.items()
        if k == "UV_CACHE_DIR" or not k.startswith(("PORTICO_", "VIRTUAL_ENV", "UV_"))
    }
    env |= {"UV_PYTHON": sys.executable, "UV_PYTHON_DOWNLOADS": "never", "UV_PROJECT_ENVIRONMENT": str(venv)}
    run([str(uv), "build", "--wheel", "--offline", "--out-dir", str(directory / "dist")], cwd=app, env=env)
    run([str(uv), "sync", "--frozen", "--no-dev", "--no-editable", "--offline", "--quiet"], cwd=app, env=env)
    yield app, venv


def test_the_context_holds_what_the_wheel_packages_and_no_tests(image: tuple[Path, Path]) -> None:
    """Our choice: every package of [tool.hatch.build.targets.wheel] is copied; tests stay out of the image."""
    app, _venv = image
    [wheel] = (app.parent / "dist").glob("portico-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"examples/notes_server.py", "examples/quickstart.yaml", "app/cli.py", "migrations/env.py"} <= names
    assert not (app / "tests").exists() and not any(name.startswith("tests/") for name in names)


def test_the_shipped_quickstart_configuration_checks(image: tuple[Path, Path]) -> None:
    """The image's own copy of examples/quickstart.yaml (inside its virtualenv) passes ``portico check-config``."""
    _app, venv = image
    python = venv / "bin" / "python"
    examples = run([str(python), "-c", "import examples; print(examples.__path__[0])"], cwd=venv).stdout.strip()
    quickstart = Path(examples) / "quickstart.yaml"
    assert quickstart.is_relative_to(venv)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTICO_")}
    result = run([str(venv / "bin" / "portico"), "check-config", str(quickstart)], cwd=venv, env=env)
    assert "ok" in (result.stdout + result.stderr).lower()


def test_every_console_script_of_the_image_resolves(image: tuple[Path, Path]) -> None:
    """Issue #15 finding 13: ``portico-example-notes`` was a broken entry point in the image."""
    _app, venv = image
    script = (
        "import json; from importlib.metadata import distribution\n"
        "eps = [ep for ep in distribution('portico').entry_points if ep.group == 'console_scripts']\n"
        "print(json.dumps({ep.name: callable(ep.load()) for ep in eps}))"
    )
    resolved = json.loads(run([str(venv / "bin" / "python"), "-c", script], cwd=venv).stdout)
    assert resolved == {"portico": True, "portico-example-notes": True}
    assert all((venv / "bin" / name).exists() for name in resolved)


def test_the_healthcheck_command_passes_while_portico_serves_and_fails_after(
    image: tuple[Path, Path], tmp_path: Path
) -> None:
    """Our choice: HEALTHCHECK asks /healthz with the standard library (the slim image has no curl)."""
    _app, venv = image
    healthcheck = dockerfile_instruction("HEALTHCHECK ")
    command = json.loads(healthcheck.partition(" CMD ")[2])
    assert command[0] == "python" and "curl" not in healthcheck
    assert "PORTICO_HEALTHCHECK_URL=http://127.0.0.1:8080/healthz" in dockerfile_instruction("ENV PATH=")
    port = free_port()
    config = tmp_path / "portico.yaml"
    config.write_text(f"public_url: http://127.0.0.1:{port}\nlisten: {{port: {port}}}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTICO_")}
    check = [str(venv / "bin" / "python"), *command[1:]]
    check_env = env | {"PORTICO_HEALTHCHECK_URL": f"http://127.0.0.1:{port}/healthz"}
    with (tmp_path / "serve.log").open("wb") as log:
        process = subprocess.Popen(
            [str(venv / "bin" / "portico"), "serve", "--config", str(config)],
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=log,
        )
        try:
            wait_for_health(f"http://127.0.0.1:{port}/healthz", process)
            healthy = subprocess.run(check, env=check_env, capture_output=True, timeout=30, check=False)
        finally:
            process.terminate()
            process.wait(timeout=15)
    gone = subprocess.run(check, env=check_env, capture_output=True, timeout=30, check=False)
    assert healthy.returncode == 0, healthy.stderr
    assert gone.returncode != 0


def wait_for_health(url: str, process: subprocess.Popen[bytes], deadline_s: float = 60.0) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        assert process.poll() is None, "portico exited during startup"
        try:
            if httpx2.get(url, timeout=1.0).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {deadline_s} s")
