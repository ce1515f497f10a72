"""The refund ledger of an order: cumulative refunds never exceed what was paid (SPEC §3.1)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from aftersales_core.domain.ids import order_aggregate_id
from aftersales_core.domain.order import Order
from aftersales_core.errors import (
    CurrencyMismatchError,
    InvalidCommandError,
    RefundCapExceededError,
)
from aftersales_core.money import MINOR_UNITS, Money
from tests.unit.domain import builders as b
from tests.unit.domain.machines import MACHINE_SETTINGS

REFUND_IDS = [UUID(int=n) for n in range(1, 6)]


def placed_order(currency: str = "EUR", payments: tuple[str, ...] = ("100.00",)) -> Order:
    order = Order(order_id="o-1", timestamp=b.T0)
    order.place(
        event_id="o-1-placed",
        customer_id="c-1",
        market="DE",
        currency=currency,
        fulfilment="direct_mail",
        lines=[
            {
                "line_id": "1",
                "sku": "MUG",
                "category": "home",
                "quantity": 1,
                "unit_price": Decimal(payments[0]),
            }
        ],
        shipping_fee=Decimal(0),
        duties=Decimal(0),
        taxes=Decimal(0),
        discount=Decimal(0),
        total=sum(map(Decimal, payments), Decimal(0)),
        placed_at=b.T0,
        merchant_id=None,
        channel=None,
        extra={},
        by=b.UPSTREAM.principal_id,
        role=b.UPSTREAM.role,
        timestamp=b.T0,
    )
    for n, amount in enumerate(payments):
        order.pay(
            event_id=f"o-1-paid-{n}",
            payment_id=f"pay-{n}",
            method="card",
            amount=Money.exact(amount, currency).amount,
            currency=currency,
            paid_at=b.T0,
            by=b.UPSTREAM.principal_id,
            role=b.UPSTREAM.role,
            timestamp=b.T0,
        )
    return order


class OrderLedgerMachine(RuleBasedStateMachine):
    """Reservations and releases with random amounts, against a plain model of the ledger."""

    def __init__(self) -> None:
        super().__init__()
        self.now = b.T0
        self.reserved: dict[str, Decimal] = {}  # the model: refund id -> amount
        self.events: list[object] = []

    @initialize(
        currency=st.sampled_from(["EUR", "JPY", "BHD", "CNY"]),
        units=st.lists(st.integers(min_value=0, max_value=10**7), min_size=1, max_size=3),
    )
    def place_and_pay(self, currency: str, units: list[int]) -> None:
        self.currency = currency
        self.unit = Decimal(1).scaleb(-MINOR_UNITS[currency])
        self.order = placed_order(currency, tuple(str(u * self.unit) for u in units))
        self.events = list(self.order.collect_events())

    def money(self, units: int) -> Money:
        return Money(units * self.unit, self.currency)

    def left(self) -> Decimal:
        return self.order.paid.amount - sum(self.reserved.values(), Decimal(0))

    def refused_without_change(self, error: type[Exception], action: Callable[[], object]) -> None:
        before = b.snapshot(self.order)
        with pytest.raises(error):
            action()
        assert self.order == before

    @rule(minutes=st.integers(min_value=0, max_value=600))
    def time_passes(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)

    @rule(refund=st.sampled_from(REFUND_IDS), data=st.data())
    def reserve(self, refund: UUID, data: st.DataObject) -> None:
        paid_units = int(self.order.paid.amount / self.unit)
        left_units = int(self.left() / self.unit)
        units = data.draw(
            st.one_of(
                st.just(left_units),
                st.just(left_units + 1),
                st.just(0),
                st.integers(min_value=0, max_value=paid_units * 3 // 2 + 1),
            ),
            "units",
        )
        amount = self.money(units)
        if amount.amount > self.left():
            self.refused_without_change(
                RefundCapExceededError, lambda: self.order.reserve_refund(refund, amount, self.now)
            )
            return
        self.order.reserve_refund(refund, amount, self.now)
        self.reserved[str(refund)] = amount.amount
        new = self.order.collect_events()
        assert [type(e) for e in new] == [Order.RefundReserved]
        self.events += new
        assert self.order.refunded.amount == sum(self.reserved.values(), Decimal(0))

    @rule(refund=st.sampled_from(REFUND_IDS), units=st.integers(min_value=1, max_value=10**6))
    def a_negative_reservation_is_refused(self, refund: UUID, units: int) -> None:
        self.refused_without_change(
            InvalidCommandError,
            lambda: self.order.reserve_refund(refund, self.money(-units), self.now),
        )

    @rule(refund=st.sampled_from(REFUND_IDS), other=st.sampled_from(["USD", "GBP", "EUR", "KWD"]))
    def a_reservation_in_another_currency_is_refused(self, refund: UUID, other: str) -> None:
        if other == self.currency:
            return
        self.refused_without_change(
            CurrencyMismatchError,
            lambda: self.order.reserve_refund(refund, Money.of(0, other), self.now),
        )

    @rule(refund=st.sampled_from(REFUND_IDS))
    def release(self, refund: UUID) -> None:
        was_reserved = str(refund) in self.reserved
        self.order.release_refund(refund, self.now)
        self.reserved.pop(str(refund), None)
        new = self.order.collect_events()
        assert [type(e) for e in new] == ([Order.RefundReleased] if was_reserved else [])
        self.events += new

    @precondition(lambda self: len(self.order.payments) < 5)
    @rule(units=st.integers(min_value=0, max_value=10**6))
    def another_payment_arrives(self, units: int) -> None:
        n = len(self.order.payments)
        self.order.pay(
            event_id=f"o-1-paid-{n}",
            payment_id=f"pay-{n}",
            method="card",
            amount=units * self.unit,
            currency=self.currency,
            paid_at=self.now,
            by=b.UPSTREAM.principal_id,
            role=b.UPSTREAM.role,
            timestamp=self.now,
        )
        self.events += self.order.collect_events()

    # ---- invariants --------------------------------------------------------------------------
    @invariant()
    def what_is_reserved_never_exceeds_what_was_paid(self) -> None:
        assert self.order.refunded <= self.order.paid
        assert self.order.refunded.amount == sum(self.reserved.values(), Decimal(0))

    @invariant()
    def what_is_left_to_refund_is_never_negative(self) -> None:
        assert not self.order.refundable.is_negative()
        assert self.order.refundable == self.order.paid - self.order.refunded

    @invariant()
    def no_amount_in_the_ledger_is_negative(self) -> None:
        assert not self.order.paid.is_negative()
        assert all(amount >= 0 for amount in self.order.refunds.values())
        assert all(amount >= 0 for amount in self.order.payments.values())

    @invariant()
    def the_facts_policies_read_agree_with_the_ledger(self) -> None:
        facts = self.order.facts()
        assert Decimal(facts["paid"]) == self.order.paid.amount
        assert Decimal(facts["already_refunded"]) == self.order.refunded.amount

    @invariant()
    def replaying_the_events_rebuilds_the_same_ledger(self) -> None:
        assert b.replay(self.events) == self.order


TestOrderLedgerStateMachine = OrderLedgerMachine.TestCase
TestOrderLedgerStateMachine.settings = MACHINE_SETTINGS


# ---- examples ------------------------------------------------------------------------------


def at(hours: int) -> datetime:
    return b.T0 + timedelta(hours=hours)


def test_the_order_id_is_derived_from_the_upstream_order_id() -> None:
    assert placed_order().id == order_aggregate_id("o-1")


def test_refunds_may_add_up_to_exactly_what_was_paid_and_not_a_cent_more() -> None:
    order = placed_order("EUR", ("60.00", "40.00"))
    order.reserve_refund(uuid4(), Money.of("70.00", "EUR"), at(1))
    order.reserve_refund(uuid4(), Money.of("30.00", "EUR"), at(2))
    assert order.refundable == Money.zero("EUR")
    with pytest.raises(RefundCapExceededError):
        order.reserve_refund(uuid4(), Money.of("0.01", "EUR"), at(3))
    order.reserve_refund(uuid4(), Money.zero("EUR"), at(3))


def test_a_released_reservation_can_be_refunded_again() -> None:
    order = placed_order("JPY", ("5000",))
    first = uuid4()
    order.reserve_refund(first, Money.of("5000", "JPY"), at(1))
    order.release_refund(first, at(2))
    assert order.refundable == Money.of("5000", "JPY")
    order.reserve_refund(uuid4(), Money.of("5000", "JPY"), at(3))


def test_releasing_an_unknown_reservation_records_nothing() -> None:
    order = placed_order()
    order.collect_events()
    order.release_refund(uuid4(), at(1))
    assert order.pending_events == []


def test_the_ledger_counts_the_orders_other_refunds_for_the_approval_threshold() -> None:
    order = placed_order(payments=("100.00",))
    first, second = uuid4(), uuid4()
    order.reserve_refund(first, Money(Decimal("30.00"), "EUR"), b.T0)
    order.reserve_refund(second, Money(Decimal("20.00"), "EUR"), b.T0)
    assert order.refunded_besides(first) == Money(Decimal("20.00"), "EUR")
    assert order.refunded_besides(uuid4()) == Money(Decimal("50.00"), "EUR")
    order.release_refund(second, b.T0)  # rejected: it no longer counts
    assert order.refunded_besides(first) == Money(Decimal("0"), "EUR")


def test_an_order_placed_before_the_return_cost_fact_existed_says_nothing_of_it() -> None:
    """A stored Placed event without ``buyer_informed_of_return_cost`` folds to None (not
    told), as every event stored before the field existed does."""
    from aftersales_core.domain.folding import fold

    order = placed_order()
    events = order.collect_events()
    placed = next(e for e in events if type(e).__name__ == "Placed")
    assert placed.__dict__.pop("buyer_informed_of_return_cost") is None
    again = fold(None, events)
    assert again.buyer_informed_of_return_cost is None and again.placed
