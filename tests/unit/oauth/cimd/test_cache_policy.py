"""Cache lifetime of a fetched document (draft-...-document-00 §4.4; RFC 9111 §4.2)."""

from __future__ import annotations

import httpx2
import pytest

from oauth.cimd.cache_policy import cache_lifetime


def lifetime(*headers: tuple[str, str]) -> float | None:
    return cache_lifetime(httpx2.Headers(list(headers)), min_ttl=60, max_ttl=3600)


def test_without_caching_headers_the_minimum_lifetime_applies() -> None:
    """Our own choice: a short default rather than none, so a burst of logins fetches once."""
    assert lifetime() == 60


@pytest.mark.parametrize(
    ("cache_control", "expected"),
    [
        ("max-age=300", 300),
        ("public, max-age=300", 300),
        ('max-age="300"', 300),
        ("MAX-AGE=300", 300),
        ("max-age=5", 60),  # clamped up
        ("max-age=0", 60),
        ("max-age=999999", 3600),  # clamped down
        ("max-age=abc", 60),  # unparseable: as if absent
        ("max-age=-5", 60),
        ("max-age=300, max-age=900", 300),  # first wins
    ],
)
def test_max_age_is_honoured_within_the_clamp(cache_control: str, expected: float) -> None:
    """Spec: SHOULD follow HTTP caching; MAY clamp (§4.4)."""
    assert lifetime(("cache-control", cache_control)) == expected


@pytest.mark.parametrize("cache_control", ["no-store", "No-Store", "max-age=300, no-store", "no-cache"])
def test_no_store_and_no_cache_mean_do_not_store(cache_control: str) -> None:
    """RFC 9111 §5.2.2.5 (no-store); no-cache would need revalidation on every use, which we skip."""
    assert lifetime(("cache-control", cache_control)) is None


def test_age_is_subtracted_from_max_age() -> None:
    """RFC 9111 §4.2.3: a response that sat in an upstream cache is that much older."""
    assert lifetime(("cache-control", "max-age=600"), ("age", "100")) == 500


def test_expires_minus_date_is_the_fallback_lifetime() -> None:
    """RFC 9111 §4.2.1."""
    headers = (("date", "Wed, 21 Oct 2026 07:28:00 GMT"), ("expires", "Wed, 21 Oct 2026 07:48:00 GMT"))
    assert lifetime(*headers) == 1200
    assert lifetime(*headers, ("cache-control", "max-age=120")) == 120  # max-age wins


@pytest.mark.parametrize(
    "headers",
    [
        (("expires", "Wed, 21 Oct 2026 07:48:00 GMT"),),  # no Date
        (("date", "Wed, 21 Oct 2026 07:28:00 GMT"), ("expires", "0")),
        (("date", "garbage"), ("expires", "Wed, 21 Oct 2026 07:48:00 GMT")),
    ],
)
def test_unusable_expires_falls_back_to_the_minimum(headers: tuple[tuple[str, str], ...]) -> None:
    assert lifetime(*headers) == 60
