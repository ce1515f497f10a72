"""The refunded share of sales lists every market and currency that sold in the period."""

from __future__ import annotations

from projections.insights.refunds import shares


def test_a_market_that_sold_without_a_refund_shows_zero() -> None:
    """CY sold 100.00 and refunded nothing: its row says 0 % of 100.00; it was left out, so an
    analyst could not tell a market without refunds from one without sales."""
    orders = [{"market": "CY", "currency": "EUR", "paid": "100.00"},
              {"market": "DE", "currency": "EUR", "paid": "50.00"}]
    refunds = [{"market": "DE", "currency": "EUR", "amount": "5.00", "source": "cancellation",
                "reason": None}]
    rows = {(r["market"], r["reason"]): r for r in shares(orders, refunds).rows}
    assert set(rows) == {("CY", "all reasons"), ("DE", "all reasons"), ("DE", "cancellation")}
    cy = rows[("CY", "all reasons")]
    assert (cy["refunds"], cy["refunded"], cy["sales_paid"], cy["refunded_%_of_sales"]) == (
        0, "0", "100.00", 0.0)
    assert rows[("DE", "all reasons")]["refunded_%_of_sales"] == 10.0
