"""docs/grafana/portico.json: valid JSON, and every PromQL expression names only metrics a real scrape exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx2
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.observe.test_metrics_endpoint import portico_with_metrics

pytestmark = pytest.mark.anyio

DASHBOARD = Path(__file__).resolve().parents[3] / "docs" / "grafana" / "portico.json"
SUFFIXES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_count", "_sum", "_created"), "gauge": ("",)}


def expressions() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


async def exported_names(tmp_path: Path) -> set[str]:
    """Every sample name the families of a real ``/metrics`` can have (also those with no sample yet)."""
    async with portico_with_metrics(tmp_path) as (portico, url):
        async with portico.client("files") as client:
            await client.call_tool("echo", {"text": "x"})
        async with httpx2.AsyncClient() as http:
            text = (await http.get(url)).text
    names: set[str] = set()
    for family in text_string_to_metric_families(text):
        names |= {family.name + suffix for suffix in SUFFIXES.get(family.type, ("",))}
        names |= {sample.name for sample in family.samples}
    return names


async def test_every_dashboard_expression_names_only_exported_metrics(tmp_path: Path) -> None:
    exported = await exported_names(tmp_path)
    used = {name for expr in expressions() for name in re.findall(r"\bportico_[a-z_]+\b", expr)}
    assert used, "the dashboard queries nothing"
    assert used <= exported, used - exported
    wanted = {"portico_mcp_requests_total", "portico_mcp_request_duration_seconds_bucket", "portico_sign_ins_total"}
    assert wanted <= used


def test_the_dashboard_is_a_grafana_dashboard() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["title"] == "Portico" and dashboard["uid"]
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    assert all(panel["targets"] and panel["datasource"]["type"] == "prometheus" for panel in dashboard["panels"])
