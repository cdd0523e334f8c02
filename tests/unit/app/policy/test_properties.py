"""Property tests (Hypothesis): on random rule sets, principals and names, the engine answers one way.

- ``explain(...).allowed`` equals ``access(...).allows(...)`` for every target (one decision function);
- a server that is not ``usable`` allows nothing;
- both, and ``usable``, equal a naive reading of docs/policy.md (static filter, then the first applicable rule that
  covers the target, then the default), written here independently with ``fnmatchcase``.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from app.config.schema import PorticoConfig
from app.policy.access import TargetKind
from app.policy.engine import RulePolicy
from app.policy.principal import Principal
from tests.unit.app.policy.build import SERVER_NAMES, config

NAMES = ["get_issue", "get_repo", "list_repos", "create_issue", "delete_repo", "Get_x", "a://docs/x", "a://etc/y"]
PATTERNS = ["*", "get_*", "*_repo*", "?et_issue", "[cd]*", "create_issue", "a://docs/*", "a://*", "G*"]
KINDS: list[TargetKind] = ["tool", "resource", "prompt"]
EMAILS = ["ann@example.com", "Bob@Example.com", "cy@contractor.example", None]
GROUPS = ["engineering", "contractors", "sales"]
CLIENTS = ["cli", "https://claude.ai/oauth/mcp-oauth-client-metadata"]
KIND_KEYS = {"tool": "tools", "resource": "resources", "prompt": "prompts"}

globs = st.lists(st.sampled_from(PATTERNS), min_size=1, max_size=3)
target_entry = st.fixed_dictionaries({}, optional={"tools": globs, "resources": globs, "prompts": globs})
subjects = st.one_of(
    st.just({"everyone": True}),
    st.fixed_dictionaries(
        {},
        optional={
            "users": st.lists(st.sampled_from([e for e in EMAILS if e]), min_size=1, max_size=2),
            "domains": st.lists(st.sampled_from(["example.com", "EXAMPLE.COM", "contractor.example"]), min_size=1),
            "groups": st.lists(st.sampled_from(GROUPS), min_size=1, max_size=2),
            "clients": st.lists(st.sampled_from(CLIENTS), min_size=1),
        },
    ).filter(bool),
)
rule = st.builds(
    lambda effect, who, servers: {"effect": effect, "servers": servers} | who,
    st.sampled_from(["allow", "deny"]),
    subjects,
    st.dictionaries(st.sampled_from([*SERVER_NAMES, "*", "git*"]), target_entry, min_size=1, max_size=2),
)
tool_filter = st.fixed_dictionaries({}, optional={"include": globs, "exclude": globs})
principals = st.builds(
    lambda email, groups, client: Principal("sub", email, tuple(groups), client),
    st.sampled_from(EMAILS),
    st.lists(st.sampled_from(GROUPS), max_size=2),
    st.sampled_from(CLIENTS),
)
policies = st.builds(
    lambda rules, default, filters: config({"default": default, "rules": rules}, filters),
    st.lists(rule, max_size=6),
    st.sampled_from(["allow", "deny"]),
    st.dictionaries(st.sampled_from(SERVER_NAMES), tool_filter, max_size=2),
)


def naive(conf: PorticoConfig, who: Principal, server: str, kind: TargetKind, name: str) -> bool:
    """docs/policy.md read literally, with no compilation."""
    tools = conf.servers[server].tools
    if kind == "tool":
        if tools.include is not None and not any(fnmatchcase(name, p) for p in tools.include):
            return False
        if any(fnmatchcase(name, p) for p in tools.exclude):
            return False
    for entry in conf.policy.rules:
        if not _subject_matches(entry.model_dump(), who):
            continue
        for pattern, targets in entry.servers.items():
            if not fnmatchcase(server, pattern):
                continue
            listed = getattr(targets, KIND_KEYS[kind])
            if targets.whole_server or (listed is not None and any(fnmatchcase(name, p) for p in listed)):
                return entry.effect == "allow"
    return conf.policy.default == "allow"


def naive_usable(conf: PorticoConfig, who: Principal, server: str) -> bool:
    """docs/policy.md §Usable read literally."""
    applicable = [
        (entry.effect, any(t.whole_server for p, t in entry.servers.items() if fnmatchcase(server, p)))
        for entry in conf.policy.rules
        if _subject_matches(entry.model_dump(), who) and any(fnmatchcase(server, p) for p in entry.servers)
    ]
    for i, (effect, whole) in enumerate(applicable):
        if whole:
            return effect == "allow" or any(e == "allow" for e, _ in applicable[:i])
    return conf.policy.default == "allow" or any(e == "allow" for e, _ in applicable)


def _subject_matches(entry: dict[str, Any], who: Principal) -> bool:
    email = (who.email or "").lower()
    return bool(
        entry["everyone"]
        or email in [u.lower() for u in entry["users"]]
        or (who.email and email.rsplit("@", 1)[1] in [d.lower() for d in entry["domains"]])
        or set(who.groups) & set(entry["groups"])
        or who.client_id in entry["clients"]
    )


@settings(max_examples=300, deadline=None, derandomize=True)
@given(conf=policies, who=principals)
def test_explain_access_and_the_documented_reading_agree(conf: PorticoConfig, who: Principal) -> None:
    engine = RulePolicy.from_config(conf)
    for server in SERVER_NAMES:
        access = engine.access(who, server)
        assert engine.explain(who, server).allowed is access.usable is naive_usable(conf, who, server)
        for kind in KINDS:
            for name in NAMES:
                verdict = access.allows(kind, name)
                assert engine.explain(who, server, kind, name).allowed is verdict
                assert naive(conf, who, server, kind, name) is verdict
                assert access.usable or not verdict


@settings(max_examples=300, deadline=None, derandomize=True)
@given(conf=policies, who=principals)
def test_a_server_that_is_not_usable_allows_nothing_even_unlisted_names(conf: PorticoConfig, who: Principal) -> None:
    engine = RulePolicy.from_config(conf)
    for server in SERVER_NAMES:
        if engine.access(who, server).usable:
            continue
        for kind in KINDS:
            for name in [*NAMES, "zzz", "", "get_"]:
                assert not engine.explain(who, server, kind, name).allowed
