"""A scripted desk day through the CLI only: upstream facts in, commands in, cases out.

Run with `make demo` (or `python -m demo.scenario`). It uses a fresh SQLite store under
var/demo/ and prints every command it runs and what the engine answered.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console

console = Console()
HERE = Path("var/demo")
T0 = datetime.fromisoformat("2026-03-02T09:00:00+00:00")


def at(days: float) -> str:
    return (T0 + timedelta(days=days)).isoformat()


def order(order_id: str, market: str, currency: str, fulfilment: str, lines: list[Any],
          shipping: str, duties: str, taxes: str, customer: str) -> list[dict[str, Any]]:
    items = sum(Decimal(x["unit_price"]) * x["quantity"] for x in lines)
    total = items + Decimal(shipping) + Decimal(duties) + Decimal(taxes)
    placed = {"event_id": f"{order_id}-1", "event_type": "OrderPlaced", "occurred_at": at(0),
              "order_id": order_id, "customer_id": customer, "market": market,
              "currency": currency, "fulfilment": fulfilment, "lines": lines,
              "shipping_fee": shipping, "duties": duties, "taxes": taxes, "total": str(total)}
    paid = {"event_id": f"{order_id}-2", "event_type": "OrderPaid", "occurred_at": at(0.01),
            "order_id": order_id, "payment_id": f"pay-{order_id}", "method": "card",
            "amount": str(total), "currency": currency}
    return [placed, paid]


def scan(order_id: str, kind: str, days: float, direction: str = "outbound") -> dict[str, Any]:
    return {"event_id": f"{order_id}-{direction}-{kind}", "event_type": kind,
            "occurred_at": at(days), "order_id": order_id, "shipment_id": f"{order_id}-{direction}",
            "carrier": "SF Express" if order_id.startswith("CN") else "DHL",
            "direction": direction}


def line(line_id: str, sku: str, category: str, quantity: int, price: str) -> dict[str, Any]:
    return {"line_id": line_id, "sku": sku, "category": category, "quantity": quantity,
            "unit_price": price}


UPSTREAM: list[dict[str, Any]] = [
    *order("CN-1001", "CN", "CNY", "bonded", [line("1", "SERUM-50", "beauty", 2, "329.00")],
           "0.00", "0.00", "59.88", "buyer-cn-8"),
    scan("CN-1001", "Dispatched", 1), scan("CN-1001", "CustomsReleased", 2),
    scan("CN-1001", "Delivered", 4),
    *order("DE-2002", "DE", "EUR", "direct_mail",
           [line("1", "KETTLE-2", "home", 1, "89.00"), line("2", "MUG-4", "home", 4, "9.50")],
           "6.90", "0.00", "0.00", "buyer-de-3"),
    scan("DE-2002", "Dispatched", 1), scan("DE-2002", "CustomsReleased", 3),
    scan("DE-2002", "Delivered", 5),
    *order("US-3003", "US", "USD", "direct_mail", [line("1", "DRONE-X", "electronics", 1,
                                                         "649.00")],
           "25.00", "32.45", "0.00", "buyer-us-5"),
    scan("US-3003", "Delivered", 6),
    *order("GB-4004", "GB", "GBP", "direct_mail", [line("1", "COAT-L", "apparel", 1, "180.00")],
           "12.00", "0.00", "36.00", "buyer-gb-1"),
    scan("GB-4004", "Dispatched", 1), scan("GB-4004", "Lost", 9),
]


def run(*args: str, stdin: dict[str, Any] | None = None, quiet: bool = False) -> Any:
    shown = " ".join(args[:2]) + (f"  {stdin['command']}" if stdin else "")
    console.print(f"[bold cyan]$ aftersales {shown}[/]")
    done = subprocess.run([sys.executable, "-m", "aftersales", *args], capture_output=True,
                          text=True, input=json.dumps(stdin) if stdin else None,
                          env={**os.environ, "AFTERSALES_DATABASE_URL":
                               f"sqlite:///{HERE / 'events.sqlite'}", "COLUMNS": "120"},
                          check=False)
    if done.stderr.strip():
        console.print(done.stderr.strip(), style="yellow", highlight=False, markup=False)
    if done.returncode:
        console.print(f"  exit code {done.returncode}", style="yellow")
    out = [json.loads(x) for x in done.stdout.splitlines() if x.startswith("{")]
    if not quiet:
        for result in out:
            decisions = ", ".join(f"{d['policy_id']}→{d['outcome']}"
                                  for d in result.get("decisions", []))
            console.print(f"  {result.get('case_type', '')} {result.get('case_id', '')} "
                          f"[bold]{result.get('status', '')}[/] {decisions}", highlight=False)
    return out[0] if len(out) == 1 else out


def cmd(command: str, days: float, **fields: Any) -> dict[str, Any]:
    return {"command": command, "at": at(days), **fields}


def main() -> None:
    shutil.rmtree(HERE, ignore_errors=True)
    HERE.mkdir(parents=True)
    feed = HERE / "upstream.jsonl"
    feed.write_text("".join(json.dumps(m) + "\n" for m in UPSTREAM))
    console.rule("1. upstream order and shipment facts (SPEC §4.1)")
    results = run("ingest", str(feed), quiet=True)
    console.print(f"  {len(results)} events applied; the lost GB parcel opened cases:")
    for effect in results[-1]["effects"]:
        console.print(f"    {effect}")

    console.rule("2. China cross-border: 7-day no-reason return of a bonded order")
    run("submit", "-", stdin=cmd("RequestReturn", 6, order_id="CN-1001", reason="changed_mind",
                                 lines=[{"line_id": "1", "quantity": 1}],
                                 requested_by="buyer-cn-8", goods_intact=True))
    run("submit", "-", stdin=cmd("RequestReturn", 12, order_id="CN-1001", reason="changed_mind",
                                 lines=[{"line_id": "1", "quantity": 1}],
                                 requested_by="buyer-cn-8"))

    console.rule("3. EU withdrawal: label, shipped back, received, inspected, refunded")
    ret = run("submit", "-", stdin=cmd("RequestReturn", 9, order_id="DE-2002",
                                       reason="not_as_described",
                                       lines=[{"line_id": "1", "quantity": 1}],
                                       requested_by="buyer-de-3"))
    case = ret["case_id"]
    run("submit", "-", stdin=cmd("IssueReturnLabel", 9.1, case_id=case, by="agent-anna",
                                 carrier="DHL", tracking_number="RT-77", cost="7.50"))
    back = HERE / "return-scans.jsonl"
    back.write_text("".join(json.dumps(scan("DE-2002", k, d, "return")) + "\n"
                            for k, d in (("Dispatched", 10), ("Delivered", 13))))
    run("ingest", str(back), quiet=True)
    run("submit", "-", stdin=cmd("InspectReturn", 13.5, case_id=case, by="wh-leipzig",
                                 grade="B", findings="lid hinge cracked"))
    resolved = run("submit", "-", stdin=cmd("ResolveReturn", 13.6, case_id=case,
                                            by="agent-anna"))
    refund = resolved["related"]["refund_case_id"]
    run("submit", "-", stdin=cmd("IssueRefund", 13.7, case_id=refund, by="agent-anna"))
    run("submit", "-", stdin=cmd("ConfirmRefundSettled", 14, case_id=refund,
                                 provider_ref="psp-88213"))
    run("submit", "-", stdin=cmd("CloseReturn", 14.1, case_id=case, by="agent-anna"))

    console.rule("4. US: a $700 refund needs a supervisor who is not the requester")
    big = run("submit", "-", stdin=cmd("RequestRefund", 8, order_id="US-3003",
                                       source="goodwill", amount="700.00",
                                       reason="drone crashed on first flight",
                                       requested_by="agent-bo"))
    run("submit", "-", stdin=cmd("ApproveRefund", 8.1, case_id=big["case_id"],
                                 approver="agent-bo", approver_role="supervisor"))
    run("submit", "-", stdin=cmd("ApproveRefund", 8.2, case_id=big["case_id"],
                                 approver="sup-carla", approver_role="supervisor"))

    console.rule("5. a platform complaint: triage, first response, accepted partial refund")
    filed = run("submit", "-", stdin=cmd("FileComplaint", 7, customer_id="buyer-cn-8",
                                         order_id="CN-1001", channel="platform",
                                         category="not_as_described",
                                         description="bottle smaller than pictured",
                                         filed_by="buyer-cn-8"))
    complaint = filed["case_id"]
    run("submit", "-", stdin=cmd("AcknowledgeComplaint", 7.2, case_id=complaint,
                                 agent="agent-li", message="Sorry, we are checking."))
    run("submit", "-", stdin=cmd("ProposeResolution", 7.5, case_id=complaint, agent="agent-li",
                                 resolution="partial_refund", amount="50.00"))
    run("submit", "-", stdin=cmd("RespondToProposal", 7.8, case_id=complaint, accepted=True,
                                 by="buyer-cn-8"))

    console.rule("6. bad input is refused with a clear message, and nothing is stored")
    run("submit", "-", stdin=cmd("RequestReturn", 9, order_id="DE-2002", reason="bored",
                                 lines=[{"line_id": "1", "quantity": 0}],
                                 requested_by="buyer-de-3"))

    console.rule("7. an auditor's view of the EU return: state, events, decisions")
    done = subprocess.run([sys.executable, "-m", "aftersales", "case", "show", case],
                          env={**os.environ, "AFTERSALES_DATABASE_URL":
                               f"sqlite:///{HERE / 'events.sqlite'}", "COLUMNS": "120"},
                          check=True, capture_output=True, text=True)
    sys.stdout.write(done.stdout)
    console.print(f"\nEvent store: {HERE / 'events.sqlite'}  "
                  f"(try: aftersales case show {case} --format json)")


if __name__ == "__main__":
    main()
