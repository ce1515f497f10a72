"""The scripted desk: what agents, supervisors, the warehouse, the carriers, the payment
provider and the customers do next with each case, read from the `cases` projection, each step
sent by the principal who would take it (demo/principals.py). Simple, documented behaviours
(README, "Demo"):

| case, status | next step (business time after the case's last change) | by |
| --- | --- | --- |
| return pending_review | a supervisor approves it (4 h) | supervisor-ana |
| return approved, goods come back | an agent issues a return label (1 day) | agent-ben |
| return label_issued | the carrier scans the parcel back: Dispatched (2 days), Delivered (6 days) | the order's carrier |
| return received | the warehouse inspects: grade C for damaged/defective, else A (1 day) | warehouse-leeds |
| return inspected, or approved and returnless | an agent resolves it as asked (2 h) | agent-ben |
| return resolved | an agent closes it (3 days), after the round's refund steps | agent-ben |
| refund awaiting_approval | a supervisor approves it (8 h) | supervisor-olga |
| refund approved or failed | the payment provider issues it (2 h) | payments-psp |
| refund issued | the payment provider confirms settlement (1 day) | payments-psp |
| complaint open | first response: the merchant's real answer time to the review, else 6 h | agent-carla |
| complaint acknowledged | proposal (4 h): a coupon for delays, 10 % back for other order | agent-carla |
|  | issues, an apology when there is no order | |
| complaint proposed | the customer accepts (1 day) | the customer |
| complaint accepted | an agent resolves it (1 h) | agent-carla |
| complaint resolved | closed with the review's score as satisfaction, else 3 (1 day) | agent-carla |
"""  # noqa: E501

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from demo.principals import customer

H = timedelta(hours=1)


def return_parcel(row: dict[str, Any]) -> str:
    """The tracking number of a return's label, which the carrier's scans of the parcel carry
    (a scan is the return's whose label it carries, when an order has several)."""
    return f"RT-{row['case_id']}"


# (case type, status) -> the status the desk's step surely leads to
FOLLOWS = {
    ("refund", "awaiting_approval"): "approved",
    ("refund", "approved"): "issued",
    ("refund", "failed"): "issued",
    ("complaint", "open"): "acknowledged",
    ("complaint", "reopened"): "acknowledged",
    ("complaint", "acknowledged"): "proposed",
    ("complaint", "proposed"): "accepted",
    ("complaint", "accepted"): "resolved",
    ("return", "received"): "inspected",
    ("return", "inspected"): "resolved",
}


