"""``portico keys rewrap`` and ``portico keys rotate-signing``: key rotation an operator can finish.

docs/key-rotation.md gives the schedule. ``rewrap`` re-encrypts every sealed column
(:mod:`app.sealed_columns`) under the current root key, so the previous key can then leave
``secrets.previous_keys``; ``rotate-signing`` publishes a new JWT signing key now and lets it sign
after ``--activate-in`` seconds (:func:`oauth.tokens.signing_keys.schedule_rotation`). Both are
audited when ``audit`` is on: ``keys_rewrapped`` once per run (after its batches, also when it stops
early) and ``signing_key_rotated`` in the rotation's transaction.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from app import migrate
from app.audit.sinks import CLI_ACTOR, record_now
from app.config import PorticoConfig, load_config
from app.config.loader import resolve_config_path
from app.crypto import KeyRing, Sealer, load_root_keys
from app.db import create_db_engine, session_factory, transaction
from app.observe.auth_events import auth_event
from app.observe.records import AuthEvent
from app.sealed_columns import SEALED_COLUMNS, RewrapReport, delete_unknown_key_rows, rewrap_column
from oauth.housekeeping import REVOCATION_SYNC_SECONDS
from oauth.tokens.signing_keys import RotationPendingError, ScheduledRotation, schedule_rotation

DEFAULT_ACTIVATE_IN = 600  # s: above the JWKS max-age (300 s) plus one key reload (60 s) on every instance


class KeysCommandError(Exception):
    """A user-facing failure of a ``portico keys`` command (printed after ``portico:``, exit 1)."""


def install(commands: Any) -> None:
    """Add ``keys rewrap`` and ``keys rotate-signing`` to the ``portico`` sub-command parser."""
    keys_parser: argparse.ArgumentParser = commands.add_parser("keys", help="rotate keys: rewrap, rotate-signing")
    keys_parser.set_defaults(handler=lambda _args: _print_help(keys_parser))
    keys = keys_parser.add_subparsers(title="actions", metavar="ACTION")

    rewrap = keys.add_parser("rewrap", help="re-encrypt every stored secret under the current secret key")
    rewrap.add_argument("--config", help="configuration file")
    rewrap.add_argument("--batch-size", type=_positive, default=100, help="rows per committed batch (default 100)")
    rewrap.add_argument("--max-rows", type=_positive, help="stop after this many rows per column (run again to go on)")
    rewrap.add_argument(
        "--delete-unreadable",
        action="store_true",
        help="delete rows sealed under a key that is not configured (users reconnect those credentials)",
    )
    rewrap.set_defaults(handler=_rewrap)

    rotate = keys.add_parser("rotate-signing", help="publish a new JWT signing key now; it signs after --activate-in")
    rotate.add_argument("--config", help="configuration file")
    rotate.add_argument(
        "--activate-in",
        type=int,
        default=DEFAULT_ACTIVATE_IN,
        help=f"seconds between publishing the new key and signing with it (default {DEFAULT_ACTIVATE_IN})",
    )
    rotate.set_defaults(handler=_rotate_signing)


def _print_help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 1


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _rewrap(args: argparse.Namespace) -> int:
    config = load_config(resolve_config_path(args.config))
    sealer = Sealer(KeyRing(tuple(load_root_keys(config))))
    engine = _migrated_engine(config)
    deleted: dict[str, int] = {}
    reports: list[RewrapReport] = []
    try:
        factory = session_factory(engine)
        previous = ", ".join(sorted(sealer.key_ids - {sealer.current_key_id})) or "none"
        print(f"current key {sealer.current_key_id}; previous keys: {previous}")
        try:
            if args.delete_unreadable:
                deleted = delete_unknown_key_rows(factory, sealer)
                for name, count in deleted.items():
                    print(f"{name}: {count} row(s) under an unknown key deleted")
            for sealed in SEALED_COLUMNS:  # one by one: an error keeps the reports of the columns done
                reports.append(  # noqa: PERF401
                    rewrap_column(factory, sealer, sealed, batch_size=args.batch_size, max_rows=args.max_rows)
                )
        except BaseException:
            # Finished batches are committed: record them (an error here chains to the first one).
            _record_rewrap(config, factory, _rewrap_event(sealer, reports, deleted, interrupted=True))
            raise
        _record_rewrap(config, factory, _rewrap_event(sealer, reports, deleted, interrupted=False))
    finally:
        engine.dispose()
    for report in reports:
        print(_report_line(report))
    return _rewrap_outcome(reports)


def _rewrap_event(
    sealer: Sealer, reports: list[RewrapReport], deleted: dict[str, int], *, interrupted: bool
) -> AuthEvent:
    """``keys_rewrapped``: ``status`` and, per sealed column reached, this run's counts (docs/observability.md)."""
    columns = {name: f"{count} deleted" for name, count in deleted.items()}
    for report in reports:
        columns[report.column] = ", ".join(
            [
                f"{report.rewrapped} re-encrypted",
                f"{len(report.unreadable)} unreadable",
                f"{report.remaining} remaining",
            ]
            + ([columns[report.column]] if report.column in columns else [])
        )
    event = auth_event(
        "keys_rewrapped",
        reason="portico keys rewrap",
        actor=CLI_ACTOR,
        status=_rewrap_status(reports, interrupted=interrupted),
        key=sealer.current_key_id,
    )
    event.details.update(columns)  # keys are table.column names, not keyword arguments
    return event


