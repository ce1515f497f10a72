"""The returned-quantity ledger of an order: the units of a line in open or completed returns
never exceed the units ordered, across all its return cases (SPEC §3.2)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from uuid import UUID, uuid4

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from aftersales_core.domain.order import Order
from aftersales_core.errors import InvalidCommandError, ReturnQuantityExceededError
from tests.unit.domain import builders as b
from tests.unit.domain.machines import MACHINE_SETTINGS

RETURN_IDS = [UUID(int=n) for n in range(1, 7)]
LINES = ["1", "2", "3"]


def order_of(quantities: list[int]) -> Order:
    order = Order(order_id="o-1", timestamp=b.T0)
    order.place(
        event_id="o-1-placed", customer_id="c-1", market="US", currency="USD",
        fulfilment="domestic",
        lines=[{"line_id": line_id, "sku": f"SKU-{line_id}", "category": "home",
                "quantity": quantity, "unit_price": Decimal("10.00")}
               for line_id, quantity in zip(LINES, quantities, strict=False)],
        shipping_fee=Decimal(0), duties=Decimal(0), taxes=Decimal(0), discount=Decimal(0),
        total=Decimal(10) * sum(quantities), placed_at=b.T0, merchant_id=None, channel=None,
        extra="", by=b.UPSTREAM.principal_id, role=b.UPSTREAM.role, timestamp=b.T0)
    return order


class ReturnedQuantitiesMachine(RuleBasedStateMachine):
    """Reservations and releases of random returns against a plain model of the ledger."""

    @initialize(quantities=st.lists(st.integers(1, 5), min_size=3, max_size=3))
    def place(self, quantities: list[int]) -> None:
        self.ordered = dict(zip(LINES, quantities, strict=True))
        self.order = order_of(quantities)
        self.events = list(self.order.collect_events())
        self.model: dict[str, dict[str, int]] = {}
        self.now = b.T0

    def in_returns(self, line_id: str, except_case: str | None = None) -> int:
        return sum(lines.get(line_id, 0) for case, lines in self.model.items()
                   if case != except_case)

    @rule(case=st.sampled_from(RETURN_IDS),
          lines=st.dictionaries(st.sampled_from(LINES), st.integers(1, 6), min_size=1))
    def reserve(self, case: UUID, lines: dict[str, int]) -> None:
        self.now += timedelta(minutes=1)
        fits = all(self.in_returns(line_id, str(case)) + units <= self.ordered[line_id]
                   for line_id, units in lines.items())
        if not fits:
            before = b.snapshot(self.order)
            with pytest.raises(ReturnQuantityExceededError, match="exceed what was ordered"):
                self.order.reserve_return(case, lines, self.now)
            assert self.order == before
            return
        self.order.reserve_return(case, lines, self.now)
        changed = self.model.get(str(case)) != lines
        self.model[str(case)] = dict(lines)
        new = self.order.collect_events()
        assert [type(e) for e in new] == ([Order.ReturnReserved] if changed else [])
        self.events += new

    @rule(case=st.sampled_from(RETURN_IDS))
    def release(self, case: UUID) -> None:
        self.now += timedelta(minutes=1)
        held = str(case) in self.model
        self.order.release_return(case, "cancelled", self.now)
        self.model.pop(str(case), None)
        new = self.order.collect_events()
        assert [type(e) for e in new] == ([Order.ReturnReleased] if held else [])
        self.events += new

    @rule(case=st.sampled_from(RETURN_IDS), line_id=st.sampled_from(["9", ""]))
    def a_line_the_order_does_not_have_is_refused(self, case: UUID, line_id: str) -> None:
        before = b.snapshot(self.order)
        with pytest.raises(InvalidCommandError):
            self.order.reserve_return(case, {line_id: 1}, self.now)
        assert self.order == before

    @invariant()
    def no_line_ever_has_more_units_in_returns_than_were_ordered(self) -> None:
        for line_id, ordered in self.ordered.items():
            assert self.order.units_in_returns(line_id) == self.in_returns(line_id) <= ordered

    @invariant()
    def the_facts_the_policy_reads_agree_with_the_ledger(self) -> None:
        for fact in self.order.returned_before(LINES):
            assert fact["returned"] == self.in_returns(fact["line_id"])
            assert fact["ordered"] == self.ordered[fact["line_id"]]

    @invariant()
    def replaying_the_events_rebuilds_the_same_ledger(self) -> None:
        assert b.replay(self.events) == self.order


TestReturnedQuantities = ReturnedQuantitiesMachine.TestCase
TestReturnedQuantities.settings = MACHINE_SETTINGS


def test_the_issues_second_return_of_a_line_already_returned_is_refused() -> None:
    order = order_of([2])
    order.reserve_return(uuid4(), {"1": 2}, b.T0)
    with pytest.raises(ReturnQuantityExceededError, match="2 of 2 units are in other returns"):
        order.reserve_return(uuid4(), {"1": 1}, b.T0)


def test_a_released_return_gives_its_units_back() -> None:
    order = order_of([2])
    first = uuid4()
    order.reserve_return(first, {"1": 2}, b.T0)
    order.release_return(first, "rejected", b.T0)
    order.reserve_return(uuid4(), {"1": 2}, b.T0)
    assert order.units_in_returns("1") == 2
