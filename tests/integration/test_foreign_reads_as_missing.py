"""A customer asking about another customer's case or order gets what a missing one gets, word
for word and after the same work (SECURITY.md: a customer may never see that another
customer's case exists; the time an answer takes must not tell either): the same store
reads, the same access decision, the same denial recorded. No timer is read: the code path
is compared."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest

from aftersales_core.application.access import Denial
from aftersales_core.application.services import Services
from aftersales_core.domain.ids import order_aggregate_id
from aftersales_core.errors import DomainError
from dispatch.commands import submit
from tests.factories import customer, delivered_order, run

MISSING_CASE = "00000000-0000-4000-8000-000000000000"


class Spy:
    """What one call does: the aggregates it reads from the store, the denials it records."""

    def __init__(self, app: Services, monkeypatch: pytest.MonkeyPatch) -> None:
        self.reads: list[UUID] = []
        self.denials: list[Denial] = []
        history, log = app.store.history, app.access.denials

        def reading(aggregate_id: UUID) -> tuple[Any, ...]:
            self.reads.append(aggregate_id)
            return history(aggregate_id)

        class Recording:
            def record(inner, denial: Denial) -> None:
                self.denials.append(denial)
                log.record(denial)

        monkeypatch.setattr(app.store, "history", reading)
        monkeypatch.setattr(app.access, "denials", Recording())

    def run(self, work: Callable[[], Any]) -> tuple[str, int, list[tuple[str, str]]]:
        """(the error's words with the id taken out, store reads, denials' operation and
        rule)."""
        self.reads.clear()
        self.denials.clear()
        with pytest.raises(DomainError) as raised:
            work()
        words = f"{type(raised.value).__name__}: {raised.value}"
        return (words, len(self.reads),
                [(d.operation, d.rule) for d in self.denials])


@pytest.fixture
def world(app: Services) -> dict[str, str]:
    delivered_order(app, "o-1", customer_id="c-1")
    returned = run(app, "customer-c-1", {"command": "RequestReturn", "order_id": "o-1",
                                         "reason": "defective",
                                         "lines": [{"line_id": "2", "quantity": 1}]})
    complaint = run(app, "customer-c-1", {"command": "FileComplaint", "order_id": "o-1",
                                          "channel": "email", "category": "damaged",
                                          "description": "broken"})
    return {"return": str(returned.case_id), "complaint": str(complaint.case_id)}


def test_reading_a_foreign_case_or_order_does_what_reading_a_missing_one_does(
        app: Services, world: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    c2 = customer(app, "c-2")
    spy = Spy(app, monkeypatch)
    for foreign, missing in [(world["return"], MISSING_CASE),
                             (world["complaint"], MISSING_CASE),
                             (str(order_aggregate_id("o-1")), str(order_aggregate_id("o-9")))]:
        theirs = spy.run(lambda f=foreign: app.reads.case(c2, UUID(f)))
        none = spy.run(lambda m=missing: app.reads.case(c2, UUID(m)))
        assert theirs[0].replace(foreign, "ID") == none[0].replace(missing, "ID")
        assert theirs[1:] == none[1:] and none[2] == [("ReadCase", "access.own")]


@pytest.mark.parametrize("command", [
    {"command": "RequestReturn", "reason": "defective", "lines": [{"line_id": "2",
                                                                   "quantity": 1}]},
    {"command": "FileComplaint", "channel": "email", "category": "damaged",
     "description": "x"},
])
def test_a_command_on_a_foreign_order_does_what_one_on_a_missing_order_does(
        app: Services, world: dict[str, str], monkeypatch: pytest.MonkeyPatch,
        command: dict[str, Any]) -> None:
    c2 = customer(app, "c-2")
    spy = Spy(app, monkeypatch)
    now = datetime.now(UTC)
    theirs = spy.run(lambda: submit(app, c2, {**command, "order_id": "o-1"}, now))
    none = spy.run(lambda: submit(app, c2, {**command, "order_id": "o-9"}, now))
    assert theirs[0].replace("o-1", "ID") == none[0].replace("o-9", "ID")
    assert theirs[1:] == none[1:] and none[2] == [(command["command"], "access.own")]


@pytest.mark.parametrize(("command", "case"), [
    ({"command": "CancelReturn"}, "return"),
    ({"command": "AddComplaintMessage", "direction": "in", "text": "hello"}, "complaint"),
    ({"command": "ReopenComplaint", "reason": "not fixed"}, "complaint"),
])
def test_a_command_on_a_foreign_case_does_what_one_on_a_missing_case_does(
        app: Services, world: dict[str, str], monkeypatch: pytest.MonkeyPatch,
        command: dict[str, Any], case: str) -> None:
    c2 = customer(app, "c-2")
    spy = Spy(app, monkeypatch)
    now = datetime.now(UTC)
    theirs = spy.run(lambda: submit(app, c2, {**command, "case_id": world[case]}, now))
    none = spy.run(lambda: submit(app, c2, {**command, "case_id": MISSING_CASE}, now))
    assert theirs[0].replace(world[case], "ID") == none[0].replace(MISSING_CASE, "ID")
    assert theirs[1:] == none[1:] and none[2] == [(command["command"], "access.own")]
