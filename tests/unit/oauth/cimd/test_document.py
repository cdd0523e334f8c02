"""Validation of a fetched metadata document (draft-...-document-00 §4.1, RFC 7591 §2 fields)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from oauth.cimd import ClientMetadataDocument, ClientMetadataDocumentError
from oauth.cimd.document import parse_document

URL = "https://app.example.com/oauth/client.json"
MARKER = "zz-document-content-marker"
REMOVE = object()


def document(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "client_id": URL,
        "client_name": "Example App",
        "redirect_uris": ["https://app.example.com/cb"],
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not REMOVE}


def parse(data: object) -> ClientMetadataDocument:
    return parse_document(json.dumps(data).encode(), client_id=URL, host="app.example.com")


def reason_for(data: object) -> str:
    with pytest.raises(ClientMetadataDocumentError) as caught:
        parse(data)
    return caught.value.reason


def test_minimal_document_gets_the_rfc7591_defaults() -> None:
    """Spec-mandated defaults (RFC 7591 §2) except auth method: ``none`` as no secret can exist."""
    parsed = parse(document())
    assert parsed == ClientMetadataDocument(
        client_id=URL,
        client_name="Example App",
        client_uri=None,
        logo_uri=None,
        redirect_uris=("https://app.example.com/cb",),
        grant_types=("authorization_code",),
        response_types=("code",),
        token_endpoint_auth_method="none",
        scope=None,
        application_type=None,
        host="app.example.com",
        pinned=False,
    )


def test_every_supported_member_is_kept() -> None:
    parsed = parse(
        document(
            client_uri="https://app.example.com",
            logo_uri="https://app.example.com/logo.png",
            redirect_uris=["https://app.example.com/cb", "http://127.0.0.1/cb", "http://[::1]:8080/cb"],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
            scope="mcp:tools offline_access",
            application_type="native",
            software_id="ignored-unknown-member",
        )
    )
    assert parsed.client_uri == "https://app.example.com"
    assert parsed.logo_uri == "https://app.example.com/logo.png"
    assert parsed.redirect_uris == ("https://app.example.com/cb", "http://127.0.0.1/cb", "http://[::1]:8080/cb")
    assert parsed.grant_types == ("authorization_code", "refresh_token")
    assert (parsed.scope, parsed.application_type) == ("mcp:tools offline_access", "native")


@pytest.mark.parametrize(
    "client_id", [URL + "/", URL.upper(), "https://evil.example/oauth/client.json", REMOVE, None, 7]
)
def test_client_id_must_equal_the_document_url_exactly(client_id: object) -> None:
    """Spec-mandated (§4.1): simple string comparison with the URL fetched."""
    assert reason_for(document(client_id=client_id)) == "client_id does not match the document URL"


def test_missing_redirect_uris_are_refused() -> None:
    """Spec-mandated (MCP 2025-11-25 §CIMD): redirect_uris is required."""
    assert reason_for(document(redirect_uris=REMOVE)) == "redirect_uris is missing"


@pytest.mark.parametrize("redirect_uris", [[], "https://app.example.com/cb", [42], [None], {"a": "b"}])
def test_empty_or_mistyped_redirect_uris_are_refused(redirect_uris: object) -> None:
    assert reason_for(document(redirect_uris=redirect_uris)) == "invalid redirect_uris"


@pytest.mark.parametrize(
    "uri",
    [
        "https://app.example.com/cb#frag",  # fragment (RFC 6749 §3.1.2)
        "https://app.example.com/cb#",
        "http://app.example.com/cb",  # http off loopback
        "http://127.0.0.2/cb",  # only the three loopback spellings
        "http://localhost.evil.example/cb",
        "/cb",  # relative
        "cb",
        "com.example.app:/cb",  # private-use scheme: not supported here
        "javascript:alert(1)",
        "https://user@app.example.com/cb",  # userinfo
        "https:///cb",
        "https://app.example.com:99999/cb",
        "https://app.example.com/c b",
        "https://app.example.com/" + "a" * 2048,
        "https://client.example/cb\r\nSet-Cookie: x=1",  # control characters (issue #15 finding 6)
        "https://evil.com\\.example.com/cb",  # WHATWG reads the backslash as "/"
        "https://evil.com%2F.example.com/cb",  # WHATWG percent-decodes hosts
        "https://0x7f.0.0.1/cb",  # WHATWG reads a numeric host as IPv4
    ],
)
def test_unacceptable_redirect_uris_are_refused(uri: str) -> None:
    """https anywhere, plain http only on loopback (RFC 8252 §7.3), never a fragment."""
    data = document(redirect_uris=["https://app.example.com/ok", uri])
    assert reason_for(data) == "invalid redirect_uris"


@pytest.mark.parametrize("uri", ["http://localhost/callback", "http://127.0.0.1/callback", "http://[::1]/callback"])
def test_loopback_http_redirect_uris_are_accepted(uri: str) -> None:
    assert parse(document(redirect_uris=[uri])).redirect_uris == (uri,)


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post", "client_secret_jwt"])
def test_secret_based_auth_methods_are_refused(method: str) -> None:
    """Spec-mandated (§4.1): no shared-secret authentication for metadata document clients."""
    assert reason_for(document(token_endpoint_auth_method=method)) == (
        "secret-based token_endpoint_auth_method is not allowed"
    )


@pytest.mark.parametrize("member", ["client_secret", "client_secret_expires_at"])
def test_documents_carrying_a_secret_are_refused(member: str) -> None:
    """Spec-mandated (§4.1)."""
    assert reason_for(document(**{member: MARKER})) == "document must not contain a client secret"


@pytest.mark.parametrize("method", ["tls_client_auth", "self_signed_tls_client_auth", "", 1])
def test_unknown_auth_methods_are_refused(method: object) -> None:
    assert reason_for(document(token_endpoint_auth_method=method)) == "unsupported token_endpoint_auth_method"


def test_private_key_jwt_is_accepted_with_a_jwks_uri() -> None:
    """Spec-allowed (§4.1): key-based client authentication."""
    parsed = parse(document(token_endpoint_auth_method="private_key_jwt", jwks_uri="https://app.example.com/jwks"))
    assert parsed.token_endpoint_auth_method == "private_key_jwt"


@pytest.mark.parametrize(
    "keys",
    [{}, {"jwks_uri": "https://app.example.com/jwks", "jwks": {"keys": []}}],
)
def test_private_key_jwt_needs_exactly_one_key_source(keys: dict[str, object]) -> None:
    """RFC 7591 §2: jwks_uri and jwks MUST NOT both be present; without either, no key."""
    assert reason_for(document(token_endpoint_auth_method="private_key_jwt", **keys)) == (
        "private_key_jwt needs exactly one of jwks_uri and jwks"
    )


def test_private_key_jwt_jwks_uri_must_be_https() -> None:
    data = document(token_endpoint_auth_method="private_key_jwt", jwks_uri="http://app.example.com/jwks")
    assert reason_for(data) == "invalid jwks_uri"


def test_extension_grant_types_are_ignored_rather_than_refused() -> None:
    """Our own choice: Claude's document lists the jwt-bearer grant, which we do not offer."""
    grants = ["authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:jwt-bearer"]
    assert parse(document(grant_types=grants)).grant_types == ("authorization_code", "refresh_token")


