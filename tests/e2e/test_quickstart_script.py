"""The MCP Python SDK script in docs/quickstart.md works as written: it prints the authorization URL, takes the
pasted redirect address, and prints the current time from ``get_current_time``.

Only the origin is changed (the test's Portico runs on a free port, not 8080); a real Chromium signs in and approves.
"""

from __future__ import annotations

import re
import sys
from datetime import UTC, datetime
from pathlib import Path

import anyio
import pytest
from anyio.streams.buffered import BufferedByteReceiveStream
from playwright.async_api import Page

from tests.support.pages import authorize_in_browser, sign_in_with_dev_form
from tests.support.portico import run_portico
from tests.support.requirements import REPO_ROOT
from tests.support.screenshots import save_screenshot

pytestmark = [pytest.mark.anyio, pytest.mark.browser]

QUICKSTART = REPO_ROOT / "docs" / "quickstart.md"
REDIRECT_URI = "http://127.0.0.1:33418/callback"
CONFIG = {
    "login": {"providers": [{"type": "dev"}], "allowed_domains": ["example.com"]},
    "servers": {"time": {"transport": "stdio", "command": "mcp-server-time"}},
}


async def sign_in_and_capture(page: Page, email: str) -> None:
    """The dev sign-in form of the quickstart, saved as the documentation's ``login`` screenshot."""
    await save_screenshot(page, "login")
    await sign_in_with_dev_form(page, email)


def quickstart_script(origin: str) -> str:
    match = re.search(r"```python\n(.*?)```", QUICKSTART.read_text(), re.DOTALL)
    assert match is not None, "docs/quickstart.md has no python block"
    return match.group(1).replace("http://127.0.0.1:8080", origin)


async def test_the_quickstart_sdk_script_signs_in_and_calls_a_tool(page: Page, tmp_path: Path) -> None:
    # SQLite, as `make run` has it (the other e2e tests run on PostgreSQL when it is available).
    with run_portico(tmp_path, CONFIG, database_url=f"sqlite:///{tmp_path / 'portico.db'}") as portico:
        script = tmp_path / "connect.py"
        script.write_text(quickstart_script(portico.base_url))
        with anyio.fail_after(90):
            async with await anyio.open_process([sys.executable, str(script)]) as process:
                assert process.stdout is not None and process.stdin is not None
                stdout = BufferedByteReceiveStream(process.stdout)
                prompt = (await stdout.receive_until(b"Paste the address you were sent to: ", 1 << 16)).decode()
                url = re.search(r"(http\S+/authorize\?\S+)", prompt)
                assert url is not None, prompt
                async with page.expect_request(lambda r: r.url.startswith(REDIRECT_URI)) as redirect:
                    await authorize_in_browser(page, url.group(1), "anything@example.com", sign_in_and_capture)
                await process.stdin.send(f"{(await redirect.value).url}\n".encode())
                output = b"".join([chunk async for chunk in stdout]).decode()
                assert await process.wait() == 0, output
    assert "get_current_time" in output
    assert str(datetime.now(UTC).year) in output
