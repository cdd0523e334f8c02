"""Secrets at rest: the root key, per-purpose derived keys (HKDF) and envelope encryption (AES-256-GCM)."""

from app.crypto.envelope import DecryptionError, Envelope
from app.crypto.keyring import KeyRing, Purpose
from app.crypto.root_key import RootKeyError, generate_secret, load_root_keys

__all__ = ["DecryptionError", "Envelope", "KeyRing", "Purpose", "RootKeyError", "generate_secret", "load_root_keys"]
