"""Every command of SPEC §4.3, from its wire model (schemas/commands.py) to its service: one
handler per command, in this table, typed end to end (mypy checks each handler takes its own
command class and calls its service with the right parameters; a test checks that every member
of ``AnyCommand`` has exactly one handler).

Entry points call ``submit`` (a JSON body) or ``execute`` (a validated command) with the
``Caller`` they authenticated. Adding a command: its model in schemas/commands.py, its handler
here, its service method and aggregate method, and its row in the permission matrix
(policies/access_matrix.py: a command without one is denied to everybody).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar
from uuid import UUID, uuid4

from aftersales_core.application.access import CASE_TYPES, Caller, case_facts
from aftersales_core.application.concurrency import on_fresh_state
from aftersales_core.application.results import CommandResult
from aftersales_core.application.services import Services
from aftersales_core.domain.ids import case_id_for, requested_case_id
from dispatch.bodies import parse
from dispatch.key_reuse import check_same_request
from dispatch.timing import check_time_of_act
from schemas.commands import (
    NEW_CASE_KIND,
    STAFF_FIELDS,
    AcknowledgeComplaint,
    AddComplaintMessage,
    AnyCommand,
    ApproveRefund,
    ApproveReturn,
    CancelReturn,
    ChooseRemedy,
    CloseComplaint,
    CloseReturn,
    Command,
    CompleteRepair,
    ConfirmRefundSettled,
    DiagnoseRepair,
    EscalateComplaint,
    FileComplaint,
    InspectReturn,
    IssueRefund,
    IssueReturnLabel,
    ProposeResolution,
    ReceiveReturn,
    RecordRefundFailed,
    RejectRefund,
    RejectReturn,
    ReopenComplaint,
    ReportRepairFailed,
    RequestRefund,
    RequestReturn,
    ResolveComplaint,
    ResolveReturn,
    RespondToProposal,
    SendToRepair,
    ShipRepairedItem,
)

C = TypeVar("C", bound=Command)
Handler = Callable[[Services, Caller, C, datetime], CommandResult]
HANDLERS: dict[type[Command], Handler[Command]] = {}


def handles(cls: type[C]) -> Callable[[Handler[C]], Handler[C]]:
    """Register the one handler of ``cls`` (a second one is a programming error)."""

    def register(handler: Handler[C]) -> Handler[C]:
        if cls in HANDLERS:
            raise TypeError(f"{cls.__name__} has a handler already")
        HANDLERS[cls] = handler  # type: ignore[assignment]  # keyed by its own class
        return handler

    return register


def submit(services: Services, caller: Caller, body: object, now: datetime) -> CommandResult:
    """Validate a command's JSON body for ``caller`` and run it."""
    return execute(services, caller, parse(services, caller, body), now)


def execute(
    services: Services, caller: Caller, command: AnyCommand, now: datetime
) -> CommandResult:
    """Run a command; a concurrent change is retried on fresh state."""
    handler = HANDLERS[type(command)]
    check_time_of_act(services, caller, command.at)
    at = command.at or now
    return on_fresh_state(lambda: handler(services, caller, command, at))


def new_case_id(services: Services, caller: Caller,
                command: RequestReturn | RequestRefund | FileComplaint) -> UUID:
    """The id of the case a command opens: given (by staff: the permission matrix denies a
    customer's), derived from its idempotency key and the principal sending it (another
    principal's same key is another case), or new.

    Keys used before they were scoped to the principal derived ids from the key alone: a retry
    by the principal who opened such a case still finds it (and opens no second one); anyone
    else's same key never does."""
    if command.case_id is not None:
        return command.case_id
    if command.idempotency_key:
        kind, key = NEW_CASE_KIND[type(command)], command.idempotency_key
        legacy = services.store.load_any(case_id_for(kind, key))
        if legacy is not None and isinstance(legacy, CASE_TYPES) \
                and case_facts(legacy).get("requested_by") == str(caller.principal_id):
            check_same_request(legacy, command)
            return legacy.id
        case_id = requested_case_id(kind, caller.principal_id, key)
        opened = services.store.load_any(case_id)
        if opened is not None:  # a retry: the same request (exists already), or a conflict
            check_same_request(opened, command)
        return case_id
    return uuid4()


