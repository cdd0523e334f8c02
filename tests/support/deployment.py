"""The end-to-end deployment: a real IdP, Portico as a real process on PostgreSQL, three kinds of upstream.

- Sign-in: provider ``corp`` (``type: oidc``) at npm ``oidc-provider`` (tests/support/idp.py: the login name
  chooses the user; ``alice`` is alice@example.com), ``allowed_domains: [example.com]``.
- Upstream servers: ``time`` — ``mcp-server-time`` over stdio; ``notes`` — the SDK fixture server
  (tests/fixtures/mcp_fixture_server.py) over Streamable HTTP, needing each user's own token
  (``user_token``, sent as ``Authorization: Bearer …``; its ``auth_header`` tool shows what it received);
  ``everything`` — ``@modelcontextprotocol/server-everything`` over legacy HTTP+SSE.
- Client ID Metadata Documents are served over HTTPS for ``localhost`` by a test CA Portico trusts.

Portico runs on a fresh PostgreSQL database when ``PORTICO_TEST_DATABASE_URL`` is set (tests/support/portico.py).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.everything import run_everything
from tests.support.https_documents import HttpsDocuments, serve_https_documents
from tests.support.idp import Idp, IdpClient, start_idp
from tests.support.portico import run_portico
from tests.support.processes import Process, free_port, start_process

PROVIDER = "corp"
IDP_CLIENT_ID = "portico"
IDP_CLIENT_SECRET = "portico-e2e-idp-secret"
FIXTURE_SERVER = Path(__file__).resolve().parents[1] / "fixtures" / "mcp_fixture_server.py"
NOTES_TOKEN = {"type": "user_token", "format": "Bearer {token}", "pattern": "notes_[A-Za-z0-9]{8,}"}


@dataclass(frozen=True)
class Deployment:
    """A running deployment; ``url(server)`` is the MCP endpoint a client is given."""

    portico: Process
    idp: Idp
    documents: HttpsDocuments

    @property
    def base_url(self) -> str:
        return self.portico.base_url

    def url(self, server: str) -> str:
        return f"{self.base_url}/{server}/mcp"


@contextmanager
def fixture_server_over_http() -> Iterator[str]:
    """The SDK fixture server over Streamable HTTP on a free port; yields its ``/mcp`` URL."""
    port = free_port()
    with start_process([sys.executable, str(FIXTURE_SERVER), "http", str(port)], port=port, name="notes-upstream"):
        yield f"http://127.0.0.1:{port}/mcp"


@contextmanager
def e2e_deployment(directory: Path, *, oauth: Mapping[str, Any] | None = None) -> Iterator[Deployment]:
    """Start everything; ``oauth`` adds to Portico's ``oauth`` section (e.g. a short ``access_token_lifetime``)."""
    port = free_port()
    callback = f"http://127.0.0.1:{port}/login/callback/{PROVIDER}"
    with ExitStack() as stack:
        idp = stack.enter_context(start_idp(clients=[IdpClient(IDP_CLIENT_ID, IDP_CLIENT_SECRET, [callback])]))
        documents = stack.enter_context(serve_https_documents(directory))
        notes = stack.enter_context(fixture_server_over_http())
        everything = stack.enter_context(run_everything("sse", "/sse"))
        config = {
            "login": {"providers": [_provider(idp)], "allowed_domains": ["example.com"]},
            "oauth": {
                "client_metadata_documents": {"allow_hosts": ["localhost"], "ca_file": str(documents.ca_file)},
                **(oauth or {}),
            },
            "servers": {
                "time": {"title": "Current time", "transport": "stdio", "command": "mcp-server-time"},
                "notes": {"title": "Notes", "transport": "streamable-http", "url": notes, "credentials": NOTES_TOKEN},
                "everything": {"title": "Everything", "transport": "sse", "url": everything},
            },
        }
        portico = stack.enter_context(run_portico(directory, config, port=port))
        yield Deployment(portico=portico, idp=idp, documents=documents)


def _provider(idp: Idp) -> dict[str, Any]:
    return {
        "type": "oidc",
        "id": PROVIDER,
        "display_name": "Corp SSO",
        "issuer": idp.issuer,
        "client_id": IDP_CLIENT_ID,
        "client_secret": IDP_CLIENT_SECRET,
        "scopes": ["openid", "email", "profile"],
    }
