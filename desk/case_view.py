"""A case as the desk shows it, from what the application returns (``ReadService.case``): the
facts, the order and its shipment scans, a timeline of events with who and when, every recorded
decision opened up (policy, version, inputs, outcome, reasons), deadlines with the time left,
a refund's components against its approval threshold, and a complaint's conversation."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from desk.i18n import as_datetime, as_decimal

# event fields worth a line in the timeline, in this order
TIMELINE_FIELDS = ("reason", "outcome", "grade", "level", "resolution", "remedy", "channel",
                   "direction", "carrier", "tracking_number", "provider_ref", "error", "name",
                   "due_at", "accepted", "satisfaction", "summary")
PERSONAL = {"personal_data": "redacted"}
COMPONENTS = ("items", "outbound_shipping", "duties", "taxes", "restocking_fee",
              "return_shipping", "goodwill")


@dataclass
class Decision:
    policy_id: str
    version: int
    outcome: str
    reasons: list[str]
    rules: list[str]
    inputs: list[tuple[str, Any]]
    details: list[tuple[str, Any]]
    at: str | None


@dataclass
class CaseView:
    data: dict[str, Any]
    kind: str
    status: str | None
    state: dict[str, Any]
    currency: str | None
    timeline: list[dict[str, Any]] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    deadlines: list[dict[str, Any]] = field(default_factory=list)
    components: list[tuple[str, Any]] = field(default_factory=list)
    approval: dict[str, Any] | None = None
    counted: Decimal | None = None  # what the threshold was held against, when not the amount
    conversation: list[dict[str, Any]] = field(default_factory=list)
    request: dict[str, Any] | None = None  # a return: what the customer asked for


def flatten(value: Any, prefix: str = "", depth: int = 0) -> list[tuple[str, Any]]:
    """Nested inputs as (path, value) rows a person can read: ``order.lines.0.sku``."""
    if isinstance(value, dict) and value != PERSONAL and not _redacted(value) and depth < 6:
        rows: list[tuple[str, Any]] = []
        for key, item in value.items():
            rows += flatten(item, f"{prefix}.{key}" if prefix else str(key), depth + 1)
        return rows or [(prefix, "—")]
    if isinstance(value, list) and value and depth < 6 and \
            any(isinstance(v, (dict, list)) for v in value):
        rows = []
        for index, item in enumerate(value):
            rows += flatten(item, f"{prefix}.{index + 1}" if prefix else str(index + 1),
                            depth + 1)
        return rows
    if isinstance(value, list):
        return [(prefix, ", ".join(str(v) for v in value) if value else "—")]
    return [(prefix, value)]


def _redacted(value: Any) -> bool:
    return isinstance(value, dict) and value.get("personal_data") == "redacted"


def text_of(value: Any) -> str | None:
    """Free text as recorded, or None when it is personal data the viewer may not see."""
    if value is None or _redacted(value):
        return None
    return str(value)


def build(data: dict[str, Any]) -> CaseView:
    state = data["state"]
    view = CaseView(data=data, kind=data["case_type"], status=data["status"], state=state,
                    currency=_currency(data))
    view.timeline = [_event(e) for e in data["events"]]
    view.decisions = [
        Decision(d["policy_id"], d["policy_version"], str(d["outcome"]), list(d["reasons"]),
                 list(d["rules"]), flatten(d["inputs"]), flatten(d["details"]),
                 _decision_time(data, d))
        for d in data["decisions"]]
    view.deadlines = sorted((dict(d) for d in (state.get("deadlines") or {}).values()),
                            key=lambda d: d.get("due_at") or "")
    if view.kind == "refund":
        components = state.get("components") or {}
        view.components = [(name, components[name]) for name in COMPONENTS
                           if name in components]
        approval = next((d for d in reversed(data["decisions"])
                         if d["policy_id"] == "refund.approval"), None)
        if approval is not None:
            view.approval = approval["details"]
            counted = as_decimal(view.approval.get("counted"))  # v3: the order's refunds
            if counted is not None and counted != as_decimal(state.get("amount")):
                view.counted = counted
    if view.kind == "complaint":
        view.conversation = _conversation(data)
    if view.kind == "return":
        view.request = _return_request(state)
    return view


def _return_request(state: dict[str, Any]) -> dict[str, Any]:
    """What the customer asked for in a return (the lines, the outcome they want, their note
    and evidence) and what the inspection found: what an agent decides a return in review on."""
    note, evidence = state.get("note"), state.get("evidence") or []
    return {"outcome": state.get("wanted_outcome"),
            "lines": [line for line in state.get("lines") or [] if isinstance(line, dict)],
            "note": text_of(note), "note_redacted": _redacted(note),
            "evidence": [text_of(item) for item in evidence],
            "findings": text_of(state.get("findings"))}


def _currency(data: dict[str, Any]) -> str | None:
    state = data["state"]
    for key in ("amount", "requested_amount"):
        value = state.get(key)
        if isinstance(value, str) and " " in value:
            return value.split(" ")[-1]
    for decision in data["decisions"]:
        currency = decision["inputs"].get("currency") if isinstance(
            decision["inputs"], dict) else None
        if isinstance(currency, str):
            return currency
    return state.get("currency") if isinstance(state.get("currency"), str) else None


def _decision_time(data: dict[str, Any], decision: dict[str, Any]) -> str | None:
    for event in data["events"]:
        if event["data"].get("decision") == decision:
            return str(event["at"])
    return None


def _event(event: dict[str, Any]) -> dict[str, Any]:
    payload = event["data"]
    facts = [(name, payload[name]) for name in TIMELINE_FIELDS
             if name in payload and payload[name] not in (None, "", [])
             and not isinstance(payload[name], dict)]
    decision = payload.get("decision") if isinstance(payload.get("decision"), dict) else None
    amount = payload.get("amount")
    return {"at": event["at"], "type": event["type"], "version": event["version"],
            "name": event["type"].rsplit(".", 1)[-1], "by": payload.get("by"),
            "role": payload.get("role"), "facts": facts, "decision": decision,
            "amount": amount if isinstance(amount, (str, dict)) else None}


def _conversation(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The complaint's messages in order, the filing first."""
    found: list[dict[str, Any]] = []
    for event in data["events"]:
        payload, name = event["data"], event["type"].rsplit(".", 1)[-1]
        if name == "Filed":
            found.append({"kind": "filed", "at": event["at"], "channel": payload.get("channel"),
                          "by": payload.get("by"), "role": payload.get("role"),
                          "text": text_of(payload.get("description")),
                          "redacted": _redacted(payload.get("description"))})
        elif name == "MessageAdded":
            found.append({"kind": payload.get("direction"), "at": event["at"],
                          "channel": payload.get("channel"), "by": payload.get("by"),
                          "role": payload.get("role"), "text": text_of(payload.get("text")),
                          "redacted": _redacted(payload.get("text"))})
        elif name == "Acknowledged" and payload.get("message") is not None:
            found.append({"kind": "out", "at": event["at"], "channel": None,
                          "by": payload.get("by"), "role": payload.get("role"),
                          "text": text_of(payload.get("message")),
                          "redacted": _redacted(payload.get("message"))})
    return found


def is_due(deadline: dict[str, Any], now: datetime) -> bool:
    due = as_datetime(deadline.get("due_at"))
    return due is not None and due < now
