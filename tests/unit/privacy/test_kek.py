"""Key-encryption keys from settings: each wrong or missing one is a clear error at start-up,
naming the setting and never the key; rotation re-wraps every data key."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from privacy.errors import KeyEncryptionKeyError
from privacy.kek import (
    KEY_BYTES,
    KeyEncryptionKey,
    KeyEncryptionKeys,
    encode_secret,
    load_keys,
    new_secret,
    write_key_file,
)
from privacy.key_tables import MemoryKeyTable
from privacy.keys import Keyring


def key_file(tmp_path: Path, name: str = "kek.key") -> tuple[Path, bytes]:
    secret = new_secret()
    path = tmp_path / name
    write_key_file(path, secret)
    return path, secret


def test_a_key_file_is_private_and_its_key_loads(tmp_path: Path) -> None:
    path, secret = key_file(tmp_path)
    assert path.stat().st_mode & 0o777 == 0o600
    keys = load_keys({"AFTERSALES_KEK_FILE": str(path)}, None, may_create=False)
    assert keys.primary.kek_id == KeyEncryptionKey(secret).kek_id
    assert encode_secret(secret) not in repr(keys) and len(keys.primary.kek_id) == 16
    with pytest.raises(FileExistsError):
        write_key_file(path)  # never overwritten


def test_a_key_in_the_environment_loads_in_either_base64_alphabet() -> None:
    secret = bytes(range(224, 256))
    assert len(secret) == KEY_BYTES
    for text in (base64.b64encode(secret).decode(), base64.urlsafe_b64encode(secret).decode(),
                 f"  {base64.b64encode(secret).decode()}\n"):
        keys = load_keys({"AFTERSALES_KEK": text}, None, may_create=False)
        assert keys.primary.kek_id == KeyEncryptionKey(secret).kek_id


@pytest.mark.parametrize("value", ["", "short", base64.b64encode(b"x" * 31)
                                   .decode(), base64.b64encode(b"x" * 33).decode(), "é" * 44])
def test_a_malformed_key_is_refused_naming_the_variable_not_the_value(value: str) -> None:
    if not value:
        with pytest.raises(KeyEncryptionKeyError, match="no key-encryption key"):
            load_keys({"AFTERSALES_KEK": value}, None, may_create=False)
        return
    with pytest.raises(KeyEncryptionKeyError, match="AFTERSALES_KEK: not a key-encryption key"
                       ) as raised:
        load_keys({"AFTERSALES_KEK": value}, None, may_create=False)
    assert value not in str(raised.value)


def test_a_placeholder_key_is_refused() -> None:
    for secret in (bytes(32), b"0123456789" * 3 + b"01"):
        with pytest.raises(KeyEncryptionKeyError, match="not random"):
            load_keys({"AFTERSALES_KEK": encode_secret(secret)}, None, may_create=False)


def test_missing_unreadable_shared_or_doubly_configured_keys_are_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyEncryptionKeyError, match="a PostgreSQL store has no default"):
        load_keys({}, None, may_create=False)
    with pytest.raises(KeyEncryptionKeyError, match="AFTERSALES_KEK_FILE: no such file"):
        load_keys({"AFTERSALES_KEK_FILE": str(tmp_path / "nope")}, None, may_create=False)
    path, secret = key_file(tmp_path)
    path.chmod(0o644)
    with pytest.raises(KeyEncryptionKeyError, match="may be read by others") as raised:
        load_keys({"AFTERSALES_KEK_FILE": str(path)}, None, may_create=False)
    assert encode_secret(secret) not in str(raised.value)
    path.chmod(0o600)
    with pytest.raises(KeyEncryptionKeyError, match="not both"):
        load_keys({"AFTERSALES_KEK_FILE": str(path), "AFTERSALES_KEK": encode_secret(secret)},
                  None, may_create=False)
    with pytest.raises(KeyEncryptionKeyError, match="is not a regular file"):
        load_keys({"AFTERSALES_KEK_FILE": str(tmp_path)}, None, may_create=False)


def test_the_default_file_is_created_only_for_a_store_without_data_keys(tmp_path: Path) -> None:
    default = tmp_path / "var" / "kek.key"
    with pytest.raises(KeyEncryptionKeyError, match="does not exist"):
        load_keys({}, default, may_create=False)
    created = load_keys({}, default, may_create=True)
    assert default.stat().st_mode & 0o777 == 0o600
    assert load_keys({}, default, may_create=False).primary.kek_id == created.primary.kek_id


def test_a_wrong_key_is_found_at_start_up_never_later_as_garbage() -> None:
    table = MemoryKeyTable()
    right, wrong = KeyEncryptionKeys.generate(), KeyEncryptionKeys.generate()
    Keyring(table, right).key_for("c-1")
    Keyring(table, right).check()
    with pytest.raises(KeyEncryptionKeyError, match="wrong key-encryption key") as raised:
        Keyring(table, wrong).check()
    assert right.primary.kek_id in str(raised.value)
    assert wrong.primary.kek_id in str(raised.value)
    # a row whose wrapped bytes were changed does not unwrap even under the right id
    row = table.rows["c-1"]
    table.rows["c-1"] = type(row)(row.subject, row.key_id, row.kek_id,
                                  row.wrapped[:-1] + bytes([row.wrapped[-1] ^ 1]),
                                  row.created_at)
    with pytest.raises(KeyEncryptionKeyError, match="does not unwrap"):
        Keyring(table, right).check()


def test_rotation_rewraps_every_data_key_under_the_new_key(tmp_path: Path) -> None:
    table = MemoryKeyTable()
    old = KeyEncryptionKeys.generate()
    keyring = Keyring(table, old)
    secrets = {s: keyring.key_for(s) for s in ("c-1", "c-2", "c-3")}
    new_path, _ = key_file(tmp_path, "new.key")
    # the new key from its file as primary, the old one as previous (AFTERSALES_KEK_PREVIOUS…)
    rotating = load_keys({"AFTERSALES_KEK_FILE": str(new_path)}, None, may_create=False)
    rotating = KeyEncryptionKeys(rotating.primary, (old.primary,))
    assert Keyring(table, rotating).rotate() == (3, 0)
    assert Keyring(table, rotating).rotate() == (0, 3)
    only_new = Keyring(table, KeyEncryptionKeys(rotating.primary))
    only_new.check()
    assert {s: only_new.key(k, s) for s, (k, _) in secrets.items()} == {
        s: secret for s, (_, secret) in secrets.items()}
    with pytest.raises(KeyEncryptionKeyError, match="wrong key-encryption key"):
        Keyring(table, old).check()


def test_previous_keys_come_from_files_and_values(tmp_path: Path) -> None:
    primary, _ = key_file(tmp_path, "p.key")
    first, first_secret = key_file(tmp_path, "a.key")
    second = new_secret()
    keys = load_keys({"AFTERSALES_KEK_FILE": str(primary),
                      "AFTERSALES_KEK_PREVIOUS_FILE": f"{first}:{primary}",
                      "AFTERSALES_KEK_PREVIOUS": encode_secret(second)}, None, may_create=False)
    assert [k.kek_id for k in keys.previous] == [KeyEncryptionKey(first_secret).kek_id,
                                                 KeyEncryptionKey(second).kek_id]
