"""Typed slots on the application: how the composition root hands a service to request handlers.

A :class:`Slot` names one attribute of the app's ``state`` and the type of what it holds. The
composition root (``app/main.py``) fills each slot once with :meth:`Slot.put`; handlers read it
back with :meth:`Slot.of` (usable as a FastAPI dependency). Reading is typed, so a handler never
reaches through ``app.state`` attribute chains, and a slot left empty fails loudly.

Several slots may name the same attribute with different types: each layer declares the
narrowest view of the one object it needs (e.g. :data:`app.context.APP_CONTEXT` and
:data:`oauth.tokens.context.TOKEN_CONTEXT` both read ``runtime``); :meth:`Slot.put` checks the
value against that view's type when the composition root type-checks.
"""

from __future__ import annotations

from typing import Generic, TypeVar, cast

from starlette.applications import Starlette
from starlette.requests import HTTPConnection

T = TypeVar("T")


class EmptySlotError(LookupError):
    """A handler read a slot the composition root never filled (a wiring mistake, not bad input)."""


class Slot(Generic[T]):
    """The attribute ``name`` of ``app.state``, holding a ``T``."""

    def __init__(self, name: str) -> None:
        self.name = name

    def put(self, app: Starlette, value: T) -> None:
        setattr(app.state, self.name, value)

    def of(self, request: HTTPConnection) -> T:
        """The value for the app serving ``request``.

        Raises:
            EmptySlotError: nothing was put in this slot.
        """
        return self.of_app(request.app)

    def of_app(self, app: Starlette) -> T:
        value = getattr(app.state, self.name, None)
        if value is None:
            raise EmptySlotError(f"app.state.{self.name} is not set")
        return cast(T, value)

    def find(self, request: HTTPConnection) -> T | None:
        """The value, or None when the slot is empty (an optional service)."""
        return self.find_app(request.app)

    def find_app(self, app: Starlette) -> T | None:
        return cast("T | None", getattr(app.state, self.name, None))
