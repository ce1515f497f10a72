"""How an order x SKU counts towards its SKU's totals, and keeping the totals equal to the sum
of what every order x SKU counts for, whatever order the events arrive in."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Protocol

import orjson

from projections.db import Transaction
from projections.insights.signals import EXAMPLES

TOTAL_COLUMNS = ("orders", "returned", "flagged", "units_sold", "units_returned")
DELTA_COLUMNS = ("merchant", "category", "sku", *TOTAL_COLUMNS, "reasons", "return_examples",
                 "page_examples")
TOTALS = ("delivered", "returned", "flagged", "units_sold", "units_returned")  # line -> total
COUNTED_COLUMNS = ("delivered", "returned", "flagged", "units_sold", "units_returned",
                   "value_sold", "value_returned", "counted_reasons")
NOTHING = {"delivered": 0, "returned": 0, "flagged": 0, "units_sold": 0, "units_returned": 0,
           "value_sold": "0", "value_returned": "0", "counted_reasons": "{}"}
FRESH = {"requested_units": 0, "requested_value": "0", "returns": 0, "page_returns": 0,
         "reasons": "{}", "examples": "[]", "page_examples": "[]"}
LINE_COLUMNS = ("sku", "category", "units", "value", "requested_units", "requested_value",
                "returns", "page_returns", "reasons", "examples", "page_examples",
                *COUNTED_COLUMNS)
ORDER_COLUMNS = ("week", "merchant", "market", "currency", "page_complaints",
                 "complaint_reasons", "complaint_examples", "value_sold", "value_returned")
ALERT_COLUMNS = ("level", "signal", "merchant", "category", "sku", "orders", "cases", "rate",
                 "low", "high", "baseline_orders", "baseline_cases", "baseline_rate",
                 "baseline_scope", "lift", "p_value", "q_value", "tested", "reasons", "examples")


class Tables(Protocol):
    def sql(self, statement: str) -> str: ...


def as_json(value: Any) -> str:
    """Canonical JSON text (sorted keys), so that equal content is equal text."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def latest(examples: Iterable[list[str]], keep: int = EXAMPLES) -> list[list[str]]:
    """The `keep` latest example cases ([time, case id, kind]), newest first, no repeats.

    Keeping the latest of snapshots gives the latest of everything: an example dropped from a
    snapshot was pushed out by `keep` newer ones, which are kept too."""
    unique = {tuple(e) for e in examples}
    return [list(e) for e in sorted(unique, reverse=True)[:keep]]


def counted(row: dict[str, Any], facts: dict[str, Any]) -> dict[str, Any]:
    """What an order x SKU counts for, from what its row and its order know now.

    Nothing until the order is placed (units known) and delivered (week known); then one
    delivered order with its units and value, and what was asked back, capped at what was sold."""
    if facts["week"] is None or row["units"] is None:
        return dict(NOTHING)
    reasons = row["reasons"]
    if facts["complaint_reasons"] != "{}":
        merged = orjson.loads(reasons)
        for kind, count in orjson.loads(facts["complaint_reasons"]).items():
            merged[kind] = merged.get(kind, 0) + count
        reasons = as_json(merged)
    asked = row["requested_value"]
    value_returned = "0" if asked == "0" else str(min(Decimal(row["value"]), Decimal(asked)))
    return {"delivered": 1, "returned": int(row["returns"] > 0),
            "flagged": int(row["page_returns"] > 0 or facts["page_complaints"] > 0),
            "units_sold": row["units"],
            "units_returned": min(row["units"], row["requested_units"]),
            "value_sold": row["value"], "value_returned": value_returned,
            "counted_reasons": reasons}


def order_facts(tables: Tables, tx: Transaction, order: str) -> dict[str, Any]:
    """The order's row (created empty when a case about it arrived first), locked until the
    transaction ends: whoever changes an order's rows or lines holds it (on SQLite the write
    lock does), so runners holding the order's partition and its cases' never interleave."""
    select = f"SELECT {', '.join(ORDER_COLUMNS)} FROM {{product_orders}} " \
             "WHERE order_aggregate_id = ?"
    if tx.db.is_postgres:
        tx.execute(tables.sql("INSERT INTO {product_orders} (order_aggregate_id) VALUES (?) "
                              "ON CONFLICT (order_aggregate_id) DO NOTHING"), (order,))
        row = tx.one(tables.sql(select + " FOR UPDATE"), (order,))
    else:
        row = tx.one(tables.sql(select), (order,))
    if row is None:
        tx.execute(tables.sql("INSERT INTO {product_orders} (order_aggregate_id) VALUES (?)"),
                   (order,))
        row = (None, None, None, None, 0, "{}", "[]", "0", "0")
    return dict(zip(ORDER_COLUMNS, row, strict=True))


Change = tuple[dict[str, Any], dict[str, Any], dict[str, Any]]  # (row, old, new counts)