@dataclass
class Desk:
    """Knows what the customers said (review scores, answer times) and acts on case rows."""

    review_score: dict[str, int] = field(default_factory=dict)  # complaint id -> stars
    answer_hours: dict[str, float] = field(default_factory=dict)  # complaint id -> hours
    order_totals: dict[str, Decimal] = field(default_factory=dict)  # goods: a complaint's
    # refund pays for the goods, so its proposal offers a tenth of theirs
    carriers: dict[str, str] = field(default_factory=dict)  # order id -> carrier
    counter: int = 0

    def _cmd(self, name: str, row: dict[str, Any], after: timedelta, by: str, **fields: Any
             ) -> dict[str, Any]:
        """The envelope of one step: the principal ``by`` sends the command."""
        at = datetime.fromisoformat(row["updated_at"]) + after
        return {"as": by, "command": {"command": name, "case_id": row["case_id"],
                                      "at": at.isoformat(), **fields}}

    def next_steps(self, row: dict[str, Any]) -> tuple[list[dict[str, Any]],
                                                       list[dict[str, Any]]]:
        """(commands, return-shipment scans) for one case row: the next step, and the steps
        after it while each one's result is certain (they run in order in one submit; if one
        is refused, the rest are too, and the next round starts from the case's real state)."""
        commands: list[dict[str, Any]] = []
        row = dict(row)
        while True:
            self.counter += 1
            handler = getattr(self, f"_{row['case_type']}_{row['status']}", None)
            if handler is None:
                return commands, []
            more, scans = handler(row)
            commands += more
            follows = FOLLOWS.get((row["case_type"], row["status"]))
            if scans or not more or follows is None:
                return commands, scans
            row.update(status=follows, updated_at=more[-1]["command"]["at"])

    def round_of(self, rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]],
                                                           list[dict[str, Any]]]:
        """(commands, return-shipment scans) of one round: every case row's next steps, the
        returns' closes last, since a return resolved by a refund is closed only once its
        refunds are settled (CloseReturn is refused before), which the refunds' steps of the
        same round (approve, issue, settle) do first."""
        commands: list[dict[str, Any]] = []
        scans: list[dict[str, Any]] = []
        for row in rows:
            more, back = self.next_steps(row)
            commands += more
            scans += back
        commands.sort(key=lambda c: c["command"]["command"] == "CloseReturn")  # stable
        return commands, scans

    # returns
    def _return_pending_review(self, row: dict[str, Any]) -> Any:
        return [self._cmd("ApproveReturn", row, 4 * H, "supervisor-ana")], []

    def _return_approved(self, row: dict[str, Any]) -> Any:
        if row.get("returnless"):
            return [self._cmd("ResolveReturn", row, 2 * H, "agent-ben")], []
        return [self._cmd("IssueReturnLabel", row, 24 * H, "agent-ben",
                          carrier=self.carriers.get(row["order_id"], "DHL"),
                          tracking_number=return_parcel(row))], []

    def _return_label_issued(self, row: dict[str, Any]) -> Any:
        start = datetime.fromisoformat(row["updated_at"])
        order_id = row["order_id"]
        scans = [{"event_id": f"{row['case_id']}-back-{kind}", "event_type": kind,
                  "occurred_at": (start + after).isoformat(), "order_id": order_id,
                  "shipment_id": return_parcel(row),
                  "carrier": self.carriers.get(order_id, "DHL"), "direction": "return"}
                 for kind, after in (("Dispatched", 48 * H), ("Delivered", 144 * H))]
        return [], scans

    def _return_received(self, row: dict[str, Any]) -> Any:
        grade = "C" if row.get("reason") in ("damaged", "defective") else "A"
        return [self._cmd("InspectReturn", row, 24 * H, "warehouse-leeds", grade=grade,
                          findings="checked on arrival")], []

    def _return_inspected(self, row: dict[str, Any]) -> Any:
        return [self._cmd("ResolveReturn", row, 2 * H, "agent-ben")], []

    def _return_resolved(self, row: dict[str, Any]) -> Any:
        return [self._cmd("CloseReturn", row, 72 * H, "agent-ben")], []

    # refunds
    def _refund_awaiting_approval(self, row: dict[str, Any]) -> Any:
        return [self._cmd("ApproveRefund", row, 8 * H, "supervisor-olga")], []

    def _refund_approved(self, row: dict[str, Any]) -> Any:
        return [self._cmd("IssueRefund", row, 2 * H, "payments-psp")], []

    _refund_failed = _refund_approved

    def _refund_issued(self, row: dict[str, Any]) -> Any:
        return [self._cmd("ConfirmRefundSettled", row, 24 * H, "payments-psp",
                          provider_ref=f"psp-{self.counter:08d}")], []

    # complaints
    def _complaint_open(self, row: dict[str, Any]) -> Any:
        hours = self.answer_hours.get(row["case_id"], 6.0)
        return [self._cmd("AcknowledgeComplaint", row, timedelta(hours=hours), "agent-carla",
                          message="We are sorry and looking into it.")], []

    _complaint_reopened = _complaint_open

    def _complaint_acknowledged(self, row: dict[str, Any]) -> Any:
        total = self.order_totals.get(row.get("order_id") or "")
        if row["reason"] == "logistics_delay" or total is None:
            kind = "coupon" if total is not None else "apology"
            return [self._cmd("ProposeResolution", row, 4 * H, "agent-carla",
                              resolution=kind)], []
        amount = (total / 10).quantize(Decimal("0.01"))
        return [self._cmd("ProposeResolution", row, 4 * H, "agent-carla",
                          resolution="partial_refund", amount=str(amount))], []

    def _complaint_proposed(self, row: dict[str, Any]) -> Any:
        return [self._cmd("RespondToProposal", row, 24 * H, customer(row["customer_id"]),
                          accepted=True)], []

    def _complaint_accepted(self, row: dict[str, Any]) -> Any:
        return [self._cmd("ResolveComplaint", row, H, "agent-carla",
                          summary="resolution accepted by the customer")], []

    def _complaint_resolved(self, row: dict[str, Any]) -> Any:
        score = self.review_score.get(row["case_id"], 3)
        return [self._cmd("CloseComplaint", row, 24 * H, "agent-carla",
                          satisfaction=score)], []
