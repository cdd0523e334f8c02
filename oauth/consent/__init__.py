"""Consent: remembered per (user, client, resource), the signed pending request of the consent
form, the consent page, and the hook for a step after approval. Templates live in ``templates/``."""

from pathlib import Path

from app.web import add_template_dir

add_template_dir(Path(__file__).resolve().parent / "templates")
