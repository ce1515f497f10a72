"""Exchanges and repairs through the commands (the same path as the CLI), on both stores: the
replacement's price difference refunded or owed; a repair followed through with its deadlines;
and what a failed repair opens by the market's ladder of remedies."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from aftersales_core.application.results import CommandResult
from aftersales_core.application.services import Services
from aftersales_core.domain.refunds import RefundCase
from aftersales_core.domain.returns import ReturnCase
from aftersales_core.errors import (
    DomainError,
    IllegalTransitionError,
    InvalidCommandError,
    NotAuthorisedError,
)
from dispatch.commands import submit
from tests.factories import T0, caller, delivered_order

AT = T0 + timedelta(days=5)


PRINCIPALS = {"c-1": "customer-c-1", "warehouse": "warehouse-1", "tech": "warehouse-1",
              "agent-1": "agent-1"}


class Desk:
    """Submits commands as `aftersales submit --as` does, an hour apart; ``by`` says who sends
    it (the customer c-1, an agent, the warehouse or the repair technician at the warehouse)."""

    def __init__(self, app: Services) -> None:
        self.app, self.now = app, AT

    def __call__(self, command: str, by: str, **fields: Any) -> CommandResult:
        self.now += timedelta(hours=1)
        message = {"command": command, "at": self.now.isoformat(), **fields}
        return submit(self.app, caller(self.app, PRINCIPALS[by]), message, self.now)

    def returned(self, outcome: str, line: str = "2", reason: str = "defective") -> str:
        done = self("RequestReturn", order_id="o-1", reason=reason, outcome=outcome,
                    lines=[{"line_id": line, "quantity": 1}], by="c-1")
        assert done.status == "approved", [d["reasons"] for d in done.to_json()["decisions"]]
        case = str(done.case_id)
        self("ReceiveReturn", case_id=case, by="warehouse")
        self("InspectReturn", case_id=case, by="warehouse", grade="B")
        return case


def desk_for(app: Services, market: str = "DE", currency: str = "EUR") -> Desk:
    delivered_order(app, "o-1", market=market, currency=currency)  # line 2: 1 x 60.00
    return Desk(app)


def case_of(app: Services, case_id: str) -> ReturnCase:
    return app.store.load(ReturnCase, UUID(case_id))


# ---- exchanges -------------------------------------------------------------------------------

def test_a_cheaper_replacement_refunds_the_difference_as_a_refund_case(
        app: Services) -> None:
    desk = desk_for(app)
    case = desk.returned("exchange")
    done = desk("ResolveReturn", case_id=case, by="agent-1", replacement_sku="LAMP-7",
                replacement_unit_price="45.00")
    assert done.status == "resolved"
    assert [d.policy_id for d in done.decisions] == ["exchange.settlement",
                                                     "refund.calculation", "refund.approval"]
    refund = app.store.load(RefundCase, UUID(done.related["refund_case_id"]))
    assert (refund.source, refund.components) == ("exchange", {"items": "15.00"})
    assert refund.status == "approved"
    exchange = case_of(app, case).resolution["exchange"]  # type: ignore[index]
    assert exchange["replacement_sku"] == "LAMP-7" and exchange["refund"] == "15.00"


def test_a_dearer_replacement_records_what_the_buyer_owes(app: Services) -> None:
    desk = desk_for(app)
    case = desk.returned("exchange")
    done = desk("ResolveReturn", case_id=case, by="agent-1", replacement_sku="LAMP-9-XL",
                replacement_unit_price="75.00")
    assert done.decisions[0].outcome == "buyer_owes"
    assert "refund_case_id" not in done.related
    resolution = case_of(app, case).resolution
    assert resolution is not None and resolution["exchange"]["owed_by_buyer"] == "15.00"


def test_an_exchange_without_its_replacement_is_invalid_input(app: Services) -> None:
    desk = desk_for(app)
    case = desk.returned("exchange")
    with pytest.raises(DomainError, match="replacement_sku"):
        desk("ResolveReturn", case_id=case, by="agent-1")


# ---- repairs ---------------------------------------------------------------------------------

def repaired_and_back(desk: Desk, case: str, fault: str = "hinge") -> None:
    desk("SendToRepair", case_id=case, by="agent-1", repairer="FixIt Ltd")
    desk("DiagnoseRepair", case_id=case, by="tech", fault=fault, repairable=True)
    desk("CompleteRepair", case_id=case, by="tech", repaired=True)
    desk("ShipRepairedItem", case_id=case, by="tech", carrier="DHL", tracking_number="R-1")


def test_a_repair_is_followed_through_with_its_deadlines(app: Services) -> None:
    desk = desk_for(app, "GB", "GBP")
    case = desk.returned("repair")
    desk("ResolveReturn", case_id=case, by="agent-1")
    with pytest.raises(IllegalTransitionError, match="not repaired yet"):
        desk("CloseReturn", case_id=case, by="agent-1")
    sent = desk("SendToRepair", case_id=case, by="agent-1", repairer="FixIt Ltd")
    assert sent.status == "in_repair"
    repair = case_of(app, case).deadlines["repair"]
    started = datetime.fromisoformat(case_of(app, case).repair["started_at"])
    assert repair.due_at.astimezone(started.tzinfo).date() == started.date() + timedelta(days=30)
    assert "ends at the end of" in repair.basis and "Europe/London" in repair.basis
    desk("DiagnoseRepair", case_id=case, by="tech", fault="hinge", repairable=True)
    assert desk("CompleteRepair", case_id=case, by="tech", repaired=True).status == "repaired"
    assert case_of(app, case).deadlines["repair"].state == "met"
    assert "repair_ship" in case_of(app, case).deadlines
    desk("ShipRepairedItem", case_id=case, by="tech", carrier="DHL", tracking_number="R-1")
    assert desk("CloseReturn", case_id=case, by="agent-1").status == "closed"


def test_a_repair_not_done_in_time_is_escalated(app: Services) -> None:
    desk = desk_for(app, "CN", "CNY")
    case = desk.returned("repair")
    desk("ResolveReturn", case_id=case, by="agent-1")
    desk("SendToRepair", case_id=case, by="agent-1", repairer="FixIt")
    due = case_of(app, case).deadlines["repair"].due_at
    assert due - desk.now < timedelta(days=16)  # China: 15 days
    scheduler = caller(app, "system.scheduler")
    fired = app.deadlines.fire(scheduler, UUID(case), due + timedelta(seconds=1))
    assert [(f.name, f.action) for f in fired] == [("repair", "escalate")]
    assert case_of(app, case).escalations == ["supervisor"]


def test_uk_after_one_failed_repair_the_buyer_may_finally_reject_for_a_refund(
        app: Services) -> None:
    desk = desk_for(app, "GB", "GBP")
    case = desk.returned("repair")
    desk("ResolveReturn", case_id=case, by="agent-1")
    repaired_and_back(desk, case)
    failed = desk("ReportRepairFailed", case_id=case, by="c-1", fault="hinge")
    assert failed.status == "repair_failed"
    remedies = failed.decisions[0]
    assert (remedies.policy_id, remedies.details["remedies"]) == (
        "repair.remedies", ["refund", "price_reduction"])
    assert "Consumer Rights Act" in remedies.reasons[0]
    with pytest.raises(IllegalTransitionError, match="refund or price_reduction"):
        desk("SendToRepair", case_id=case, by="agent-1", repairer="FixIt")
    done = desk("ChooseRemedy", case_id=case, by="c-1", remedy="refund")
    refund = app.store.load(RefundCase, UUID(done.related["refund_case_id"]))
    assert refund.components["items"] == "60.00"
    assert case_of(app, case).resolution["kind"] == "refund"  # type: ignore[index]


def test_china_repairs_twice_for_the_same_fault_then_replaces(app: Services) -> None:
    desk = desk_for(app, "CN", "CNY")
    case = desk.returned("repair")
    desk("ResolveReturn", case_id=case, by="agent-1")
    repaired_and_back(desk, case)
    first = desk("ReportRepairFailed", case_id=case, by="c-1", fault="hinge")
    assert first.decisions[0].outcome == "repair_again"
    with pytest.raises(IllegalTransitionError):
        desk("ChooseRemedy", case_id=case, by="c-1", remedy="refund")
    repaired_and_back(desk, case)
    second = desk("ReportRepairFailed", case_id=case, by="c-1", fault="hinge")
    assert second.decisions[0].details["remedies"] == ["replacement", "refund"]
    done = desk("ChooseRemedy", case_id=case, by="c-1", remedy="replacement")
    assert done.decisions[0].outcome == "even"
    exchange = case_of(app, case).resolution["exchange"]  # type: ignore[index]
    assert exchange["replacement_sku"] == "LAMP-9"


def test_a_replacement_chosen_after_a_failed_repair_is_free_of_charge(app: Services) -> None:
    """The legal guarantee's replacement costs the buyer nothing (Directive (EU) 2019/771
    art. 14(1)(a)), even when the line's share of the order discount made it cost less than the
    replacement's list price: exchange.settlement v2 settles it even."""
    delivered_order(app, "o-1", market="DE", currency="EUR", discount="14.00", total="150.00",
                    lines=[{"line_id": "l1", "sku": "SKU-A", "category": "home", "quantity": 1,
                            "unit_price": "40.00"},
                           {"line_id": "l2", "sku": "SKU-B", "category": "home", "quantity": 1,
                            "unit_price": "100.00"}])
    desk = Desk(app)
    case = desk.returned("repair", line="l1")
    desk("ResolveReturn", case_id=case, by="agent-1")
    desk("SendToRepair", case_id=case, by="agent-1", repairer="FixIt")
    desk("DiagnoseRepair", case_id=case, by="tech", fault="cracked base", repairable=False)
    desk("CompleteRepair", case_id=case, by="tech", repaired=False)
    done = desk("ChooseRemedy", case_id=case, by="c-1", remedy="replacement")
    [settlement] = done.decisions
    assert (settlement.policy_id, settlement.policy_version) == ("exchange.settlement", 2)
    assert settlement.outcome == "even", settlement.reasons
    assert settlement.details["paid_for_returned"] == "36.00"
    assert settlement.details["owed_by_buyer"] is None and "refund_case_id" not in done.related
    assert "free of charge" in settlement.reasons[0]
    exchange = case_of(app, case).resolution["exchange"]  # type: ignore[index]
    assert (exchange["replacement_sku"], exchange["settlement"], exchange["owed_by_buyer"]) == (
        "SKU-A", "even", None)


