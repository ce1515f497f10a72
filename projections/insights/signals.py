"""Which product pages mislead buyers: each SKU (and category) tested against its peers.

For every SKU with at least MIN_SUPPORT delivered orders and each signal (``page``: orders with
a return or complaint reason that points at the product page; ``return``: orders with any
return of the SKU), the exact one-sided binomial test asks whether the SKU's share of orders
with the signal is above its baseline: the rest of its category (or of all SKUs when the rest of
the category has fewer than MIN_SUPPORT orders). A SKU or category without peers (the
merchant's only one) is not tested: no p, no q, no alert, and it does not count among the tests.
The p-values of all SKUs tested for a signal get Benjamini-Hochberg q-values; an alert needs
q <= FDR, at least MIN_CASES orders with the signal and a rate at least MIN_LIFT times the
baseline. Categories are tested the same way against the merchant's other categories. Pure
functions; documented in the README."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from typing import Any

import orjson

from projections.insights.stats import Rate, benjamini_hochberg, binomial_sf

# Return reasons and complaint categories that point at the product page or its instructions.
PAGE_REASONS = frozenset({"not_as_described", "doesnt_fit", "wrong_item", "defective"})
PAGE_COMPLAINTS = frozenset({"not_as_described"})
SIGNALS = {"page": "flagged", "return": "returned"}  # signal -> the count it tests
MIN_SUPPORT = 20  # delivered orders before a SKU or category is tested
FDR = 0.05  # Benjamini-Hochberg false-discovery rate across everything tested for a signal
MIN_CASES = 3  # orders with the signal before an alert
MIN_LIFT = Fraction(3, 2)  # an alert's rate is at least this multiple of its baseline (exact)
EXAMPLES = 3  # example cases kept with each SKU and alert
NO_PEERS = "no peers to compare with"  # the scope of a SKU or category that is not tested


@dataclass
class Assessment:
    """One SKU (or category, sku '') for one signal, with the evidence behind its verdict."""

    level: str  # "sku" or "category"
    signal: str  # "page" or "return"
    merchant: str
    category: str
    sku: str
    observed: Rate  # orders with the signal among the delivered orders with the SKU
    baseline: Rate  # the same among its peers
    baseline_scope: str  # which peers: the rest of the category, the merchant's other SKUs…
    units: Rate  # units returned of units sold (no interval: units are not independent)
    p_value: float | None = None  # None: not tested (no peers)
    q_value: float | None = None
    tested: int = 0  # how many were tested for this signal at this level (BH's m)
    rows: Sequence[Mapping[str, Any]] = field(default_factory=list, repr=False)  # evidence

    @property
    def reasons(self) -> dict[str, int]:
        """What buyers said: return reasons and complaint categories, with their counts."""
        total: dict[str, int] = defaultdict(int)
        for row in self.rows:
            for reason, count in orjson.loads(row["reasons"]).items():
                total[reason] += count
        return dict(sorted(total.items()))

    @property
    def examples(self) -> list[list[str]]:
        """The latest cases behind the signal: [time, case id, kind]."""
        column = "page_examples" if self.signal == "page" else "return_examples"
        found = {tuple(e) for row in self.rows for e in orjson.loads(row[column])}
        return [list(e) for e in sorted(found, reverse=True)[:EXAMPLES]]

    @property
    def lift(self) -> float | None:
        base, rate = self.baseline.value, self.observed.value
        return None if not base or rate is None else rate / base

    @property
    def has_peers(self) -> bool:
        """Is there anything to compare with? Without peers there is no test."""
        return self.baseline.n > 0

    @property
    def material(self) -> bool:
        """Is the rate at least MIN_LIFT times the baseline's? Compared exactly, in fractions:
        21/23 against 14/23 is exactly 1.5 times, where floats make it 1.4999999999999998."""
        if not self.has_peers:
            return False
        return (Fraction(self.observed.k, self.observed.n)
                >= MIN_LIFT * Fraction(self.baseline.k, self.baseline.n))

    @property
    def alert(self) -> bool:
        return (self.q_value is not None and self.q_value <= FDR
                and self.observed.k >= MIN_CASES and self.material)


@lru_cache(maxsize=1 << 16)
def p_value(k: int, n: int, rest_k: int, rest_n: int) -> float:
    """The one-sided exact binomial p-value of k of n against the smoothed baseline rate of
    rest_k of rest_n (cached: most SKUs' counts do not change from one batch to the next)."""
    return binomial_sf(k, n, (rest_k + 0.5) / (rest_n + 1.0))


def assess(totals: Sequence[Mapping[str, Any]]) -> list[Assessment]:
    """Every SKU and category with enough support, for both signals, with p- and q-values
    (None for those without peers: they are not tested).

    ``totals``: one mapping per (merchant, category, sku) with orders, returned, flagged,
    units_sold, units_returned, reasons, return_examples and page_examples (JSON text). A SKU's
    peers are the other SKUs of its merchant's category; a category's, the merchant's other
    categories (merchants' catalogues and return processes are not comparable)."""
    rows = sorted(totals, key=lambda r: (r["merchant"], r["category"], r["sku"]))
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[(row["merchant"], row["category"])].append(row)
    out: list[Assessment] = []
    for signal, column in SIGNALS.items():
        merchant_k: dict[str, int] = defaultdict(int)
        merchant_n: dict[str, int] = defaultdict(int)
        for row in rows:
            merchant_k[row["merchant"]] += row[column]
            merchant_n[row["merchant"]] += row["orders"]
        cat_k = {g: sum(r[column] for r in rs) for g, rs in groups.items()}
        cat_n = {g: sum(r["orders"] for r in rs) for g, rs in groups.items()}
        skus = []
        for row in rows:
            if row["orders"] < MIN_SUPPORT:
                continue
            k, n, group = row[column], row["orders"], (row["merchant"], row["category"])
            rest, scope = Rate(cat_k[group] - k, cat_n[group] - n), "rest of category"
            if rest.n < MIN_SUPPORT:
                rest = Rate(merchant_k[row["merchant"]] - k, merchant_n[row["merchant"]] - n)
                scope = "all other SKUs of the merchant"
            skus.append(Assessment(
                "sku", signal, row["merchant"], row["category"], row["sku"], Rate(k, n), rest,
                scope, Rate(row["units_returned"], row["units_sold"]), rows=[row]))
        categories = []
        for (merchant, category), members in groups.items():
            k, n = cat_k[(merchant, category)], cat_n[(merchant, category)]
            if n < MIN_SUPPORT:
                continue
            categories.append(Assessment(
                "category", signal, merchant, category, "", Rate(k, n),
                Rate(merchant_k[merchant] - k, merchant_n[merchant] - n),
                "the merchant's other categories",
                Rate(sum(r["units_returned"] for r in members),
                     sum(r["units_sold"] for r in members)), rows=members))
        for level in (skus, categories):
            tested = [item for item in level if item.has_peers]
            pvalues = [p_value(i.observed.k, i.observed.n, i.baseline.k, i.baseline.n)
                       for i in tested]
            for item, p, q in zip(tested, pvalues, benjamini_hochberg(pvalues), strict=True):
                item.p_value, item.q_value, item.tested = p, q, len(tested)
            for item in level:
                if not item.has_peers:
                    item.baseline_scope = NO_PEERS
            out += level
    return out


def alert_rows(assessments: Iterable[Assessment]) -> list[dict[str, Any]]:
    """The alerts among the assessments, as rows of the `product_alerts` table."""
    rows = []
    for a in assessments:
        if not a.alert:
            continue
        low, high = a.observed.interval
        rows.append({
            "level": a.level, "signal": a.signal, "merchant": a.merchant,
            "category": a.category, "sku": a.sku,
            "orders": a.observed.n, "cases": a.observed.k, "rate": a.observed.value or 0.0,
            "low": low, "high": high, "baseline_orders": a.baseline.n,
            "baseline_cases": a.baseline.k, "baseline_rate": a.baseline.value or 0.0,
            "baseline_scope": a.baseline_scope,
            "lift": a.lift, "p_value": a.p_value, "q_value": a.q_value, "tested": a.tested,
            "reasons": orjson.dumps(a.reasons, option=orjson.OPT_SORT_KEYS).decode(),
            "examples": orjson.dumps(a.examples).decode()})
    return rows
