"""The root secret key (``PORTICO_SECRET_KEY``): where it comes from and the loopback fallback.

A key is ≥ 32 random bytes, base64 (standard or URL-safe alphabet). Order of precedence:
``secrets.secret_key``, ``secrets.secret_key_file``, env ``PORTICO_SECRET_KEY``, env
``PORTICO_SECRET_KEY_FILE``. With none of them, a loopback ``public_url`` gets a key generated
into ``secrets.generated_key_file`` (mode 0600) and a warning; any other ``public_url`` stops.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from app.config.schema import PorticoConfig

MIN_KEY_BYTES = 32
log = logging.getLogger("portico.secrets")


class RootKeyError(Exception):
    """The root key is missing or malformed. The message names the source, never the value."""


def generate_secret() -> str:
    """A new root key: 32 random bytes, URL-safe base64 without padding."""
    return base64.urlsafe_b64encode(secrets.token_bytes(MIN_KEY_BYTES)).decode().rstrip("=")


def load_root_keys(config: PorticoConfig, env: Mapping[str, str] | None = None) -> list[bytes]:
    """Return ``[current, *previous]`` root keys as raw bytes.

    Raises:
        RootKeyError: no key on a non-loopback deployment, an unreadable key file, or a key that
            is not base64 of at least 32 bytes.
    """
    environ = os.environ if env is None else env
    current = _configured_key(config, environ)
    if current is None:
        if not config.is_loopback:
            raise RootKeyError(
                "no secret key: set PORTICO_SECRET_KEY (see `portico generate-secret`) "
                "or secrets.secret_key_file; only a loopback public_url may run without one"
            )
        current = _generated_key(config.secrets.generated_key_file)
    previous = [
        _decode(k.get_secret_value(), f"secrets.previous_keys.{i}") for i, k in enumerate(config.secrets.previous_keys)
    ]
    return [current, *previous]


def _configured_key(config: PorticoConfig, environ: Mapping[str, str]) -> bytes | None:
    inline = config.secrets.secret_key.get_secret_value() if config.secrets.secret_key else ""
    if inline:
        return _decode(inline, "secrets.secret_key")
    if config.secrets.secret_key_file is not None:
        return _decode(_read(config.secrets.secret_key_file), "secrets.secret_key_file")
    if environ.get("PORTICO_SECRET_KEY"):
        return _decode(environ["PORTICO_SECRET_KEY"], "PORTICO_SECRET_KEY")
    if environ.get("PORTICO_SECRET_KEY_FILE"):
        return _decode(_read(Path(environ["PORTICO_SECRET_KEY_FILE"])), "PORTICO_SECRET_KEY_FILE")
    return None


def _generated_key(path: Path) -> bytes:
    if path.exists():
        return _decode(_read(path), str(path))
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    value = generate_secret()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    log.warning("generated a development secret key in %s (loopback only); set PORTICO_SECRET_KEY in production", path)
    return _decode(value, str(path))


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as error:
        raise RootKeyError(f"cannot read secret key file {path}: {error.strerror}") from None


def _decode(value: str, source: str) -> bytes:
    text = value.strip()
    try:
        raw = base64.b64decode(
            text + "=" * (-len(text) % 4), altchars=b"-_" if ("-" in text or "_" in text) else None, validate=True
        )
    except (binascii.Error, ValueError):
        raise RootKeyError(f"{source}: not valid base64") from None
    if len(raw) < MIN_KEY_BYTES:
        raise RootKeyError(f"{source}: must decode to at least {MIN_KEY_BYTES} bytes (got {len(raw)})")
    return raw
