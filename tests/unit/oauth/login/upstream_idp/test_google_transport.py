"""The google-auth transport over httpx2: answers cached for their ``max-age`` (our design, ADR 0008)."""

from __future__ import annotations

import httpx2
import pytest
from google.auth import exceptions

from oauth.login.upstream_idp.google_transport import CachingRequest

URL = "https://www.googleapis.com/oauth2/v1/certs"


class Counter:
    def __init__(self, cache_control: str) -> None:
        self.cache_control, self.calls = cache_control, 0

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.calls += 1
        return httpx2.Response(200, json={"k": "pem"}, headers={"cache-control": self.cache_control})


def transport(server: Counter, clock: list[float]) -> CachingRequest:
    return CachingRequest(httpx2.Client(transport=httpx2.MockTransport(server)), clock=lambda: clock[0])


def test_an_answer_is_reused_until_its_max_age_then_fetched_again() -> None:
    server, clock = Counter("public, max-age=100, must-revalidate"), [0.0]
    request = transport(server, clock)
    assert request(URL).data == b'{"k":"pem"}'
    request(URL)
    clock[0] = 101.0
    request(URL)
    assert server.calls == 2


@pytest.mark.parametrize("cache_control", ["no-store", "no-cache, max-age=100", "public"])
def test_an_answer_without_a_usable_max_age_is_not_cached(cache_control: str) -> None:
    server = Counter(cache_control)
    request = transport(server, [0.0])
    request(URL)
    request(URL)
    assert server.calls == 2


def test_forget_drops_the_cached_answer() -> None:
    server = Counter("max-age=3600")
    request = transport(server, [0.0])
    request(URL)
    request.forget(URL)
    request(URL)
    assert server.calls == 2


def test_an_unreachable_server_is_a_google_auth_transport_error() -> None:
    def refuse(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("refused", request=request)

    request = CachingRequest(httpx2.Client(transport=httpx2.MockTransport(refuse)))
    with pytest.raises(exceptions.TransportError):
        request(URL)
