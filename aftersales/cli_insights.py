"""`aftersales insights products | carriers | complaints | refunds`: what the after-sales data
tells the merchant, from the read models (README, "Insights")."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from aftersales import exit_codes
from aftersales.cli_projections import require_read
from aftersales.identity import AsPrincipal
from aftersales.output import Format, console, emit_json_line, emit_rows, errors, fail, table

if TYPE_CHECKING:
    from projections.db import ReadDatabase
    from projections.insights.view import Insight

insights_app = typer.Typer(
    help="What the after-sales data tells the merchant: product-information alerts, carrier "
         "scorecards, complaint drivers, refund economics. Rates show their support n and 95 % "
         "interval; definitions in the README.", no_args_is_help=True)

Since = Annotated[str | None, typer.Option(
    help="only what happened at or after this date (YYYY-MM-DD: its UTC midnight) or RFC 3339 "
         "time; what counts is each insight's own moment: delivery (products), the first scan "
         "(carriers), filing (complaints), the order's placement (refunds)")]
Market = Annotated[str | None, typer.Option(help="one market, ISO 3166-1 alpha-2 (e.g. DE)")]
Fmt = Annotated[Format, typer.Option(
    "--format", help="table for people; json (the document the service API answers), csv or "
                     "tsv (one view: the first unless --view names one)")]
ViewName = Annotated[str | None, typer.Option(
    "--view", help="only this view (csv prints one view: the first unless named)")]
Limit = Annotated[int | None, typer.Option(
    min=1, max=1_000_000, help="at most this many rows per long view (table default 25)")]


def _filters(since: str | None, market: str | None) -> tuple[str | None, str | None]:
    from aftersales_core.policies.markets import check_market
    from projections.insights.periods import since_bound

    try:
        bound = since_bound(since)
    except ValueError as error:
        fail(f"--since {since!r}: {error} (expected YYYY-MM-DD or an RFC 3339 time with offset)")
        raise typer.Exit(exit_codes.INVALID) from None
    if market is not None:
        try:
            check_market(market)  # assigned codes only: XX, ZZ or EU would match nothing
        except ValueError as error:
            fail(f"--market {market!r}: {error}")
            raise typer.Exit(exit_codes.INVALID) from None
    return bound, market


def _run(build: Callable[[ReadDatabase, str | None, str | None], Insight],
         since: str | None, market: str | None, fmt: Format, view: str | None,
         limit: int | None, as_principal: str | None) -> None:
    from aftersales.bootstrap import build_read_db
    from aftersales.settings import Settings
    from projections.apply import ensure_schema
    from projections.catalog import all_projections
    from projections.insights.view import text_value

    bound, market = _filters(since, market)
    settings = Settings.from_env()
    behind = require_read(as_principal, "ReadReport", settings)  # analysts, staff, auditors
    if behind:  # said first: every format below returns when it is done
        errors.print(behind, highlight=False)
    db = build_read_db(settings)
    ensure_schema(db, all_projections())
    insight = build(db, bound, market)
    limit = limit or (25 if fmt == "table" else None)
    views = insight.views
    if view is not None:
        try:
            views = [insight.view(view)]
        except KeyError as error:
            fail(str(error.args[0]))
            raise typer.Exit(exit_codes.INVALID) from None
    if fmt == "json":
        document = insight.as_json()
        document["views"] = {v.name: {**document["views"][v.name],
                                      "rows": document["views"][v.name]["rows"][:limit]}
                             for v in views}
        emit_json_line(document)  # the object itself, as GET /v1/insights/NAME answers it
        return
    if fmt in ("csv", "tsv"):
        first = views[0]  # its declared columns: the header also when it has no rows
        emit_rows([first.flat_row(r) for r in first.rows[:limit]], fmt, first.title,
                  first.flat_columns)
        return
    for v in views:
        columns, shown = v.brief or v.columns, v.rows[:limit]
        count = f"{len(shown)} of {len(v.rows)} rows, --limit" if len(shown) < len(v.rows) \
            else f"{len(v.rows)} rows"
        console.print(table(f"{v.title} ({count})", columns,
                            ([text_value(r.get(c)) for c in columns] for r in shown)))
        if v.note:
            console.print(f"[dim]{v.note}[/]", highlight=False)
        if v.brief:
            console.print("[dim]more columns (examples, p-values…) with --format json or "
                          "csv[/]", highlight=False)


@insights_app.command()
def products(since: Since = None, market: Market = None, fmt: Fmt = "table",
             view: ViewName = None, limit: Limit = None,
             as_principal: AsPrincipal = None) -> None:
    """Product-information alerts (SKUs and categories whose buyers return or complain about
    what the page promised more than their peers), tested SKUs and categories, return rate by
    market and its weekly trend."""
    from projections.insights import products as product_insights

    _run(product_insights.products, since, market, fmt, view, limit, as_principal)


@insights_app.command()
def carriers(since: Since = None, market: Market = None, fmt: Fmt = "table",
             view: ViewName = None, limit: Limit = None,
             as_principal: AsPrincipal = None) -> None:
    """Carrier scorecards by carrier x market x month: on time against the promised date, lost
    and damaged per 1,000 parcels, customs hold and return-leg times; routes; weekly trend."""
    from projections.insights import carriers as carrier_insights

    _run(carrier_insights.carriers, since, market, fmt, view, limit, as_principal)


@insights_app.command()
def complaints(since: Since = None, market: Market = None, fmt: Fmt = "table",
               view: ViewName = None, limit: Limit = None,
               as_principal: AsPrincipal = None) -> None:
    """Complaint drivers: categories and channels by volume, time to first response and to
    resolution, satisfaction by resolution path, reopen rate, SLA breaches by week."""
    from projections.insights import complaints as complaint_insights

    _run(complaint_insights.complaints, since, market, fmt, view, limit, as_principal)


@insights_app.command()
def refunds(since: Since = None, market: Market = None, fmt: Fmt = "table",
            view: ViewName = None, limit: Limit = None,
            as_principal: AsPrincipal = None) -> None:
    """Refund economics: refunded share of sales by market and reason, components, returnless
    cost, time until the buyer has the money back."""
    from projections.insights import refunds as refund_insights

    _run(refund_insights.refunds, since, market, fmt, view, limit, as_principal)

