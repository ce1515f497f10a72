"""Sealing ``PersonalData`` at the store's boundary: the domain keeps plain values, the store
holds only ciphertext.

Before an event is stored, every ``PersonalData`` in it (a field, or an item of a list or a
dict in a field) is replaced by a sealed value: AES-256-GCM under its subject's data key, with a
fresh 96-bit nonce, and associated data binding the ciphertext to its subject, its event (the
aggregate id and version) and its place in the event (``note``, ``evidence/0``), so a ciphertext
moved to another subject, event or field does not open. The stored JSON keeps the type name
``personal_data`` with the subject in clear beside the key id and ciphertext::

    {"_type_": "personal_data", "_data_": {"subject": "C-1", "kid": "…", "ct": "<base64>"}}

so the relay still redacts it without any key. Reading an event opens every sealed value again;
once the subject's key was destroyed it reads as ``PersonalData(subject, "[erased]")``.

A ``PersonalData`` the walk cannot reach (inside another object) is refused by the transcoder
(no transcoding is registered for the plain type): personal data never reaches the store in
clear. Events written before sealing existed (``{"subject", "value"}``) still load.
"""

from __future__ import annotations

import binascii
import os
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, cast
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    JSONTranscoder,
    Mapper,
    StoredEvent,
    Transcoder,
    Transcoding,
    find_id_convertor,
)
from eventsourcing.utils import get_topic, resolve_topic

from aftersales_core.personal import ERASED, PersonalData
from privacy.errors import DataKeyError
from privacy.keys import Keyring

NAME = "personal_data"
NONCE_BYTES = 12
_AAD_LABEL = b"aftersales personal data v1\x00"


@dataclass(frozen=True, slots=True)
class Sealed:
    """A personal datum as the store holds it: its subject, the data key's id, nonce and
    ciphertext (with the GCM tag)."""

    subject: str
    key_id: str
    box: bytes

    def __repr__(self) -> str:
        return f"Sealed(subject={self.subject!r}, key_id={self.key_id!r})"


class SealedAsDict(Transcoding):
    type = Sealed
    name = NAME

    def encode(self, obj: Sealed) -> dict[str, str]:
        return {"subject": obj.subject, "kid": obj.key_id,
                "ct": binascii.b2a_base64(obj.box, newline=False).decode()}

    def decode(self, data: dict[str, str]) -> Sealed | PersonalData:
        if "ct" in data:
            return Sealed(data["subject"], data["kid"], binascii.a2b_base64(data["ct"]))
        return PersonalData(subject=data["subject"], value=data["value"])  # stored in clear


def _text(value: str) -> bytes:
    return value.encode("utf-8", "surrogatepass")


def aad(subject: str, originator_id: UUID | str, version: int, path: str, key_id: str) -> bytes:
    """What a ciphertext is bound to: its subject, event, place in the event and key. Each
    part is length-prefixed, so no two different bindings give the same bytes."""
    parts = (_text(subject), _text(str(originator_id)), str(version).encode(), _text(path),
             _text(key_id))
    return _AAD_LABEL + b"".join(len(p).to_bytes(4, "big") + p for p in parts)


class _Session:
    """Seals or opens the personal data of one event; data keys are looked up once per event
    (and never kept longer)."""

    def __init__(self, keyring: Keyring, originator_id: UUID | str, version: int) -> None:
        self.keyring, self.originator_id, self.version = keyring, originator_id, version
        self.sealing: dict[str, tuple[str, AESGCM]] = {}
        self.opening: dict[tuple[str, str], AESGCM | None] = {}

    def seal(self, datum: PersonalData, path: str) -> Sealed:
        found = self.sealing.get(datum.subject)
        if found is None:
            key_id, secret = self.keyring.key_for(datum.subject)
            found = self.sealing[datum.subject] = (key_id, AESGCM(secret))
        key_id, aead = found
        nonce = os.urandom(NONCE_BYTES)
        box = nonce + aead.encrypt(nonce, _text(datum.value), aad(
            datum.subject, self.originator_id, self.version, path, key_id))
        return Sealed(datum.subject, key_id, box)

    def open(self, sealed: Sealed, path: str) -> PersonalData:
        slot = (sealed.key_id, sealed.subject)
        if slot not in self.opening:
            secret = self.keyring.key(sealed.key_id, sealed.subject)
            self.opening[slot] = None if secret is None else AESGCM(secret)
        aead = self.opening[slot]
        if aead is None:
            return PersonalData(sealed.subject, ERASED)
        try:
            plain = aead.decrypt(sealed.box[:NONCE_BYTES], sealed.box[NONCE_BYTES:], aad(
                sealed.subject, self.originator_id, self.version, path, sealed.key_id))
        except (InvalidTag, ValueError):
            raise DataKeyError(
                f"the personal datum {path!r} of event v{self.version} of {self.originator_id} "
                "does not authenticate: it was changed, or moved from another subject, event "
                "or field") from None
        return PersonalData(sealed.subject, plain.decode("utf-8", "surrogatepass"))


