"""A book as decisions use it: one version of one book, applied to an order's merchant.

``Rules.evaluate`` runs the current version of a policy with the settings that version takes
from the book, and records on the decision the order's merchant, whose book it was (the
merchant's own, or the platform's), its version (0: the built-in defaults) and the hash of the
settings. ``rerun`` evaluates a recorded decision again with exactly those settings: it fetches
that book version, derives the settings again and refuses when their hash is not the one
recorded (a book or a binding that changed after the fact).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

from aftersales_core.decisions import JSON, PolicyDecision
from aftersales_core.errors import DomainError
from aftersales_core.policies import registry
from aftersales_core.policies.registry import NO_SETTINGS
from aftersales_core.policybook.bindings import settings_for
from aftersales_core.policybook.builtin import builtin_book
from aftersales_core.policybook.canonical import digest
from aftersales_core.policybook.model import Book

Owner = Literal["merchant", "platform"]
PLATFORM: Owner = "platform"
MERCHANT: Owner = "merchant"
NO_SETTINGS_HASH = "none"


class SettingsMismatchError(DomainError):
    """A recorded decision's settings cannot be had again: its book is gone or changed."""

    code = "settings_mismatch"


@dataclass(frozen=True)
class BookId:
    """Whose book: a merchant's (by merchant id) or the platform's default."""

    owner: Owner
    merchant_id: str | None = None

    def __post_init__(self) -> None:
        if (self.owner == MERCHANT) != (self.merchant_id is not None):
            raise ValueError("a merchant's book names its merchant; the platform's names none")

    def __str__(self) -> str:
        return f"merchant {self.merchant_id}" if self.merchant_id else "the platform default"


PLATFORM_BOOK = BookId(PLATFORM)


def merchant_book(merchant_id: str) -> BookId:
    return BookId(MERCHANT, merchant_id)


class CorruptBookError(SettingsMismatchError):
    """A stored book version whose content no longer hashes to the hash recorded when it was
    set (changed in the store after the fact): nothing is decided on it, nothing shown as it."""

    code = "corrupt_book"

    def __init__(self, book_id: BookId, version: int, recorded: str, found: str) -> None:
        super().__init__(
            f"the policy book of {book_id}, version {version}, is corrupt: its stored content "
            f"hashes to {found}, not to the {recorded} recorded when it was set; nothing is "
            "decided on it (restore the store from a backup, or set a new version)")
        self.book_id, self.version, self.recorded, self.found = book_id, version, recorded, found


@dataclass
class Rulebook:
    """One version of one book, with the settings it gives each policy version (cached)."""

    book: Book
    book_id: BookId
    version: int  # 0: the built-in defaults
    _settings: dict[tuple[str, int], tuple[Any, str]] = field(default_factory=dict, repr=False)

    def settings(self, policy_id: str, version: int | None = None) -> tuple[Any, str]:
        """(settings, their hash) of a policy version (the current one when not given)."""
        version = registry.current_version(policy_id) if version is None else version
        key = (policy_id, version)
        found = self._settings.get(key)
        if found is None:
            settings = settings_for(self.book, policy_id, version)
            hashed = NO_SETTINGS_HASH if settings is NO_SETTINGS else digest(settings)
            found = self._settings[key] = (None if settings is NO_SETTINGS else settings, hashed)
        return found

    def for_merchant(self, merchant_id: str | None) -> Rules:
        return Rules(self, merchant_id)


@dataclass(frozen=True)
class Rules:
    """A rulebook applied to the orders of one merchant (or of none)."""

    rulebook: Rulebook
    merchant_id: str | None

    def record(self, settings_hash: str) -> JSON:
        return {"merchant_id": self.merchant_id, "book": self.rulebook.book_id.owner,
                "book_version": self.rulebook.version, "settings_hash": settings_hash}

    def settings(self, policy_id: str) -> Any:
        return self.rulebook.settings(policy_id)[0]

    def evaluate(self, policy_id: str, inputs: JSON) -> PolicyDecision:
        version = registry.current_version(policy_id)
        settings, hashed = self.rulebook.settings(policy_id, version)
        decision = registry.evaluate(policy_id, inputs, version, settings)
        return replace(decision, book=self.record(hashed))


def builtin_rules(merchant_id: str | None = None) -> Rules:
    """The built-in defaults (version 0 of the platform's book)."""
    return Rulebook(builtin_book(), PLATFORM_BOOK, 0).for_merchant(merchant_id)


class BookArchive(Protocol):
    def rulebook(self, book_id: BookId, version: int) -> Rulebook:
        """That version of that book (version 0: the built-in defaults); raises when unknown."""
        ...


def recorded_book(decision: PolicyDecision) -> tuple[BookId, int, str]:
    """(book, version, settings hash) a decision recorded; raises when the record is bad."""
    record = decision.book or {}
    try:
        owner, version, hashed = record["book"], record["book_version"], record["settings_hash"]
        merchant = record.get("merchant_id")
        if owner not in (MERCHANT, PLATFORM):
            raise ValueError(f"no book owner {owner!r}")
        book_id = BookId(owner, merchant if owner == MERCHANT else None)
    except (KeyError, TypeError, ValueError) as error:
        raise SettingsMismatchError(f"the decision's book record is malformed: {error}") from None
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise SettingsMismatchError(f"the decision's book version {version!r} is not a version")
    return book_id, version, str(hashed)


def rerun(decision: PolicyDecision, archive: BookArchive) -> PolicyDecision:
    """Evaluate a recorded decision again from its inputs, its policy version and the settings
    it used: those of its book version, or the version's built-in ones before books."""
    if decision.book is None:
        return registry.rerun(decision)
    book_id, version, recorded = recorded_book(decision)
    rulebook = archive.rulebook(book_id, version)
    settings, hashed = rulebook.settings(decision.policy_id, decision.policy_version)
    if hashed != recorded:
        raise SettingsMismatchError(
            f"{decision.policy_id} v{decision.policy_version}: the settings of {book_id} "
            f"version {version} hash to {hashed}, not to the {recorded} the decision recorded")
    again = registry.evaluate(decision.policy_id, decision.inputs, decision.policy_version,
                              settings)
    return replace(again, book=dict(decision.book))