def test_an_exchange_the_buyer_chose_of_the_same_discounted_item_owes_the_difference(
        app: Services) -> None:
    """Not a remedy: the buyer chose the exchange, so the price difference settles (the goods
    are dearer here, so that they come back rather than stay with the buyer)."""
    delivered_order(app, "o-1", market="DE", currency="EUR", discount="140.00", total="1284.00",
                    lines=[{"line_id": "l1", "sku": "SKU-A", "category": "home", "quantity": 1,
                            "unit_price": "400.00"},
                           {"line_id": "l2", "sku": "SKU-B", "category": "home", "quantity": 1,
                            "unit_price": "1000.00"}])
    desk = Desk(app)
    case = desk.returned("exchange", line="l1")
    done = desk("ResolveReturn", case_id=case, by="agent-1", replacement_sku="SKU-A",
                replacement_unit_price="400.00")
    assert (done.decisions[0].outcome, done.decisions[0].details["owed_by_buyer"]) == (
        "buyer_owes", "40.00")


def test_eu_goods_that_cannot_be_repaired_get_a_price_reduction_if_the_buyer_wants(
        app: Services) -> None:
    desk = desk_for(app, "FR", "EUR")
    case = desk.returned("repair")
    desk("ResolveReturn", case_id=case, by="agent-1")
    desk("SendToRepair", case_id=case, by="agent-1", repairer="FixIt")
    desk("DiagnoseRepair", case_id=case, by="tech", fault="cracked base", repairable=False)
    with pytest.raises(IllegalTransitionError, match="not repairable"):
        desk("CompleteRepair", case_id=case, by="tech", repaired=True)
    failed = desk("CompleteRepair", case_id=case, by="tech", repaired=False)
    assert failed.decisions[0].details["remedies"] == ["replacement", "price_reduction",
                                                       "refund"]
    stored = app.store.recorder.max_notification_id()
    with pytest.raises(NotAuthorisedError, match="amount: only the merchant's staff"):
        desk("ChooseRemedy", case_id=case, by="c-1", remedy="price_reduction", amount="20.00")
    with pytest.raises(InvalidCommandError, match="amount: a price reduction's amount is the "
                                                  "merchant's offer"):
        desk("ChooseRemedy", case_id=case, by="c-1", remedy="price_reduction")
    assert app.store.recorder.max_notification_id() == stored  # the buyer named no amount
    done = desk("ChooseRemedy", case_id=case, by="agent-1", remedy="price_reduction",
                amount="20.00")  # the buyer asked for it; the merchant offers its amount
    refund = app.store.load(RefundCase, UUID(done.related["refund_case_id"]))
    assert refund.components == {"items": "20.00"}
    assert case_of(app, case).resolution["kind"] == "price_reduction"  # type: ignore[index]


