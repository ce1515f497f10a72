"""Commands (SPEC §4.3): one JSON object whose field ``command`` names it. The same models serve
the CLI and any later HTTP or Kafka entry point; dispatch/commands.py hands each to its service.

A command never names its actor: who acts, and in which role, is the authenticated principal
(``ACTOR_FIELDS`` lists the fields older commands carried; dispatch refuses a body whose actor
field names anyone else)."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field, TypeAdapter

from aftersales_core.policies.vocabulary import ComplaintChannel
from schemas.common import (
    Amount,
    CustomerId,
    Detail,
    Flag,
    Ident,
    Integer,
    Message,
    Note,
    Quantity,
    Strict,
    Text,
    Timestamp,
)

ReturnReason = Literal[
    "damaged",
    "defective",
    "wrong_item",
    "not_as_described",
    "counterfeit_suspected",
    "changed_mind",
    "no_longer_needed",
    "doesnt_fit",
    "better_price_found",
    "arrived_late",
    "other",
]
Channel = Literal["chat", "phone", "email", "platform", "social", "regulator", "web", "store"]
ComplaintCategory = Literal[
    "logistics_delay",
    "damaged",
    "not_as_described",
    "counterfeit_suspected",
    "customs",
    "refund_delay",
    "service",
    "other",
]


class Command(Strict):
    at: Timestamp | None = Field(None, description="RFC 3339; the CLI fills the current time")


class NewCase(Command):
    case_id: UUID | None = Field(None, description="id of the new case (staff only); else "
                                                   "derived from the idempotency key, or new")
    idempotency_key: Ident | None = Field(
        None, description="retrying with the same key never opens a second case (keys are "
                          "the sending principal's own: another's same key is another case)"
    )


class ExistingCase(Command):
    case_id: UUID


class ReturnLine(Strict):
    line_id: Ident
    quantity: Quantity


class RequestReturn(NewCase):
    command: Literal["RequestReturn"]
    order_id: Ident
    lines: Annotated[list[ReturnLine], Field(min_length=1, max_length=500)]
    reason: ReturnReason
    outcome: Literal["refund", "exchange", "repair"] = "refund"
    note: Note | None = None
    evidence: Annotated[list[Detail], Field(max_length=20)] = []
    channel: Channel = "web"
    non_returnable_line_ids: list[Ident] = []
    goods_intact: Flag | None = None
    buyer_informed_of_return_cost: Flag | None = Field(
        None, description="staff only: the buyer was told beforehand that they bear the return "
                          "cost (left out: what the order's storefront said, else not told)")
    return_shipping_estimate: Amount | None = Field(
        None, description="staff only: a carrier's quote for sending the goods back (left out: "
                          "the policy's rate table)")


class ApproveReturn(ExistingCase):
    command: Literal["ApproveReturn"]
    buyer_informed_of_return_cost: Flag | None = Field(
        None, description="the buyer was told beforehand that they bear the return cost (left "
                          "out: what the order's storefront said, else not told)")
    return_shipping_estimate: Amount | None = Field(
        None, description="a carrier's quote for sending the goods back (left out: the "
                          "policy's rate table)")


class RejectReturn(ExistingCase):
    command: Literal["RejectReturn"]
    reason: Text


class CancelReturn(ExistingCase):
    command: Literal["CancelReturn"]
    reason: Text = "cancelled by the customer"


class IssueReturnLabel(ExistingCase):
    command: Literal["IssueReturnLabel"]
    carrier: Ident
    tracking_number: Ident
    cost: Amount | None = None


class ReceiveReturn(ExistingCase):
    command: Literal["ReceiveReturn"]
    shipment_id: Ident | None = None


class InspectReturn(ExistingCase):
    command: Literal["InspectReturn"]
    grade: Literal["A", "B", "C", "D"]
    findings: Note = ""
    seal_intact: Flag | None = Field(
        None, description="sealed audio, video or software in the return: whether their seal "
                          "is unbroken. Required when the return's eligibility depended on it (a "
                          "return without a fault of goods returnable only while sealed); "
                          "refused for a return holding no such goods. false: those units are "
                          "not refunded")


class ResolveReturn(ExistingCase):
    command: Literal["ResolveReturn"]
    resolution: Literal["refund", "exchange", "repair"] | None = None
    detail: Note | None = None
    replacement_sku: Ident | None = Field(None, description="an exchange: the item sent")
    replacement_unit_price: Amount | None = Field(
        None, description="an exchange: its unit price; a cheaper one refunds the difference, "
                          "a dearer one records what the buyer owes")
    replacement_quantity: Quantity | None = Field(
        None, description="an exchange: units sent (default: the units returned)")


class SendToRepair(ExistingCase):
    command: Literal["SendToRepair"]
    repairer: Ident


class DiagnoseRepair(ExistingCase):
    command: Literal["DiagnoseRepair"]
    fault: Text
    repairable: Flag
    note: Note = ""


class CompleteRepair(ExistingCase):
    command: Literal["CompleteRepair"]
    repaired: Flag
    note: Note = ""


class ShipRepairedItem(ExistingCase):
    command: Literal["ShipRepairedItem"]
    carrier: Ident
    tracking_number: Ident


class ReportRepairFailed(ExistingCase):
    command: Literal["ReportRepairFailed"]
    fault: Text


class ChooseRemedy(ExistingCase):
    command: Literal["ChooseRemedy"]
    remedy: Literal["refund", "price_reduction", "replacement"]
    amount: Amount | None = Field(None, description="a price reduction: its amount (staff "
                                                    "only: the merchant offers it)")
    detail: Note | None = None


class CloseReturn(ExistingCase):
    command: Literal["CloseReturn"]


class RefundLine(Strict):
    line_id: Ident
    quantity: Quantity


class RequestRefund(NewCase):
    command: Literal["RequestRefund"]
    order_id: Ident
    source: Literal["return", "complaint", "logistics_exception", "cancellation", "goodwill"]
    source_case_id: Ident | None = None
    lines: list[RefundLine] = []
    amount: Amount | None = None
    goodwill: Amount | None = None
    reason: Text


class ApproveRefund(ExistingCase):
    command: Literal["ApproveRefund"]


class RejectRefund(ExistingCase):
    command: Literal["RejectRefund"]
    reason: Text


class IssueRefund(ExistingCase):
    command: Literal["IssueRefund"]


class ConfirmRefundSettled(ExistingCase):
    command: Literal["ConfirmRefundSettled"]
    provider_ref: Ident


class RecordRefundFailed(ExistingCase):
    command: Literal["RecordRefundFailed"]
    error: Text


class FileComplaint(NewCase):
    command: Literal["FileComplaint"]
    customer_id: CustomerId | None = Field(
        None, description="the customer it is for; a customer filing for themselves may omit it"
    )
    order_id: Ident | None = None
    channel: ComplaintChannel
    category: ComplaintCategory
    description: Note


class AcknowledgeComplaint(ExistingCase):
    command: Literal["AcknowledgeComplaint"]
    message: Note | None = None


class AddComplaintMessage(ExistingCase):
    command: Literal["AddComplaintMessage"]
    direction: Literal["in", "out"]
    text: Message = Field(description="what was said: not empty (an empty answer would meet "
                                      "the first-response deadline while saying nothing)")
    channel: Channel | None = None
    awaiting_customer: Flag = Field(
        False, description="an answer out that asks the customer for something: the desk waits "
                           "on the customer until their next message (the resolution clock "
                           "stops when the merchant's policy book says so)")


class ProposeResolution(ExistingCase):
    command: Literal["ProposeResolution"]
    resolution: Literal["refund", "partial_refund", "reship", "coupon", "apology"]
    amount: Amount | None = None
    note: Note | None = None


class RespondToProposal(ExistingCase):
    command: Literal["RespondToProposal"]
    accepted: Flag


class EscalateComplaint(ExistingCase):
    command: Literal["EscalateComplaint"]
    level: Literal["supervisor", "platform_arbitration", "regulator"]
    reason: Text


class ResolveComplaint(ExistingCase):
    command: Literal["ResolveComplaint"]
    summary: Text
    refund_case_id: Ident | None = None


class CloseComplaint(ExistingCase):
    command: Literal["CloseComplaint"]
    satisfaction: Annotated[Integer, Field(ge=1, le=5)] | None = None


class ReopenComplaint(ExistingCase):
    command: Literal["ReopenComplaint"]
    reason: Text


AnyCommand = (
    RequestReturn
    | ApproveReturn
    | RejectReturn
    | CancelReturn
    | IssueReturnLabel
    | ReceiveReturn
    | InspectReturn
    | ResolveReturn
    | SendToRepair
    | DiagnoseRepair
    | CompleteRepair
    | ShipRepairedItem
    | ReportRepairFailed
    | ChooseRemedy
    | CloseReturn
    | RequestRefund
    | ApproveRefund
    | RejectRefund
    | IssueRefund
    | ConfirmRefundSettled
    | RecordRefundFailed
    | FileComplaint
    | AcknowledgeComplaint
    | AddComplaintMessage
    | ProposeResolution
    | RespondToProposal
    | EscalateComplaint
    | ResolveComplaint
    | CloseComplaint
    | ReopenComplaint
)
COMMAND: TypeAdapter[AnyCommand] = TypeAdapter(
    Annotated[AnyCommand, Field(discriminator="command")]
)
NEW_CASE_KIND = {RequestReturn: "return", RequestRefund: "refund", FileComplaint: "complaint"}
# Fields only the merchant's staff (or its policy, when they are left out) set: the permission
# matrix (access v3) denies a customer's command that sets one, naming it. Who pays the return
# shipping decides whether the goods come back; a price reduction's amount is money; a new
# case's id is derived for customers (a chosen one could reveal another customer's case).
STAFF_FIELDS: dict[type[Command], tuple[str, ...]] = {
    RequestReturn: ("case_id", "buyer_informed_of_return_cost", "return_shipping_estimate"),
    ChooseRemedy: ("amount",),
    FileComplaint: ("case_id",),
}
# Fields that named the actor before principals existed (SPEC §4.3: the actor is the principal).
ACTOR_FIELDS = ("requested_by", "by", "approver", "filed_by", "agent", "author")
ROLE_FIELDS = ("approver_role",)
