"""Secrets at rest: the root key, per-purpose derived keys (HKDF) and sealing (AES-256-GCM with associated data)."""

from app.crypto.keyring import KeyRing, Purpose
from app.crypto.root_key import RootKeyError, generate_secret, load_root_keys
from app.crypto.sealing import DecryptionError, Sealer

__all__ = ["DecryptionError", "KeyRing", "Purpose", "RootKeyError", "Sealer", "generate_secret", "load_root_keys"]
