"""The shapes of the API's answers, for the OpenAPI document (routes answer with the JSON the
application's own ``to_json`` methods give; tests check every answer against these)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class FieldError(BaseModel):
    field: str = Field(description="the bad field's path, e.g. lines.0.quantity")
    detail: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field(description="urn:aftersales:problem:<code>")
    title: str
    status: int
    detail: str
    instance: str
    errors: list[FieldError] | None = Field(None, description="every bad field (400)")
    exit_code: int | None = Field(None, description="the CLI's exit code for the same failure")
    request_id: str | None = None


class Decision(BaseModel):
    policy_id: str
    policy_version: int
    outcome: str
    reasons: list[str]


class CommandAnswer(BaseModel):
    """What `aftersales submit` prints for a command."""

    command: str
    case_id: str
    case_type: str
    status: str
    version: int
    decisions: list[Decision]
    related: dict[str, str]
    applied: bool = Field(True, description="false for an exact retry of something already "
                                            "recorded: nothing new was stored")
    note: str | None = Field(None, description="what was recorded before (when not applied)")


class UpstreamAnswer(BaseModel):
    """What `aftersales ingest` prints for an event."""

    event_id: str
    order_id: str
    applied: bool
    effects: list[str]


class EventView(Open):
    version: int
    type: str
    at: str
    data: dict[str, Any] = Field(description="the event's fields: `by` (principal id) and "
                                 "`role` name who acted")


class CaseView(Open):
    """A case (or an order's facts) as of a moment: state, events, decisions."""

    case_id: str
    case_type: str
    status: Any
    version: int
    as_of: str | None
    view: str = Field(description="full, or redacted (personal data replaced by a marker)")
    state: dict[str, Any]
    events: list[EventView]
    decisions: list[dict[str, Any]]
    buyer_quota: dict[str, Any] | None


class Events(BaseModel):
    case_id: str
    version: int
    events: list[EventView]


class Decisions(BaseModel):
    case_id: str
    version: int
    decisions: list[dict[str, Any]]


class CaseDeadlines(BaseModel):
    case_id: str
    version: int
    deadlines: list[dict[str, Any]]


class Rerun(BaseModel):
    policy_id: str
    policy_version: int
    book: dict[str, Any] | None = Field(
        None, description="the policy book whose settings the decision used (None: built-in, "
                          "before books)")
    recorded: str
    rerun: str
    same: bool


class Reruns(BaseModel):
    case_id: str
    decisions: list[Rerun]
    all_same: bool


class BookVersionMeta(BaseModel):
    """One stored version of a policy book (version 0: the built-in defaults)."""

    book: str = Field(description="merchant or platform")
    merchant_id: str | None
    version: int
    book_hash: str
    set_by: str | None
    role: str | None
    reason: str | None
    set_at: str | None


class PolicyChange(BaseModel):
    path: str = Field(description="the setting, e.g. returns.markets.EU.no_fault")
    change: Literal["added", "removed", "changed"]
    before: Any = Field(description="its value before (null: not set)")
    after: Any = Field(description="its value after (null: not set)")


class PolicyBookDiff(BaseModel):
    """What `aftersales policy diff --format json` prints, with the versions compared."""

    book: str
    merchant_id: str | None
    before: BookVersionMeta
    after: BookVersionMeta | None = Field(description="null: compared with the proposed book "
                                                      "sent, not a stored version")
    changes: list[PolicyChange]


class Simulation(Open):
    """What `aftersales policy simulate --format json` prints (README "Policy books")."""

    merchant_id: str
    since: str | None
    until: str | None
    proposed_book_hash: str
    cases_and_orders: int
    decisions: dict[str, int] = Field(description="seen, re_evaluated, "
                                      "not_governed_by_books, recorded_before_books, failed")
    failures: list[dict[str, Any]] = Field(description="the first 20 decisions that could "
                                           "not be evaluated again")
    outcomes: list[dict[str, Any]] = Field(description="per policy: re-evaluated, changed, "
                                           "and each pair of outcomes with example cases")
    refund_totals: list[dict[str, Any]]
    approvals_needing_a_supervisor: dict[str, int]
    deadlines: list[dict[str, Any]]
    returns_newly_accepted: list[dict[str, Any]]
    returns_no_longer_accepted: list[dict[str, Any]]
    timing: dict[str, Any]


class Page(BaseModel):
    """One page of rows; pass ``next_cursor`` as ``cursor`` for the next one."""

    items: list[dict[str, Any]]
    next_cursor: str | None


class Deadline(BaseModel):
    case_id: str
    case_type: str
    deadline: str
    due_at: str
    action: str | None


class Deadlines(BaseModel):
    """One page of open deadlines; pass ``next_cursor`` as ``cursor`` for the next one."""
    items: list[Deadline]
    next_cursor: str | None


class ReportSection(BaseModel):
    title: str
    columns: list[str]
    note: str
    rows: list[list[Any]] = Field(description="cells: text, numbers, or a rate as an object "
                                  "(value, k, n and its 95 % interval)")


class Report(BaseModel):
    headline: dict[str, Any]
    sections: list[ReportSection]


class Denials(BaseModel):
    items: list[dict[str, Any]]
    next_cursor: str | None


class Erasure(BaseModel):
    position: int = Field(description="the erasure event's position in the store")
    customer_id: str = Field(description="the customer whose personal data was erased (the "
                                         "opaque id is kept)")
    erased_at: str = Field(description="RFC 3339: when it happened")
    by: str = Field(description="the principal id that erased it")
    principal: str | None = Field(description="that principal's name")
    role: str
    reason: str = Field(description="why, as recorded (the request's reference)")


class Erasures(BaseModel):
    items: list[Erasure]


class Verification(Open):
    intact: bool
    events_verified: int
    findings: list[dict[str, Any]]


class Me(BaseModel):
    principal: str
    principal_id: str
    roles: list[str] = Field(description="the roles this credential may act in")
    customer_id: str | None
    credential: str = Field(description="api_key or oidc")


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    store: str
    read_database: str