def staff_fields(command: Command) -> list[str]:
    """The fields of ``command`` only staff may set (schemas.commands.STAFF_FIELDS) that it
    sets: the permission matrix denies them to customers, naming them."""
    return [name for name in STAFF_FIELDS.get(type(command), ())
            if getattr(command, name) is not None]


# ---- returns -------------------------------------------------------------------------------
@handles(RequestReturn)
def request_return(s: Services, who: Caller, c: RequestReturn, at: datetime) -> CommandResult:
    return s.returns.request(
        who, new_case_id(s, who, c), c.order_id, [line.model_dump() for line in c.lines],
        c.reason, c.outcome, at, channel=c.channel, note=c.note, evidence=list(c.evidence),
        non_returnable_line_ids=list(c.non_returnable_line_ids), goods_intact=c.goods_intact,
        buyer_informed_of_return_cost=c.buyer_informed_of_return_cost,
        return_shipping_estimate=c.return_shipping_estimate, staff_fields=staff_fields(c),
    )


@handles(ApproveReturn)
def approve_return(s: Services, who: Caller, c: ApproveReturn, at: datetime) -> CommandResult:
    return s.returns.approve(
        who, c.case_id, at, buyer_informed_of_return_cost=c.buyer_informed_of_return_cost,
        return_shipping_estimate=c.return_shipping_estimate,
    )


@handles(RejectReturn)
def reject_return(s: Services, who: Caller, c: RejectReturn, at: datetime) -> CommandResult:
    return s.returns.reject(who, c.case_id, c.reason, at)


@handles(CancelReturn)
def cancel_return(s: Services, who: Caller, c: CancelReturn, at: datetime) -> CommandResult:
    return s.returns.cancel(who, c.case_id, at, reason=c.reason)


@handles(IssueReturnLabel)
def issue_return_label(
    s: Services, who: Caller, c: IssueReturnLabel, at: datetime
) -> CommandResult:
    return s.returns.issue_label(who, c.case_id, c.carrier, c.tracking_number, at, cost=c.cost)


@handles(ReceiveReturn)
def receive_return(s: Services, who: Caller, c: ReceiveReturn, at: datetime) -> CommandResult:
    return s.returns.receive(who, c.case_id, at, shipment_id=c.shipment_id)


@handles(InspectReturn)
def inspect_return(s: Services, who: Caller, c: InspectReturn, at: datetime) -> CommandResult:
    return s.returns.inspect(who, c.case_id, c.grade, at, findings=c.findings,
                             seal_intact=c.seal_intact)


@handles(ResolveReturn)
def resolve_return(s: Services, who: Caller, c: ResolveReturn, at: datetime) -> CommandResult:
    return s.resolutions.resolve(
        who, c.case_id, at, resolution=c.resolution, detail=c.detail,
        replacement_sku=c.replacement_sku, replacement_unit_price=c.replacement_unit_price,
        replacement_quantity=c.replacement_quantity,
    )


@handles(CloseReturn)
def close_return(s: Services, who: Caller, c: CloseReturn, at: datetime) -> CommandResult:
    return s.returns.close(who, c.case_id, at)


# ---- repairs -------------------------------------------------------------------------------
@handles(SendToRepair)
def send_to_repair(s: Services, who: Caller, c: SendToRepair, at: datetime) -> CommandResult:
    return s.resolutions.send_to_repair(who, c.case_id, c.repairer, at)


@handles(DiagnoseRepair)
def diagnose_repair(s: Services, who: Caller, c: DiagnoseRepair, at: datetime) -> CommandResult:
    return s.resolutions.diagnose_repair(who, c.case_id, c.fault, c.repairable, at, note=c.note)


@handles(CompleteRepair)
def complete_repair(s: Services, who: Caller, c: CompleteRepair, at: datetime) -> CommandResult:
    return s.resolutions.complete_repair(who, c.case_id, c.repaired, at, note=c.note)


@handles(ShipRepairedItem)
def ship_repaired_item(
    s: Services, who: Caller, c: ShipRepairedItem, at: datetime
) -> CommandResult:
    return s.resolutions.ship_repaired_item(who, c.case_id, c.carrier, c.tracking_number, at)


@handles(ReportRepairFailed)
def report_repair_failed(
    s: Services, who: Caller, c: ReportRepairFailed, at: datetime
) -> CommandResult:
    return s.resolutions.report_repair_failed(who, c.case_id, c.fault, at)