def refresh(tables: Tables, tx: Transaction, order: str, facts: dict[str, Any],
            skus: list[str] | None = None, examples_changed: bool = False) -> None:
    """Recount the order's SKUs (or the given ones) and add each change to the SKU's totals and
    to the order's counts; with examples_changed, merge the rows' latest examples too.

    ``facts``: the order's row as it is now (``order_facts`` and the handler's changes)."""
    if facts["week"] is None:
        return  # not delivered: nothing counts yet
    where, params = "order_aggregate_id = ?", [order]
    if skus is not None:
        where += f" AND sku IN ({', '.join('?' for _ in skus)})"
        params += skus
    tx.cursor.execute(tx.db.sql(tables.sql(f"SELECT {', '.join(LINE_COLUMNS)} FROM "
                                           f"{{product_lines}} WHERE {where}")), params)
    changes, touched = [], []
    for values in tx.cursor.fetchall():
        row = dict(zip(LINE_COLUMNS, values, strict=True))
        new = counted(row, facts)
        old = {k: row[k] for k in new}
        if new != old:
            changes.append((row, old, new))
        if new != old or (examples_changed and new["delivered"]):
            touched.append((row, old, new))
    if changes:
        tx.executemany(tables.sql(
            "UPDATE {product_lines} SET merchant = ?, market = ?, currency = ?, week = ?, "
            "delivered = ?, returned = ?, flagged = ?, units_sold = ?, units_returned = ?, "
            "value_sold = ?, value_returned = ?, counted_reasons = ? "
            "WHERE order_aggregate_id = ? AND sku = ?"),
            [(facts["merchant"], facts["market"], facts["currency"], facts["week"],
              *(new[k] for k in COUNTED_COLUMNS), order, row["sku"])
             for row, _, new in changes])
    add(tables, tx, order, facts, changes, touched)


