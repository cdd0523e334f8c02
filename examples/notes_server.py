"""An example upstream MCP server that needs each user's own token: ``portico-example-notes``.

It reads ``NOTES_TOKEN`` from its environment (Portico injects the signed-in user's token, pasted
on ``/connections``) and keeps that user's notes in memory. Tools: ``add_note``, ``list_notes``,
``whoami`` (which token it runs with, masked). Speaks MCP over stdio.
"""

from __future__ import annotations

import os

from mcp.server.mcpserver import MCPServer

server = MCPServer("portico-example-notes", instructions="Per-user notes; needs the user's NOTES_TOKEN.")
_notes: list[str] = []


def _token() -> str:
    token = os.environ.get("NOTES_TOKEN", "")
    if not token:
        raise ValueError("NOTES_TOKEN is not set: connect the notes server on Portico's /connections page")
    return token


@server.tool()
def whoami() -> str:
    """Which token this server runs with (only its last four characters)."""
    return f"running with a token ending in …{_token()[-4:]}"


@server.tool()
def add_note(text: str) -> str:
    """Store a note for the current user."""
    _token()
    _notes.append(text)
    return f"{len(_notes)} note(s) stored"


@server.tool()
def list_notes() -> list[str]:
    """The current user's notes."""
    _token()
    return list(_notes)


def main() -> None:
    server.run(transport="stdio")


if __name__ == "__main__":
    main()
