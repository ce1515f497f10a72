"""What-if over recorded history: `aftersales policy simulate` against plain re-runs.

Untimed: a SQLite store holding a year of the demo's UCI Online Retail history (every invoice
abroad and a tenth of the UK's, December 2010 to December 2011, as `make demo` maps them: the
orders with their shipments, and the customers' returns), decided under the merchant's policy
book (`demo/books/uci-online-retail.toml`).

Timed, per repeat, back to back, over the same recorded decisions: evaluating every one again
under the proposed book (`demo/books/uci-online-retail-eu30.toml`, a 30-day EU window; each
decision reading the new results of the decisions of its case it depends on), and the
baseline, plain re-runs with the settings each recorded (what `audit verify --decisions`
does). Also timed once: the whole command as `aftersales policy simulate` runs it, reading the
store and decoding every decision-carrying event first."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from aftersales_core.application.access import Caller
from aftersales_core.application.services import Services
from aftersales_core.policybook.documents import parse, read_book
from aftersales_core.policybook.rulebook import Rulebook, merchant_book
from aftersales_core.policybook.simulate import simulate
from bench.context import Context
from bench.report import REPEATS, BenchResult, Figure, median, paired, progress
from bench.workload import ADMIN, as_principal, customer_principal, new_app
from demo import policy_books, uci
from demo.data import data_dir
from demo.run import uci_selected
from dispatch.commands import submit
from dispatch.upstream import apply_upstream
from schemas.inbound import ANY_INBOUND

MERCHANT = "uci-online-retail"
TARGET_SECONDS = 10.0  # "a year of the demo's history simulates in seconds"


def fill(app: Services, scope: str) -> tuple[int, int, int]:
    """The merchant's book, then its history, each sent by its principal (the upstream
    service, the customers); (orders, returns requested, returns refused)."""
    book = policy_books.MERCHANTS[MERCHANT][0]
    app.books.set(as_principal(ADMIN), MERCHANT, parse(book.read_bytes()), "bench")
    now = datetime.now(UTC)
    upstream = Caller(app.principals.ensure_system("system.upstream", now), now, "bench")
    earlier: dict[tuple[str, str], tuple[uci.Invoice, str]] = {}
    orders = returns = refused = 0
    commands = []
    for invoice in uci.read_invoices(data_dir() / "uci-online-retail/online_retail.csv.gz"):
        if not uci_selected(invoice, scope):
            continue
        if invoice.cancelled:
            request = uci.return_request(invoice, earlier)
            if request is not None:
                commands.append(request)
            continue
        placed, scans = uci.order_events(invoice)
        for message in (*placed, *scans):
            try:
                apply_upstream(app, upstream, ANY_INBOUND.validate_python(message))
            except Exception:  # lines the engine refuses, as the demo's dead letters
                continue
        orders += 1
        for line in invoice.lines:
            earlier[(invoice.customer_id, line["sku"])] = (invoice, line["line_id"])
    for request in commands:
        customer = str(request["as"]).removeprefix("customer-")
        try:
            result = submit(app, customer_principal(app, customer), request["command"], now)
        except Exception:  # an order the engine refused, a return of units already returned
            refused += 1
            continue
        returns += 1
        refused += result.status == "rejected"
    return orders, returns, refused


def run(ctx: Context) -> BenchResult:
    scope = "abroad-q1" if ctx.quick else "abroad+uk10"
    progress(f"policy_simulate: a year of UCI history ({scope}) into a store (untimed)")
    app = new_app(ctx.path("policy").with_suffix(".sqlite"))
    orders, returns, refused = fill(app, scope)
    proposed = read_book(policy_books.PROPOSAL[1].read_bytes())
    rulebook = Rulebook(proposed, merchant_book(MERCHANT), -1)
    started = time.perf_counter()
    books = app.store.books
    ours, ends = books.history_of_decisions(MERCHANT)
    read_seconds = time.perf_counter() - started
    progress(f"policy_simulate: {orders} orders, {returns} returns ({refused} refused), "
             f"{len(ours)} decisions of {MERCHANT}; store read in {read_seconds:.2f}s")

    def evaluate() -> float:
        started = time.perf_counter()
        report = simulate(ours, ends, rulebook, MERCHANT)
        seconds = time.perf_counter() - started
        if report.failed:
            raise AssertionError(f"decisions failed to evaluate: {report.failed[:2]}")
        return report.re_evaluated / seconds

    def plain() -> float:
        started = time.perf_counter()
        for record in ours:
            books.rerun(record.decision)
        return len(ours) / (time.perf_counter() - started)

    evaluate()
    plain()
    p: dict[str, list[float]] = {"simulate": [], "rerun": []}
    for repeat in range(REPEATS):
        p["simulate"].append(evaluate())
        p["rerun"].append(plain())
        progress(f"policy_simulate: repeat {repeat + 1}/{REPEATS}: simulate "
                 f"{p['simulate'][-1]:,.0f}/s, plain re-runs {p['rerun'][-1]:,.0f}/s")
    started = time.perf_counter()
    report, _ = books.simulate(MERCHANT, proposed)
    whole = time.perf_counter() - started
    changed = report.policies["return.eligibility"].changed
    progress(f"policy_simulate: the whole command in {whole:.2f}s ({changed} returns change)")
    m = {k: median(v) for k, v in p.items()}
    bench = BenchResult("policy_simulate", repeats=p, params={
        "scope": scope, "orders": orders, "returns": returns, "decisions": len(ours),
        "stored_events": app.store.recorder.max_notification_id(), "returns_changed": changed})
    bench.figures = [
        Figure("policy simulate: decisions re-evaluated under a proposed book", m["simulate"],
               "decisions/s", m["rerun"], target="—",
               baseline_what="plain re-runs of the same decisions with their recorded "
                             "settings (audit verify --decisions), decisions/s",
               paired_ratio=paired(p["simulate"], p["rerun"])),
        Figure("policy simulate: a year of the demo's UCI history, whole command", whole, "s",
               target=f"≤ {TARGET_SECONDS:.0f} s (seconds)", higher_is_better=False,
               met=whole <= TARGET_SECONDS),
    ]
    bench.notes.append(
        f"{len(ours)} decisions of {orders} orders and {returns} returns; reading and decoding "
        f"the store took {read_seconds:.2f}s of the whole command's {whole:.2f}s; "
        f"{changed} return decisions change under the 30-day EU window")
    app.close()
    return bench