@pytest.mark.parametrize(
    "grant_types",
    [
        ["authorization_code", "implicit"],
        ["authorization_code", "password"],
        ["authorization_code", "client_credentials"],
        ["refresh_token"],  # no authorization_code
        ["urn:ietf:params:oauth:grant-type:jwt-bearer"],
    ],
)
def test_unsupported_grant_types_are_refused(grant_types: list[str]) -> None:
    assert reason_for(document(grant_types=grant_types)) == "unsupported grant_types"


@pytest.mark.parametrize("grant_types", [[], "authorization_code", [1]])
def test_empty_or_mistyped_grant_types_are_refused(grant_types: object) -> None:
    assert reason_for(document(grant_types=grant_types)) == "invalid grant_types"


@pytest.mark.parametrize("response_types", [["token"], ["code", "token"], ["code id_token"]])
def test_response_types_other_than_code_are_refused(response_types: list[str]) -> None:
    """OAuth 2.1 removed the implicit grant; we support ``code`` only."""
    assert reason_for(document(response_types=response_types)) == "unsupported response_types"


def test_empty_response_types_are_refused() -> None:
    assert reason_for(document(response_types=[])) == "invalid response_types"


def test_client_name_length_is_capped_at_200_characters() -> None:
    """Our own choice: keep the consent page sane."""
    assert parse(document(client_name="n" * 200)).client_name == "n" * 200
    assert reason_for(document(client_name="n" * 201)) == "invalid client_name"


@pytest.mark.parametrize(
    "name", ["", "Evil\nApp", "Evil\u202eppA", 5, ["x"], "Cla\u200bude", "\u0421laude", "Claude\u2066x\u2069"]
)
def test_client_name_must_be_printable_text(name: object) -> None:
    assert reason_for(document(client_name=name)) == "invalid client_name"


@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("logo_uri", "http://app.example.com/logo.png"),
        ("logo_uri", "javascript:alert(1)"),
        ("logo_uri", "data:image/png;base64,AAAA"),
        ("client_uri", "https://user:pw@app.example.com"),
        ("client_uri", 7),
    ],
)
def test_uris_shown_to_users_must_be_https(member: str, value: object) -> None:
    assert reason_for(document(**{member: value})) == f"invalid {member}"


@pytest.mark.parametrize("scope", ['mcp:tools "quoted"', "a  b", " a", "x" * 1025, ["a"]])
def test_scope_must_be_rfc6749_scope_tokens(scope: object) -> None:
    assert reason_for(document(scope=scope)) == "invalid scope"


def test_application_type_must_be_web_or_native() -> None:
    assert parse(document(application_type="web")).application_type == "web"
    assert reason_for(document(application_type="service")) == "invalid application_type"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json " + MARKER.encode(), "document is not valid JSON"),
        (b'{"client_id": NaN}', "document is not valid JSON"),
        (b"\xff\xfe{}", "document is not valid JSON"),
        (b"[" * 3000 + b"]" * 3000, "document is not valid JSON"),
        (b'["' + MARKER.encode() + b'"]', "document is not a JSON object"),
        (b'"just a string"', "document is not a JSON object"),
        (f'{{"client_id": "{URL}", "client_id": "{URL}"}}'.encode(), "document has duplicate members"),
    ],
)
def test_bodies_that_are_not_one_json_object_are_refused(body: bytes, reason: str) -> None:
    with pytest.raises(ClientMetadataDocumentError) as caught:
        parse_document(body, client_id=URL, host="app.example.com")
    assert caught.value.reason == reason
    assert MARKER not in str(caught.value)


def test_error_reasons_never_repeat_document_values() -> None:
    """Our own rule: reasons are safe to log and show; the document is attacker-controlled."""
    for data in (
        document(client_id=MARKER),
        document(redirect_uris=[f"https://{MARKER}.example/cb#x"]),
        document(client_name=MARKER * 20),
        document(token_endpoint_auth_method=MARKER),
    ):
        assert MARKER not in reason_for(data)