def test_the_cases_read_model_follows_a_repair_through_every_state(
        app: Services, tmp_path: Any) -> None:
    from aftersales.bootstrap import store_reader
    from projections.db import ReadDatabase
    from projections.rebuild import rebuild

    desk = desk_for(app, "GB", "GBP")
    case = desk.returned("repair")
    desk("ResolveReturn", case_id=case, by="agent-1")
    db = ReadDatabase(f"sqlite:///{tmp_path / 'read.sqlite'}")
    seen = []
    for command, fields in [("SendToRepair", {"repairer": "FixIt"}),
                            ("DiagnoseRepair", {"fault": "hinge", "repairable": True}),
                            ("CompleteRepair", {"repaired": True}),
                            ("ShipRepairedItem", {"carrier": "DHL", "tracking_number": "R"}),
                            ("ReportRepairFailed", {"fault": "hinge"})]:
        desk(command, case_id=case, by="agent-1", **fields)
        rebuild(db, ["cases"], store_reader(app))
        with db.transaction() as tx:
            seen.append(tx.one("SELECT status FROM cases WHERE case_id = ?", (case,))[0])
        assert seen[-1] == case_of(app, case).status.value
    assert seen == ["in_repair", "diagnosed", "repaired", "repair_shipped", "repair_failed"]
