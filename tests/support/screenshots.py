"""PNG screenshots of Portico's pages for the documentation (``docs/images/``).

A screenshot is written only when the file is missing or ``PORTICO_UPDATE_SCREENSHOTS=1``, so running the
suite never dirties the working tree.
"""

from __future__ import annotations

import os

from playwright.async_api import Page

from tests.support.requirements import REPO_ROOT

IMAGES = REPO_ROOT / "docs" / "images"
UPDATE_ENV = "PORTICO_UPDATE_SCREENSHOTS"


async def save_screenshot(page: Page, name: str) -> None:
    """Save the visible page as ``docs/images/<name>.png`` (when missing, or when asked to update)."""
    path = IMAGES / f"{name}.png"
    if path.exists() and os.environ.get(UPDATE_ENV) != "1":
        return
    IMAGES.mkdir(parents=True, exist_ok=True)
    await page.set_viewport_size({"width": 900, "height": 700})
    await page.screenshot(path=str(path), full_page=True)
