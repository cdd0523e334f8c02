"""The sign-in flow cookie: sealed, bound to provider and state, 10 minutes, cookie name from state."""

from __future__ import annotations

import pytest

from app.config import PorticoConfig
from app.crypto import KeyRing, Sealer, generate_secret, load_root_keys
from oauth.client.flow import (
    FLOW_LIFETIME,
    flow_cookie_base,
    new_flow,
    open_flow,
    seal_flow,
)

NOW = 1_800_000_000


@pytest.fixture
def sealer() -> Sealer:
    config = PorticoConfig.model_validate(
        {"public_url": "https://gw.example.com", "secrets": {"secret_key": generate_secret()}}
    )
    return Sealer(KeyRing(tuple(load_root_keys(config, {}))))


def test_a_sealed_flow_opens_for_its_provider_and_state(sealer: Sealer) -> None:
    flow = new_flow("corp", "/authorize?client_id=c&state=s", NOW)
    value = seal_flow(sealer, flow)
    assert flow.code_verifier not in value and flow.nonce not in value and "=" not in value
    assert open_flow(sealer, value, provider="corp", state=flow.state, now=NOW + FLOW_LIFETIME - 1) == flow


def test_fresh_flows_have_independent_high_entropy_values() -> None:
    first, second = new_flow("corp", "/", NOW), new_flow("corp", "/", NOW)
    assert len({first.state, first.nonce, second.state, second.nonce}) == 4
    assert 43 <= len(first.code_verifier) <= 128 and len(first.state) >= 43
    assert first.state_id != second.state_id and len(first.state_id) == 64


def test_the_cookie_name_derives_from_the_state() -> None:
    flow = new_flow("corp", "/", NOW)
    assert flow_cookie_base(flow.state).startswith("portico_idp_")
    assert flow_cookie_base(flow.state) != flow_cookie_base(flow.state + "x")
    assert flow.state not in flow_cookie_base(flow.state)


@pytest.mark.parametrize(
    ("provider", "state_suffix", "now"),
    [
        ("other", "", NOW),  # another provider's callback
        ("corp", "x", NOW),  # another state
        ("corp", "", NOW + FLOW_LIFETIME),  # expired
        ("corp", "", NOW - 1),  # from the future
    ],
)
def test_a_flow_does_not_open_elsewhere_later_or_for_another_state(
    sealer: Sealer, provider: str, state_suffix: str, now: int
) -> None:
    flow = new_flow("corp", "/", NOW)
    value = seal_flow(sealer, flow)
    assert open_flow(sealer, value, provider=provider, state=flow.state + state_suffix, now=now) is None


@pytest.mark.parametrize("value", [None, "", "garbage", "v1.abc.def"])
def test_missing_or_forged_cookies_do_not_open(sealer: Sealer, value: str | None) -> None:
    assert open_flow(sealer, value, provider="corp", state="s", now=NOW) is None


def test_a_tampered_cookie_does_not_open(sealer: Sealer) -> None:
    flow = new_flow("corp", "/", NOW)
    value = seal_flow(sealer, flow)
    tampered = value[:-3] + ("A" if value[-3] != "A" else "B") + value[-2:]
    assert open_flow(sealer, tampered, provider="corp", state=flow.state, now=NOW) is None
