"""Era routing by MCP-Protocol-Version, as the SDK's session manager does."""

from __future__ import annotations

import pytest

from proxy.wire.errors import UnsupportedProtocolVersionError
from proxy.wire.protocol import Era, allows_batches, era_for


@pytest.mark.parametrize(
    ("header", "era"),
    [(None, Era.HANDSHAKE), ("2025-03-26", Era.HANDSHAKE), ("2025-11-25", Era.HANDSHAKE), ("2026-07-28", Era.MODERN)],
)
def test_the_header_decides_the_era(header: str | None, era: Era) -> None:
    """Spec: an absent header means 2025-03-26 (transports §Protocol Version Header)."""
    assert era_for(header) is era


def test_an_unknown_version_is_refused_with_the_versions_server_discover_names() -> None:
    """SEP-2575: ``data.supported`` correlates with ``server/discover``'s ``supportedVersions`` (as the SDK server)."""
    with pytest.raises(UnsupportedProtocolVersionError) as refused:
        era_for("1999-01-01")
    assert refused.value.data == {
        "supported": ["2026-07-28"],
        "requested": "1999-01-01",
    }
    assert refused.value.http_status == 400


@pytest.mark.parametrize(("version", "allowed"), [("2025-03-26", True), ("2025-06-18", False), ("2025-11-25", False)])
def test_batches_exist_only_in_2025_03_26(version: str, allowed: bool) -> None:
    assert allows_batches(version) is allowed
