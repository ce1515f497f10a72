"""UCI Online Retail (a UK gift retailer selling to 38 countries) as upstream events.

Mapping (documented in the README):
* an invoice that does not start with C is an order: OrderPlaced + OrderPaid (the amount of the
  invoice) + an outbound Dispatched (from GB) the next morning and Delivered (in the buyer's
  country) 2 days later in the UK or 5 days later abroad (the data has no shipping, so these
  scans, their carrier Royal Mail and their times are assumptions; there is no promised date);
* market = the buyer's country as ISO 3166-1 alpha-2 (`COUNTRIES`; "European Community" and
  "Unspecified" are no country: the engine refuses those orders); currency GBP (the shop's
  prices); fulfilment `domestic` in GB, `direct_mail` abroad; the checkout told the buyer
  that sending goods back is at their cost (`buyer_informed_of_return_cost`);
* category from keywords of the description (`CATEGORIES`), else `gifts`; StockCodes that are
  not goods (postage, carriage, manual entries, fees, discounts, samples: `NOT_GOODS`) are in the
  category `not_goods`;
* a missing CustomerID becomes the opaque guest id `guest-<invoice>`;
* a C invoice (cancellation) becomes a customer's RequestReturn of the matching lines of the
  customer's latest earlier invoice with that StockCode (reason `changed_mind`, or
  `damaged` when the description says so);
* times are Europe/London local time.
Lines with a negative quantity or price in an ordinary invoice are sent as they are: the engine
refuses them (dead-letter topic), as it would refuse them from a real upstream service."""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from demo.principals import customer

LONDON = ZoneInfo("Europe/London")
COUNTRIES = {
    "United Kingdom": "GB", "Germany": "DE", "France": "FR", "EIRE": "IE", "Spain": "ES",
    "Netherlands": "NL", "Belgium": "BE", "Switzerland": "CH", "Portugal": "PT",
    "Australia": "AU", "Norway": "NO", "Italy": "IT", "Channel Islands": "JE", "Finland": "FI",
    "Cyprus": "CY", "Sweden": "SE", "Austria": "AT", "Denmark": "DK", "Japan": "JP",
    "Poland": "PL", "Israel": "IL", "USA": "US", "Hong Kong": "HK", "Singapore": "SG",
    "Iceland": "IS", "Canada": "CA", "Greece": "GR", "Malta": "MT",
    "United Arab Emirates": "AE", "European Community": "EU", "RSA": "ZA", "Lebanon": "LB",
    "Lithuania": "LT", "Brazil": "BR", "Czech Republic": "CZ", "Bahrain": "BH",
    "Saudi Arabia": "SA", "Unspecified": "ZZ",
}
CATEGORIES = (
    ("CHRISTMAS", "seasonal"), ("EASTER", "seasonal"), ("BAG", "bags"), ("CANDLE", "home_decor"),
    ("LIGHT", "lighting"), ("LANTERN", "lighting"), ("MUG", "kitchen"), ("CUP", "kitchen"),
    ("PLATE", "kitchen"), ("BOWL", "kitchen"), ("TEA", "kitchen"), ("CAKE", "kitchen"),
    ("LUNCH", "kitchen"), ("BOTTLE", "kitchen"), ("FRAME", "home_decor"), ("CLOCK", "home_decor"),
    ("SIGN", "home_decor"), ("HEART", "home_decor"), ("CUSHION", "textiles"),
    ("APRON", "textiles"), ("CARD", "stationery"), ("PAPER", "stationery"),
    ("NOTEBOOK", "stationery"), ("PEN", "stationery"), ("WRAP", "stationery"),
    ("TOY", "toys"), ("GAME", "toys"), ("DOLL", "toys"), ("JEWEL", "jewellery"),
    ("NECKLACE", "jewellery"), ("EARRING", "jewellery"), ("BRACELET", "jewellery"),
    ("GARDEN", "garden"), ("POSTAGE", "postage"),
)


# StockCodes that are not goods: postage, carriage, manual entries, fees, discounts, samples
NOT_GOODS = frozenset({"POST", "DOT", "C2", "M", "BANK CHARGES", "PADS", "D", "CRUK",
                       "AMAZONFEE", "S", "B"})


def category_of(description: str, stock_code: str = "") -> str:
    if stock_code.upper() in NOT_GOODS:
        return "not_goods"
    text = description.upper()
    return next((c for word, c in CATEGORIES if word in text), "gifts")


@dataclass
class Invoice:
    number: str
    at: datetime
    customer_id: str
    country: str
    lines: list[dict[str, Any]] = field(default_factory=list)

    @property
    def market(self) -> str:
        return COUNTRIES.get(self.country, "ZZ")

    @property
    def cancelled(self) -> bool:
        return self.number.startswith("C")


