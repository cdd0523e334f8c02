"""The worked examples of docs/policy.md, loaded exactly as printed there, decide as the page says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.config import load_config
from app.policy.access import TargetKind
from app.policy.engine import RulePolicy
from app.policy.principal import Principal
from app.policy.summary import summarize
from tests.unit.app.policy.build import person

DOC = Path(__file__).resolve().parents[4] / "docs" / "policy.md"
CLAUDE_AI = "https://claude.ai/oauth/mcp-oauth-client-metadata"


def example(name: str, tmp_path: Path) -> RulePolicy:
    """The YAML block after ``<!-- example: name -->`` in docs/policy.md, loaded through the real loader."""
    found = re.search(rf"<!-- example: {re.escape(name)} -->\n```yaml\n(.*?)```", DOC.read_text(), re.S)
    assert found is not None, f"docs/policy.md has no example {name!r}"
    path = tmp_path / f"{name}.yaml"
    path.write_text(found.group(1))
    return RulePolicy.from_config(load_config(path, env={}))


def allowed(engine: RulePolicy, who: Principal, server: str, kind: TargetKind, name: str) -> bool:
    verdict = engine.access(who, server).allows(kind, name)
    assert engine.explain(who, server, kind, name).allowed is verdict
    return verdict


def test_engineering_may_write_and_everyone_else_reads(tmp_path: Path) -> None:
    engine = example("engineering-write", tmp_path)
    engineer, other = person("eng@example.com", groups=("engineering",)), person("sam@example.com")
    assert allowed(engine, engineer, "github", "tool", "create_pull_request")
    assert allowed(engine, engineer, "github", "prompt", "review")
    for tool in ("get_file_contents", "list_issues", "search_code"):
        assert allowed(engine, other, "github", "tool", tool)
    assert not allowed(engine, other, "github", "tool", "create_pull_request")
    assert not allowed(engine, other, "github", "prompt", "review")
    assert allowed(engine, other, "github", "resource", "repo://octo/readme")
    tools = summarize(engine.standing(other, "github"))[0]
    assert tools.text == "only tools matching get_*, list_*, search_*"


@pytest.mark.parametrize(
    "contractor",
    [person("c@contractor.example"), person("c@example.com", groups=("contractors",))],
    ids=["by-domain", "by-group"],
)
def test_contractors_see_one_server(tmp_path: Path, contractor: Principal) -> None:
    engine = example("contractors", tmp_path)
    assert engine.access(contractor, "docs").usable
    assert allowed(engine, contractor, "docs", "tool", "search")
    for server in ("github", "jira"):
        assert not engine.access(contractor, server).usable
        assert not allowed(engine, contractor, server, "tool", "get_issue")
    employee = person("emp@example.com")
    assert all(engine.access(employee, s).usable for s in ("docs", "github", "jira"))


def test_claude_ai_may_not_use_destructive_tools(tmp_path: Path) -> None:
    engine = example("claude-no-deletes", tmp_path)
    via_claude, via_cli = person(client_id=CLAUDE_AI), person(client_id="registered-cli-client")
    for tool in ("delete_file", "merge_pull_request"):
        assert not allowed(engine, via_claude, "github", "tool", tool)
        assert allowed(engine, via_cli, "github", "tool", tool)
    assert allowed(engine, via_claude, "github", "tool", "create_issue")
    decision = engine.explain(via_claude, "github", "tool", "delete_file")
    assert decision.source.subject == f"client '{CLAUDE_AI}'"
    for who in (via_claude, via_cli):
        refused = engine.explain(who, "github", "tool", "delete_repository")
        assert (refused.allowed, refused.source.key) == (False, "servers.github.tools.exclude")


def test_the_quickstart_policy_block_is_valid_once_uncommented(tmp_path: Path) -> None:
    quickstart = DOC.parents[1] / "examples" / "quickstart.yaml"
    lines = quickstart.read_text().splitlines()
    start = lines.index("# policy:")
    block = [line.removeprefix("# ") for line in lines[start:] if line.startswith("# ")]
    path = tmp_path / "quickstart.yaml"
    path.write_text("\n".join(lines[:start] + block) + "\n")
    engine = RulePolicy.from_config(load_config(path, env={}))
    assert allowed(engine, person("alice@example.com"), "notes", "tool", "add_note")
    assert allowed(engine, person("bob@example.com"), "time", "tool", "get_current_time")
    assert not allowed(engine, person("bob@example.com"), "time", "tool", "convert_time")
    assert not engine.access(person("bob@example.com"), "notes").usable
