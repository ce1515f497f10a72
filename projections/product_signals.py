"""`product_orders`, `product_lines`, `product_returns`, `product_totals`, `product_alerts`:
what returns and complaints say about each product page.

One row per order and one per order x SKU join the order facts (from the Order's events) with
the returns and complaints about the order (case events, which may arrive before or after the
order's: they travel on other partitions). What an order x SKU counts for is a pure function of
what its row and its order know (`product_counts.counted`); each change adds the difference to
the SKU's all-time totals, so the totals do not depend on the order events arrive in. After
each batch that changed the totals, the alerts are recomputed from them
(`projections.insights.products`).

Definitions (README, "Insights"): a delivered order counts in the UTC week of its first
outbound `Delivered` scan by time (whatever order the scans arrive in); an order x SKU is
*returned* when a return request names the SKU, and *flagged* when a request's reason points at
the product page or a complaint about the order has a page category. Units and value returned
are capped at those sold: no rate exceeds 100 %."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson

from aftersales_core.domain.ids import order_aggregate_id
from projections.base import Event, Projection, handles, utc
from projections.db import Transaction
from projections.insights.periods import moment, week_of
from projections.insights.signals import PAGE_COMPLAINTS, PAGE_REASONS, alert_rows, assess
from projections.product_counts import (
    ALERT_COLUMNS,
    TOTAL_COLUMNS,
    as_json,
    insert_lines,
    latest,
    order_facts,
    refresh,
    settle_totals,
)

ADVISORY_LOCK = 0x19A1E27  # the settle step's transaction-level lock on PostgreSQL


class ProductSignals(Projection):
    name = "product_signals"
    tables = {
        "product_orders": """
        CREATE TABLE {product_orders} (
            order_aggregate_id TEXT PRIMARY KEY,
            order_id TEXT,
            merchant TEXT,
            market TEXT,
            currency TEXT,
            placed_at TIMESTAMPTZ,
            delivered_at TIMESTAMPTZ,
            week TEXT,
            page_complaints INTEGER NOT NULL DEFAULT 0,
            complaint_reasons JSONB NOT NULL DEFAULT '{{}}',
            complaint_examples JSONB NOT NULL DEFAULT '[]',
            delivered INTEGER NOT NULL DEFAULT 0,
            returned_skus INTEGER NOT NULL DEFAULT 0,
            flagged_skus INTEGER NOT NULL DEFAULT 0,
            units_sold INTEGER NOT NULL DEFAULT 0,
            units_returned INTEGER NOT NULL DEFAULT 0,
            value_sold NUMERIC NOT NULL DEFAULT '0',
            value_returned NUMERIC NOT NULL DEFAULT '0'
        )""",
        "product_lines": """
        CREATE TABLE {product_lines} (
            order_aggregate_id TEXT NOT NULL,
            sku TEXT NOT NULL,
            category TEXT NOT NULL,
            units INTEGER,
            value NUMERIC,
            requested_units INTEGER NOT NULL DEFAULT 0,
            requested_value NUMERIC NOT NULL DEFAULT '0',
            returns INTEGER NOT NULL DEFAULT 0,
            page_returns INTEGER NOT NULL DEFAULT 0,
            reasons JSONB NOT NULL DEFAULT '{{}}',
            examples JSONB NOT NULL DEFAULT '[]',
            page_examples JSONB NOT NULL DEFAULT '[]',
            merchant TEXT,
            market TEXT,
            currency TEXT,
            week TEXT,
            delivered INTEGER NOT NULL DEFAULT 0,
            returned INTEGER NOT NULL DEFAULT 0,
            flagged INTEGER NOT NULL DEFAULT 0,
            units_sold INTEGER NOT NULL DEFAULT 0,
            units_returned INTEGER NOT NULL DEFAULT 0,
            value_sold NUMERIC NOT NULL DEFAULT '0',
            value_returned NUMERIC NOT NULL DEFAULT '0',
            counted_reasons JSONB NOT NULL DEFAULT '{{}}',
            PRIMARY KEY (order_aggregate_id, sku)
        )""",
        "product_returns": """
        CREATE TABLE {product_returns} (
            case_id TEXT PRIMARY KEY,
            order_aggregate_id TEXT NOT NULL,
            requested_at TIMESTAMPTZ NOT NULL,
            counted INTEGER NOT NULL DEFAULT 0
        )""",
        "product_deltas": """
        CREATE TABLE {product_deltas} (
            merchant TEXT NOT NULL,
            category TEXT NOT NULL,
            sku TEXT NOT NULL,
            orders INTEGER NOT NULL,
            returned INTEGER NOT NULL,
            flagged INTEGER NOT NULL,
            units_sold INTEGER NOT NULL,
            units_returned INTEGER NOT NULL,
            reasons JSONB NOT NULL,
            return_examples JSONB NOT NULL,
            page_examples JSONB NOT NULL
        )""",
        "product_totals": """
        CREATE TABLE {product_totals} (
            merchant TEXT NOT NULL,
            category TEXT NOT NULL,
            sku TEXT NOT NULL,
            orders INTEGER NOT NULL DEFAULT 0,
            returned INTEGER NOT NULL DEFAULT 0,
            flagged INTEGER NOT NULL DEFAULT 0,
            units_sold INTEGER NOT NULL DEFAULT 0,
            units_returned INTEGER NOT NULL DEFAULT 0,
            reasons JSONB NOT NULL DEFAULT '{{}}',
            return_examples JSONB NOT NULL DEFAULT '[]',
            page_examples JSONB NOT NULL DEFAULT '[]',
            PRIMARY KEY (merchant, category, sku)
        )""",
        "product_alerts": """
        CREATE TABLE {product_alerts} (
            level TEXT NOT NULL,
            signal TEXT NOT NULL,
            merchant TEXT NOT NULL,
            category TEXT NOT NULL,
            sku TEXT NOT NULL,
            orders INTEGER NOT NULL,
            cases INTEGER NOT NULL,
            rate DOUBLE PRECISION NOT NULL,
            low DOUBLE PRECISION NOT NULL,
            high DOUBLE PRECISION NOT NULL,
            baseline_orders INTEGER NOT NULL,
            baseline_cases INTEGER NOT NULL,
            baseline_rate DOUBLE PRECISION NOT NULL,
            baseline_scope TEXT NOT NULL,
            lift DOUBLE PRECISION,
            p_value DOUBLE PRECISION NOT NULL,
            q_value DOUBLE PRECISION NOT NULL,
            tested INTEGER NOT NULL,
            reasons JSONB NOT NULL,
            examples JSONB NOT NULL,
            PRIMARY KEY (level, signal, merchant, category, sku)
        )""",
    }
    indexes = {
        "product_lines_week": "CREATE INDEX product_lines_week ON {product_lines} (week, market)",
        "product_orders_week": "CREATE INDEX product_orders_week ON {product_orders} "
                               "(week, market)",
    }


    # ---- the order ------------------------------------------------------------------------
    @handles("aftersales.order.Registered")
    def registered(self, event: Event, tx: Transaction) -> None:
        tx.execute(self.sql("INSERT INTO {product_orders} (order_aggregate_id, order_id) "
                            "VALUES (?, ?) ON CONFLICT (order_aggregate_id) DO UPDATE SET "
                            "order_id = excluded.order_id"),
                   (event["subject"], event["data"]["order_id"]))

    @handles("aftersales.order.Placed")
    def placed(self, event: Event, tx: Transaction) -> None:
        d, order = event["data"], event["subject"]
        facts = order_facts(self, tx, order)
        facts.update(merchant=d.get("merchant_id") or "", market=d["market"],
                     currency=d["currency"])
        tx.execute(self.sql("UPDATE {product_orders} SET merchant = ?, market = ?, currency = ?, "
                            "placed_at = ? WHERE order_aggregate_id = ?"),
                   (facts["merchant"], d["market"], d["currency"], utc(d["placed_at"]), order))
        skus = by_sku(d["lines"])
        tx.cursor.execute(tx.db.sql(self.sql("SELECT sku FROM {product_lines} WHERE "
                                             "order_aggregate_id = ?")), (order,))
        asked = {row[0] for row in tx.cursor.fetchall()}  # returns that came first
        if asked:
            tx.executemany(self.sql(
                "UPDATE {product_lines} SET category = ?, units = ?, value = ? "
                "WHERE order_aggregate_id = ? AND sku = ?"),
                [(cat, units, str(value), order, sku) for sku, (cat, units, value)
                 in skus.items() if sku in asked])
            refresh(self, tx, order, facts, sorted(asked & set(skus)))
        insert_lines(self, tx, order, facts,
                     {sku: line for sku, line in skus.items() if sku not in asked})

    @handles("aftersales.order.ShipmentScanned")
    def scanned(self, event: Event, tx: Transaction) -> None:
        d = event["data"]
        if d["direction"] != "outbound" or d["scan"] != "Delivered":
            return
        at = utc(d["occurred_at"])
        assert at is not None
        order = event["subject"]
        facts = order_facts(self, tx, order)
        if facts["week"] is not None:  # counted already: in the week of its first delivery
            known = tx.one(self.sql("SELECT delivered_at FROM {product_orders} "
                                    "WHERE order_aggregate_id = ?"), (order,))[0]
            if known is not None and moment(known) <= moment(at):
                return
            # an earlier parcel's scan came later (topics are not ordered): the order moves to
            # that week, its counts stay what they are
            facts["week"] = week_of(at)
            tx.execute(self.sql("UPDATE {product_orders} SET delivered_at = ?, week = ? "
                                "WHERE order_aggregate_id = ?"), (at, facts["week"], order))
            tx.execute(self.sql("UPDATE {product_lines} SET week = ? "
                                "WHERE order_aggregate_id = ? AND week IS NOT NULL"),
                       (facts["week"], order))
            return
        facts["week"] = week_of(at)
        tx.execute(self.sql("UPDATE {product_orders} SET delivered_at = ?, week = ? "
                            "WHERE order_aggregate_id = ?"), (at, facts["week"], order))
        refresh(self, tx, order, facts)

    # ---- what buyers said about it ----------------------------------------------------------
    @handles("aftersales.return.Requested")
    def return_requested(self, event: Event, tx: Transaction) -> None:
        order = str(order_aggregate_id(event["data"]["order_id"]))
        tx.execute(self.sql("INSERT INTO {product_returns} (case_id, order_aggregate_id, "
                            "requested_at) VALUES (?, ?, ?) ON CONFLICT (case_id) DO NOTHING"),
                   (event["subject"], order, event["time"]))

    @handles("aftersales.return.DecisionRecorded")
    def return_decided(self, event: Event, tx: Transaction) -> None:
        """The eligibility decision names the SKUs, categories and prices of the request."""
        decision = event["data"]["decision"]
        if decision["policy_id"] != "return.eligibility":
            return
        found = tx.one(self.sql("SELECT order_aggregate_id, requested_at, counted FROM "
                                "{product_returns} WHERE case_id = ?"), (event["subject"],))
        if found is None or found[2]:
            return
        order, requested_at = found[0], found[1]
        facts = order_facts(self, tx, order)  # the order's row first: it guards its lines
        tx.execute(self.sql("UPDATE {product_returns} SET counted = 1 WHERE case_id = ?"),
                   (event["subject"],))
        reason = str(decision["inputs"]["reason"])
        page = reason in PAGE_REASONS
        example = [requested_at, event["subject"], f"return:{reason}"]
        wanted = by_sku(decision["inputs"]["lines"])
        for sku, (category, units, value) in wanted.items():
            row = tx.one(self.sql("SELECT requested_value, reasons, examples, page_examples FROM "
                                  "{product_lines} WHERE order_aggregate_id = ? AND sku = ?"),
                         (order, sku))
            if row is None:  # the order's events have not arrived yet
                tx.execute(self.sql("INSERT INTO {product_lines} (order_aggregate_id, sku, "
                                    "category) VALUES (?, ?, ?)"), (order, sku, category))
                row = ("0", "{}", "[]", "[]")
            reasons = orjson.loads(row[1])
            reasons[f"return:{reason}"] = reasons.get(f"return:{reason}", 0) + 1
            page_examples = orjson.loads(row[3]) + ([example] if page else [])
            tx.execute(self.sql(
                "UPDATE {product_lines} SET requested_units = requested_units + ?, "
                "requested_value = ?, returns = returns + 1, page_returns = page_returns + ?, "
                "reasons = ?, examples = ?, page_examples = ? "
                "WHERE order_aggregate_id = ? AND sku = ?"),
                (units, str(Decimal(row[0]) + value), int(page), as_json(reasons),
                 as_json(latest([*orjson.loads(row[2]), example])),
                 as_json(latest(page_examples)), order, sku))
        refresh(self, tx, order, facts, list(wanted), examples_changed=True)

    @handles("aftersales.complaint.Filed")
    def complaint_filed(self, event: Event, tx: Transaction) -> None:
        d = event["data"]
        if not d.get("order_id") or d["category"] not in PAGE_COMPLAINTS:
            return
        order = str(order_aggregate_id(d["order_id"]))
        facts = order_facts(self, tx, order)
        kind = f"complaint:{d['category']}"
        reasons = orjson.loads(facts["complaint_reasons"])
        reasons[kind] = reasons.get(kind, 0) + 1
        example = [event["time"], event["subject"], kind]
        facts.update(page_complaints=facts["page_complaints"] + 1,
                     complaint_reasons=as_json(reasons), complaint_examples=as_json(
                         latest([*orjson.loads(facts["complaint_examples"]), example])))
        tx.execute(self.sql("UPDATE {product_orders} SET page_complaints = ?, "
                            "complaint_reasons = ?, complaint_examples = ? "
                            "WHERE order_aggregate_id = ?"),
                   (facts["page_complaints"], facts["complaint_reasons"],
                    facts["complaint_examples"], order))
        refresh(self, tx, order, facts, examples_changed=True)

    # ---- after each batch ---------------------------------------------------------------------
    def settle(self, tx: Transaction) -> None:
        """Fold the queued deltas into the SKUs' totals and recompute the alerts from them, one
        runner at a time (a transaction lock on PostgreSQL, the write lock on SQLite); the
        evidence, JSON text, is read only for the alerts."""
        if tx.one(self.sql("SELECT 1 FROM {product_deltas} LIMIT 1")) is None:
            return
        if tx.db.is_postgres:
            tx.execute("SELECT pg_advisory_xact_lock(?)", (ADVISORY_LOCK,))
        if not settle_totals(self, tx):
            return  # another runner settled them meanwhile
        columns = ("merchant", "category", "sku", *TOTAL_COLUMNS)
        tx.cursor.execute(tx.db.sql(self.sql(f"SELECT {', '.join(columns)} FROM "
                                             "{product_totals} WHERE orders > 0")))
        totals = [dict(zip(columns, r, strict=True)) for r in tx.cursor.fetchall()]
        alerts = [a for a in assess(totals) if a.alert]
        for alert in alerts:
            alert.rows = self._evidence(tx, alert.merchant, alert.category, alert.sku)
        tx.execute(self.sql("DELETE FROM {product_alerts}"))
        if alerts:
            tx.executemany(self.sql(
                f"INSERT INTO {{product_alerts}} ({', '.join(ALERT_COLUMNS)}) VALUES "
                f"({', '.join('?' for _ in ALERT_COLUMNS)})"),
                [[row[c] for c in ALERT_COLUMNS] for row in alert_rows(alerts)])

    def _evidence(self, tx: Transaction, merchant: str, category: str, sku: str
                  ) -> list[dict[str, Any]]:
        """The reasons and examples of a SKU, or of every SKU of a category (sku '')."""
        columns = ("reasons", "return_examples", "page_examples")
        where = "merchant = ? AND category = ? AND (returned > 0 OR flagged > 0)"
        params = [merchant, category]
        if sku:
            where += " AND sku = ?"
            params.append(sku)
        tx.cursor.execute(tx.db.sql(self.sql(f"SELECT {', '.join(columns)} FROM "
                                             f"{{product_totals}} WHERE {where}")), params)
        return [dict(zip(columns, r, strict=True)) for r in tx.cursor.fetchall()]


def by_sku(lines: list[dict[str, Any]]) -> dict[str, tuple[str, int, Decimal]]:
    """SKU -> (category, units, value) of order or request lines (a SKU may repeat)."""
    out: dict[str, tuple[str, int, Decimal]] = {}
    for line in lines:
        units = int(line["quantity"])
        value = Decimal(str(line["unit_price"])) * units
        category, had_units, had_value = out.get(line["sku"], (line["category"], 0, Decimal(0)))
        out[line["sku"]] = (category, had_units + units, had_value + value)
    return out
