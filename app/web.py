"""Server-rendered pages: the Jinja2 environment (autoescaped) and the static assets.

Pages extend ``app/templates/base.html``; packages add their own template folders with
:func:`add_template_dir`. Every HTML response gets ``frame-ancestors 'none'`` and
``X-Frame-Options: DENY`` from :mod:`app.middleware`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import BaseLoader, ChoiceLoader, Environment, FileSystemLoader, select_autoescape

_HERE = Path(__file__).resolve().parent
_loaders: list[BaseLoader] = [FileSystemLoader(_HERE / "templates")]
_loader = ChoiceLoader(_loaders)
environment = Environment(loader=_loader, autoescape=select_autoescape(default=True), auto_reload=False)
static_files = StaticFiles(directory=_HERE / "static")


def add_template_dir(path: Path) -> None:
    """Make templates under ``path`` loadable by name (first match wins, in registration order)."""
    _loaders.append(FileSystemLoader(path))


def render(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    """Render ``template`` with ``context`` (autoescaped) as a no-store HTML response."""
    html = environment.get_template(template).render({"request": request, **context})
    return HTMLResponse(html, status_code=status_code, headers={"cache-control": "no-store"})


def error_page(request: Request, title: str, message: str, status_code: int = 400) -> HTMLResponse:
    """A plain error page (used where redirecting would be unsafe, e.g. an unverified redirect_uri)."""
    return render(request, "error.html", {"title": title, "message": message}, status_code)
