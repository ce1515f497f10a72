"""JSON, CSV and the API carry the figures the engine computed (6 decimals from 1 up, 6
significant digits below, README "Rates, defined once"); only tables round. Before, the table's
2 or 3 decimals were applied to the rows themselves: a median of 3.125 days was 3.12."""

from __future__ import annotations

from typing import Any

from projections.insights.carriers import routes
from projections.insights.refunds import shares, time_to_money
from projections.insights.view import json_row, text_value


def refund(requested: str, settled: str) -> dict[str, Any]:
    return {"market": "GB", "source": "goodwill", "order_cancelled_at": None,
            "source_opened_at": None, "requested_at": requested, "settled_at": settled}


def test_days_to_money_keep_their_decimals_in_json_and_csv() -> None:
    view = time_to_money([refund("2026-11-20T10:00:00Z", f"2026-11-{d}T13:00:00Z")
                          for d in (22, 23, 24)] +
                         [refund("2026-11-21T10:00:00Z", "2026-11-25T13:00:00Z")])
    [row] = view.rows
    machine = json_row(row)
    assert (machine["days_p50"], machine["days_p90"], machine["days_max"]) == \
        (3.125, 4.125, 4.125)
    flat = view.flat_row(row)
    assert (flat["days_p50"], flat["days_max"]) == (3.125, 4.125)
    assert text_value(row["days_p50"]) == "3.12"  # a table may round


def test_shares_and_transit_days_carry_six_decimals() -> None:
    orders = [{"market": "GB", "currency": "GBP", "paid": "300.00"} for _ in range(6)]
    refunds = [{"market": "GB", "currency": "GBP", "amount": "150.00", "source": "goodwill",
                "reason": None} for _ in range(4)]
    row = next(r for r in shares(orders, refunds).rows if r["reason"] == "all reasons")
    assert json_row(row)["refunded_%_of_sales"] == 33.333333
    parcel = {"direction": "outbound", "carrier": "DHL", "origin": "DE", "destination": "GB",
              "on_time": None, "transit_hours": 183.5}  # 7.645833… days
    [route] = routes([parcel]).rows
    assert json_row(route)["transit_days_p50"] == 7.645833
