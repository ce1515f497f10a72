"""PolicyBook: the versions of one policy book (a merchant's, or the platform's default).

Each version is the whole book, validated before it is stored, with who set it, in which role,
when and why, and the hash of its canonical form. Versions are numbered from 1 and never
changed; version 0 is the built-in defaults every book starts from.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from aftersales_core.domain.base import require_aware
from aftersales_core.domain.ids import NAMESPACE
from aftersales_core.errors import DomainError, InvalidCommandError
from aftersales_core.policybook.diff import diff
from aftersales_core.text import check_text

MAX_REASON = 1000  # characters of the reason stored with a version


class UnchangedBookError(DomainError):
    code = "unchanged_book"


def check_reason(reason: str) -> str:
    """Why a version is set: text a person wrote (the free-text rules of every entry point),
    at most ``MAX_REASON`` characters."""
    return check_text("reason", reason, MAX_REASON, "say why the book changes")


@lru_cache(maxsize=1024)
def policy_book_id(owner: str, merchant_id: str | None) -> UUID:
    return uuid5(NAMESPACE, f"policy-book:{owner}:{merchant_id or ''}")


class PolicyBook(Aggregate):
    KIND = "policy_book"
    TOPIC = "aftersales.policy_book"
    Created = None  # type: ignore[assignment]  # creation events have their own names

    class Event(Aggregate.Event):
        class_version = 1

    @staticmethod
    def create_id(owner: str, merchant_id: str | None, timestamp: datetime) -> UUID:
        return policy_book_id(owner, merchant_id)

    @event("Opened", topic="aftersales.policy_book.Opened")
    def __init__(self, owner: str, merchant_id: str | None, timestamp: datetime) -> None:
        self.owner, self.merchant_id = owner, merchant_id
        self.versions: list[dict[str, Any]] = []

    @property
    def latest(self) -> int:
        return len(self.versions)

    def book_version(self, number: int) -> dict[str, Any]:
        if not 1 <= number <= len(self.versions):
            raise InvalidCommandError(f"the book has versions 1 to {len(self.versions)}, not "
                                      f"{number}")
        return self.versions[number - 1]

    def set_version(self, document: dict[str, Any], book_hash: str, by: str, role: str,
                    reason: str, at: datetime, *, base_hash: str,
                    base_document: Mapping[str, Any] | None = None) -> int:
        """Store a new version (already validated); refuses one equal to the latest (version
        0, before any: the built-in defaults, whose hash is ``base_hash`` and document
        ``base_document``): the same text, or one that changes no setting (``diff``: amounts
        by value, "500.00" is "500"; day lists in any order)."""
        require_aware(at)
        check_reason(reason)
        latest_hash = self.versions[-1]["book_hash"] if self.versions else base_hash
        latest = self.versions[-1]["document"] if self.versions else base_document
        if latest_hash == book_hash or (latest is not None and not diff(latest, document)):
            what = "" if self.versions else ", the built-in defaults"
            raise UnchangedBookError(f"the book is the same as its version {self.latest}{what} "
                                     f"({latest_hash}): nothing to set")
        stamp = max(at, self.modified_on)
        self._version_set(version=self.latest + 1, document=document, book_hash=book_hash,
                          by=by, role=role, reason=reason, set_at=at, timestamp=stamp)
        return self.latest

    @event("VersionSet", topic="aftersales.policy_book.VersionSet")
    def _version_set(self, version: int, document: dict[str, Any], book_hash: str, by: str,
                     role: str, reason: str, set_at: datetime, timestamp: datetime) -> None:
        self.versions.append({"version": version, "document": document,
                              "book_hash": book_hash, "by": by, "role": role, "reason": reason,
                              "set_at": set_at})
