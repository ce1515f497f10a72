"""Product-information alerts: who is tested, against which peers, and when an alert is raised."""

from __future__ import annotations

from typing import Any

from projections.insights.products import _assessment_rows, alert_view
from projections.insights.signals import MIN_SUPPORT, Assessment, alert_rows, assess
from projections.insights.stats import Rate
from projections.insights.view import Insight, json_value, text_value


def sku(name: str, orders: int, flagged: int = 0, returned: int = 0, category: str = "home",
        merchant: str = "m1") -> dict[str, Any]:
    return {"merchant": merchant, "category": category, "sku": name, "orders": orders,
            "returned": returned, "flagged": flagged, "units_sold": orders,
            "units_returned": returned, "reasons": "{}", "return_examples": "[]",
            "page_examples": "[]"}


def found(items: list[Assessment], signal: str, name: str, level: str = "sku"
          ) -> Assessment | None:
    return next((a for a in items if a.signal == signal and a.sku == name and a.level == level),
                None)


def catalogue(*rows: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows plus ordinary peers: 10 SKUs of 100 orders with 2 flagged each."""
    peers = [sku(f"P-{i}", 100, flagged=2, returned=2) for i in range(10)]
    return [*rows, *peers]


def test_a_sku_below_the_minimum_support_is_not_tested() -> None:
    items = assess(catalogue(sku("NEW", MIN_SUPPORT - 1, flagged=MIN_SUPPORT - 1)))
    assert found(items, "page", "NEW") is None
    tested = found(assess(catalogue(sku("NEW", MIN_SUPPORT, flagged=10))), "page", "NEW")
    assert tested is not None and tested.alert


def test_two_cases_are_never_an_alert_three_can_be() -> None:
    peers = [sku(f"P-{i}", 100) for i in range(10)]  # never flagged
    two = found(assess([sku("X", 20, flagged=2), *peers]), "page", "X")
    three = found(assess([sku("X", 20, flagged=3), *peers]), "page", "X")
    assert two is not None and two.q_value < 0.05 and not two.alert
    assert three is not None and three.alert


def test_an_alert_needs_its_rate_at_least_one_and_a_half_times_the_baseline() -> None:
    # peers at 2 % with a huge support: 3.1 % is significant, but not material
    peers = [sku(f"P-{i}", 10_000, flagged=200) for i in range(10)]
    material = found(assess([sku("X", 10_000, flagged=300), *peers]), "page", "X")
    small = found(assess([sku("X", 10_000, flagged=290), *peers]), "page", "X")
    assert material is not None and material.lift == 1.5 and material.alert
    assert small is not None and small.q_value < 0.05 and not small.alert


def test_the_baseline_is_the_rest_of_the_category_or_else_the_merchants_other_skus() -> None:
    items = assess(catalogue(sku("X", 50, flagged=5),
                             sku("LONE", 40, flagged=1, category="garden"),
                             sku("MATE", 19, category="garden")))
    x = found(items, "page", "X")
    assert x is not None and x.baseline == Rate(20, 1000)
    assert x.baseline_scope == "rest of category"
    lone = found(items, "page", "LONE")
    assert lone is not None and lone.baseline == Rate(25, 1069)  # all other SKUs of m1
    assert lone.baseline_scope == "all other SKUs of the merchant"


def test_merchants_are_never_each_others_peers() -> None:
    items = assess([sku("A", 100, flagged=20, merchant="m1"),
                    sku("B", 100, flagged=20, merchant="m1"),
                    *[sku(f"Q-{i}", 100, merchant="m2") for i in range(5)]])
    a = found(items, "page", "A")
    assert a is not None and a.baseline == Rate(20, 100) and not a.alert
    category = [i for i in items if i.level == "category" and i.signal == "page"]
    assert {(c.merchant, c.baseline.n) for c in category} == {("m1", 0), ("m2", 0)}


def test_false_discoveries_are_controlled_across_everything_tested() -> None:
    """The same SKU is an alert among 10 tested, not among 5,000 (q grows with m)."""
    borderline = sku("X", 40, flagged=6)
    few = found(assess(catalogue(borderline)), "page", "X")
    many = found(assess([borderline, *[sku(f"P-{i}", 100, flagged=2) for i in range(5000)]]),
                 "page", "X")
    assert few is not None and many is not None
    assert few.p_value == many.p_value or abs(few.p_value - many.p_value) < 1e-3
    assert few.alert and not many.alert and many.tested == 5001


def test_categories_are_tested_against_the_merchants_other_categories() -> None:
    items = assess([*[sku(f"H-{i}", 50, flagged=10) for i in range(4)],
                    *[sku(f"G-{i}", 50, flagged=1, category="garden") for i in range(4)]])
    home = found(items, "page", "", level="category")
    assert home is not None and home.category in ("home", "garden")
    home = next(i for i in items if i.level == "category" and i.category == "home"
                and i.signal == "page")
    assert home.observed == Rate(40, 200) and home.baseline == Rate(4, 200) and home.alert


def test_alert_rows_carry_the_evidence() -> None:
    rows = alert_rows(assess(catalogue(sku("X", 20, flagged=10))))
    x = next(r for r in rows if r["sku"] == "X" and r["signal"] == "page")
    assert (x["orders"], x["cases"], x["baseline_orders"], x["baseline_cases"]) == (
        20, 10, 1000, 20)
    assert 0 < x["low"] < x["rate"] == 0.5 < x["high"] < 1
    assert x["reasons"] == "{}" and x["examples"] == "[]"


def test_a_rate_exactly_one_and_a_half_times_its_peers_is_material() -> None:
    """21/23 against 14/23 is 1.5 times exactly; in floating point it is 1.4999999999999998."""
    items = assess([sku("SKU-X", 23, returned=21), sku("PEER", 23, returned=14)])
    x = found(items, "return", "SKU-X")
    assert x is not None and x.q_value <= 0.05 and x.alert and x.material
    below = found(assess([sku("SKU-X", 2300, returned=2099), sku("PEER", 2300, returned=1400)]),
                  "return", "SKU-X")
    assert below is not None and not below.alert and not below.material


def test_a_merchant_with_one_sku_has_no_peers_so_nothing_is_tested() -> None:
    """SKU-SOLO is its merchant's only SKU (and category): nothing to compare it with, so no
    p, no q, no alert, and it does not count among the tests of the other merchant."""
    items = assess([sku("SKU-SOLO", 20, returned=16, merchant="solo"),
                    *catalogue(sku("X", 20, flagged=10))])
    solo = [i for i in items if i.merchant == "solo"]
    assert {(i.level, i.signal) for i in solo} == {
        ("sku", "page"), ("sku", "return"), ("category", "page"), ("category", "return")}
    for item in solo:
        assert item.baseline.n == 0 and item.baseline_scope == "no peers to compare with"
        assert item.p_value is None and item.q_value is None and item.tested == 0
        assert not item.material and not item.alert
    assert not [r for r in alert_rows(items) if r["merchant"] == "solo"]
    x = found(items, "page", "X")
    assert x is not None and x.tested == 11 and x.alert  # X and the 10 peers of m1
    home = next(i for i in items if i.level == "category" and i.merchant == "m1"
                and i.signal == "page")
    assert home.p_value is None and home.tested == 0  # m1 sells one category
    rows = _assessment_rows(items, "sku")
    assert rows[-1]["sku"] == "SKU-SOLO" and rows[-1]["peers"] == "no peers to compare with"
    assert rows[-1]["return_q"] is None and rows[-1]["page_q"] is None


def test_p_and_q_values_keep_their_significant_digits_in_json_and_csv() -> None:
    """An exact test never gives p = 0: 150 of 200 against peers at 2 % is p ~ 1e-200, and
    JSON and CSV carry it as the table does (6 decimals made it 0.0)."""
    items = assess(catalogue(sku("X", 200, flagged=150)))
    x = found(items, "page", "X")
    assert x is not None and x.p_value is not None and 0 < x.p_value < 1e-100
    view = alert_view(items)
    row = Insight("products", views=[view]).as_json()["views"]["alerts"]["rows"][0]
    assert row["sku"] == "X" and row["p_value"] > 0 and row["q_value"] > 0
    assert f"{row['p_value']:.3g}" == text_value(x.p_value)
    assert row["p_value"] == float(f"{x.p_value:.6g}")
    flat = view.flat_row(view.rows[0])
    assert flat["p_value"] == row["p_value"] and flat["q_value"] == row["q_value"]
    assert json_value(0.5) == 0.5 and json_value(12.3456789) == 12.345679
    assert json_value(0.0123456789) == 0.0123457 and json_value(0.0) == 0.0
