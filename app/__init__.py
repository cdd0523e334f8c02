"""Portico composition root: settings, app factory, storage, secrets, CLI."""
