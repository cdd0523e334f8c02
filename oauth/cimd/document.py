"""The client ID metadata document: its validated shape and how a fetched body becomes one.

draft-ietf-oauth-client-id-metadata-document-00 §4.1: the document is a JSON object of RFC 7591
§2 client metadata whose ``client_id`` equals the URL it was fetched from (simple string
comparison); it MUST NOT use a shared-secret authentication method (``client_secret_basic``,
``client_secret_post``, ``client_secret_jwt``) nor carry ``client_secret`` or
``client_secret_expires_at``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from oauth.cimd import _fields
from oauth.cimd.errors import ClientMetadataDocumentError

SUPPORTED_GRANT_TYPES = ("authorization_code", "refresh_token")
SUPPORTED_RESPONSE_TYPES = ("code",)
SECRET_AUTH_METHODS = frozenset({"client_secret_basic", "client_secret_post", "client_secret_jwt"})
KEY_AUTH_METHODS = frozenset({"private_key_jwt"})
APPLICATION_TYPES = frozenset({"web", "native"})
SECRET_MEMBERS = ("client_secret", "client_secret_expires_at")


@dataclass(frozen=True)
class ClientMetadataDocument:
    """A validated client ID metadata document (RFC 7591 §2 member names).

    ``grant_types`` is a non-empty subset of ``("authorization_code", "refresh_token")`` that always
    holds ``authorization_code`` (default ``("authorization_code",)``); ``response_types`` is
    ``("code",)``; ``token_endpoint_auth_method`` is ``"none"`` (also when absent) or
    ``"private_key_jwt"``. ``host`` is the ``client_id`` URL's host (lower case): the verified
    domain to show on the consent page. ``pinned`` is True when the document came from the copy
    shipped in ``oauth/cimd/pinned/`` rather than from the network.
    """

    client_id: str
    client_name: str | None
    client_uri: str | None
    logo_uri: str | None
    redirect_uris: tuple[str, ...]
    grant_types: tuple[str, ...]
    response_types: tuple[str, ...]
    token_endpoint_auth_method: str
    scope: str | None
    application_type: str | None
    host: str
    pinned: bool


def parse_document(body: bytes, *, client_id: str, host: str, pinned: bool = False) -> ClientMetadataDocument:
    """Validate a fetched body as the metadata document for ``client_id``.

    Raises:
        ClientMetadataDocumentError: not a UTF-8 JSON object, duplicate members, ``client_id``
            mismatch, missing or unacceptable ``redirect_uris``, a secret or secret-based
            authentication method, unsupported grant/response types, or an over-long or mistyped
            member. The reason names the rule, never the document's content.
    """
    data = _load_json_object(body)
    if data.get("client_id") != client_id:
        raise ClientMetadataDocumentError("client_id does not match the document URL")
    return ClientMetadataDocument(
        client_id=client_id,
        client_name=_fields.optional_text(data, "client_name"),
        client_uri=_fields.optional_https_url(data, "client_uri"),
        logo_uri=_fields.optional_https_url(data, "logo_uri"),
        redirect_uris=_redirect_uris(data),
        grant_types=_grant_types(data),
        response_types=_response_types(data),
        token_endpoint_auth_method=_auth_method(data),
        scope=_fields.optional_scope(data),
        application_type=_application_type(data),
        host=host,
        pinned=pinned,
    )


def _load_json_object(body: bytes) -> dict[str, object]:
    try:
        value = json.loads(body.decode("utf-8"), object_pairs_hook=_unique_members, parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ClientMetadataDocumentError("document is not valid JSON") from exc
    if not isinstance(value, dict):
        raise ClientMetadataDocumentError("document is not a JSON object")
    return value


def _unique_members(pairs: list[tuple[str, object]]) -> dict[str, object]:
    members = dict(pairs)
    if len(members) != len(pairs):
        raise ClientMetadataDocumentError("document has duplicate members")
    return members


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _redirect_uris(data: dict[str, object]) -> tuple[str, ...]:
    if data.get("redirect_uris") is None:
        raise ClientMetadataDocumentError("redirect_uris is missing")
    uris = _fields.string_list(data, "redirect_uris", default=())
    if not all(_fields.is_acceptable_redirect_uri(uri) for uri in uris):
        raise _fields.invalid("redirect_uris")
    return uris


def _grant_types(data: dict[str, object]) -> tuple[str, ...]:
    """Extension grants (absolute URIs, RFC 6749 §4.5) are dropped; other unknown grants refused.

    Claude's own document lists ``urn:ietf:params:oauth:grant-type:jwt-bearer``; we do not offer
    that grant, so we ignore it rather than refuse the client.
    """
    declared = _fields.string_list(data, "grant_types", default=("authorization_code",))
    kept = tuple(dict.fromkeys(grant for grant in declared if ":" not in grant))
    if not set(kept) <= set(SUPPORTED_GRANT_TYPES) or "authorization_code" not in kept:
        raise ClientMetadataDocumentError("unsupported grant_types")
    return kept


def _response_types(data: dict[str, object]) -> tuple[str, ...]:
    declared = _fields.string_list(data, "response_types", default=SUPPORTED_RESPONSE_TYPES)
    if not set(declared) <= set(SUPPORTED_RESPONSE_TYPES):
        raise ClientMetadataDocumentError("unsupported response_types")
    return tuple(dict.fromkeys(declared))


def _auth_method(data: dict[str, object]) -> str:
    """``none`` when absent: a metadata document cannot carry a secret, so RFC 7591's default
    ``client_secret_basic`` cannot apply. ``private_key_jwt`` needs ``jwks_uri`` or ``jwks``."""
    if any(member in data for member in SECRET_MEMBERS):
        raise ClientMetadataDocumentError("document must not contain a client secret")
    method = data.get("token_endpoint_auth_method", "none")
    if method in SECRET_AUTH_METHODS:
        raise ClientMetadataDocumentError("secret-based token_endpoint_auth_method is not allowed")
    if method == "none":
        return method
    if method not in KEY_AUTH_METHODS:
        raise ClientMetadataDocumentError("unsupported token_endpoint_auth_method")
    _require_keys(data)
    return "private_key_jwt"


def _require_keys(data: dict[str, object]) -> None:
    jwks_uri = _fields.optional_https_url(data, "jwks_uri")
    jwks = data.get("jwks")
    if jwks is not None and not isinstance(jwks, dict):
        raise _fields.invalid("jwks")
    if (jwks_uri is None) == (jwks is None):
        raise ClientMetadataDocumentError("private_key_jwt needs exactly one of jwks_uri and jwks")


def _application_type(data: dict[str, object]) -> str | None:
    value = data.get("application_type")
    if value is not None and value not in APPLICATION_TYPES:
        raise _fields.invalid("application_type")
    return value if isinstance(value, str) else None
