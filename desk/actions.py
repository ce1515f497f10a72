"""What the signed-in role may do on a case, as forms: the commands that make sense in the
case's status (the domain still refuses an illegal one), kept to those the permission matrix
allows this principal on this case, each with the fields of its wire model (schemas/commands:
the model every entry point validates with, so a form is checked exactly as the API checks a
body). Fields that name the case, its order or the direction of a staff reply are filled in by
the desk from the case, never taken from the form."""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass, replace
from typing import Any, Literal, get_args, get_origin

from pydantic.fields import FieldInfo

from aftersales_core.application.access import Access, Caller, case_facts
from aftersales_core.decisions import PolicyDecision
from aftersales_core.domain.complaints import NOT_DONE, WORKING
from aftersales_core.domain.principals import Principal
from aftersales_core.domain.return_status import OPEN_BEFORE_SHIPPING
from aftersales_core.outcomes import Permission
from aftersales_core.policies.return_eligibility_v2 import seal_checked_lines
from aftersales_core.text import is_digits
from desk.i18n import Reader
from schemas import commands as wire

# command -> the case statuses it applies to (mirrors the aggregates' own checks)
WHEN: dict[str, dict[str, tuple[str, ...]]] = {
    "return": {
        "ApproveReturn": ("pending_review",),
        "RejectReturn": ("requested", "pending_review"),
        "IssueReturnLabel": ("approved",),
        "ReceiveReturn": ("approved", "label_issued", "shipped_back"),
        "InspectReturn": ("received",),
        "ResolveReturn": ("inspected", "approved", "repair_failed"),
        "SendToRepair": ("resolved", "repair_failed"),
        "DiagnoseRepair": ("in_repair",),
        "CompleteRepair": ("diagnosed",),
        "ShipRepairedItem": ("repaired",),
        "ReportRepairFailed": ("repair_shipped",),
        "ChooseRemedy": ("repair_failed",),
        "CancelReturn": tuple(s.value for s in OPEN_BEFORE_SHIPPING),
        "CloseReturn": ("resolved", "repair_shipped", "rejected", "cancelled", "expired"),
    },
    "refund": {
        "ApproveRefund": ("awaiting_approval",),
        "RejectRefund": ("requested", "awaiting_approval", "approved", "failed"),
        "IssueRefund": ("approved", "failed"),
        "ConfirmRefundSettled": ("issued",),
        "RecordRefundFailed": ("issued",),
    },
    "complaint": {
        "AddComplaintMessage": tuple(s.value for s in NOT_DONE),
        "AcknowledgeComplaint": tuple(s.value for s in WORKING),
        "ProposeResolution": tuple(s.value for s in WORKING),
        "RespondToProposal": ("proposed",),
        "RequestRefund": tuple(s.value for s in NOT_DONE),
        "EscalateComplaint": tuple(s.value for s in NOT_DONE),
        "ResolveComplaint": tuple(s.value for s in NOT_DONE),
        "CloseComplaint": ("resolved",),
        "ReopenComplaint": ("resolved", "closed"),
    },
}
FILLED = {"command", "at", "case_id", "idempotency_key", "order_id", "source", "source_case_id",
          "direction"}
LONG_TEXT = {"note", "findings", "detail", "text", "message", "summary", "fault"}
AMOUNTS = {"amount", "cost", "goodwill", "return_shipping_estimate", "replacement_unit_price"}
MODELS: dict[str, type[wire.Command]] = {
    get_args(cls.model_fields["command"].annotation)[0]: cls
    for cls in get_args(wire.AnyCommand)
}


@dataclass(frozen=True)
class Field:
    name: str
    widget: Literal["text", "textarea", "amount", "number", "select"]
    required: bool
    options: tuple[str, ...] = ()
    default: str = ""


@dataclass(frozen=True)
class Action:
    command: str
    fields: tuple[Field, ...]


def _field(name: str, info: FieldInfo) -> Field | None:
    annotation: Any = info.annotation
    if get_origin(annotation) in (typing.Union, types.UnionType):
        annotation = next(a for a in get_args(annotation) if a is not type(None))
    if get_origin(annotation) is typing.Annotated:
        annotation = get_args(annotation)[0]
    default = "" if info.is_required() or info.default is None else info.default
    if get_origin(annotation) is list:
        return None  # lists (lines, evidence) are not asked in the desk
    if get_origin(annotation) is Literal:
        return Field(name, "select", info.is_required(), tuple(map(str, get_args(annotation))),
                     str(default))
    if annotation is bool:
        return Field(name, "select", info.is_required(), ("true", "false"),
                     "" if default == "" else str(default).lower())
    if annotation is int:
        return Field(name, "number", info.is_required(), default=str(default))
    widget: Literal["text", "textarea", "amount"] = (
        "amount" if name in AMOUNTS else "textarea" if name in LONG_TEXT else "text")
    return Field(name, widget, info.is_required(), default=str(default))


def form_of(command: str) -> Action:
    model = MODELS[command]
    found = [_field(n, i) for n, i in model.model_fields.items() if n not in FILLED]
    return Action(command, tuple(f for f in found if f is not None))


