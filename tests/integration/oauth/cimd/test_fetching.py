"""Fetching a metadata document over real HTTP (draft-...-document-00 §4, §4.1, §6)."""

from __future__ import annotations

import json
import socket
import time
from typing import Any

import anyio
import pytest

from oauth.cimd import ClientMetadataDocumentError, ClientMetadataResolver
from tests.integration.oauth.cimd.document_server import DocumentServer, Route, valid_document

pytestmark = pytest.mark.anyio

MARKER = "zz-body-marker"


async def refusal(resolver: ClientMetadataResolver, url: str) -> str:
    with anyio.fail_after(5), pytest.raises(ClientMetadataDocumentError) as caught:
        await resolver.resolve(url)
    assert MARKER not in str(caught.value)
    return caught.value.reason


async def test_valid_document_is_fetched_and_validated(
    server: DocumentServer, resolver: ClientMetadataResolver
) -> None:
    url = server.serve_valid("/client.json", client_name="Example App", scope="mcp:tools")

    document = await resolver.resolve(url)

    assert (document.client_id, document.client_name, document.scope) == (url, "Example App", "mcp:tools")
    assert document.redirect_uris == ("https://app.example.com/callback",)
    assert (document.host, document.pinned) == ("127.0.0.1", False)
    assert server.hits["/client.json"] == 1


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"client_id": "http://127.0.0.1/elsewhere.json"}, "client_id does not match the document URL"),
        ({"redirect_uris": None}, "redirect_uris is missing"),
        ({"redirect_uris": []}, "invalid redirect_uris"),
        ({"redirect_uris": ["https://app.example.com/cb#frag"]}, "invalid redirect_uris"),
        ({"redirect_uris": ["http://app.example.com/cb"]}, "invalid redirect_uris"),
        (
            {"token_endpoint_auth_method": "client_secret_post"},
            "secret-based token_endpoint_auth_method is not allowed",
        ),
        ({"client_secret": MARKER}, "document must not contain a client secret"),
        ({"response_types": ["token"]}, "unsupported response_types"),
    ],
)
async def test_invalid_documents_are_refused(
    server: DocumentServer, resolver: ClientMetadataResolver, changes: dict[str, Any], reason: str
) -> None:
    """Spec-mandated (§4.1, MCP 2025-11-25 §CIMD)."""
    url = server.url("/client.json")
    document = {key: value for key, value in valid_document(url, **changes).items() if value is not None}
    server.serve_json("/client.json", document)

    assert await refusal(resolver, url) == reason


@pytest.mark.parametrize("status", [500, 404, 403, 204, 201])
async def test_a_status_other_than_200_is_refused(
    server: DocumentServer, resolver: ClientMetadataResolver, status: int
) -> None:
    """Spec-mandated (§4): only a 200 response carries the document."""
    url = server.url("/client.json")
    body = json.dumps(valid_document(url, client_name=MARKER)).encode()
    server.routes["/client.json"] = Route(status=status, body=body)

    assert await refusal(resolver, url) == f"unexpected HTTP status {status}"


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_redirects_are_refused_and_not_followed(
    server: DocumentServer, resolver: ClientMetadataResolver, status: int
) -> None:
    """Spec-mandated (§4) and SSRF hygiene: a redirect could point anywhere, so none is followed."""
    target = server.serve_valid("/elsewhere.json")
    server.routes["/client.json"] = Route(status=status, headers={"Location": target})

    assert await refusal(resolver, server.url("/client.json")) == f"redirect refused (HTTP {status})"
    assert server.hits["/elsewhere.json"] == 0


async def test_a_body_that_is_not_json_is_refused(server: DocumentServer, resolver: ClientMetadataResolver) -> None:
    server.routes["/client.json"] = Route(body=f"<html>{MARKER}</html>".encode())

    assert await refusal(resolver, server.url("/client.json")) == "document is not valid JSON"


@pytest.mark.parametrize("content_type", ["text/html", "text/plain", "application/jwt", "application/json-seq", None])
async def test_a_content_type_other_than_json_is_refused(
    server: DocumentServer, resolver: ClientMetadataResolver, content_type: str | None
) -> None:
    url = server.url("/client.json")
    headers = {} if content_type is None else {"Content-Type": content_type}
    server.routes["/client.json"] = Route(body=json.dumps(valid_document(url)).encode(), headers=headers)

    assert await refusal(resolver, url) == "content type is not application/json"


async def test_json_content_type_parameters_are_accepted(
    server: DocumentServer, resolver: ClientMetadataResolver
) -> None:
    url = server.serve_valid("/client.json", headers={"Content-Type": "Application/JSON; charset=utf-8"})

    assert (await resolver.resolve(url)).client_id == url


async def test_a_document_of_exactly_max_bytes_is_accepted_and_one_more_byte_is_refused(
    server: DocumentServer, resolver: ClientMetadataResolver
) -> None:
    """Spec-recommended (§6): 5 KB cap; here checked at the boundary."""
    url = server.url("/client.json")
    body = json.dumps(valid_document(url)).encode()
    server.routes["/client.json"] = Route(body=body + b" " * (5 * 1024 - len(body)))
    assert (await resolver.resolve(url)).client_id == url

    other = server.url("/big.json")
    body = json.dumps(valid_document(other)).encode()
    server.routes["/big.json"] = Route(body=body + b" " * (5 * 1024 + 1 - len(body)))
    assert await refusal(resolver, other) == "document too large"


async def test_oversize_body_without_content_length_is_cut_off_while_streaming(
    server: DocumentServer, resolver: ClientMetadataResolver
) -> None:
    """The server would send forever; we must stop reading past the cap, not buffer it all."""
    server.routes["/client.json"] = Route(body=b'{"client_id": "', content_length=False, endless=True)

    assert await refusal(resolver, server.url("/client.json")) == "document too large"


async def test_a_server_that_does_not_answer_times_out(
    server: DocumentServer, resolver: ClientMetadataResolver
) -> None:
    """Our own choice: one deadline for the whole fetch (1 s in these tests)."""
    server.routes["/client.json"] = Route(hold=True)
    started = time.monotonic()

    assert await refusal(resolver, server.url("/client.json")) == "timed out"
    assert time.monotonic() - started < 3


async def test_nothing_listening_is_a_connection_failure(resolver: ClientMetadataResolver) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]

    assert await refusal(resolver, f"http://127.0.0.1:{port}/client.json") == "could not connect"


async def test_a_client_id_that_is_not_a_document_url_is_refused_without_a_request(
    server: DocumentServer, resolver: ClientMetadataResolver
) -> None:
    server.serve_valid("/client.json")

    assert await refusal(resolver, server.url("/client.json#frag")) == "client_id is not a metadata document URL"
    assert await refusal(resolver, server.url("/client.json", host="localhost")) == (
        "client_id is not a metadata document URL"
    )
    assert server.hits["/client.json"] == 0
