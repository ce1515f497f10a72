"""Role x command x ownership through the application, on SQLite and PostgreSQL: a command is
allowed exactly when the permission matrix says so, a denial changes no case (and is logged),
and an allowed command's events record the principal and the role the matrix chose."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aftersales_core.application.access import Caller
from aftersales_core.application.principals import principal_id_of
from aftersales_core.application.services import Services
from aftersales_core.domain.actor import Actor
from aftersales_core.domain.returns import ReturnCase
from aftersales_core.errors import (
    DomainError,
    NotAuthorisedError,
    UnknownCaseError,
    UnknownOrderError,
)
from aftersales_core.policies import evaluate
from aftersales_core.policies.access import roles_for
from dispatch.commands import submit
from schemas.commands import STAFF_FIELDS
from tests.factories import T0, admin, caller, customer, delivered_order

AT = T0 + timedelta(days=5)
ROLES = ("customer", "agent", "supervisor", "warehouse", "carrier", "payments", "upstream",
         "auditor", "analyst", "admin")
TV = [{"line_id": "1", "sku": "TV", "category": "electronics", "quantity": 1,
       "unit_price": "900.00"},
      {"line_id": "2", "sku": "MUG", "category": "home", "quantity": 2, "unit_price": "20.00"}]
KIND = {
    "RequestReturn": None, "ApproveReturn": "return", "RejectReturn": "return",
    "CancelReturn": "return", "IssueReturnLabel": "return", "ReceiveReturn": "return",
    "InspectReturn": "return", "ResolveReturn": "return", "CloseReturn": "return",
    "SendToRepair": "return", "DiagnoseRepair": "return", "CompleteRepair": "return",
    "ShipRepairedItem": "return", "ReportRepairFailed": "return", "ChooseRemedy": "return",
    "RequestRefund": None, "ApproveRefund": "refund", "RejectRefund": "refund",
    "IssueRefund": "refund", "ConfirmRefundSettled": "refund", "RecordRefundFailed": "refund",
    "FileComplaint": None, "AcknowledgeComplaint": "complaint",
    "AddComplaintMessage": "complaint", "ProposeResolution": "complaint",
    "RespondToProposal": "complaint", "EscalateComplaint": "complaint",
    "ResolveComplaint": "complaint", "CloseComplaint": "complaint",
    "ReopenComplaint": "complaint",
}
BODY: dict[str, dict[str, Any]] = {
    "RequestReturn": {"lines": [{"line_id": "2", "quantity": 1}], "reason": "defective"},
    "RejectReturn": {"reason": "no"},
    "IssueReturnLabel": {"carrier": "DHL", "tracking_number": "T1"},
    "InspectReturn": {"grade": "A"},
    "SendToRepair": {"repairer": "FixIt"},
    "DiagnoseRepair": {"fault": "hinge", "repairable": True},
    "CompleteRepair": {"repaired": True},
    "ShipRepairedItem": {"carrier": "DHL", "tracking_number": "R-1"},
    "ReportRepairFailed": {"fault": "hinge"},
    "ChooseRemedy": {"remedy": "refund"},
    "RequestRefund": {"source": "goodwill", "reason": "sorry", "amount": "500.00"},
    "RejectRefund": {"reason": "no"},
    "ConfirmRefundSettled": {"provider_ref": "psp-1"},
    "RecordRefundFailed": {"error": "timeout"},
    "FileComplaint": {"channel": "email", "category": "service", "description": "slow"},
    "ProposeResolution": {"resolution": "apology"},
    "RespondToProposal": {"accepted": True},
    "EscalateComplaint": {"level": "supervisor", "reason": "asked"},
    "ResolveComplaint": {"summary": "done"},
    "ReopenComplaint": {"reason": "again"},
}
# fields only staff may set (access v3), as an example sets them
STAFF_SET: dict[str, dict[str, Any]] = {
    "RequestReturn": {"return_shipping_estimate": "99.00", "buyer_informed_of_return_cost": False},
    "ChooseRemedy": {"amount": "10.00"},
    "FileComplaint": {"case_id": "c0ffee00-0000-4000-8000-000000000000"},
}
STAFF_FIELDS_OF = {cls.__name__: fields for cls, fields in STAFF_FIELDS.items()}
counter = itertools.count()


class World:
    """One store; every example gets its own order (of customer c-<n>), case and principal."""

    def __init__(self, app: Services) -> None:
        self.app = app

    def scenario(self, roles: list[str], own: bool, requester_is_actor: bool, kind: str | None,
                 direction: str) -> tuple[Caller, str, dict[str, Any], dict[str, Any]]:
        """(caller, order id, the object's true facts, the extra body fields)."""
        n = next(counter)
        order_id, owner = f"ax-{n}", f"cx-{n}"
        delivered_order(self.app, order_id, customer_id=owner, lines=TV)
        customer(self.app, owner)
        bound = owner if own else f"cx-other-{n}"
        name = f"actor-{n}"
        self.app.principals.add(admin(self.app), name, roles, T0,
                                customer_id=bound if "customer" in roles else None)
        actor = Caller(principal_id_of(name), datetime.now(UTC), "test")
        facts: dict[str, Any] = {"customer_id": owner, "order_id": order_id}
        extra: dict[str, Any] = {"order_id": order_id}
        requester = actor if requester_is_actor else caller(self.app, "agent-1")
        if kind == "return":
            if requester_is_actor:
                case = self._open_return(order_id, actor, roles)
            else:
                requester = customer(self.app, owner)
                case = self.app.returns.request(
                    requester, uuid4(), order_id, [{"line_id": "2", "quantity": 1}],
                    "defective", "refund", AT).case_id
            facts = {"customer_id": owner, "requested_by": str(requester.principal_id)}
            extra = {"case_id": str(case)}
        elif kind == "refund":
            case = self._open_refund(order_id, requester, roles if requester_is_actor else
                                     ["agent"])
            facts = {"customer_id": owner, "requested_by": str(requester.principal_id),
                     "requires_supervisor": True}
            extra = {"case_id": str(case)}
        elif kind == "complaint":
            filer = customer(self.app, owner)
            result = self.app.complaints.file(filer, uuid4(), "email", "service", "slow", AT,
                                              order_id=order_id)
            facts = {"customer_id": owner, "requested_by": str(filer.principal_id),
                     "direction": direction}
            extra = {"case_id": str(result.case_id), "direction": direction, "text": "hi"}
        return actor, order_id, facts, extra

    def _open_return(self, order_id: str, actor: Caller, roles: list[str]) -> UUID:
        """A return in review requested by the actor itself (set up as a phone agent would,
        below the access check: the actor's roles need not allow it)."""
        order = self.app.store.placed_order(order_id)
        case_id = uuid4()
        case = ReturnCase(id=case_id, order_id=order_id, customer_id=order.customer_id or "",
                          lines=[{"line_id": "2", "quantity": 1}], reason="other",
                          wanted_outcome="refund", note=None, evidence=[], channel="phone",
                          by=str(actor.principal_id), role=roles[0], timestamp=AT)
        case._sent_to_review(reasons=["set up by the test"], timestamp=AT)
        self.app.work.commit(case)
        return case_id

    def _open_refund(self, order_id: str, requester: Caller, roles: list[str]) -> UUID:
        order = self.app.store.placed_order(order_id)
        refund = self.app.refunds.open(
            uuid4(), order, source="goodwill", source_case_id=None, lines=[],
            amount=Decimal("500.00"), reason="sorry",
            actor=Actor(str(requester.principal_id), roles[0]), at=AT)
        self.app.work.commit(refund, order)
        return refund.id


def expected(operation: str, principal: dict[str, Any], facts: dict[str, Any]) -> Any:
    return evaluate("access", {"operation": operation, "principal": principal, "facts": facts})


def check(app: Services, world: World, command: str, roles: list[str], own: bool,
          requester_is_actor: bool, direction: str, staff_set: bool = False) -> None:
    kind = KIND[command]
    actor, _, facts, extra = world.scenario(roles, own, requester_is_actor, kind,
                                                   direction)
    chosen = STAFF_SET.get(command, {}) if staff_set else {}
    if command in STAFF_SET:
        facts["staff_fields"] = sorted(chosen, key=list(STAFF_FIELDS_OF[command]).index)
        if command == "FileComplaint" and chosen:
            chosen = {"case_id": str(uuid4())}
    principal = app.store.load_any(actor.principal_id)
    decision = expected(command, principal.view(), facts)  # type: ignore[union-attr]
    body = {"command": command, "at": (AT + timedelta(hours=1)).isoformat(),
            **BODY.get(command, {}), **extra, **chosen}
    if kind is not None:
        body.pop("order_id", None)
    if command != "AddComplaintMessage":
        body.pop("direction", None)
        body.pop("text", None)
    before = app.store.recorder.max_notification_id()
    denials_before = len(app.access.denials.list(limit=1_000_000))  # type: ignore[attr-defined]
    try:
        result = submit(app, actor, body, AT)
    except NotAuthorisedError:
        assert decision.outcome == "deny", (command, roles, decision.reasons)
        assert not decision.details["hide"] or kind is None
        outcome = "denied"
    except (UnknownCaseError, UnknownOrderError):
        assert decision.outcome == "deny" and decision.details["hide"], (command, roles)
        outcome = "denied"
    except DomainError as refused:  # allowed, then refused by the domain (a state's rules)
        assert decision.outcome == "allow", (command, roles, refused)
        assert app.store.recorder.max_notification_id() == before
        return
    else:
        assert decision.outcome == "allow", (command, roles, decision.reasons)
        recorded = [e for e in app.store.events.get(result.case_id)
                    if getattr(e, "role", None) == decision.details["role"]
                    and getattr(e, "by", None) == str(actor.principal_id)]
        assert recorded, (command, roles)
        return
    assert outcome == "denied"
    assert app.store.recorder.max_notification_id() == before  # no case changed
    denials = app.access.denials.list(limit=1_000_000)  # type: ignore[attr-defined]
    assert len(denials) == denials_before + 1
    assert denials[-1]["operation"] == command
    assert denials[-1]["principal_id"] == str(actor.principal_id)


def test_commands_are_allowed_exactly_when_the_matrix_says_so(app: Services) -> None:
    world = World(app)
    caller(app, "agent-1")  # the cast

    @settings(max_examples=200, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow])
    @given(
        command=st.sampled_from(sorted(KIND)),
        data=st.data(),
        own=st.booleans(),
        requester_is_actor=st.booleans(),
        direction=st.sampled_from(["in", "out"]),
        staff_set=st.booleans(),
    )
    def examples(command: str, data: st.DataObject, own: bool, requester_is_actor: bool,
                 direction: str, staff_set: bool) -> None:
        may = [r for r in roles_for(command) if r in ROLES]  # half the time a role that may
        first = data.draw(st.sampled_from(may) | st.sampled_from(ROLES), "role")
        second = data.draw(st.none() | st.sampled_from(ROLES), "second role")
        roles = [first] if second in (None, first) else [first, second]
        check(app, world, command, roles, own, requester_is_actor, direction, staff_set)

    examples()


def test_the_examples_cover_every_command() -> None:
    from typing import get_args

    from schemas.commands import AnyCommand

    names = {get_args(c.model_fields["command"].annotation)[0] for c in get_args(AnyCommand)}
    assert names == set(KIND)
