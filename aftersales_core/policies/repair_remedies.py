"""``repair.remedies``: what a failed repair opens, by the market's ladder of remedies.

* UK (Consumer Rights Act 2015 s. 24): after one repair that did not fix the goods, the buyer may
  reject them finally for a refund, or keep them with a price reduction.
* China (the "three guarantees" rules for repair, replacement and return): after two repairs
  of the same fault the buyer may have a replacement or return the goods for a refund; a fault
  that cannot be repaired opens them at once.
* EU (Directive 2019/771 art. 13): when a repair fails or is impossible, a replacement where
  still possible, else a proportionate price reduction or termination (a refund).
* Elsewhere (merchant policy): after one failed repair, a replacement or a refund.

Until the ladder is climbed the remedy is another repair. The decision lists the remedies the
buyer may now choose from; ``ChooseRemedy`` must pick one of them.

v2 reads no words: the fault a buyer reports is their personal data (sealed, erased with their
key), so the inputs are the counts of earlier failed repairs (``failed_repairs``) and of those
that failed of the same fault (``same_fault_failures``), and the reasons quote no fault. v1
read the fault and the earlier faults as text and quoted the fault in its reasons.
"""

from __future__ import annotations

from dataclasses import dataclass

from aftersales_core.decisions import JSON, PolicyDecision, copy_json
from aftersales_core.outcomes import RepairRemedies
from aftersales_core.policies.findings import Findings
from aftersales_core.policies.reading import Reader
from aftersales_core.policies.registry import policy
from aftersales_core.policies.vocabulary import CN_MARKET, EU_MARKETS, UK_MARKET

POLICY_ID = "repair.remedies"
REMEDIES = ("repair", "replacement", "price_reduction", "refund")


@dataclass(frozen=True)
class Ladder:
    """One market's ladder: failed repairs (of the same fault, where that counts) before the
    buyer may leave repair, and what they may choose then."""

    name: str
    failed_repairs: int
    same_fault_only: bool
    remedies: tuple[str, ...]
    law: str


@dataclass(frozen=True)
class RemedySettings:
    """Settings of repair.remedies v1 and v2."""

    uk: Ladder = Ladder("uk", 1, False, ("refund", "price_reduction"),
                        "UK Consumer Rights Act 2015 s. 24: after one failed repair, final "
                        "rejection for a refund or a price reduction")
    cn: Ladder = Ladder("cn_three_guarantees", 2, True, ("replacement", "refund"),
                        "China's three-guarantees rules: after two repairs of the same fault, "
                        "replacement or return")
    eu: Ladder = Ladder("eu", 1, False, ("replacement", "price_reduction", "refund"),
                        "EU Directive 2019/771 art. 13: when repair fails, replacement, a "
                        "price reduction or a refund")
    default: Ladder = Ladder("merchant", 1, False, ("replacement", "refund"),
                             "merchant policy: after one failed repair, replacement or refund")

    def ladder(self, market: str) -> Ladder:
        if market == UK_MARKET:
            return self.uk
        if market == CN_MARKET:
            return self.cn
        return self.eu if market in EU_MARKETS else self.default


SETTINGS_V1 = RemedySettings()


def decide(inputs: JSON, settings: RemedySettings, version: int) -> PolicyDecision:
    read = Reader(POLICY_ID, inputs)
    market = read.market()
    repairable = read.flag("repairable")
    if version == 1:
        fault = read.text("fault")
        earlier = read.strings("earlier_failed_faults")  # faults of earlier failed repairs
        failed, same = len(earlier), sum(1 for f in earlier if f == fault)
        the_fault, named = f"the fault {fault!r}", f" ({fault!r})"
    else:
        failed, same = read.count("failed_repairs"), read.count("same_fault_failures")
        the_fault, named = "the fault", ""
        if same > failed:
            raise read.error("same_fault_failures", f"more than the {failed} failed repairs")
    ladder = settings.ladder(market)
    findings = Findings()
    counted = (same if ladder.same_fault_only else failed) + 1
    kind = "of the same fault " if ladder.same_fault_only else ""
    if not repairable:  # no repair to wait for: the next rung at once
        remedies = ladder.remedies
        findings.note(f"remedies.{ladder.name}", f"{the_fault} cannot be repaired: "
                      f"{ladder.law}; the buyer may choose {' or '.join(remedies)}")
    elif counted >= ladder.failed_repairs:
        remedies = ladder.remedies
        findings.note(f"remedies.{ladder.name}", f"repair {counted} {kind}failed{named}: "
                      f"{ladder.law}; the buyer may choose {' or '.join(remedies)}")
    else:
        remedies = ("repair",)
        findings.note(f"remedies.{ladder.name}", f"repair {counted} {kind}failed{named}: "
                      f"{ladder.law}; until then the goods are repaired again")
    outcome = RepairRemedies.REPAIR_AGAIN if remedies == ("repair",) \
        else RepairRemedies.BUYER_CHOOSES
    details: JSON = {"ladder": ladder.name, "failed_repairs": counted,
                     "remedies": list(remedies)}
    return PolicyDecision(POLICY_ID, version, copy_json(inputs), outcome, findings.reasons,
                          findings.rules, details)


@policy(POLICY_ID, 1, settings=SETTINGS_V1)
def repair_remedies_v1(inputs: JSON, settings: RemedySettings) -> PolicyDecision:
    return decide(inputs, settings, 1)


@policy(POLICY_ID, 2, settings=SETTINGS_V1)
def repair_remedies_v2(inputs: JSON, settings: RemedySettings) -> PolicyDecision:
    return decide(inputs, settings, 2)
