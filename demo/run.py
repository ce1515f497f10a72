"""`make demo`: real data through the whole pipeline, only through its public interfaces.

Upstream order and shipment events go to orders.v1 / shipments.v1; customers' and agents'
commands go through `aftersales submit`; what the desk does next is read from the projections
(`aftersales query`). At the end the analyst report is printed and written to HTML and PNG, and
what `aftersales insights` found is printed and saved as JSON."""

from __future__ import annotations

import argparse
import json
import time
import zlib
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from aftersales_core.application.principals import principal_id_of
from aftersales_core.domain.ids import requested_case_id
from demo import olist, policy_books, uci
from demo.data import data_dir
from demo.desk import Desk
from demo.harness import Pipeline

console = Console(stderr=True)
SCOPES = {
    # name: (UCI scope, Olist orders, labelled complaints)
    "small": ("abroad-q1", 1500, 100),
    "default": ("abroad+uk10", 5000, 600),
    "full": ("all", None, None),
}


def uci_selected(invoice: uci.Invoice, scope: str) -> bool:
    if scope == "all":
        return True
    if scope == "abroad-q1":
        return invoice.market != "GB" and invoice.at.isoformat() < "2011-03-01"
    sampled = zlib.crc32(invoice.customer_id.encode()) % 10 == 0
    return invoice.market != "GB" or sampled


def load(scope: str, olist_limit: int | None, labelled: int | None
         ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]], Desk]:
    """(orders.v1 messages, shipments.v1 messages, customers' commands, the desk)."""
    root = data_dir()
    orders: list[dict[str, Any]] = []
    scans: list[dict[str, Any]] = []
    commands: list[dict[str, Any]] = []
    desk = Desk()
    earlier: dict[tuple[str, str], tuple[uci.Invoice, str]] = {}
    for invoice in uci.read_invoices(root / "uci-online-retail/online_retail.csv.gz"):
        if not uci_selected(invoice, scope):
            continue
        if invoice.cancelled:
            request = uci.return_request(invoice, earlier)
            if request is not None:
                commands.append(request)
            continue
        o, s = uci.order_events(invoice)
        orders += o
        scans += s
        desk.carriers[f"uci-{invoice.number}"] = "Royal Mail"
        for line in invoice.lines:
            earlier[(invoice.customer_id, line["sku"])] = (invoice, line["line_id"])
    for order in olist.read_orders(root, olist_limit):
        o, s = olist.upstream(order)
        orders += o
        scans += s
        desk.carriers[order.order_id] = order.carrier
        for message in o:
            if message["event_type"] == "OrderPlaced":  # the goods' value, net of discount
                desk.order_totals[order.order_id] = Decimal(message["total"]) - sum(
                    (Decimal(message[k]) for k in ("shipping_fee", "duties", "taxes")),
                    Decimal(0))
        for complaint in olist.complaints(order):
            key = complaint["command"]["idempotency_key"]
            review = key.removeprefix("review-")
            # the case the complaint opens: its key is the sending customer's own
            case_id = str(requested_case_id("complaint", principal_id_of(complaint["as"]), key))
            desk.review_score[case_id] = next(int(r["review_score"]) for r in order.reviews
                                              if r["review_id"] == review)
            hours = olist.answer_hours(order).get(review)
            if hours:
                desk.answer_hours[case_id] = hours
            commands.append(complaint)
    commands += olist.labelled_complaints(root, labelled)
    return orders, scans, commands, desk