def form_for(command: str, case: Any) -> Action:
    """The action's form on this case: an inspection of a return whose eligibility depended
    on an unbroken seal must say whether it is (``check_seal``), so that field is required."""
    action = form_of(command)
    if command != "InspectReturn" or not _seal_checked(case):
        return action
    return Action(command, tuple(replace(f, required=True) if f.name == "seal_intact" else f
                                 for f in action.fields))


def _seal_checked(case: Any) -> bool:
    latest = getattr(case, "latest", None)
    if not callable(latest):
        return False
    lines = [str(line.get("line_id")) for line in getattr(case, "lines", None) or []
             if isinstance(line, dict)]
    return bool(seal_checked_lines(latest("return.eligibility"), lines))


def field_errors(command: str, refused: Exception) -> dict[str, str]:
    """A domain refusal beside the form's field it names: the fields an ``InvalidFieldError``
    lists, or the field its message starts with ("amount: 12.345 has more decimals ...")."""
    names = {f.name for f in form_of(command).fields}
    listed = getattr(refused, "fields", None)
    if listed:
        return {name: message for name, message in listed if name in names}
    name, colon, rest = str(refused).partition(": ")
    return {name: rest} if colon and name in names and rest else {}


def candidates(kind: str, status: str | None) -> list[str]:
    return [c for c, statuses in WHEN.get(kind, {}).items() if status in statuses]


def fits(command: str, case: Any) -> bool:
    """Whether the case's state, beyond its status, lets the domain take ``command`` (as
    ``ReturnCase`` and ``RepairRules`` check it): a returnless return's goods never come
    back (no label, no receipt; it is resolved from approved, never from inspected); only a
    return resolved by repair goes to the repairer and may not be closed yet; after a failed
    repair another repair only when the buyer is offered one."""
    status = getattr(case, "status", None)
    status = getattr(status, "value", status)
    returnless = bool(getattr(case, "returnless", False))
    resolution = (getattr(case, "resolution", None) or {}).get("kind")
    if command in ("IssueReturnLabel", "ReceiveReturn"):
        return not returnless
    if command == "ResolveReturn" and status == "approved":
        return returnless
    if command == "SendToRepair":
        if status == "repair_failed":
            remedies = getattr(case, "remedies", None)
            return callable(remedies) and "repair" in remedies()
        return resolution == "repair"
    if command == "CloseReturn" and status == "resolved":
        return resolution != "repair"
    if command == "RequestRefund":
        return bool(getattr(case, "order_id", None))
    if command == "AcknowledgeComplaint":  # acknowledged once (again only when reopened)
        return getattr(case, "acknowledged_at", None) is None or status == "reopened"
    return True


def allowed(caller: Caller, principal: Principal, operation: str,
            facts: dict[str, Any]) -> bool:
    """Whether the matrix lets this principal do ``operation`` on an object with these facts
    (asked without logging: showing a button is not an attempt; sending it is checked and
    logged by the application like any command)."""
    decision = Access.decision(caller, principal, operation, facts)
    return Permission(decision.outcome) is Permission.ALLOW


# why the matrix refuses an approval, most telling first (rule -> the desk's words)
APPROVAL_REFUSED = (("access.not_beneficiary", "approvals.to_you"),
                    ("access.not_requester", "approvals.yours"),
                    ("access.within_threshold", "approvals.supervisor"))


def why_not(decision: PolicyDecision, reader: Reader) -> str:
    """The reason a denied decision gives, in the desk's words where it has its own (the
    refund is paid to the viewer, their own request, above an agent's threshold)."""
    for rule, words in APPROVAL_REFUSED:
        if rule in decision.rules:
            return reader.t(words)
    return reader.t("approvals.denied", reason="; ".join(decision.reasons))


def actions_for(caller: Caller, principal: Principal, case: Any) -> list[Action]:
    """The actions this principal may take on this case now."""
    kind, status = getattr(case, "KIND", ""), getattr(case, "status", None)
    status = getattr(status, "value", status)
    facts = case_facts(case)
    found = []
    for command in candidates(kind, status):
        if not fits(command, case):
            continue
        extra = {"direction": "out"} if command == "AddComplaintMessage" else {}
        if allowed(caller, principal, command, {**facts, **extra}):
            found.append(form_for(command, case))
    return found


def body_of(command: str, form: dict[str, str], case: Any) -> dict[str, Any]:
    """The command's JSON body from a posted form: the action's own fields (empty optional
    ones left out, booleans and numbers as the wire model takes them) and what the desk fills
    in from the case."""
    action = form_of(command)
    body: dict[str, Any] = {"command": command}
    for field in action.fields:
        value = form.get(field.name, "")
        if value == "" and not field.required:
            continue
        if field.options == ("true", "false"):
            body[field.name] = {"true": True, "false": False}.get(value, value)
        elif field.widget == "number" and is_digits(value) and len(value) < 10:
            body[field.name] = int(value)
        else:
            body[field.name] = value
    if command == "RequestRefund":
        body.update(order_id=case.order_id, source=case.KIND, source_case_id=str(case.id))
    else:
        body["case_id"] = str(case.id)
    if command == "AddComplaintMessage":
        body["direction"] = "out"
    return body