def read_invoices(path: Path) -> Iterator[Invoice]:
    """Invoices in file order (the file is in time order), each with its lines."""
    current: Invoice | None = None
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            number = row["InvoiceNo"]
            if current is None or current.number != number:
                if current is not None:
                    yield current
                at = datetime.fromisoformat(row["InvoiceDate"]).replace(tzinfo=LONDON)
                customer = row["CustomerID"] or f"guest-{number}"
                current = Invoice(number, at, customer, row["Country"])
            current.lines.append({
                "line_id": str(len(current.lines) + 1), "sku": row["StockCode"],
                "category": category_of(row["Description"] or "", row["StockCode"]),
                "quantity": int(row["Quantity"]), "unit_price": row["UnitPrice"],
                "description": row["Description"]})
    if current is not None:
        yield current


def order_events(invoice: Invoice) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(orders.v1 messages, shipments.v1 messages) of an ordinary invoice."""
    order_id = f"uci-{invoice.number}"
    items = sum((Decimal(x["unit_price"]) * x["quantity"] for x in invoice.lines), Decimal(0))
    lines = [{k: v for k, v in x.items() if k != "description"} for x in invoice.lines]
    placed = {"event_id": f"{order_id}-placed", "event_type": "OrderPlaced",
              "occurred_at": invoice.at.isoformat(), "order_id": order_id,
              "customer_id": invoice.customer_id, "market": invoice.market,
              "currency": "GBP",
              "fulfilment": "domestic" if invoice.market == "GB" else "direct_mail",
              "lines": lines, "shipping_fee": "0.00", "duties": "0.00", "taxes": "0.00",
              "total": str(items), "merchant_id": "uci-online-retail", "channel": "web",
              # the shop's checkout tells buyers that returning goods is at their cost
              "buyer_informed_of_return_cost": True}
    paid = {"event_id": f"{order_id}-paid", "event_type": "OrderPaid",
            "occurred_at": (invoice.at + timedelta(minutes=1)).isoformat(),
            "order_id": order_id, "payment_id": f"pay-{invoice.number}", "method": "card",
            "amount": str(items), "currency": "GBP"}
    days = 2 if invoice.market == "GB" else 5
    dispatched = invoice.at.replace(hour=9, minute=0) + timedelta(days=1)
    scans = [_scan(order_id, "Dispatched", dispatched, "GB"),
             _scan(order_id, "Delivered", dispatched + timedelta(days=days, hours=5),
                   invoice.market)]
    return [placed, paid], scans


def _scan(order_id: str, kind: str, at: datetime, location: str) -> dict[str, Any]:
    return {"event_id": f"{order_id}-{kind}", "event_type": kind, "occurred_at": at.isoformat(),
            "order_id": order_id, "shipment_id": f"{order_id}-out", "carrier": "Royal Mail",
            "direction": "outbound", "location": location}


def delivered_at(invoice: Invoice) -> datetime:
    days = 2 if invoice.market == "GB" else 5
    return invoice.at.replace(hour=9, minute=0) + timedelta(days=1 + days, hours=5)


def return_request(cancellation: Invoice, earlier: dict[tuple[str, str], tuple[Invoice, str]],
                   ) -> dict[str, Any] | None:
    """The customer's RequestReturn for a C invoice, as an envelope ``{"as": the customer's
    principal, "command": …}``, or None when no earlier invoice matches."""
    wanted: dict[str, dict[str, Any]] = {}
    original: Invoice | None = None
    for line in cancellation.lines:
        found = earlier.get((cancellation.customer_id, line["sku"]))
        if found is None:
            continue
        invoice, line_id = found
        if original is None:
            original = invoice
        if invoice is not original:
            continue
        ordered = next(x for x in invoice.lines if x["line_id"] == line_id)["quantity"]
        quantity = min(abs(line["quantity"]), ordered)
        if quantity > 0 and line_id not in wanted:
            wanted[line_id] = {"line_id": line_id, "quantity": quantity}
    if original is None or not wanted:
        return None
    damaged = any("DAMAGE" in (x["description"] or "").upper() for x in cancellation.lines)
    at = max(cancellation.at, delivered_at(original) + timedelta(hours=1))
    return {"as": customer(cancellation.customer_id), "command": {
        "command": "RequestReturn", "idempotency_key": f"uci-{cancellation.number}",
        "order_id": f"uci-{original.number}", "lines": list(wanted.values()),
        "reason": "damaged" if damaged else "changed_mind", "outcome": "refund",
        "channel": "web", "at": at.isoformat()}}
