"""The MCP conformance suite's server scenarios, run directly against an SDK fixture server and through Portico.

Three runs of ``@modelcontextprotocol/conformance``:

- 0.1.16 (the npm ``latest`` tag, installed as the alias ``conformance-0.1.16``): ``server`` runs its active suite on
  the 2025-11-25 wire; every check it reports is scored;
- 0.2.0-alpha.12 ``server --requirements <revision>`` runs exactly the scenarios a revision requires (2025-11-25: the
  stateful handshake; 2026-07-28: stateless, per-request ``_meta``); the checks its requirements file lists are scored.

The fixture (``tests/fixtures/conformance_server.py``) implements the tools, resources and prompts the scenarios call.

Through Portico the fixture is reached over Streamable HTTP and over stdio, at ``/<server>/mcp``. The suite sends no
``Authorization`` header, so a header-injecting reverse proxy (test code) adds a bearer token minted for the route.

Our own bar: every scored check that passes directly also passes through Portico, except the entries of
``conformance-baseline.yml`` (each with its reason); an entry that no longer fails is stale and fails the test.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

import anyio
import pytest
import yaml

from tests.support.header_proxy import serve_header_proxy
from tests.support.portico import mint_access_token, run_portico
from tests.support.processes import free_port, start_process
from tests.support.requirements import require_node22, require_node_package

pytestmark = [pytest.mark.anyio, pytest.mark.node]

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "conformance_server.py"
BASELINE = Path(__file__).with_name("conformance-baseline.yml")


class Suite(NamedTuple):
    """One conformance run: the npm package (directory under tests/node/node_modules) and the wire revision."""

    label: str
    package: str
    revision: str
    by_requirements: bool  # 0.2: --requirements <revision> and its scored list; 0.1: the active suite, all scored


SUITES = {
    suite.label: suite
    for suite in (
        Suite("0.1.16", "conformance-0.1.16", "2025-11-25", by_requirements=False),
        Suite("0.2.0-alpha.12/2025-11-25", "@modelcontextprotocol/conformance", "2025-11-25", by_requirements=True),
        Suite("0.2.0-alpha.12/2026-07-28", "@modelcontextprotocol/conformance", "2026-07-28", by_requirements=True),
    )
}
RUN_TIMEOUT = 600
RESULT_DIR = re.compile(r"^server-(?P<scenario>.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$")

Outcome = dict[tuple[str, str], bool]  # (scenario, check id) -> passed


@contextmanager
def fixture_over_http() -> Iterator[str]:
    port = free_port()
    with start_process([sys.executable, str(FIXTURE), "http", str(port)], port=port, name="conformance-fixture"):
        yield f"http://localhost:{port}/mcp"


async def run_suite(url: str, suite: Suite, output: Path) -> Outcome:
    """Run ``suite``'s server scenarios against ``url``; the scored checks and whether each passed."""
    node = require_node22()
    package = require_node_package(suite.package)
    argv = [str(node), str(package / "dist" / "index.js"), "server", "--url", url]
    if suite.by_requirements:
        argv += ["--requirements", suite.revision]
    with anyio.fail_after(RUN_TIMEOUT):
        result = await anyio.run_process([*argv, "-o", str(output)], check=False)
    scored = None
    if suite.by_requirements:
        scored = set(yaml.safe_load((package / "requirements" / f"{suite.revision}.yaml").read_text())["server"])
    outcome = scored_checks(output, scored)
    assert outcome, result.stdout.decode(errors="replace") + result.stderr.decode(errors="replace")
    return outcome


def scored_checks(output: Path, scored: set[str] | None) -> Outcome:
    """The checks of the scenarios in ``scored`` (every scenario when None)."""
    outcome: Outcome = {}
    for path in sorted(output.glob("*/checks.json")):
        match = RESULT_DIR.match(path.parent.name)
        if match is None or (scored is not None and match["scenario"] not in scored):
            continue
        for check in json.loads(path.read_text()):
            key = (match["scenario"], str(check["id"]))
            passed = check["status"] in ("SUCCESS", "INFO")
            outcome[key] = outcome.get(key, True) and passed
    return outcome


def baseline(suite: Suite, transport: str) -> dict[tuple[str, str], str]:
    entries: list[dict[str, Any]] = yaml.safe_load(BASELINE.read_text()) or []
    return {
        (e["scenario"], e["check"]): e["reason"]
        for e in entries
        if suite.label in e["suites"] and transport in e["transports"]
    }


def portico_config(fixture_url: str) -> dict[str, Any]:
    return {
        "login": {"providers": [{"type": "dev"}], "allowed_domains": ["example.com"]},
        "servers": {
            "conformance-http": {"transport": "streamable-http", "url": fixture_url},
            "conformance-stdio": {"transport": "stdio", "command": sys.executable, "args": [str(FIXTURE), "stdio"]},
        },
    }


@pytest.mark.parametrize("suite", list(SUITES))
@pytest.mark.parametrize("transport", ["http", "stdio"])
async def test_conformance_server_scenarios_pass_through_portico_as_they_do_directly(
    tmp_path: Path, suite: str, transport: str
) -> None:
    """Our own bar (the suite scores servers; Portico must not lose what the server it fronts passes)."""
    run = SUITES[suite]
    require_node_package(run.package)
    with fixture_over_http() as fixture_url, run_portico(tmp_path, portico_config(fixture_url)) as portico:
        direct = await run_suite(fixture_url, run, tmp_path / "direct")
        route = f"conformance-{transport}"
        token = mint_access_token(tmp_path, f"{portico.base_url}/{route}/mcp")
        async with serve_header_proxy(portico.base_url, lambda path: {"authorization": f"Bearer {token}"}) as proxy:
            through = await run_suite(f"{proxy}/{route}/mcp", run, tmp_path / "portico")

    assert all(direct.values()), [key for key, passed in direct.items() if not passed]  # the fixture is complete
    expected = baseline(run, transport)
    lost = sorted(key for key, passed in direct.items() if passed and not through.get(key, False))
    unexpected = [key for key in lost if key not in expected]
    stale = [key for key in expected if key not in lost]
    assert not unexpected, f"fail only through Portico: {unexpected}\n{_details(tmp_path / 'portico', unexpected)}"
    assert not stale, f"baseline entries that now pass (remove them): {stale}"


def _details(output: Path, keys: list[tuple[str, str]]) -> str:
    lines: list[str] = []
    for path in sorted(output.glob("*/checks.json")):
        match = RESULT_DIR.match(path.parent.name)
        scenario = match["scenario"] if match else ""
        lines.extend(
            f"{scenario}:{check['id']}: {check.get('errorMessage') or check.get('details')}"
            for check in json.loads(path.read_text())
            if (scenario, str(check["id"])) in keys
        )
    return "\n".join(lines)
