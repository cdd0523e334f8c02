"""Every column that holds a sealed value, and the two things root-key rotation needs of them.

- :func:`rewrap_column`: re-encrypt a column's values that name a previous root key under the
  current one (``portico keys rewrap``), in batches, each committed, so an interrupted run loses
  nothing and the next run goes on where it stopped.
- :func:`unknown_key_rows`: the rows whose values name a key id the configured keys do not have
  (checked at startup: :func:`app.runtime.build_runtime` refuses to start and names them).

Part of the composition root: it knows tables of ``oauth.tokens`` and ``proxy.credentials``. Values
are sealed by :class:`app.crypto.Sealer` (``v1.<key id>.<…>``); the associated data is rebuilt from
each row's own key, exactly as its owner module does. Row ids in reports name owners (subject and
server, issuer, kid), never values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, func, inspect, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.crypto import DecryptionError, Sealer
from app.crypto.root_key import RootKeyError
from app.db import Base, transaction
from oauth.tokens.signing_keys import signing_key_aad
from oauth.tokens.store.signing_keys import SigningKeyRow
from proxy.credentials.oauth.client_store import UpstreamOAuthClientRow
from proxy.credentials.oauth.discovery import client_secret_aad
from proxy.credentials.vault import associated_data
from proxy.credentials.vault.store import UpstreamCredentialRow

SHOWN_IDS = 10  # row ids named per column in a report; the count is always complete


@dataclass(frozen=True)
class SealedColumn:
    """A column of sealed values: its model and attribute, the associated data and the id of a row."""

    model: type[Base]
    attribute: str
    aad: Callable[[Any], str]
    row_id: Callable[[Any], str]

    @property
    def name(self) -> str:
        """``table.column``."""
        return f"{self.model.__tablename__}.{self.attribute}"

    @property
    def column(self) -> ColumnElement[str]:
        column: ColumnElement[str] = getattr(self.model, self.attribute)
        return column


SEALED_COLUMNS: tuple[SealedColumn, ...] = (
    SealedColumn(SigningKeyRow, "private_jwk_encrypted", lambda r: signing_key_aad(r.kid), lambda r: r.kid),
    SealedColumn(
        UpstreamCredentialRow,
        "ciphertext",
        lambda r: associated_data(subject=r.subject, server=r.server, kind=r.kind),
        lambda r: f"{r.subject}/{r.server}",
    ),
    SealedColumn(
        UpstreamOAuthClientRow,
        "secret_ciphertext",
        lambda r: client_secret_aad(r.issuer, r.redirect_uri),
        lambda r: f"{r.issuer} {r.redirect_uri}",
    ),
)


@dataclass
class RewrapReport:
    """One column's outcome: values re-encrypted by this run, and rows left under a previous key.

    ``unreadable`` names rows that did not open (unknown key id, or a value that does not verify for
    its row); they stay as they are. ``remaining`` counts rows not reached because of ``max_rows``.
    """

    column: str
    rewrapped: int = 0
    unreadable: list[str] = field(default_factory=list)
    remaining: int = 0


class UnknownKeyRowsError(RootKeyError):
    """Stored values name a root key that is not configured; the message names table, column, rows."""


def rewrap_column(
    factory: sessionmaker[Session], sealer: Sealer, sealed: SealedColumn, *, batch_size: int, max_rows: int | None
) -> RewrapReport:
    """Re-encrypt under the current key every value of ``sealed`` that names another key.

    Each batch of ``batch_size`` rows is one transaction. A row changed meanwhile by its owner
    (e.g. a refreshed OAuth grant, written under the current key) is left alone: the update is
    conditional on the value read. Stops after ``max_rows`` rows (None: all).
    """
    report = RewrapReport(sealed.name)
    while max_rows is None or report.rewrapped + len(report.unreadable) < max_rows:
        size = batch_size if max_rows is None else min(batch_size, max_rows - report.rewrapped - len(report.unreadable))
        with transaction(factory) as db:
            # Unreadable rows stay stale and first in key order: skip exactly those seen so far.
            rows = db.scalars(_stale(sealed, sealer).offset(len(report.unreadable)).limit(size)).all()
            for row in rows:
                _rewrap_row(db, sealer, sealed, row, report)
        if len(rows) < size:
            return report
    with transaction(factory) as db:
        stale = db.scalar(select(func.count()).select_from(_stale(sealed, sealer).subquery())) or 0
        report.remaining = stale - len(report.unreadable)
    return report


def unknown_key_rows(db: Session, sealer: Sealer) -> list[tuple[str, int, list[str]]]:
    """``(table.column, count, first row ids)`` of every column with values under an unknown key id."""
    found: list[tuple[str, int, list[str]]] = []
    for sealed in SEALED_COLUMNS:
        rows = db.scalars(select(sealed.model).where(*_not_under(sealed, sealer.key_ids))).all()
        if rows:
            found.append((sealed.name, len(rows), [sealed.row_id(row) for row in rows[:SHOWN_IDS]]))
    return found


def refuse_unknown_key_rows(db: Session, sealer: Sealer) -> None:
    """Raise when any stored value names a root key that is not configured (startup check).

    Raises:
        UnknownKeyRowsError: names each table.column, its row count and up to 10 row ids.
    """
    found = unknown_key_rows(db, sealer)
    if not found:
        return
    columns = "; ".join(
        f"{name}: {count} row(s) ({', '.join(ids)}{', …' if count > len(ids) else ''})" for name, count, ids in found
    )
    raise UnknownKeyRowsError(
        f"stored values are sealed under a secret key that is not configured — {columns}. "
        "Put the old key back in secrets.previous_keys and run `portico keys rewrap` "
        "(or `portico keys rewrap --delete-unreadable` to drop these rows); see docs/key-rotation.md"
    )


def delete_unknown_key_rows(factory: sessionmaker[Session], sealer: Sealer) -> dict[str, int]:
    """Delete every row whose value names an unknown key id; ``{table.column: rows deleted}``."""
    deleted: dict[str, int] = {}
    with transaction(factory) as db:
        for sealed in SEALED_COLUMNS:
            rows = db.scalars(select(sealed.model).where(*_not_under(sealed, sealer.key_ids))).all()
            for row in rows:
                db.delete(row)
            deleted[sealed.name] = len(rows)
    return deleted


def _rewrap_row(db: Session, sealer: Sealer, sealed: SealedColumn, row: Any, report: RewrapReport) -> None:
    old: str = getattr(row, sealed.attribute)
    aad = sealed.aad(row)
    try:
        new = sealer.encrypt(sealer.decrypt(old, associated_data=aad), associated_data=aad)
    except DecryptionError:
        report.unreadable.append(sealed.row_id(row))
        return
    result = db.execute(
        update(sealed.model).where(_same_row(sealed, row), sealed.column == old).values({sealed.attribute: new})
    )
    report.rewrapped += 1 if result.rowcount else 0  # type: ignore[attr-defined]
    db.expire(row)


def _stale(sealed: SealedColumn, sealer: Sealer) -> Any:
    keys = [column.asc() for column in inspect(sealed.model).primary_key]
    return select(sealed.model).where(*_not_under(sealed, {sealer.current_key_id})).order_by(*keys)


def _not_under(sealed: SealedColumn, key_ids: set[str] | frozenset[str]) -> list[ColumnElement[bool]]:
    """Non-NULL values that name none of ``key_ids`` (key ids are hex: no LIKE wildcards)."""
    column = sealed.column
    return [column.is_not(None), *(column.not_like(f"v1.{kid}.%") for kid in sorted(key_ids))]


def _same_row(sealed: SealedColumn, row: Any) -> ColumnElement[bool]:
    return and_(*(column == getattr(row, column.name) for column in inspect(sealed.model).primary_key))
