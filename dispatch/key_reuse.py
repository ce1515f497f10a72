"""An ``idempotency_key`` sent again: an exact retry of the request that opened its case, or a
different request under a key already used (a conflict, exit 4 / HTTP 409).

Cases do not keep a hash of the body that opened them, so the request is compared with what its
case recorded when it was opened: the fields that say what was asked for (``at`` is not
compared: a retry sent later may carry a later time). Personal text (a note, evidence links, a
complaint's description) is compared while it can be read; once erased, it is not."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aftersales_core.domain.complaints import ComplaintCase
from aftersales_core.domain.refunds import RefundCase
from aftersales_core.domain.returns import ReturnCase
from aftersales_core.errors import IdempotencyKeyConflictError
from aftersales_core.money import Money
from aftersales_core.personal import PersonalData, text_of
from schemas.commands import FileComplaint, RequestRefund, RequestReturn

Opening = RequestReturn | RequestRefund | FileComplaint


def check_same_request(case: object, command: Opening) -> None:
    """Refuse ``command`` when the case its key opened was opened by a different request."""
    if not _same(case, command):
        raise IdempotencyKeyConflictError(
            f"idempotency_key {command.idempotency_key}: the key was used for a different "
            f"{command.command} (it opened case {getattr(case, 'id', '?')}); an exact retry "
            "is answered as before, a different request needs a new key")


def _same(case: object, c: Opening) -> bool:
    if isinstance(c, RequestRefund):
        return isinstance(case, RefundCase) and _same_refund(case, c)
    if isinstance(c, RequestReturn):
        return isinstance(case, ReturnCase) and _same_return(case, c)
    return isinstance(case, ComplaintCase) and _same_complaint(case, c)


def _units(lines: list[Any]) -> list[tuple[str, int]]:
    return sorted((str(_get(x, "line_id")), int(_get(x, "quantity"))) for x in lines)


def _get(line: Any, name: str) -> Any:
    return line[name] if isinstance(line, dict) else getattr(line, name)


def _amount(value: Money | Decimal | str | None) -> Decimal | None:
    if value is None:
        return None
    return value.amount if isinstance(value, Money) else Decimal(value)


def _same_text(recorded: PersonalData | str | None, sent: str | None) -> bool:
    """Equal words, or words that cannot be read any more (erased: not compared)."""
    if isinstance(recorded, PersonalData) and recorded.erased:
        return True
    return text_of(recorded) == (sent or "")


def _same_refund(case: RefundCase, c: RequestRefund) -> bool:
    calculation = next((d for d in case.decisions if d.policy_id == "refund.calculation"), None)
    goodwill = None if calculation is None else calculation.inputs.get("goodwill")
    return (case.order_id, case.source, case.source_case_id, case.reason) == \
        (c.order_id, c.source, c.source_case_id, c.reason) \
        and _same_lines(case, c, calculation) \
        and _amount(case.requested_amount) == _amount(c.amount) \
        and _amount(goodwill) == _amount(c.goodwill)


def _same_lines(case: RefundCase, c: RequestRefund, calculation: Any) -> bool:
    """The lines asked for. A return's refund asked without lines takes every unit the return
    had left then, and its case records those units: a retry without lines asks the same when
    the case's lines are the units its calculation read as left (``return_units_left``), so a
    first request that named fewer lines is another request. A calculation that did not read
    them (before v5) cannot tell: not compared."""
    if c.source != "return" or c.lines:
        return _units(case.lines) == _units(c.lines)
    left = None if calculation is None else \
        (calculation.inputs.get("return_units_left") or {}).get("items")
    return left is None or _units(case.lines) == _units(left)


def _same_return(case: ReturnCase, c: RequestReturn) -> bool:
    evidence = case.evidence or []
    return (case.order_id, case.reason, case.wanted_outcome, case.channel) == \
        (c.order_id, c.reason, c.outcome, c.channel) \
        and _units(case.lines) == _units(c.lines) \
        and _same_text(case.note, c.note) \
        and (any(isinstance(e, PersonalData) and e.erased for e in evidence)
             or [text_of(e) for e in evidence] == list(c.evidence)) \
        and _same_facts(case, c)


def _first(case: ReturnCase, policy_id: str) -> dict[str, Any] | None:
    found = next((d for d in case.decisions if d.policy_id == policy_id), None)
    return None if found is None else dict(found.inputs)


def _same_facts(case: ReturnCase, c: RequestReturn) -> bool:
    """What the request stated that its first decisions read: the lines it called
    non-returnable and whether the goods are intact (eligibility), and what staff set about
    the return shipping (its estimate, whether the buyer was told the cost), when the
    request sets them (else the order's or the policy's applied)."""
    eligibility = _first(case, "return.eligibility")
    if eligibility is not None and (
            sorted(eligibility.get("non_returnable_line_ids") or []) !=
            sorted(c.non_returnable_line_ids)
            or eligibility.get("goods_intact") != c.goods_intact):
        return False
    shipping = _first(case, "return.shipping")
    if shipping is None:  # refused by eligibility: no shipping was decided
        return True
    if c.return_shipping_estimate is not None and \
            _amount(shipping.get("return_shipping_estimate")) != c.return_shipping_estimate:
        return False
    return c.buyer_informed_of_return_cost is None or \
        shipping.get("buyer_informed_of_return_cost") is c.buyer_informed_of_return_cost


def _same_complaint(case: ComplaintCase, c: FileComplaint) -> bool:
    return (case.order_id, case.channel, case.category) == (c.order_id, c.channel, c.category) \
        and c.customer_id in (None, case.customer_id) \
        and _same_text(case.description, c.description)
