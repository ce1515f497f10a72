"""Policy books in the application: set, show, diff, history, the rules of an order's merchant,
the archive re-runs read, what-if simulation over recorded history, and the published policy.

Plain methods, the same for the CLI and the service API. A book version is read from the store
every time a command resolves its merchant's rules (another process may have set a new one);
the settings each version gives the policies are derived once per process and cached, since
stored versions never change.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any, Literal, Protocol, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import ApplicationRecorder, Mapper

from aftersales_core.application.concurrency import on_fresh_state
from aftersales_core.application.decision_history import history_of_decisions
from aftersales_core.decisions import JSON, PolicyDecision
from aftersales_core.domain.ids import check_merchant_id
from aftersales_core.domain.policy_book import PolicyBook, check_reason, policy_book_id
from aftersales_core.errors import (
    InvalidCommandError,
    PreconditionFailedError,
    UnknownVersionError,
)
from aftersales_core.policybook import rulebook as rulebooks
from aftersales_core.policybook.builtin import builtin_book
from aftersales_core.policybook.canonical import digest
from aftersales_core.policybook.diff import Change, diff
from aftersales_core.policybook.documents import canonical_document, lawful, validate
from aftersales_core.policybook.model import Book
from aftersales_core.policybook.publish import publish
from aftersales_core.policybook.publish.compose import Format, Source
from aftersales_core.policybook.rulebook import (
    PLATFORM_BOOK,
    BookId,
    CorruptBookError,
    Rulebook,
    Rules,
    merchant_book,
)
from aftersales_core.policybook.simulate import DeadlineEnd, Recorded, Report, simulate

A = TypeVar("A", bound=Aggregate)
ANY_VERSION: Literal["*"] = "*"
#: the version a writer expects a book at: a number, any stored one (``"*"``), or no check
Expected = int | Literal["*"] | None


class BookStore(Protocol):
    recorder: ApplicationRecorder
    mapper: Mapper[UUID]

    def find(self, cls: type[A], aggregate_id: UUID) -> A | None: ...


@dataclass(frozen=True)
class BookVersion:
    """One version of a book, as people read it (version 0: the built-in defaults)."""

    book_id: BookId
    version: int
    book: Book
    book_hash: str
    set_by: str | None
    role: str | None
    reason: str | None
    set_at: datetime | None

    @property
    def document(self) -> dict[str, Any]:
        return canonical_document(self.book)

    def meta(self) -> JSON:
        return _meta(self.book_id, self.version, self.book_hash, self.set_by, self.role,
                     self.reason, self.set_at)

    def to_json(self) -> JSON:
        return {**self.meta(), "document": self.document}


def _meta(book_id: BookId, version: int, book_hash: str, set_by: str | None,
          role: str | None, reason: str | None, set_at: datetime | None) -> JSON:
    return {"book": book_id.owner, "merchant_id": book_id.merchant_id, "version": version,
            "book_hash": book_hash, "set_by": set_by, "role": role, "reason": reason,
            "set_at": None if set_at is None else set_at.isoformat()}


@dataclass(frozen=True)
class BookDiff:
    """What changes from one version of a book to another (``after`` None: to a proposed
    book, not stored)."""

    before: BookVersion
    after: BookVersion | None
    changes: list[Change]

    def to_json(self) -> JSON:
        return {"book": self.before.book_id.owner, "merchant_id": self.before.book_id.merchant_id,
                "before": self.before.meta(),
                "after": None if self.after is None else self.after.meta(),
                "changes": [c.to_json() for c in self.changes]}


def book_id_of(merchant_id: str | None) -> BookId:
    """A merchant's book, or the platform's default without a merchant. Reads take any
    printable id (orders and books stored before merchant ids had their rule stay readable);
    what is new is checked by ``check_merchant_id``."""
    if merchant_id is None:
        return PLATFORM_BOOK
    if not merchant_id or len(merchant_id) > 200 or not merchant_id.isprintable():
        raise InvalidCommandError(f"merchant: {merchant_id!r} is not a merchant id")
    return merchant_book(merchant_id)


class PolicyBooks:
    def __init__(self, store: BookStore, save: Callable[[Aggregate], None],
                 cache_size: int = 256) -> None:
        self.store, self.save = store, save
        # how `simulate` measures its own duration: the composition root gives a clock
        # (aftersales/bootstrap.py); the core reads none, so by default it reports none
        self.stopwatch: Callable[[], float] | None = None
        self._rulebooks: OrderedDict[tuple[BookId, int], Rulebook] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    # ---- reading ---------------------------------------------------------------------------
    def _aggregate(self, book_id: BookId) -> PolicyBook | None:
        return self.store.find(PolicyBook, policy_book_id(book_id.owner, book_id.merchant_id))

    def _version_of(self, book_id: BookId, aggregate: PolicyBook | None,
                    number: int | None) -> BookVersion:
        latest = 0 if aggregate is None else aggregate.latest
        number = latest if number is None else number
        if number == 0:
            book = builtin_book()
            return BookVersion(book_id, 0, book, digest(canonical_document(book)), None, None,
                               "the built-in defaults", None)
        if aggregate is None or not 1 <= number <= latest:
            raise UnknownVersionError(f"{book_id} has no policy book version {number} "
                                      f"(versions 0 to {latest})")
        stored = aggregate.book_version(number)
        found = digest(stored["document"])  # what the store holds now, before it is trusted
        if found != stored["book_hash"]:
            raise CorruptBookError(book_id, number, stored["book_hash"], found)
        return BookVersion(book_id, number, validate(stored["document"], stored=True),
                           stored["book_hash"], stored["by"], stored["role"], stored["reason"],
                           stored["set_at"])

    def version(self, merchant_id: str | None, number: int | None = None) -> BookVersion:
        """A version of the merchant's own book (the platform's without a merchant); the
        latest when no number is given, version 0 (the built-in defaults) before any."""
        book_id = book_id_of(merchant_id)
        return self._version_of(book_id, self._aggregate(book_id), number)

    def applying(self, merchant_id: str | None) -> BookVersion:
        """The book that applies to the merchant's orders now: its own latest version, else
        the platform's, else the built-in defaults."""
        if merchant_id is not None:
            own = self._aggregate(book_id_of(merchant_id))
            if own is not None and own.latest:
                return self._version_of(book_id_of(merchant_id), own, None)
        return self._version_of(PLATFORM_BOOK, self._aggregate(PLATFORM_BOOK), None)

    def history(self, merchant_id: str | None) -> list[JSON]:
        """Every version's meta, each with its ``status``: ``intact``, or ``corrupt`` when its
        stored content no longer hashes to its ``book_hash`` (``content_hash``: what it hashes
        to now); a corrupt version is listed, never loaded."""
        book_id = book_id_of(merchant_id)
        aggregate = self._aggregate(book_id)
        latest = 0 if aggregate is None else aggregate.latest
        rows: list[JSON] = []
        for number in range(latest + 1):
            try:
                meta = self._version_of(book_id, aggregate, number).meta()
                rows.append({**meta, "status": "intact", "content_hash": meta["book_hash"]})
            except CorruptBookError as corrupt:
                assert aggregate is not None  # version 0 is built in, never corrupt
                stored = aggregate.book_version(number)
                rows.append({**_meta(book_id, number, corrupt.recorded, stored["by"],
                                     stored["role"], stored["reason"], stored["set_at"]),
                             "status": "corrupt", "content_hash": corrupt.found})
        return rows

    def compare(self, merchant_id: str | None, before: int | None, after: int | None,
                proposed: Book | None = None) -> BookDiff:
        """Fields changed from version ``before`` (default: the one before ``after``) to
        version ``after`` (default: the latest) or to a proposed book. Either may be the later
        one; each unknown version is named."""
        book_id = book_id_of(merchant_id)
        aggregate = self._aggregate(book_id)
        latest = 0 if aggregate is None else aggregate.latest
        if proposed is not None:
            to: int | None = None
            since = latest if before is None else before
        else:
            to = latest if after is None else after
            since = max(to - 1, 0) if before is None else before
        # only what the caller gave is named (a default derived from it is not)
        given = (("from", before), ("to", None if proposed is not None else after))
        unknown = [f"version {n} to compare {side}" for side, n in given
                   if n is not None and not 0 <= n <= latest]
        if unknown:
            raise UnknownVersionError(f"{book_id} has no policy book {' nor '.join(unknown)} "
                                      f"(versions 0 to {latest})")
        old = self._version_of(book_id, aggregate, since)
        if proposed is not None:  # a proposal is checked against the law, as setting it is
            return BookDiff(old, None, diff(old.document, canonical_document(lawful(proposed))))
        new = self._version_of(book_id, aggregate, to)
        return BookDiff(old, new, diff(old.document, new.document))

    def diff(self, merchant_id: str | None, before: int | None, after: int | None,
             proposed: Book | None = None) -> list[Change]:
        """The changes of ``compare``."""
        return self.compare(merchant_id, before, after, proposed).changes

    # ---- setting ---------------------------------------------------------------------------
    def set(self, merchant_id: str | None, document: dict[str, Any], by: str, role: str,
            reason: str, at: datetime, expected: Expected = None) -> BookVersion:
        """Validate the merchant id, the reason and the document (structure, then the law) and
        store it as the next version; a refused book stores nothing. ``expected``: the
        version the caller last read (HTTP ``If-Match``), refused when the book has moved on
        since, also when another writer sets a version meanwhile; ``"*"``: any version, but
        one must have been set (RFC 9110 §13.1.1: ``If-Match: *`` is false without one)."""
        if merchant_id is not None:
            check_merchant_id(merchant_id, "merchant")
        check_reason(reason)
        book = lawful(validate(document))
        canonical = canonical_document(book)
        book_id = book_id_of(merchant_id)

        def set_on_fresh_state() -> PolicyBook:  # again when another writer set one meanwhile
            aggregate = self._aggregate(book_id) or PolicyBook(
                owner=book_id.owner, merchant_id=book_id.merchant_id, timestamp=at)
            if expected == ANY_VERSION and not aggregate.latest:
                raise PreconditionFailedError(
                    f"If-Match: * failed: the policy book of {book_id} has no version yet, and "
                    "one was required; nothing stored (set its first version without If-Match, "
                    'or with If-Match: "0")')
            if isinstance(expected, int) and aggregate.latest != expected:
                raise PreconditionFailedError(
                    f"the policy book of {book_id} is at version {aggregate.latest}, not "
                    f"{expected}: it changed since you read it; read it again and decide anew")
            aggregate.set_version(canonical, digest(canonical), by, role, reason, at,
                                  base_hash=_builtin_hash(),
                                  base_document=canonical_document(builtin_book()))
            self.save(aggregate)
            return aggregate

        return self._version_of(book_id, on_fresh_state(set_on_fresh_state), None)

    # ---- deciding --------------------------------------------------------------------------
    def rulebook(self, book_id: BookId, version: int) -> Rulebook:
        """That version of that book (the archive re-runs read); cached: versions never
        change."""
        key = (book_id, version)
        with self._lock:
            found = self._rulebooks.get(key)
            if found is not None:
                self._rulebooks.move_to_end(key)
                return found
        if version == 0:
            found = Rulebook(builtin_book(), book_id, 0)
        else:
            stored = self._version_of(book_id, self._aggregate(book_id), version)
            found = Rulebook(stored.book, book_id, version)
        with self._lock:
            self._rulebooks[key] = found
            while len(self._rulebooks) > self._cache_size:
                self._rulebooks.popitem(last=False)
        return found

    def rules_for(self, merchant_id: str | None) -> Rules:
        """The rules an order of this merchant is decided by now (see ``applying``)."""
        if merchant_id is not None:
            own_id = book_id_of(merchant_id)
            own = self._aggregate(own_id)
            if own is not None and own.latest:
                return self.rulebook(own_id, own.latest).for_merchant(merchant_id)
        platform = self._aggregate(PLATFORM_BOOK)
        latest = 0 if platform is None else platform.latest
        return self.rulebook(PLATFORM_BOOK, latest).for_merchant(merchant_id)

    def rerun(self, decision: PolicyDecision) -> PolicyDecision:
        """A recorded decision evaluated again with exactly the settings it used."""
        return rulebooks.rerun(decision, self)

    # ---- what if ---------------------------------------------------------------------------
    def history_of_decisions(self, merchant_id: str | None = None
                             ) -> tuple[list[Recorded], list[DeadlineEnd]]:
        """The recorded decisions (only those of ``merchant_id`` when given) and how every
        deadline ended (application/decision_history.py)."""
        return history_of_decisions(self.store.recorder, self.store.mapper, merchant_id)

    def simulate(self, merchant_id: str, proposed: Book, since: datetime | None = None,
                 until: datetime | None = None) -> tuple[Report, JSON]:
        """Every recorded decision of the merchant in [since, until) evaluated again under the
        proposed book (checked against the law first); the report and how long it took."""
        lawful(proposed)
        clock = self.stopwatch or (lambda: 0.0)
        started = clock()
        records, ends = self.history_of_decisions(merchant_id)
        read = clock()
        rulebook = Rulebook(proposed, book_id_of(merchant_id), -1)
        report = simulate(records, ends, rulebook, merchant_id, since, until,
                          digest(canonical_document(proposed)))
        done = clock()
        timing = {"read_seconds": round(read - started, 3),
                  "evaluate_seconds": round(done - read, 3),
                  "decisions_per_second": round(report.re_evaluated / (done - read))
                  if done > read else None}
        return report, timing

    # ---- publishing ------------------------------------------------------------------------
    def publish(self, merchant_id: str | None, lang: str, fmt: Format) -> str:
        """The customer-facing policy of the book that applies to the merchant now."""
        applying = self.applying(merchant_id)
        set_on: date | None = None if applying.set_at is None else applying.set_at.date()
        return publish(applying.book, lang, fmt,
                       Source(applying.version, applying.book_hash, set_on))


@cache
def _builtin_hash() -> str:
    """The hash of version 0 of every book (the built-in defaults)."""
    return digest(canonical_document(builtin_book()))
