"""The test-only strict challenge parser refuses what a sloppy one would accept."""

from __future__ import annotations

import pytest

from tests.support.challenge_parser import parse_bearer_challenge


def test_parser_reads_quoted_and_token_values_and_unescapes_quoted_pairs() -> None:
    parsed = parse_bearer_challenge('Bearer error=invalid_token, error_description="a \\"b\\" \\\\ c"')
    assert parsed == {"error": "invalid_token", "error_description": 'a "b" \\ c'}


@pytest.mark.parametrize(
    "value",
    [
        "Bearer",
        'Basic realm="x"',
        'Bearer error="a"b"',
        'Bearer error="a", error="b"',
        'Bearer error="a" scope="b"',
        'Bearer error="a\r\nX-Injected: 1"',
        'Bearer error="a",',
        'Bearer error="a", Basic realm="x"',
    ],
)
def test_parser_rejects_malformed_challenges(value: str) -> None:
    with pytest.raises(ValueError):
        parse_bearer_challenge(value)
