"""The import graph of app/, oauth/, proxy/ and migrations/ follows one declared layer order (our design).

:data:`LAYERS` is the order, lowest first: a module may import modules of its own layer and of
layers below it, never above. Each module belongs to the longest entry that names it or one of
its packages. Independently of the order, no two packages may import each other, directly or
through others: the graph of packages has no cycle. A module counts for the package it sits in,
except a module named in :data:`LAYERS` (the composition root, the gateway), which is a unit of
its own: ``app/main.py`` may import everything although ``app/db.py`` sits beside it.
Imports are read from the source (every ``import`` and ``from … import``, including those inside
functions and ``TYPE_CHECKING`` blocks), so a lazy import cannot hide an edge.
docs/architecture.md draws the same layers.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOP_PACKAGES = ("app", "oauth", "proxy", "migrations")

LAYERS: tuple[str, ...] = (
    # ground: configuration, crypto, storage, logs, web pieces; imports nothing of Portico above it
    "app",
    # the token kernel shared by the authorization server and the resource server
    "oauth.tokens",
    # Portico as an OAuth client (upstream IdPs and upstream authorization servers)
    "oauth.client",
    # sign-in: login session, upstream IdPs, providers; others use oauth.login.api
    "oauth.login",
    # the authorization server
    "oauth.store",
    "oauth.cimd",
    "oauth",
    "oauth.grants",
    "oauth.server",
    "oauth.consent",
    "oauth.endpoints",
    # the data plane, bottom up
    "proxy",
    "proxy.wire",
    "proxy.auth",
    # tool-definition pinning: hashes, its table, the gate (never imports proxy.policy)
    "proxy.pinning",
    "proxy.credentials",
    "proxy.stdio",
    "proxy.upstream",
    "proxy.era_bridge",
    "proxy.backends",
    # rate limits and quotas (LimitGuard, -32014), just inside the policy guard
    "proxy.limits",
    "proxy.policy",
    "proxy.gateway",
    "proxy.inbound",
    "proxy.routes",
    # Prometheus metrics: reads the gateway's registries, observes the event bus
    "proxy.metrics",
    # above both planes
    "proxy.connections",
    "migrations",
    # the composition root: the only modules that may import everything
    "app.sealed_columns",
    "app.runtime",
    "app.main",
    "app.keys_cli",
    "app.policy_cli",
    "app.limits_cli",
    "app.tools_cli",
    "app.audit_cli",
    "app.cli",
)


@dataclass(frozen=True)
class Module:
    name: str
    path: Path

    @property
    def package(self) -> str:
        return self.name if self.path.name == "__init__.py" else self.name.rpartition(".")[0]


def _modules() -> dict[str, Module]:
    found: dict[str, Module] = {}
    for top in TOP_PACKAGES:
        for path in (ROOT / top).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = Module(name, path)
    return found


def _imported_names(module: Module) -> Iterator[str]:
    tree = ast.parse(module.path.read_text(), str(module.path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, node)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def _absolute(module: Module, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module.package.split(".")
    anchor = package[: len(package) - (node.level - 1)]
    return ".".join([*anchor, *([node.module] if node.module else [])])


def _edges(modules: dict[str, Module]) -> set[tuple[str, str]]:
    edges: set[tuple[str, str]] = set()
    for module in modules.values():
        for name in _imported_names(module):
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != module.name:
                edges.add((module.name, name))
    return edges


def _layer(name: str) -> int | None:
    matches = [i for i, entry in enumerate(LAYERS) if name == entry or name.startswith(entry + ".")]
    return max(matches, key=lambda i: len(LAYERS[i])) if matches else None


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return components


def test_every_module_belongs_to_a_declared_layer() -> None:
    undeclared = sorted(name for name in _modules() if _layer(name) is None)
    assert undeclared == []


def test_no_module_imports_a_layer_above_its_own() -> None:
    modules = _modules()
    upward = sorted(
        f"{source} ({LAYERS[s]}) imports {target} ({LAYERS[t]})"
        for source, target in _edges(modules)
        if (s := _layer(source)) is not None and (t := _layer(target)) is not None and t > s
    )
    assert upward == []


def _unit(module: Module) -> str:
    return module.name if module.name in LAYERS else module.package


def test_no_two_packages_import_each_other() -> None:
    modules = _modules()
    graph: dict[str, set[str]] = {_unit(module): set() for module in modules.values()}
    for source, target in _edges(modules):
        a, b = _unit(modules[source]), _unit(modules[target])
        if a != b:
            graph[a].add(b)
    assert _cycles(graph) == []


COMPOSITION_ROOT = ("app.runtime", "app.main", "app.cli")


def test_outside_oauth_login_only_its_api_is_imported() -> None:
    """Sign-in is used through ``oauth.login.api`` (or the package, which re-exports it) (our design).

    The composition root mounts the routes; the migrations' table registry imports the tables.
    """
    allowed = {"oauth.login", "oauth.login.api"}
    reached_in = sorted(
        f"{source} imports {target}"
        for source, target in _edges(_modules())
        if target.startswith("oauth.login.")
        and target not in allowed
        and not source.startswith("oauth.login")
        and source not in COMPOSITION_ROOT
        and not source.startswith("migrations.")
    )
    assert reached_in == []


def test_the_layer_check_sees_an_upward_import(tmp_path: Path) -> None:
    """The checker itself: a ground module importing the gateway is reported (our design)."""
    fake = Module("app.fake", tmp_path / "fake.py")
    fake.path.write_text("from proxy.gateway import Gateway\n")
    names = list(_imported_names(fake))
    assert "proxy.gateway.Gateway" in names
    assert _layer("app.fake") is not None and _layer("proxy.gateway") is not None
    assert _layer("proxy.gateway") > _layer("app.fake")  # type: ignore[operator]


def test_the_cycle_check_finds_a_cycle() -> None:
    """The checker itself: two packages importing each other form a component (our design)."""
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