def _rewrap_status(reports: list[RewrapReport], *, interrupted: bool) -> str:
    """``interrupted`` (an error stopped it), ``unreadable`` rows left, ``partial`` (--max-rows) or ``finished``."""
    if interrupted:
        return "interrupted"
    if any(report.unreadable for report in reports):
        return "unreadable"
    return "partial" if any(report.remaining for report in reports) else "finished"


def _record_rewrap(config: PorticoConfig, factory: sessionmaker[Session], event: AuthEvent) -> None:
    """The batches committed one by one: their record gets a transaction of its own, after them."""
    if config.audit.enabled:
        with transaction(factory) as db:
            record_now(config.audit, db, [event])


def _report_line(report: RewrapReport) -> str:
    line = (
        f"{report.column}: {report.rewrapped} re-encrypted, {len(report.unreadable)} unreadable, "
        f"{report.remaining} remaining"
    )
    if report.unreadable:
        line += f" (unreadable: {', '.join(report.unreadable[:10])}{', …' if len(report.unreadable) > 10 else ''})"
    return line


def _rewrap_outcome(reports: list[RewrapReport]) -> int:
    if any(report.unreadable for report in reports):
        print(
            "not finished: some rows do not open under any configured key; keep the key they were written under "
            "in secrets.previous_keys and run again, or drop them with --delete-unreadable"
        )
        return 1
    if any(report.remaining for report in reports):
        print("stopped at --max-rows: run `portico keys rewrap` again to go on (finished batches are committed)")
        return 0
    print("done: every stored secret is sealed under the current key; secrets.previous_keys may now be removed")
    return 0


def _rotate_signing(args: argparse.Namespace) -> int:
    if args.activate_in < 0:
        raise KeysCommandError("--activate-in must be 0 or more seconds")
    config = load_config(resolve_config_path(args.config))
    sealer = Sealer(KeyRing(tuple(load_root_keys(config))))
    engine = _migrated_engine(config)
    lifetime = config.oauth.access_token_lifetime
    try:
        with transaction(session_factory(engine)) as db:
            rotation = schedule_rotation(
                db,
                sealer,
                datetime.now(UTC),
                overlap=timedelta(seconds=lifetime),
                activate_after=timedelta(seconds=args.activate_in),
            )
            record_now(config.audit, db, [_rotation_event(rotation)])  # in the rotation's transaction
    except RotationPendingError as error:
        raise KeysCommandError(f"{error}; run rotate-signing again after that") from None
    finally:
        engine.dispose()
    print(
        f"new signing key {rotation.kid} is published in /jwks now "
        f"(by every instance within {REVOCATION_SYNC_SECONDS:.0f} s)"
    )
    print(f"  it signs from {rotation.activates_at:%Y-%m-%d %H:%M:%SZ} (in {args.activate_in} s)")
    if rotation.retired_kid is not None and rotation.old_published_until is not None:
        print(
            f"  the old key {rotation.retired_kid} signs until then and stays published until "
            f"{rotation.old_published_until:%Y-%m-%d %H:%M:%SZ} (oauth.access_token_lifetime {lifetime} s later)"
        )
    return 0


def _rotation_event(rotation: ScheduledRotation) -> AuthEvent:
    """``signing_key_rotated``: the new kid, when it signs (ISO 8601 UTC), the kid it replaces (kids are public)."""
    return auth_event(
        "signing_key_rotated",
        reason="portico keys rotate-signing",
        actor=CLI_ACTOR,
        kid=rotation.kid,
        activates_at=f"{rotation.activates_at.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}",
        retired_kid=rotation.retired_kid,
    )


def _migrated_engine(config: PorticoConfig) -> Any:
    engine = create_db_engine(config.database_url)
    if not migrate.is_current(engine):
        engine.dispose()
        raise KeysCommandError("the database is not up to date: run `portico migrate` first")
    return engine