def insert_lines(tables: Tables, tx: Transaction, order: str, facts: dict[str, Any],
                 lines: dict[str, tuple[str, int, Decimal]]) -> None:
    """The order's SKUs, new to the table, written once with what they count for already (an
    order may be delivered before it is placed: upstream topics are not ordered)."""
    rows = []
    for sku, (category, units, value) in lines.items():
        row = {**FRESH, "sku": sku, "category": category, "units": units, "value": str(value)}
        rows.append((row, dict(NOTHING), counted(row, facts)))
    tx.executemany(tables.sql(
        "INSERT INTO {product_lines} (order_aggregate_id, sku, category, units, value, merchant, "
        "market, currency, week, delivered, returned, flagged, units_sold, units_returned, "
        "value_sold, value_returned, counted_reasons) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
        [(order, row["sku"], row["category"], row["units"], row["value"], facts["merchant"],
          facts["market"], facts["currency"], facts["week"],
          *(new[k] for k in COUNTED_COLUMNS)) for row, _, new in rows])
    changed = [change for change in rows if change[2]["delivered"]]
    add(tables, tx, order, facts, changed, changed)


def add(tables: Tables, tx: Transaction, order: str, facts: dict[str, Any],
        changes: list[Change], touched: list[Change]) -> None:
    """Add what changed to the order's counts, and queue what changed or was touched for the
    SKUs' totals (`flush`; `settle_totals` folds them in after the batch)."""
    if changes:
        _add_to_order(tables, tx, order, facts, changes)
    deltas = []
    for row, old, new in touched:
        entry = empty()
        for total, line in zip(TOTAL_COLUMNS, TOTALS, strict=True):
            entry[total] = new[line] - old[line]
        if new["delivered"] and (row["returns"] or facts["page_complaints"]):
            before = orjson.loads(old["counted_reasons"])
            for reason, count in orjson.loads(new["counted_reasons"]).items():
                if count != before.get(reason, 0):
                    entry["reasons"][reason] = count - before.get(reason, 0)
            page = orjson.loads(row["page_examples"])
            if facts["page_complaints"]:
                page += orjson.loads(facts["complaint_examples"])
            entry["return_examples"] = orjson.loads(row["examples"])
            entry["page_examples"] = latest(page)
        deltas.append(((facts["merchant"], row["category"], row["sku"]), entry))
    flush(tables, tx, deltas)


def empty() -> dict[str, Any]:
    """A delta to a SKU's totals: counts, reasons and latest examples."""
    return {**dict.fromkeys(TOTAL_COLUMNS, 0), "reasons": {}, "return_examples": [],
            "page_examples": []}


def has_cases(entry: dict[str, Any]) -> bool:
    return bool(entry["reasons"] or entry["return_examples"] or entry["page_examples"])


def flush(tables: Tables, tx: Transaction,
          deltas: list[tuple[tuple[str, str, str], dict[str, Any]]]) -> None:
    """Deltas into the queue table (insert-only rows, in the handler's transaction or
    savepoint: runners holding other partitions never wait on each other's rows)."""
    rows = [(*key, *(e[c] for c in TOTAL_COLUMNS), as_json(e["reasons"]),
             as_json(e["return_examples"]), as_json(e["page_examples"]))
            for key, e in deltas if any(e[c] for c in TOTAL_COLUMNS) or has_cases(e)]
    if rows:
        tx.executemany(tables.sql(
            f"INSERT INTO {{product_deltas}} ({', '.join(DELTA_COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in DELTA_COLUMNS)})"), rows)


def settle_totals(tables: Tables, tx: Transaction) -> bool:
    """Fold the queued deltas into the SKUs' totals; True when there were any.

    One runner at a time (the caller holds the lock): the queue is read and emptied in one
    statement, so rows a runner commits meanwhile wait for the next settle."""
    tx.cursor.execute(tx.db.sql(tables.sql(
        f"DELETE FROM {{product_deltas}} RETURNING {', '.join(DELTA_COLUMNS)}")))
    queued = tx.cursor.fetchall()
    if not queued:
        return False
    sums: dict[tuple[str, str, str], dict[str, Any]] = {}
    for values in queued:
        delta = dict(zip(DELTA_COLUMNS, values, strict=True))
        key = (delta["merchant"], delta["category"], delta["sku"])
        entry = sums.setdefault(key, empty())
        for column in TOTAL_COLUMNS:
            entry[column] += delta[column]
        for reason, count in orjson.loads(delta["reasons"]).items():
            entry["reasons"][reason] = entry["reasons"].get(reason, 0) + count
        for column in ("return_examples", "page_examples"):
            entry[column] = latest([*entry[column], *orjson.loads(delta[column])])
    plain = [(*key, *(e[c] for c in TOTAL_COLUMNS)) for key, e in sums.items()
             if not has_cases(e)]
    if plain:
        tx.executemany(tables.sql(
            "INSERT INTO {product_totals} (merchant, category, sku, orders, returned, flagged, "
            "units_sold, units_returned) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT "
            "(merchant, category, sku) DO UPDATE SET " + ", ".join(
                f"{c} = {{product_totals}}.{c} + excluded.{c}" for c in TOTAL_COLUMNS)),
            plain)
    for key, entry in sums.items():
        if has_cases(entry):
            _add_cases_to_totals(tables, tx, key, entry)
    return True


def _add_to_order(tables: Tables, tx: Transaction, order: str, facts: dict[str, Any],
                  changes: list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]]) -> None:
    step = {k: sum(new[k] - old[k] for _, old, new in changes)
            for k in ("returned", "flagged", "units_sold", "units_returned")}
    for k in ("value_sold", "value_returned"):  # facts stay the row as it is now
        facts[k] = str(Decimal(facts[k]) + sum((Decimal(new[k]) - Decimal(old[k])
                                                for _, old, new in changes), Decimal(0)))
    money = [facts["value_sold"], facts["value_returned"]]
    tx.execute(tables.sql(
        "UPDATE {product_orders} SET delivered = ?, returned_skus = returned_skus + ?, "
        "flagged_skus = flagged_skus + ?, units_sold = units_sold + ?, "
        "units_returned = units_returned + ?, value_sold = ?, value_returned = ? "
        "WHERE order_aggregate_id = ?"),
        (int(facts["week"] is not None), step["returned"], step["flagged"], step["units_sold"],
         step["units_returned"], *money, order))


def _add_cases_to_totals(tables: Tables, tx: Transaction, key: tuple[str, str, str],
                         entry: dict[str, Any]) -> None:
    """Counts, reasons and the latest examples of a SKU that buyers spoke about."""
    current = tx.one(tables.sql("SELECT reasons, return_examples, page_examples FROM "
                                "{product_totals} WHERE merchant = ? AND category = ? "
                                "AND sku = ?"), key)
    if current is None:
        tx.execute(tables.sql("INSERT INTO {product_totals} (merchant, category, sku) "
                              "VALUES (?, ?, ?)"), key)
        current = ("{}", "[]", "[]")
    reasons = orjson.loads(current[0])
    for reason, count in entry["reasons"].items():
        reasons[reason] = reasons.get(reason, 0) + count
    tx.execute(tables.sql(
        "UPDATE {product_totals} SET " + ", ".join(f"{c} = {c} + ?" for c in TOTAL_COLUMNS)
        + ", reasons = ?, return_examples = ?, page_examples = ? WHERE merchant = ? AND "
        "category = ? AND sku = ?"),
        (*(entry[c] for c in TOTAL_COLUMNS), as_json(reasons),
         as_json(latest([*orjson.loads(current[1]), *entry["return_examples"]])),
         as_json(latest([*orjson.loads(current[2]), *entry["page_examples"]])), *key))
