"""The permission matrix of ``access`` v1, as data: which role may do which operation, on which
conditions, and what it may see. Anything not listed is denied.

An operation is a command of SPEC §4.3 (``ApproveRefund``), an upstream fact (``OrderPlaced``,
``ShipmentScanned``), a principal administration (``GrantRole``) or a read (``ReadCase``,
``QueryProjection``). Its rules are tried in order: the first whose role the principal holds and
whose conditions all hold allows it, and names the role the principal acts in.

Conditions compare one fact of the object (or of the command) with a constant or with the
principal; they are data too (``Condition``). A failed ``hide`` condition reads as "not found":
a customer never learns that another customer's order or case exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

View = Literal["full", "redacted"]
Rows = Literal["all", "own"]


@dataclass(frozen=True)
class Condition:
    """``fact`` compared with ``principal``'s attribute (same or different), or one of
    ``one_of``. A fact that is missing fails the condition (deny by default)."""

    fact: str
    reason: str
    principal: str | None = None  # an attribute of the principal: "id" or "customer_id"
    same: bool = True
    one_of: tuple[Any, ...] = ()
    hide: bool = False
    empty: bool = False  # the fact is a list that must be empty (its members are named)


@dataclass(frozen=True)
class Rule:
    role: str
    conditions: tuple[str, ...] = ()
    view: View = "full"  # reads: personal data shown, or redacted
    rows: Rows = "all"  # listings: every row, or only the principal's customer's


@dataclass(frozen=True)
class Matrix:
    version: int
    conditions: Mapping[str, Condition]
    operations: Mapping[str, tuple[Rule, ...]] = field(default_factory=dict)


def _rules(*rules: Rule) -> tuple[Rule, ...]:
    return rules


CUSTOMER, AGENT, SUPERVISOR = "customer", "agent", "supervisor"
STAFF = (Rule(AGENT), Rule(SUPERVISOR))
UNLESS_OWN_GAIN = ("not_requester", "not_beneficiary")
CUSTOMER_TABLES = ("cases", "complaints", "refunds", "orders")

CONDITIONS_V1: Mapping[str, Condition] = MappingProxyType({
    "own": Condition("customer_id", "customers act on their own orders and cases only",
                     principal="customer_id", hide=True),
    "not_requester": Condition("requested_by", "nobody approves what they requested",
                               principal="id", same=False),
    "not_beneficiary": Condition("customer_id", "nobody approves or requests a refund or "
                                 "return paid to themselves", principal="customer_id",
                                 same=False),
    "within_threshold": Condition("requires_supervisor", "above the approval threshold only a "
                                  "supervisor approves", one_of=(False,)),
    "inbound_message": Condition("direction", "customers write inbound messages only",
                                 one_of=("in",)),
    "return_shipment": Condition("direction", "carriers report return shipments only",
                                 one_of=("return",)),
    "not_own_data": Condition("customer_id", "nobody erases their own personal data: another "
                              "administrator does", principal="customer_id", same=False),
    "customer_table": Condition("table", "customers read their own cases, complaints, refunds "
                                "and orders only", one_of=CUSTOMER_TABLES),
})

OPERATIONS_V1: Mapping[str, tuple[Rule, ...]] = MappingProxyType({
    # returns
    "RequestReturn": _rules(Rule(CUSTOMER, ("own",)), *STAFF),
    "ApproveReturn": _rules(Rule(SUPERVISOR, UNLESS_OWN_GAIN), Rule(AGENT, UNLESS_OWN_GAIN)),
    "RejectReturn": STAFF,
    "CancelReturn": _rules(Rule(CUSTOMER, ("own",)), *STAFF),
    "IssueReturnLabel": STAFF,
    "ReceiveReturn": _rules(Rule("warehouse")),
    "InspectReturn": _rules(Rule("warehouse")),
    "ResolveReturn": STAFF,
    "CloseReturn": STAFF,
    # repairs (a return resolved by repair); the warehouse ships to and from the repairer
    "SendToRepair": _rules(*STAFF, Rule("warehouse")),
    "DiagnoseRepair": _rules(*STAFF, Rule("warehouse")),
    "CompleteRepair": _rules(*STAFF, Rule("warehouse")),
    "ShipRepairedItem": _rules(*STAFF, Rule("warehouse")),
    "ReportRepairFailed": _rules(Rule(CUSTOMER, ("own",)), *STAFF),
    "ChooseRemedy": _rules(Rule(CUSTOMER, ("own",)), Rule(AGENT, ("not_beneficiary",)),
                           Rule(SUPERVISOR, ("not_beneficiary",))),
    # refunds
    "RequestRefund": _rules(Rule(AGENT, ("not_beneficiary",)),
                            Rule(SUPERVISOR, ("not_beneficiary",))),
    "ApproveRefund": _rules(Rule(SUPERVISOR, UNLESS_OWN_GAIN),
                            Rule(AGENT, ("within_threshold", *UNLESS_OWN_GAIN))),
    "RejectRefund": STAFF,
    "IssueRefund": _rules(Rule("payments")),
    "ConfirmRefundSettled": _rules(Rule("payments")),
    "RecordRefundFailed": _rules(Rule("payments")),
    # complaints
    "FileComplaint": _rules(Rule(CUSTOMER, ("own",)), *STAFF),
    "AcknowledgeComplaint": STAFF,
    "AddComplaintMessage": _rules(Rule(CUSTOMER, ("own", "inbound_message")), *STAFF),
    "ProposeResolution": STAFF,
    "RespondToProposal": _rules(Rule(CUSTOMER, ("own",)), *STAFF),
    "EscalateComplaint": STAFF,
    "ResolveComplaint": STAFF,
    "CloseComplaint": STAFF,
    "ReopenComplaint": _rules(Rule(CUSTOMER, ("own",)), *STAFF),
    # upstream facts (orders.v1, shipments.v1)
    "OrderPlaced": _rules(Rule("upstream")),
    "OrderPaid": _rules(Rule("upstream")),
    "OrderCancelled": _rules(Rule("upstream")),
    "ShipmentScanned": _rules(Rule("upstream"), Rule("carrier", ("return_shipment",))),
    # deadlines
    "FireDeadlines": _rules(Rule("scheduler")),
    "ListDeadlines": _rules(*STAFF, Rule("auditor"), Rule("scheduler")),
    # principals
    "AddPrincipal": _rules(Rule("admin")),
    "GrantRole": _rules(Rule("admin")),
    "RevokeRole": _rules(Rule("admin")),
    "DisablePrincipal": _rules(Rule("admin")),
    "EnablePrincipal": _rules(Rule("admin")),
    "ReadPrincipals": _rules(Rule("admin"), Rule("auditor")),
    # personal data (GDPR art. 15, 17, 20; PIPL art. 45, 47): administrators handle the
    # subject's requests; a customer takes their own data; the scheduler erases by retention
    "EraseCustomer": _rules(Rule("admin", ("not_own_data",))),
    "ExportCustomer": _rules(Rule(CUSTOMER, ("own",)), Rule("admin")),
    "ApplyRetention": _rules(Rule("scheduler")),
    # API keys of principals (the service API's credentials)
    "IssueApiKey": _rules(Rule("admin")),
    "RevokeApiKey": _rules(Rule("admin")),
    "ListApiKeys": _rules(Rule("admin"), Rule("auditor")),
    # reads
    "ReadCase": _rules(Rule(CUSTOMER, ("own",)), *STAFF, Rule("auditor"),
                       Rule("warehouse", view="redacted"), Rule("payments", view="redacted"),
                       Rule("analyst", view="redacted")),
    "RerunDecisions": _rules(Rule("auditor"), Rule(SUPERVISOR)),
    "QueryProjection": _rules(Rule(CUSTOMER, ("customer_table",), rows="own"), *STAFF,
                              Rule("warehouse"), Rule("payments"), Rule("auditor"),
                              Rule("analyst", view="redacted")),
    "ReadReport": _rules(Rule("analyst", view="redacted"), Rule("auditor"), *STAFF),
    "ReadDenials": _rules(Rule("auditor")),
    "VerifyAudit": _rules(Rule("auditor")),
    # the desk (a web console): staff, the warehouse, auditors and analysts; never customers
    "OpenDesk": _rules(*STAFF, Rule("warehouse"), Rule("auditor"),
                       Rule("analyst", view="redacted")),
    "AssignCase": _rules(*STAFF, Rule("warehouse")),
})

ACCESS_V1 = Matrix(version=1, conditions=CONDITIONS_V1, operations=OPERATIONS_V1)

# v2: the merchants' policy books. Administrators set them; administrators and auditors read
# them, their history and what-if simulations (which store nothing); the published policy is
# public text, which every role may read.
EVERYONE = (CUSTOMER, AGENT, SUPERVISOR, "warehouse", "carrier", "payments", "upstream",
            "auditor", "analyst", "admin")
OPERATIONS_V2: Mapping[str, tuple[Rule, ...]] = MappingProxyType({
    **OPERATIONS_V1,
    "SetPolicyBook": _rules(Rule("admin")),
    "ReadPolicyBook": _rules(Rule("admin"), Rule("auditor")),
    "SimulatePolicyBook": _rules(Rule("admin"), Rule("auditor")),
    "ReadPublishedPolicy": _rules(*(Rule(role) for role in EVERYONE)),
})
ACCESS_V2 = Matrix(version=2, conditions=CONDITIONS_V1, operations=OPERATIONS_V2)

# v3: what a customer may not set on a command (API3, mass assignment): whether the buyer was
# told the return cost and the return shipping estimate (who pays, and so whether the goods
# come back, are the merchant's staff's and policy's to decide), a price reduction's amount,
# and the id of a new case (a customer's new case gets one derived from their idempotency key,
# or a fresh one). The command's ``staff_fields`` fact lists the ones its body sets.
CUSTOMER_SETS_NONE = ("no_staff_fields",)
CONDITIONS_V3: Mapping[str, Condition] = MappingProxyType({
    **CONDITIONS_V1,
    "no_staff_fields": Condition("staff_fields", "only the merchant's staff or its policy set "
                                 "these, never a customer: leave them out", empty=True),
})
OPERATIONS_V3: Mapping[str, tuple[Rule, ...]] = MappingProxyType({
    **OPERATIONS_V2,
    "RequestReturn": _rules(Rule(CUSTOMER, ("own", *CUSTOMER_SETS_NONE)), *STAFF),
    "ChooseRemedy": _rules(Rule(CUSTOMER, ("own", *CUSTOMER_SETS_NONE)),
                           Rule(AGENT, ("not_beneficiary",)),
                           Rule(SUPERVISOR, ("not_beneficiary",))),
    "FileComplaint": _rules(Rule(CUSTOMER, ("own", *CUSTOMER_SETS_NONE)), *STAFF),
})
ACCESS_V3 = Matrix(version=3, conditions=CONDITIONS_V3, operations=OPERATIONS_V3)

# v4: auditors (and the administrators who erase) list the recorded erasures of personal data:
# the customer id, when, by whom, why and where in the store (no personal data). And an
# administrator's API key is issued by that administrator only (repudiation: a key for
# another administrator would let its issuer act, and be recorded, as them). ``IssueApiKey``'s
# facts name the key's holder (``holder_id``) and whether it holds the admin role
# (``holder_is_admin``); keys for principals without the admin role are issued as before.
CONDITIONS_V4: Mapping[str, Condition] = MappingProxyType({
    **CONDITIONS_V3,
    "holder_not_admin": Condition("holder_is_admin", "the key's holder is an administrator",
                                  one_of=(False,)),
    "own_key": Condition("holder_id", "an administrator's keys are issued by that "
                         "administrator only: a key for another administrator would let its "
                         "issuer act as them", principal="id"),
})
OPERATIONS_V4: Mapping[str, tuple[Rule, ...]] = MappingProxyType({
    **OPERATIONS_V3,
    "ListErasures": _rules(Rule("admin"), Rule("auditor")),
    "IssueApiKey": _rules(Rule("admin", ("holder_not_admin",)), Rule("admin", ("own_key",))),
})
ACCESS_V4 = Matrix(version=4, conditions=CONDITIONS_V4, operations=OPERATIONS_V4)

# v5: a member of staff who is also the customer of an order is a buyer there (a conflict of
# interest, SECURITY.md): they may request a return on it as any customer may, never setting
# what only staff set (who pays the return shipping, its estimate: a returnless refund), and
# may not resolve their own return (that requests its refund, which RequestRefund already
# refuses them).
STAFF_UNLESS_BUYER = (Rule(AGENT, ("not_beneficiary",)), Rule(AGENT, CUSTOMER_SETS_NONE),
                      Rule(SUPERVISOR, ("not_beneficiary",)),
                      Rule(SUPERVISOR, CUSTOMER_SETS_NONE))
OPERATIONS_V5: Mapping[str, tuple[Rule, ...]] = MappingProxyType({
    **OPERATIONS_V4,
    "RequestReturn": _rules(Rule(CUSTOMER, ("own", *CUSTOMER_SETS_NONE)), *STAFF_UNLESS_BUYER),
    "ResolveReturn": _rules(Rule(AGENT, ("not_beneficiary",)),
                            Rule(SUPERVISOR, ("not_beneficiary",))),
})
ACCESS_V5 = Matrix(version=5, conditions=CONDITIONS_V4, operations=OPERATIONS_V5)

# v6: the payment provider issues, settles and records the failure of refunds, and reads cases
# with personal data redacted (SECURITY.md: payments may do nothing else); v5 also let it query
# every projection (every case of every customer, every decision's inputs), which no document
# gives it.
OPERATIONS_V6: Mapping[str, tuple[Rule, ...]] = MappingProxyType({
    **OPERATIONS_V5,
    "QueryProjection": tuple(rule for rule in OPERATIONS_V5["QueryProjection"]
                             if rule.role != "payments"),
})
ACCESS_V6 = Matrix(version=6, conditions=CONDITIONS_V4, operations=OPERATIONS_V6)