@handles(ChooseRemedy)
def choose_remedy(s: Services, who: Caller, c: ChooseRemedy, at: datetime) -> CommandResult:
    return s.resolutions.choose_remedy(
        who, c.case_id, c.remedy, at, amount=c.amount, detail=c.detail,
        staff_fields=staff_fields(c),
    )


# ---- refunds -------------------------------------------------------------------------------
@handles(RequestRefund)
def request_refund(s: Services, who: Caller, c: RequestRefund, at: datetime) -> CommandResult:
    return s.refunds.request(
        who, new_case_id(s, who, c), c.order_id, c.source, c.reason, at,
        source_case_id=c.source_case_id, lines=[line.model_dump() for line in c.lines],
        amount=c.amount, goodwill=c.goodwill,
    )


@handles(ApproveRefund)
def approve_refund(s: Services, who: Caller, c: ApproveRefund, at: datetime) -> CommandResult:
    return s.refunds.approve(who, c.case_id, at)


@handles(RejectRefund)
def reject_refund(s: Services, who: Caller, c: RejectRefund, at: datetime) -> CommandResult:
    return s.refunds.reject(who, c.case_id, c.reason, at)


@handles(IssueRefund)
def issue_refund(s: Services, who: Caller, c: IssueRefund, at: datetime) -> CommandResult:
    return s.refunds.issue(who, c.case_id, at)


@handles(ConfirmRefundSettled)
def confirm_refund_settled(
    s: Services, who: Caller, c: ConfirmRefundSettled, at: datetime
) -> CommandResult:
    return s.refunds.confirm_settled(who, c.case_id, c.provider_ref, at)


@handles(RecordRefundFailed)
def record_refund_failed(
    s: Services, who: Caller, c: RecordRefundFailed, at: datetime
) -> CommandResult:
    return s.refunds.record_failed(who, c.case_id, c.error, at)


# ---- complaints ----------------------------------------------------------------------------
@handles(FileComplaint)
def file_complaint(s: Services, who: Caller, c: FileComplaint, at: datetime) -> CommandResult:
    return s.complaints.file(
        who, new_case_id(s, who, c), c.channel, c.category, c.description, at,
        customer_id=c.customer_id, order_id=c.order_id, staff_fields=staff_fields(c),
    )


@handles(AcknowledgeComplaint)
def acknowledge_complaint(
    s: Services, who: Caller, c: AcknowledgeComplaint, at: datetime
) -> CommandResult:
    return s.complaints.acknowledge(who, c.case_id, at, message=c.message)


@handles(AddComplaintMessage)
def add_complaint_message(
    s: Services, who: Caller, c: AddComplaintMessage, at: datetime
) -> CommandResult:
    return s.complaints.add_message(who, c.case_id, c.direction, c.text, at, channel=c.channel,
                                    awaiting_customer=c.awaiting_customer)


@handles(ProposeResolution)
def propose_resolution(
    s: Services, who: Caller, c: ProposeResolution, at: datetime
) -> CommandResult:
    return s.complaints.propose(who, c.case_id, c.resolution, at, amount=c.amount, note=c.note)


@handles(RespondToProposal)
def respond_to_proposal(
    s: Services, who: Caller, c: RespondToProposal, at: datetime
) -> CommandResult:
    return s.complaints.respond(who, c.case_id, c.accepted, at)


@handles(EscalateComplaint)
def escalate_complaint(
    s: Services, who: Caller, c: EscalateComplaint, at: datetime
) -> CommandResult:
    return s.complaints.escalate(who, c.case_id, c.level, c.reason, at)


@handles(ResolveComplaint)
def resolve_complaint(
    s: Services, who: Caller, c: ResolveComplaint, at: datetime
) -> CommandResult:
    return s.complaints.resolve(who, c.case_id, c.summary, at, refund_case_id=c.refund_case_id)


@handles(CloseComplaint)
def close_complaint(s: Services, who: Caller, c: CloseComplaint, at: datetime) -> CommandResult:
    return s.complaints.close(who, c.case_id, at, satisfaction=c.satisfaction)


@handles(ReopenComplaint)
def reopen_complaint(
    s: Services, who: Caller, c: ReopenComplaint, at: datetime
) -> CommandResult:
    return s.complaints.reopen(who, c.case_id, c.reason, at)