def progress() -> Progress:
    return Progress(TextColumn("{task.description:<34}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__)
    parser.add_argument("--scope", choices=list(SCOPES), default="default",
                        help="small (< 1 min), default (a few minutes), full (all the data)")
    parser.add_argument("--small", action="store_const", const="small", dest="scope")
    parser.add_argument("--broker", choices=["tansu", "kafka"], default="tansu")
    parser.add_argument("--workdir", type=Path, default=Path("var/demo"))
    args = parser.parse_args()
    started = time.monotonic()
    scope, olist_limit, labelled = SCOPES[args.scope]
    console.rule(f"[bold]after-sales demo ({args.scope}) on real data")
    orders, scans, commands, desk = load(scope, olist_limit, labelled)
    console.print(f"data: {len(orders)} order events, {len(scans)} shipment scans, "
                  f"{len(commands)} customer commands (UCI Online Retail, Olist)")
    customers = {m["customer_id"] for m in orders if m["event_type"] == "OrderPlaced"}
    customers |= {c["command"]["customer_id"] for c in commands if "customer_id" in c["command"]}
    with Pipeline(args.workdir, args.broker) as pipeline, progress() as bars:
        pids = ", ".join(str(w.pid) for w in pipeline.workers)
        console.print(f"broker {args.broker} on {pipeline.env['KAFKA_BOOTSTRAP_SERVERS']}; "
                      f"`aftersales run` workers (pids {pids})")
        task = bars.add_task("principals: staff, carriers, customers", total=None)
        made = pipeline.principals(set(desk.carriers.values()), customers)
        bars.update(task, total=1, completed=1)
        console.print(f"principals: {made} (an administrator, the desk's staff, the carriers "
                      "and every customer, each with its role)")
        for line in policy_books.set_books(pipeline):
            console.print(f"policy book of {line}")
        task = bars.add_task("publish upstream events", total=len(orders) + len(scans))
        pipeline.publish(pipeline.settings.orders_topic, orders, lambda n: bars.advance(task, n))
        pipeline.publish(pipeline.settings.shipments_topic, scans,
                         lambda n: bars.advance(task, n))
        task = bars.add_task("inbound consumers apply them", total=None)
        pipeline.wait_inbound()
        bars.update(task, total=1, completed=1)
        task = bars.add_task("customers submit returns, complaints", total=len(commands))
        _, refused = pipeline.submit(commands)
        bars.update(task, completed=len(commands))
        submitted, rounds = len(commands), desk_rounds(pipeline, desk, bars)
        fired = fire_deadlines(pipeline)
        task = bars.add_task("projections catch up", total=None)
        pipeline.wait_projections()
        bars.update(task, total=1, completed=1)
        dead = pipeline.dead_letters()
        analyst = ("--as", "analyst-ines")
        report = pipeline.cli("report", "--output", str(args.workdir / "report.html"), *analyst)
        pipeline.cli("report", "--output", str(args.workdir / "report.png"), *analyst)
        found = insights(pipeline, args.workdir, analyst)
        what_if, figures = policy_books.what_if(pipeline, args.workdir)
        published = policy_books.publish_all(pipeline, args.workdir)
        desk_keys = desk_sign_in(pipeline, args.workdir)
    print(report.stdout)
    print(found)
    print(what_if)
    console.print(policy_books.headline(figures))
    console.print(f"what-if report: {args.workdir / 'what-if.html'}; published policies: "
                  f"{', '.join(p.name for p in published if p.suffix == '.html')}")
    console.print(f"customers' commands: {submitted} ({refused} refused by policy or schema); "
                  f"desk rounds: {rounds}")
    console.print(f"deadlines fired in business time after the last case change: {fired}")
    console.print(f"dead letters by error type: {dead or 'none'} "
                  f"(details in {args.workdir / 'run.log'})")
    console.print(f"insights: {args.workdir}/insights-{{products,carriers,complaints,refunds}}"
                  f".json (aftersales insights --help)")
    console.print(f"report: {args.workdir / 'report.html'} and {args.workdir / 'report.png'}; "
                  f"read models: {args.workdir / 'read.sqlite'}; "
                  f"finished in {time.monotonic() - started:.0f} s")
    console.rule("[bold]the desk on the demo's data")
    console.print(
        "serve it:  AFTERSALES_DATABASE_URL=sqlite:///" + str(args.workdir / "events.sqlite")
        + " AFTERSALES_READ_DATABASE_URL=sqlite:///" + str(args.workdir / "read.sqlite")
        + " .venv/bin/aftersales serve --port 8080", highlight=False, soft_wrap=True)
    console.print(f"open http://127.0.0.1:8080/desk/ and sign in with an API key from "
                  f"{desk_keys} (readable by you only): agent-ben (an agent) or "
                  "supervisor-ana (a supervisor); run `aftersales run` beside it with the same "
                  "variables to keep the queues current", highlight=False)
    return 0


# (insight, view, rows shown) printed at the end; every view is saved as JSON
SHOWN = (("products", "alerts", 20), ("carriers", "carriers", 12), ("carriers", "routes", 10),
         ("complaints", "paths", 10), ("refunds", "time_to_money", 10))


def insights(pipeline: Pipeline, workdir: Path, analyst: tuple[str, ...]) -> str:
    """What `aftersales insights` found (read as the analyst): each insight saved to
    insights-<name>.json, the main views returned as tables."""
    for name in ("products", "carriers", "complaints", "refunds"):
        done = pipeline.cli("insights", name, "--format", "json", *analyst)
        if done.returncode:
            raise RuntimeError(f"aftersales insights {name} failed: {done.stderr}")
        (workdir / f"insights-{name}.json").write_text(done.stdout)
    tables = [pipeline.cli("insights", name, "--view", view, "--limit", str(limit),
                           *analyst).stdout for name, view, limit in SHOWN]
    return "\n".join(tables)


DESK_STAFF = ("agent-ben", "supervisor-ana")


def desk_sign_in(pipeline: Pipeline, workdir: Path) -> Path:
    """API keys for a demo agent and a demo supervisor, issued as an administrator issues
    them (`aftersales principals key`), kept in a file only the owner may read."""
    path = workdir / "desk-keys.txt"
    path.touch(mode=0o600)
    lines = []
    for name in DESK_STAFF:
        done = pipeline.cli("principals", "key", name, "--label", "demo desk", "--format",
                            "json", "--as", "demo-admin")
        if done.returncode != 0:
            raise RuntimeError(f"could not issue a desk key for {name}: {done.stderr.strip()}")
        lines.append(f"{name} {json.loads(done.stdout)['api_key']}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def fire_deadlines(pipeline: Pipeline) -> int:
    """What the scheduler finds due 30 days after the data's last case change (breaches,
    escalations, expiries), fired in business time with `aftersales deadlines fire --now`."""
    pipeline.wait_projections()
    latest = max((row["updated_at"] for row in pipeline.query("cases")), default=None)
    if latest is None:
        return 0
    now = datetime.fromisoformat(latest) + timedelta(days=30)
    done = pipeline.cli("deadlines", "fire", "--now", now.isoformat(), "--format", "json")
    fired: list[dict[str, Any]] = json.loads(done.stdout or "[]")
    return len(fired)


def desk_rounds(pipeline: Pipeline, desk: Desk, bars: Progress, limit: int = 12) -> int:
    """Let the desk act on every open case until nothing is left to do (or the limit)."""
    task = bars.add_task("desk works the cases", total=limit)
    for round_no in range(1, limit + 1):
        pipeline.wait_inbound()
        pipeline.wait_projections()
        commands, scans = desk.round_of(pipeline.query("cases"))
        if not commands and not scans:
            bars.update(task, total=round_no, completed=round_no)
            return round_no
        if scans:  # the carriers report the parcels coming back, each as its own principal
            pipeline.carrier_scans(scans)
        pipeline.submit(commands)
        bars.advance(task)
    return limit


if __name__ == "__main__":
    raise SystemExit(main())
