"""Request-scoped access to the runtime for the sign-in routes."""

from __future__ import annotations

from fastapi import Request

from app.runtime import Runtime


def runtime_of(request: Request) -> Runtime:
    """The :class:`Runtime` that :func:`app.main.create_app` put on ``app.state``."""
    runtime: Runtime = request.app.state.runtime
    return runtime
