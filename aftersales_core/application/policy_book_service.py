"""Policy books for callers: every operation asks ``Access`` first (administrators set books;
administrators and auditors read them, their history and what-if simulations; every role may
read the published policy), then does the work of ``PolicyBooks``. The CLI and the service API
call these methods; the engine itself uses ``store.books`` directly."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aftersales_core.application.access import Access, Caller
from aftersales_core.application.policy_books import (
    BookDiff,
    BookVersion,
    Expected,
    PolicyBooks,
)
from aftersales_core.decisions import JSON
from aftersales_core.errors import InvalidFieldError
from aftersales_core.policybook.diff import Change
from aftersales_core.policybook.model import Book
from aftersales_core.policybook.publish.compose import Format
from aftersales_core.policybook.simulate import Report


class PolicyBookService:
    def __init__(self, books: PolicyBooks, access: Access) -> None:
        self.books, self.access = books, access

    def _facts(self, merchant_id: str | None) -> dict[str, Any]:
        return {"merchant_id": merchant_id}

    def show(self, caller: Caller, merchant_id: str | None,
             version: int | None = None) -> BookVersion:
        """A version of the merchant's own book, or (without a version) the book that applies
        to its orders now."""
        self.access.require(caller, "ReadPolicyBook", self._facts(merchant_id))
        if version is None:
            return self.books.applying(merchant_id)
        return self.books.version(merchant_id, version)

    def history(self, caller: Caller, merchant_id: str | None) -> list[JSON]:
        self.access.require(caller, "ReadPolicyBook", self._facts(merchant_id))
        return self.books.history(merchant_id)

    def diff(self, caller: Caller, merchant_id: str | None, before: int | None,
             after: int | None, proposed: Book | None = None) -> list[Change]:
        return self.compare(caller, merchant_id, before, after, proposed).changes

    def compare(self, caller: Caller, merchant_id: str | None, before: int | None,
                after: int | None, proposed: Book | None = None) -> BookDiff:
        """What changes between two versions of the merchant's own book, or from a version to
        a proposed book, with the versions compared."""
        self.access.require(caller, "ReadPolicyBook", self._facts(merchant_id))
        return self.books.compare(merchant_id, before, after, proposed)

    def set(self, caller: Caller, merchant_id: str | None, document: dict[str, Any],
            reason: str, expected: Expected = None) -> BookVersion:
        """Store the next version, set by the caller in the role the matrix allows, at the
        moment the entry point received the call (``expected``: the version the caller last
        read, refused when the book has moved on)."""
        grant = self.access.require(caller, "SetPolicyBook", self._facts(merchant_id))
        return self.books.set(merchant_id, document, grant.actor.principal_id, grant.actor.role,
                              reason, caller.received_at, expected)

    def simulate(self, caller: Caller, merchant_id: str, proposed: Book | int,
                 since: datetime | None = None,
                 until: datetime | None = None) -> tuple[Report, JSON]:
        """The merchant's recorded decisions in [since, until) evaluated again under a proposed
        book, or under a stored version (a number) of the merchant's own book."""
        self.access.require(caller, "SimulatePolicyBook", self._facts(merchant_id))
        if since is not None and until is not None and since >= until:
            raise InvalidFieldError("since", f"the period is empty: since ({since.isoformat()}) "
                                    f"is not before until ({until.isoformat()})", "until")
        if isinstance(proposed, int):
            proposed = self.books.version(merchant_id, proposed).book
        return self.books.simulate(merchant_id, proposed, since, until)

    def publish(self, caller: Caller, merchant_id: str | None, lang: str, fmt: Format) -> str:
        self.access.require(caller, "ReadPublishedPolicy", self._facts(merchant_id))
        return self.books.publish(merchant_id, lang, fmt)
