"""The ``/connections`` portal and the connect step after consent: above both planes, talking to
the gateway through a typed interface. Templates live in ``templates/``."""

from pathlib import Path
from typing import Final

from app.web import add_template_dir

add_template_dir(Path(__file__).resolve().parent / "templates")

CSRF_PURPOSE: Final = "connections"
"""The CSRF purpose of every connections form: paste, OAuth connect, disconnect, and the connect step."""
