"""Each case aggregate's lifecycle lists every event it has: the table the aggregate and the
`cases` projection fold with cannot miss one (the drift it replaced missed three)."""

from __future__ import annotations

from typing import Any

import pytest
from eventsourcing.domain import Aggregate, CanMutateAggregate

from aftersales_core.domain.complaints import ComplaintCase
from aftersales_core.domain.lifecycle import Standing, UnknownEventError
from aftersales_core.domain.refunds import RefundCase
from aftersales_core.domain.returns import ReturnCase

CASES: list[Any] = [ReturnCase, RefundCase, ComplaintCase]


def event_names(aggregate: type[Aggregate]) -> set[str]:
    return {name for name, obj in vars(aggregate).items()
            if isinstance(obj, type) and issubclass(obj, CanMutateAggregate) and name != "Event"}


@pytest.mark.parametrize("case", CASES, ids=[c.__name__ for c in CASES])
def test_the_lifecycle_lists_exactly_the_events_of_its_aggregate(case: Any) -> None:
    assert set(case.LIFECYCLE.moves) == event_names(case)
    assert case.LIFECYCLE.kind == case.KIND
    assert case.LIFECYCLE.opening in event_names(case)


def test_an_event_the_lifecycle_does_not_know_is_an_error() -> None:
    with pytest.raises(UnknownEventError, match="Renamed"):
        ReturnCase.LIFECYCLE.after(Standing("approved"), "Renamed", {})
    with pytest.raises(UnknownEventError, match="opens with Requested"):
        ReturnCase.LIFECYCLE.after(None, "Approved", {})


def test_escalations_keep_the_status_of_returns_and_refunds_but_not_of_complaints() -> None:
    before = Standing("approved")
    for case in (ReturnCase, RefundCase):
        assert case.LIFECYCLE.after(before, "Escalated", {"level": "supervisor"}) == Standing(
            "approved", "supervisor")
    assert ComplaintCase.LIFECYCLE.after(Standing("open"), "Escalated", {"level": "regulator"}) \
        == Standing("escalated", "regulator")


def test_only_the_first_reply_acknowledges_a_reopened_complaint() -> None:
    life = ComplaintCase.LIFECYCLE
    out = {"direction": "out"}
    assert life.after(Standing("open"), "MessageAdded", out) == Standing("acknowledged",
                                                                         answered=True)
    answered = Standing("reopened", answered=True)
    assert life.after(answered, "MessageAdded", out) == answered
    assert life.after(answered, "Acknowledged", {}).status == "acknowledged"
    assert life.after(Standing("open"), "MessageAdded", {"direction": "in"}) == Standing("open")
