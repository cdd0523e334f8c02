"""What the packages below the composition root may use of the running Portico: the ground.

:class:`AppContext` is a read-only view — configuration, database, keys, clock, CSRF tokens —
satisfied by the composition root's :class:`app.runtime.Runtime`. Packages take an
``AppContext`` (or a wider view declared in their own layer, such as
:class:`oauth.tokens.context.TokenContext`) and never import the composition root.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.clock import Clock
from app.config import PorticoConfig
from app.crypto import KeyRing, Sealer
from app.csrf import CsrfTokens
from app.observe.bus import EventBus
from app.slots import Slot


class AppContext(Protocol):
    @property
    def config(self) -> PorticoConfig: ...

    @property
    def engine(self) -> Engine: ...

    @property
    def db(self) -> sessionmaker[Session]:
        """Sessions on the configured database (run them through :func:`app.db.run_db`)."""
        ...

    @property
    def keyring(self) -> KeyRing: ...

    @property
    def sealer(self) -> Sealer: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def csrf(self) -> CsrfTokens: ...

    @property
    def events(self) -> EventBus:
        """The observers of MCP requests and authorization events (metrics, audit); docs/observability.md."""
        ...


APP_CONTEXT: Slot[AppContext] = Slot("runtime")
"""The running Portico, as the ground sees it (put by ``app.main.create_app``)."""
