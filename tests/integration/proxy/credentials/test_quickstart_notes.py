"""The quickstart's ``notes`` example server runs with each user's own token (our demo, README)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from mcp.shared.exceptions import MCPError

from proxy.wire.errors import CREDENTIAL_REQUIRED
from tests.integration.proxy.credentials.test_injection import connect
from tests.integration.proxy.gateway.harness import serve_portico

pytestmark = pytest.mark.anyio
NOTES = yaml.safe_load(Path("examples/quickstart.yaml").read_text())["servers"]["notes"]


async def test_notes_needs_the_users_token_and_sees_only_its_owners(tmp_path: Path) -> None:
    async with serve_portico(tmp_path, {"notes": NOTES}) as portico:
        async with portico.client("notes", subject="1") as client:
            assert "whoami" in {tool.name for tool in (await client.list_tools()).tools}
            with pytest.raises(MCPError) as refused:
                await client.call_tool("whoami", {})
        assert refused.value.error.code == CREDENTIAL_REQUIRED
        await connect(portico, "1", "alice-token-1111", server="notes")
        await connect(portico, "2", "bobby-token-2222", server="notes")
        async with portico.client("notes", subject="1") as alice, portico.client("notes", subject="2") as bob:
            await alice.call_tool("add_note", {"text": "alice's note"})
            assert "1111" in str((await alice.call_tool("whoami", {})).content[0].text)  # type: ignore[union-attr]
            assert "2222" in str((await bob.call_tool("whoami", {})).content[0].text)  # type: ignore[union-attr]
            bob_notes = await bob.call_tool("list_notes", {})
        assert "alice's note" not in str(bob_notes.content)
