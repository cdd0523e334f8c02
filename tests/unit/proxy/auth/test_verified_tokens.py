"""The verified-token cache: what it returns, when it forgets, and that it holds no token."""

from __future__ import annotations

from oauth.tokens.access_tokens import AccessTokenClaims
from proxy.auth.verified_tokens import VerifiedTokens

KEYS = object()
ISSUER = "https://portico.example"
AUDIENCE = f"{ISSUER}/github/mcp"


def claims(expires_at: int = 2000, audience: str = AUDIENCE, jwt_id: str = "j1") -> AccessTokenClaims:
    return AccessTokenClaims(
        issuer=ISSUER,
        subject="u",
        audience=audience,
        client_id="c",
        scopes=frozenset({"mcp"}),
        expires_at=expires_at,
        issued_at=1000,
        jwt_id=jwt_id,
    )


def lookup(cache: VerifiedTokens, token: str, now: float = 1500, **overrides: object) -> AccessTokenClaims | None:
    args: dict[str, object] = {"keys": KEYS, "issuer": ISSUER, "audience": AUDIENCE, "now": now} | overrides
    return cache.get(token, **args)  # type: ignore[arg-type]


def test_a_verified_token_is_found_for_its_issuer_and_audience() -> None:
    cache = VerifiedTokens(KEYS)
    cache.put("tok", claims())
    assert lookup(cache, "tok") == claims()
    assert lookup(cache, "other") is None
    assert lookup(cache, "tok", audience=f"{ISSUER}/jira/mcp") is None
    assert lookup(cache, "tok", issuer="https://elsewhere.example") is None


def test_an_entry_is_dropped_at_the_tokens_expiry() -> None:
    cache = VerifiedTokens(KEYS)
    cache.put("tok", claims(expires_at=2000))
    assert lookup(cache, "tok", now=1999.9) is not None
    assert lookup(cache, "tok", now=2000) is None
    assert len(cache) == 0


def test_another_key_set_empties_the_cache() -> None:
    cache = VerifiedTokens(KEYS)
    cache.put("tok", claims())
    assert lookup(cache, "tok", keys=object()) is None
    assert len(cache) == 0


def test_the_cache_is_bounded_oldest_first() -> None:
    cache = VerifiedTokens(KEYS, max_entries=2)
    for index in range(3):
        cache.put(f"tok{index}", claims(jwt_id=str(index)))
    assert len(cache) == 2
    assert lookup(cache, "tok0") is None
    assert lookup(cache, "tok2") is not None


def test_the_cache_keeps_digests_not_tokens() -> None:
    cache = VerifiedTokens(KEYS)
    cache.put("secret-token-value", claims())
    assert all(isinstance(key, bytes) and len(key) == 32 for key in cache._claims)  # noqa: SLF001
    cache.forget("secret-token-value")
    assert len(cache) == 0
