"""Authorization server metadata (RFC 8414 §2), also served as the OpenID discovery document.

``issuer`` is ``public_url`` byte for byte, the same string as the JWT ``iss``, the RFC 9207
``iss`` response parameter and the protected resources' ``authorization_servers``. Endpoints
sit at the origin root because Claude.ai calls ``/authorize``, ``/token`` and ``/register``
there whatever the metadata says.
"""

from __future__ import annotations

from typing import Any

from oauth.clients import PUBLIC, SECRET_METHODS
from oauth.pkce import S256
from oauth.scopes import SCOPES_SUPPORTED

AUTH_METHODS = [PUBLIC, *SECRET_METHODS]


def authorization_server_metadata(issuer: str) -> dict[str, Any]:
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "registration_endpoint": f"{issuer}/register",
        "revocation_endpoint": f"{issuer}/revoke",
        "introspection_endpoint": f"{issuer}/introspect",
        "jwks_uri": f"{issuer}/jwks",
        "scopes_supported": list(SCOPES_SUPPORTED),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": [S256],
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
        # `none` is true for public clients, which may introspect only their own tokens (oauth/server/introspection.py).
        "introspection_endpoint_auth_methods_supported": AUTH_METHODS,
        "client_id_metadata_document_supported": True,
        "authorization_response_iss_parameter_supported": True,
    }