def walk(value: Any, path: str, change: Callable[[Any, str], Any], kind: type) -> Any:
    """``value`` with every instance of ``kind`` replaced by ``change(it, path)``, descending
    into lists, tuples and dicts; the same object when nothing changed."""
    if isinstance(value, kind):
        return change(value, path)
    if isinstance(value, (list, tuple)):
        items: list[Any] | None = None
        for index, item in enumerate(value):
            if isinstance(item, (kind, list, tuple, dict)):
                new = walk(item, f"{path}/{index}", change, kind)
                if new is not item:
                    items = list(value) if items is None else items
                    items[index] = new
        if items is None:
            return value
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, dict):
        changed: dict[Any, Any] | None = None
        for key, item in value.items():
            if isinstance(item, (kind, list, tuple, dict)):
                new = walk(item, f"{path}/{key}", change, kind)
                if new is not item:
                    changed = dict(value) if changed is None else changed
                    changed[key] = new
        return value if changed is None else changed
    return value


def _walk_state(state: dict[str, Any], change: Callable[[Any, str], Any], kind: type) -> None:
    for key, value in state.items():
        if isinstance(value, (kind, list, tuple, dict)):
            new = walk(value, key, change, kind)
            if new is not value:
                state[key] = new


class SealingMapper(Mapper[UUID]):
    """The store's mapper, sealing personal data on the way in and opening it on the way out
    (see the module's docstring)."""

    def __init__(self, inner: Mapper[UUID], keyring: Keyring) -> None:
        super().__init__(inner.transcoder, compressor=inner.compressor, cipher=inner.cipher)
        self.keyring = keyring
        register_sealed(inner.transcoder)

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        topic = get_topic(domain_event.__class__)
        event_state = dict(vars(domain_event))
        originator_id = event_state.pop("originator_id")
        originator_version = event_state.pop("originator_version")
        class_version = getattr(type(domain_event), "class_version", 1)
        if class_version > 1:
            event_state["class_version"] = class_version
        session = _Session(self.keyring, originator_id, originator_version)
        _walk_state(event_state, session.seal, PersonalData)
        stored_state = self.transcoder.encode(event_state)
        if self.compressor:
            stored_state = self.compressor.compress(stored_state)
        if self.cipher:
            stored_state = self.cipher.encrypt(stored_state)
        return StoredEvent(originator_id=originator_id, originator_version=originator_version,
                           topic=topic, state=stored_state)

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        state = stored_event.state
        if not self.cipher and not self.compressor and NAME.encode() not in state:
            return super().to_domain_event(stored_event)  # nothing personal in it
        if self.cipher:
            state = self.cipher.decrypt(state)
        if self.compressor:
            state = self.compressor.decompress(state)
        event_state: dict[str, Any] = self.transcoder.decode(state)
        session = _Session(self.keyring, stored_event.originator_id,
                           stored_event.originator_version)
        _walk_state(event_state, session.open, Sealed)
        return _domain_event(stored_event, event_state)


def _domain_event(stored_event: StoredEvent, event_state: dict[str, Any]) -> Any:
    """The library's tail of ``Mapper.to_domain_event``: ids, upcasting, the object."""
    cls = resolve_topic(stored_event.topic)
    convert = find_id_convertor(cls, cast(Hashable, type(stored_event.originator_id)))
    event_state["originator_id"] = convert(stored_event.originator_id)
    event_state["originator_version"] = stored_event.originator_version
    class_version = getattr(cls, "class_version", 1)
    from_version = event_state.pop("class_version", 1)
    while from_version < class_version:
        getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(event_state)
        from_version += 1
    domain_event = object.__new__(cls)
    object.__setattr__(domain_event, "__dict__", event_state)
    return cast(DomainEventProtocol[UUID], domain_event)


def register_sealed(transcoder: Transcoder) -> None:
    """Teach a transcoder the sealed type (once)."""
    if not isinstance(transcoder, JSONTranscoder):
        raise TypeError("sealing needs the store's JSON transcoder")
    if NAME not in transcoder.names:
        transcoder.register(SealedAsDict())
