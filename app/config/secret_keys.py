"""``secrets``: the root secret key and its predecessors.

See docs/configuration.md §``secrets``; the key is read by ``app/crypto/root_key.py``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr

from app.config.strict import Strict

__all__ = ["SecretsConfig"]


class SecretsConfig(Strict):
    """``secrets``: the root secret key (``PORTICO_SECRET_KEY``) and its predecessors for rotation.

    Each key is ≥ 32 random bytes, base64. ``secret_key`` or ``secret_key_file`` wins over the
    ``PORTICO_SECRET_KEY`` / ``PORTICO_SECRET_KEY_FILE`` environment variables.
    See docs/configuration.md §``secrets``.
    """

    secret_key: SecretStr | None = None
    secret_key_file: Path | None = None
    previous_keys: list[SecretStr] = Field(default_factory=list)
    generated_key_file: Path = Path(".portico/secret.key")
