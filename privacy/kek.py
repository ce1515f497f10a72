"""Key-encryption keys (KEK): 256-bit AES keys from settings that wrap the data keys.

A KEK is never stored in the store. It comes from a file (``AFTERSALES_KEK_FILE``, readable by
its owner only) or from the environment (``AFTERSALES_KEK``, e.g. injected by a secret manager),
as 32 bytes in base64 (``aftersales keys new-kek FILE`` writes one). Each KEK has an id, an
HMAC of a fixed label under the key (it tells keys apart and says nothing about them), stored
beside every data key it wraps, so a wrong KEK is named at start-up instead of producing garbage.

While a rotation is under way the previous KEKs (``AFTERSALES_KEK_PREVIOUS_FILE``, paths
separated by ``:``, or ``AFTERSALES_KEK_PREVIOUS``, comma-separated) still unwrap the data keys
they wrapped; new data keys are always wrapped by the primary one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from privacy.errors import KeyEncryptionKeyError

KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12
MIN_DISTINCT_BYTES = 16
_ID_LABEL = b"aftersales key-encryption key id v1"
_WRAP_LABEL = b"aftersales data key v1\x00"
DEFAULT_FILE_NAME = "kek.key"  # beside a local SQLite store when nothing is configured

KEK_FILE = "AFTERSALES_KEK_FILE"
KEK_VALUE = "AFTERSALES_KEK"
PREVIOUS_FILES = "AFTERSALES_KEK_PREVIOUS_FILE"
PREVIOUS_VALUES = "AFTERSALES_KEK_PREVIOUS"


class KeyEncryptionKey:
    """One KEK: wraps and unwraps data keys with AES-256-GCM, bound to the key id and subject
    (a wrapped key moved to another row does not unwrap)."""

    __slots__ = ("_aead", "kek_id")

    def __init__(self, secret: bytes) -> None:
        if len(secret) != KEY_BYTES:
            raise KeyEncryptionKeyError(f"a key-encryption key is {KEY_BYTES} bytes")
        self._aead = AESGCM(secret)
        self.kek_id = hmac.new(secret, _ID_LABEL, hashlib.sha256).hexdigest()[:16]

    def __repr__(self) -> str:
        return f"KeyEncryptionKey(id={self.kek_id})"

    @staticmethod
    def _aad(key_id: str, subject: str) -> bytes:
        key, who = key_id.encode(), subject.encode("utf-8", "surrogatepass")
        return _WRAP_LABEL + len(key).to_bytes(4, "big") + key + who

    def wrap(self, data_key: bytes, key_id: str, subject: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, data_key, self._aad(key_id, subject))

    def unwrap(self, wrapped: bytes, key_id: str, subject: str) -> bytes:
        try:
            return self._aead.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:],
                                      self._aad(key_id, subject))
        except (InvalidTag, ValueError):
            raise KeyEncryptionKeyError(
                f"data key {key_id} does not unwrap with key-encryption key {self.kek_id}: the "
                "key table row was changed, or it was wrapped by another key") from None


@dataclass(frozen=True)
class KeyEncryptionKeys:
    """The primary KEK (wraps new data keys) and the previous ones (unwrap only)."""

    primary: KeyEncryptionKey
    previous: tuple[KeyEncryptionKey, ...] = ()
    source: str = KEK_FILE  # where the primary came from, for messages

    def by_id(self, kek_id: str) -> KeyEncryptionKey | None:
        return next((k for k in (self.primary, *self.previous) if k.kek_id == kek_id), None)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(k.kek_id for k in (self.primary, *self.previous))

    @classmethod
    def generate(cls) -> KeyEncryptionKeys:
        """A fresh random KEK held in memory only (the in-memory store of pure tests)."""
        return cls(KeyEncryptionKey(new_secret()), source="a key generated in memory")


def new_secret() -> bytes:
    return os.urandom(KEY_BYTES)


def encode_secret(secret: bytes) -> str:
    return base64.b64encode(secret).decode()


def parse_secret(text: bytes, source: str) -> bytes:
    """32 raw bytes, or their base64 (standard or URL-safe alphabet) with any surrounding
    whitespace. The message names ``source``, never the value."""
    if len(text) == KEY_BYTES:
        return text
    cleaned = text.strip()
    try:
        secret = base64.b64decode(cleaned.replace(b"-", b"+").replace(b"_", b"/"),
                                  validate=True)
    except (binascii.Error, ValueError):
        secret = b""
    if len(secret) != KEY_BYTES:
        raise KeyEncryptionKeyError(
            f"{source}: not a key-encryption key (expected {KEY_BYTES} bytes in base64, "
            "e.g. written by `aftersales keys new-kek FILE`; the value is not shown)")
    if len(set(secret)) < MIN_DISTINCT_BYTES:  # 32 random bytes have ~30 distinct values
        raise KeyEncryptionKeyError(
            f"{source}: this key is not random (a placeholder?); write a real one with "
            "`aftersales keys new-kek FILE`")
    return secret


def read_key_file(path: Path, variable: str) -> bytes:
    """The secret in a key file readable by its owner only."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise KeyEncryptionKeyError(f"{variable}: no such file {path}") from None
    except OSError as error:
        raise KeyEncryptionKeyError(f"{variable}: cannot read {path}: {error.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise KeyEncryptionKeyError(f"{variable}: {path} is not a regular file")
    if info.st_mode & 0o077:
        raise KeyEncryptionKeyError(
            f"{variable}: {path} may be read by others (mode {stat.S_IMODE(info.st_mode):04o}); "
            "a key file must be readable by its owner only: chmod 600 it")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise KeyEncryptionKeyError(f"{variable}: cannot read {path}: {error.strerror}") from None
    return parse_secret(data, f"{variable} ({path})")


def write_key_file(path: Path, secret: bytes | None = None) -> KeyEncryptionKey:
    """Write a new KEK to ``path`` (created with mode 0600; an existing file is never
    overwritten)."""
    secret = new_secret() if secret is None else secret
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(encode_secret(secret) + "\n")
    return KeyEncryptionKey(secret)


def _previous(environ: Mapping[str, str]) -> list[KeyEncryptionKey]:
    found: list[KeyEncryptionKey] = []
    for item in filter(None, (environ.get(PREVIOUS_FILES) or "").split(os.pathsep)):
        found.append(KeyEncryptionKey(read_key_file(Path(item), PREVIOUS_FILES)))
    for index, item in enumerate(filter(None, (environ.get(PREVIOUS_VALUES) or "").split(","))):
        found.append(KeyEncryptionKey(parse_secret(item.encode(), f"{PREVIOUS_VALUES}[{index}]")))
    return found


def load_keys(
    environ: Mapping[str, str], default_file: Path | None, may_create: bool
) -> KeyEncryptionKeys:
    """The configured KEKs. With neither ``AFTERSALES_KEK_FILE`` nor ``AFTERSALES_KEK`` set,
    a local SQLite store uses ``default_file`` (created, 0600, when ``may_create``: the store
    holds no data key yet); any other store must be configured."""
    file_name, value = environ.get(KEK_FILE), environ.get(KEK_VALUE)
    if file_name and value:
        raise KeyEncryptionKeyError(f"set {KEK_FILE} or {KEK_VALUE}, not both")
    if value:
        primary = KeyEncryptionKey(parse_secret(value.encode(), KEK_VALUE))
        source = KEK_VALUE
    elif file_name:
        primary = KeyEncryptionKey(read_key_file(Path(file_name), KEK_FILE))
        source = KEK_FILE
    elif default_file is not None:
        primary = _default(default_file, may_create)
        source = f"the default key file {default_file}"
    else:
        raise KeyEncryptionKeyError(
            f"no key-encryption key: set {KEK_FILE} (a file written by `aftersales keys "
            f"new-kek FILE`) or {KEK_VALUE}; a PostgreSQL store has no default")
    previous = [k for k in _previous(environ) if k.kek_id != primary.kek_id]
    return KeyEncryptionKeys(primary, tuple(previous), source)


def _default(path: Path, may_create: bool) -> KeyEncryptionKey:
    if path.exists():
        return KeyEncryptionKey(read_key_file(path, "the default key file"))
    if not may_create:
        raise KeyEncryptionKeyError(
            f"the store holds data keys but its key-encryption key is missing: the default key "
            f"file {path} does not exist; restore it or set {KEK_FILE}")
    try:
        return write_key_file(path)
    except FileExistsError:  # another process created it at the same moment
        return KeyEncryptionKey(read_key_file(path, "the default key file"))


def key_ids_text(ids: Sequence[str]) -> str:
    return ", ".join(ids) if ids else "none"
