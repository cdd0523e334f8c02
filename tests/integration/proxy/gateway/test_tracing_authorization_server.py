"""SERVER spans of the authorization server (``/authorize``, the sign-in, ``/token``) at a real OTLP receiver.

A real Portico with the dev sign-in; the requests a browser and an MCP client make
(``tests/support/http_sign_in.py``); spans decoded from the exported protobuf. The query string
and bodies (codes, PKCE values, tokens, emails) never reach a span.
"""

from __future__ import annotations

from pathlib import Path

import httpx2
import pytest

from tests.integration.proxy.gateway.harness import fixture_stdio_server, serve_portico
from tests.support.http_sign_in import sign_in_and_get_tokens
from tests.support.otlp import SERVER, otlp_receiver

pytestmark = pytest.mark.anyio
LOGIN = {"providers": [{"type": "dev"}], "allowed_domains": ["example.com"]}
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


async def test_authorize_sign_in_and_token_are_server_spans_without_secrets(tmp_path: Path) -> None:
    with otlp_receiver() as receiver:
        telemetry = {"endpoint": receiver.endpoint}
        async with serve_portico(tmp_path, {"fixture": fixture_stdio_server()}, login=LOGIN, telemetry=telemetry) as p:
            async with httpx2.AsyncClient(base_url=p.base_url, headers={"traceparent": TRACEPARENT}) as http:
                client_id, tokens = await sign_in_and_get_tokens(http, "alice@example.com", p.url("fixture"))
                refused = await http.post("/token", data={"grant_type": "authorization_code", "code": "nope"})
        spans = receiver.spans()
    assert refused.status_code in (400, 401)
    by_name = {span.name: [s for s in spans if s.name == span.name] for span in spans}
    authorize = by_name["GET /authorize"]
    assert authorize and all(s.kind == SERVER and s.attributes["http.route"] == "/authorize" for s in authorize)
    assert all(s.trace_id == "0af7651916cd43dd8448eb211c80319c" for s in authorize)  # the caller's trace continues
    assert by_name["POST /login/dev"][0].attributes["http.request.method"] == "POST"
    token_spans = by_name["POST /token"]
    assert [s.attributes["http.response.status_code"] for s in token_spans] == [200, refused.status_code]
    assert token_spans[1].attributes["error.type"] == str(refused.status_code)
    assert not token_spans[1].failed  # a 4xx is the caller's error (HTTP server conventions): status unset
    everything = repr([(s.name, s.attributes) for s in spans])
    for secret in (tokens["access_token"], tokens["refresh_token"], "alice@example.com", client_id):
        assert secret not in everything
