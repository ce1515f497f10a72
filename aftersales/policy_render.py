"""Render a what-if report: tables on the terminal, a standalone HTML page."""

from __future__ import annotations

from typing import Any

from rich.table import Table as RichTable

from aftersales.output import table
from aftersales_core.decisions import JSON
from aftersales_core.policybook.publish.render import Bullets, Document, Section, Table, to_html


def _period(report: JSON) -> str:
    since, until = report.get("since"), report.get("until")
    if since is None and until is None:
        return "all recorded history"
    return f"from {since or 'the start'} until {until or 'now'}"


def sections(report: JSON, timing: JSON) -> list[tuple[str, list[str], list[list[Any]]]]:
    """The report as titled tables (shared by the terminal and HTML)."""
    counts = report["decisions"]
    out: list[tuple[str, list[str], list[list[Any]]]] = [(
        "what was evaluated again", ["figure", "value"],
        [["merchant", report["merchant_id"]], ["period", _period(report)],
         ["proposed book", report["proposed_book_hash"]],
         ["cases and orders", report["cases_and_orders"]],
         ["decisions", counts["seen"]], ["re-evaluated", counts["re_evaluated"]],
         ["not governed by books", counts["not_governed_by_books"]],
         ["recorded before books", counts["recorded_before_books"]],
         ["could not be evaluated again", counts["failed"]],
         ["decisions re-evaluated per second", timing.get("decisions_per_second")]])]
    pairs = [[o["policy_id"], p["before"], p["after"], p["count"], ", ".join(p["examples"])]
             for o in report["outcomes"] for p in o["pairs"]]
    out.append(("outcomes that change",
                ["policy", "before", "after", "decisions", "example cases"],
                pairs or [["(none)", "", "", 0, ""]]))
    out.append(("outcomes per policy", ["policy", "re-evaluated", "changed"],
                [[o["policy_id"], o["re_evaluated"], o["changed"]] for o in report["outcomes"]]))
    out.append(("refund totals", ["currency", "refunds", "before", "after", "difference"],
                [[r["currency"], r["refunds"], r["before"], r["after"], r["difference"]]
                 for r in report["refund_totals"]]))
    approvals = report["approvals_needing_a_supervisor"]
    out.append(("refunds needing a supervisor to approve", ["checked", "before", "after"],
                [[approvals["checked"], approvals["before"], approvals["after"]]]))
    out.append(("deadlines breached",
                ["deadline", "judged", "breached before", "breached after",
                 "undetermined after", "not judged"],
                [[d["name"], d.get("judged", 0), d.get("breached_before", 0),
                  d.get("breached_after", 0), d.get("undetermined_after", 0),
                  d.get("not_judged", 0)] for d in report["deadlines"]]))
    returns = [["newly accepted", r["currency"], r["returns"], r["goods_value"]]
               for r in report["returns_newly_accepted"]]
    returns += [["no longer accepted", r["currency"], r["returns"], r["goods_value"]]
                for r in report["returns_no_longer_accepted"]]
    out.append(("returns", ["change", "currency", "returns", "goods value"],
                returns or [["(none)", "", 0, ""]]))
    return out


def tables(report: JSON, timing: JSON) -> list[RichTable]:
    return [table(title, columns, rows) for title, columns, rows in sections(report, timing)]


NOTES = [
    "Each decision is evaluated again from its recorded inputs under its own policy version, "
    "with the proposed book's settings; a refund's approval reads the new calculation, a "
    "return's shipping decision and deadlines the new eligibility, a complaint's deadlines "
    "the new priority.",
    "What the desk would have done after a changed outcome is not guessed: a return accepted "
    "under the proposed book counts with the value of its goods, not with a refund nobody "
    "calculated.",
    "A deadline fired by the scheduler whose new due time falls after the firing is "
    "undetermined: nobody recorded when the work was done.",
]


def html(report: JSON, timing: JSON) -> str:
    blocks = [Section(title, [Table([str(c) for c in columns],
                                    [[str("" if v is None else v) for v in row]
                                     for row in rows])])
              for title, columns, rows in sections(report, timing)]
    blocks.append(Section("how to read it", [Bullets(NOTES)]))
    return to_html(Document(
        lang="en", title=f"What if: {report['merchant_id']} under the proposed book",
        intro=[f"Proposed book {report['proposed_book_hash']}, {_period(report)}."],
        sections=blocks, footer=["aftersales policy simulate"]))
