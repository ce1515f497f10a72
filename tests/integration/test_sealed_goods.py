"""Sealed audio, video and software (SPEC 3.2, China 7-day: "excludes ... unsealed
audio/video/software"; README's categories: returnable without a fault "only with the seal
unbroken"): the eligibility says the inspection checks the seal, so ``InspectReturn`` records
it, and a broken seal leaves those units unrefunded; a faulty good is refunded whatever its
seal (found cold, F1)."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

import pytest

from aftersales_core.application.services import Services
from aftersales_core.domain.refunds import RefundCase
from aftersales_core.domain.returns import ReturnCase
from aftersales_core.errors import InvalidFieldError
from tests.factories import T0, caller, delivered_order

AT = T0 + timedelta(days=4)  # the day after delivery
DVD = {"line_id": "l1", "sku": "DVD-1", "category": "audio_video_software", "quantity": 2,
       "unit_price": "80.00"}
MUG = {"line_id": "l2", "sku": "MUG-1", "category": "home", "quantity": 1,
       "unit_price": "40.00"}


def received(app: Services, reason: str, lines: list[dict[str, object]],
             order_id: str = "cn1") -> UUID:
    """A CN domestic order (DVDs and a mug, 200.00 CNY), delivered; a return of ``lines``
    for ``reason``, approved and received."""
    delivered_order(app, order_id, market="CN", currency="CNY", fulfilment="domestic",
                    lines=[DVD, MUG], shipping_fee="0.00", taxes="0.00",
                    buyer_timezone="Asia/Shanghai")
    rid = uuid4()
    app.returns.request(caller(app, "agent-1"), rid, order_id,
                        [{"line_id": x["line_id"], "quantity": x["quantity"]} for x in lines],
                        reason, "refund", AT)
    assert app.store.load(ReturnCase, rid).status.value == "approved"
    app.returns.receive(caller(app, "warehouse-1"), rid, AT + timedelta(days=2))
    return rid


def resolved_refund(app: Services, rid: UUID) -> RefundCase:
    done = app.resolutions.resolve(caller(app, "agent-1"), rid, AT + timedelta(days=3))
    return app.store.load(RefundCase, UUID(done.related["refund_case_id"]))


def calculation(refund: RefundCase) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    found = next(d for d in refund.decisions if d.policy_id == "refund.calculation")
    assert found.policy_version == 6
    return found.details["total"], found.reasons, found.rules


def test_a_no_reason_return_of_unsealed_goods_is_not_refunded(app: Services) -> None:
    """Reproduction: grade D "seal broken" was refunded in full (80.00 CNY). The inspection
    records the seal broken; the return's refund leaves the unit out, naming the seal, and
    refunds the rest of the return (the mug)."""
    rid = received(app, "changed_mind", [{"line_id": "l1", "quantity": 1},
                                         {"line_id": "l2", "quantity": 1}])
    eligibility = app.store.load(ReturnCase, rid).latest("return.eligibility")
    assert eligibility is not None
    assert any("returnable only with its seal unbroken" in r for r in eligibility.reasons)
    app.returns.inspect(caller(app, "warehouse-1"), rid, "D", AT + timedelta(days=2),
                        findings="seal broken", seal_intact=False)
    assert app.store.load(ReturnCase, rid).seal_intact is False
    total, reasons, rules = calculation(resolved_refund(app, rid))
    assert total == "40.00"  # the mug only
    assert "refund.seal_broken" in rules
    assert any(r.startswith("1 of line l1 not refunded") and "seal broken" in r
               for r in reasons)
    # the items' reason says why fewer units are refunded: the seal, not earlier refunds
    # (there are none; found cold: "the return's earlier refunds took all but 0")
    assert not any("earlier refunds" in r for r in reasons), reasons
    assert any("1 of line l1 found with the seal broken: 0 of the 1 asked for left to refund"
               in r for r in reasons), reasons


def test_a_return_of_only_unsealed_goods_resolves_with_nothing_to_refund(
        app: Services) -> None:
    rid = received(app, "changed_mind", [{"line_id": "l1", "quantity": 2}])
    app.returns.inspect(caller(app, "warehouse-1"), rid, "C", AT + timedelta(days=2),
                        seal_intact=False)
    refund = resolved_refund(app, rid)
    total, _, rules = calculation(refund)
    assert (total, refund.status.value) == ("0.00", "rejected")
    assert "refund.seal_broken" in rules
    assert app.store.load(ReturnCase, rid).status.value == "resolved"


def test_sealed_goods_found_sealed_are_refunded(app: Services) -> None:
    rid = received(app, "changed_mind", [{"line_id": "l1", "quantity": 2}])
    app.returns.inspect(caller(app, "warehouse-1"), rid, "A", AT + timedelta(days=2),
                        seal_intact=True)
    total, _, rules = calculation(resolved_refund(app, rid))
    assert total == "160.00" and "refund.seal_broken" not in rules


def test_a_defective_sealed_good_is_refunded_whatever_its_seal(app: Services) -> None:
    """A merchant-fault return does not depend on the seal: the seal may be recorded (the
    goods are sealed ones), and a broken one changes nothing."""
    rid = received(app, "defective", [{"line_id": "l1", "quantity": 1}])
    app.returns.inspect(caller(app, "warehouse-1"), rid, "D", AT + timedelta(days=2))
    total, _, rules = calculation(resolved_refund(app, rid))
    assert total == "80.00" and "refund.seal_broken" not in rules
    other = received(app, "defective", [{"line_id": "l1", "quantity": 1}], order_id="cn2")
    app.returns.inspect(caller(app, "warehouse-1"), other, "D", AT + timedelta(days=2),
                        seal_intact=False)
    total, _, rules = calculation(resolved_refund(app, other))
    assert total == "80.00" and "refund.seal_broken" not in rules


def test_the_inspection_states_the_seal_when_the_return_depends_on_it(app: Services) -> None:
    rid = received(app, "changed_mind", [{"line_id": "l1", "quantity": 1}])
    with pytest.raises(InvalidFieldError, match="seal_intact: line l1 is returnable only"):
        app.returns.inspect(caller(app, "warehouse-1"), rid, "A", AT + timedelta(days=2))
    assert app.store.load(ReturnCase, rid).status.value == "received"


def test_no_seal_is_recorded_for_goods_without_one(app: Services) -> None:
    rid = received(app, "changed_mind", [{"line_id": "l2", "quantity": 1}])
    with pytest.raises(InvalidFieldError, match="seal_intact: the return holds no sealed"):
        app.returns.inspect(caller(app, "warehouse-1"), rid, "A", AT + timedelta(days=2),
                            seal_intact=True)
