"""Policies: pure, versioned functions from JSON inputs to a recorded PolicyDecision.

Importing this package registers every policy version, so that ``evaluate`` and ``rerun`` find
them. Each policy module holds its settings as a frozen dataclass (versioned data) beside it.
"""

from aftersales_core.policies import (
    access,
    buyer_abuse,
    complaint_triage,
    customs_return,
    deadline_breach,
    deadlines,
    deadlines_v3,
    deadlines_v4,
    deadlines_v5,
    exchange_settlement,
    logistics_exception,
    personal_data_retention,
    refund_approval,
    refund_calculation,
    refund_calculation_v3,
    repair_remedies,
    return_disposition,
    return_eligibility,
    return_eligibility_v2,
    return_eligibility_v3,
    return_eligibility_v4,
    return_eligibility_v5,
    return_shipping,
)
from aftersales_core.policies.registry import (
    current_version,
    describe,
    evaluate,
    registered,
    rerun,
)

__all__ = [
    "access",
    "buyer_abuse",
    "complaint_triage",
    "current_version",
    "customs_return",
    "deadline_breach",
    "deadlines",
    "deadlines_v3",
    "deadlines_v4",
    "deadlines_v5",
    "describe",
    "evaluate",
    "exchange_settlement",
    "logistics_exception",
    "personal_data_retention",
    "refund_approval",
    "refund_calculation",
    "refund_calculation_v3",
    "registered",
    "repair_remedies",
    "rerun",
    "return_disposition",
    "return_eligibility",
    "return_eligibility_v2",
    "return_eligibility_v3",
    "return_eligibility_v4",
    "return_eligibility_v5",
    "return_shipping",
]
