"""What can go wrong with keys, in words an operator can act on (never a key, never a value)."""

from __future__ import annotations

from aftersales_core.errors import DomainError


class KeyEncryptionKeyError(ValueError):
    """The key-encryption key is missing, malformed, or not the one the store's data keys are
    wrapped with: found at start-up, before anything is read or written."""


class DataKeyError(DomainError):
    """A sealed personal datum cannot be opened although its subject was never erased: its
    data key is missing from the key table, or the ciphertext does not authenticate (it was
    changed, or moved to another subject, event or field)."""

    code = "data_key"
