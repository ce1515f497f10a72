"""Pages of a projection table, for the service API: typed filters, one sort column, and
keyset (cursor) pagination that stays right while rows are added.

Columns and their types come from the projections' own CREATE TABLE statements, so the API's
OpenAPI document is written without a database. Rows are ordered by the sort column (rows
where it is NULL last, in both directions) and then by the table's primary key, so every row
has one place; a page ends with the key of its last row, and the next page starts after it.
A column holding the steps of a ladder (an escalation level) sorts by the ladder's order:
supervisor, platform arbitration, regulator, not alphabetically."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

import orjson

from aftersales_core.application.reads import QueryScope
from aftersales_core.domain.complaints import ESCALATION_LEVELS
from aftersales_core.personal import ERASED
from projections.base import json_text
from projections.catalog import PROJECTIONS
from projections.db import ReadDatabase, identifier
from schemas.limits import TEXT_FORBIDDEN

_COLUMN = re.compile(r"^\s*([a-z_][a-z0-9_]*)\s+(TEXT|INTEGER|REAL|DOUBLE PRECISION|NUMERIC|"
                     r"TIMESTAMPTZ|JSONB)\b(.*)$")
_DECIMAL = re.compile(r"-?[0-9]{1,30}(\.[0-9]{1,18})?")
_KEY = re.compile(r"PRIMARY KEY\s*\(([^)]*)\)")
MAX_TEXT = 1000
INT_RANGE = (-(2**63), 2**63 - 1)
# (table, column) -> the ladder its values climb, lowest first: the order it sorts in
LADDERS: dict[tuple[str, str], tuple[str, ...]] = {
    ("cases", "escalation"): ESCALATION_LEVELS,
    ("complaints", "escalated_to"): ESCALATION_LEVELS,
}
_STEP = re.compile(r"^[a-z_]+$")  # a ladder's steps are written into SQL as literals


class PageError(ValueError):
    """A filter, sort or cursor that is not right for the table (``field`` names it)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # TEXT, INTEGER, REAL, NUMERIC (an amount), TIMESTAMPTZ (a time), JSONB
    ladder: tuple[str, ...] = ()  # its values are these steps, lowest first

    def expression(self, postgres: bool) -> str:
        """The column in a filter: an amount compares as a number on SQLite too (which holds
        it as text), as it does on PostgreSQL."""
        name = identifier(self.name)
        return name if postgres or self.type != "NUMERIC" else f"CAST({name} AS NUMERIC)"

    def sort_expression(self, postgres: bool) -> str:
        """The column in an ordering: as in a filter, but a ladder's steps by their place on
        it (NULL stays NULL; a value that is no step after every step)."""
        if not self.ladder:
            return self.expression(postgres)
        name = identifier(self.name)
        steps = " ".join(f"WHEN {name} = '{step}' THEN {rank}"
                         for rank, step in enumerate(self.ladder) if _STEP.match(step))
        return f"(CASE WHEN {name} IS NULL THEN NULL {steps} ELSE {len(self.ladder)} END)"

    def sort_value(self, value: Any) -> Any:
        """A value as its ``sort_expression`` compares it (a cursor's key holds the value)."""
        if not self.ladder or value is None:
            return value
        return self.ladder.index(value) if value in self.ladder else len(self.ladder)


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


@cache
def table(name: str) -> Table:
    """A queryable table's columns and primary key, from its projection's DDL."""
    for projection in PROJECTIONS.values():
        if name in projection.tables:
            ddl = projection.tables[name]
            break
    else:
        raise KeyError(name)
    body = ddl[ddl.index("(") + 1: ddl.rindex(")")]
    columns, key = [], []
    for part in re.split(r",(?![^()]*\))", body):
        found = _COLUMN.match(part.strip())
        if found:
            kind = "REAL" if found.group(2) == "DOUBLE PRECISION" else found.group(2)
            columns.append(Column(found.group(1), kind, LADDERS.get((name, found.group(1)), ())))
            if "PRIMARY KEY" in found.group(3):
                key.append(found.group(1))
        elif (composite := _KEY.search(part)) is not None:
            key.extend(k.strip() for k in composite.group(1).split(","))
    return Table(name, tuple(columns), tuple(key))


def value_of(column: Column, text: str, field: str) -> Any:
    """A filter value given as text, as the column's type (a PageError says why not)."""
    if column.type == "INTEGER":
        if not re.fullmatch(r"-?[0-9]{1,19}", text) or not \
                INT_RANGE[0] <= int(text) <= INT_RANGE[1]:
            raise PageError(field, "expected an integer")
        return int(text)
    if column.type == "REAL":
        try:
            number = float(text)
        except ValueError:
            raise PageError(field, "expected a number") from None
        if not math.isfinite(number) or len(text) > 40:
            raise PageError(field, "expected a finite number")
        return number
    if column.type == "NUMERIC":
        if not _DECIMAL.fullmatch(text):
            raise PageError(field, "expected a decimal amount such as 12.50")
        return text
    if column.type == "TIMESTAMPTZ":
        return _time(text, field)
    if column.type == "JSONB":
        try:  # as the read models hold it: compact, keys sorted
            return json_text(orjson.loads(_text(text, field)))
        except (orjson.JSONDecodeError, TypeError):
            raise PageError(field, "expected a JSON document") from None
    return _text(text, field)


def _time(text: str, field: str) -> str:
    """An RFC 3339 time with its offset, as the UTC text read models hold times in."""
    try:
        moment = datetime.fromisoformat(text) if len(text) <= 40 else None
        if moment is None or moment.tzinfo is None:
            raise ValueError(text)
        return moment.astimezone(UTC).isoformat()
    except (ValueError, OverflowError):
        raise PageError(field, "expected an RFC 3339 time with its offset, such as "
                               "2026-03-02T09:00:00+00:00") from None


def _text(text: str, field: str) -> str:
    if len(text) > MAX_TEXT or TEXT_FORBIDDEN.search(text):
        raise PageError(field, f"at most {MAX_TEXT} characters, no control characters")
    return text


def check_key(spec: Table, key: list[Any], sort: str | None) -> None:
    """A cursor's key: the sort column's null flag and value (when sorted), then the primary
    key, each of its column's type (a cursor is the caller's to send back, and to garble)."""
    expected = (2 if sort else 0) + len(spec.key)
    if len(key) != expected:
        raise PageError("cursor", "not a cursor of this listing")
    names = [None, sort] if sort else []
    for value, name in zip(key, [*names, *spec.key], strict=True):
        ok = value is None or (isinstance(value, str) and len(value) <= MAX_TEXT * 2
                               and not TEXT_FORBIDDEN.search(value)) or (
            isinstance(value, int) and not isinstance(value, bool)
            and INT_RANGE[0] <= value <= INT_RANGE[1]) or (
            isinstance(value, float) and math.isfinite(value))
        column = spec.column(name) if name else None
        if ok and isinstance(value, str) and column is not None and column.type in (
                "NUMERIC", "TIMESTAMPTZ", "JSONB"):
            try:
                value_of(column, value, "cursor")  # PostgreSQL would refuse it as this type
            except PageError:
                ok = False
        if not ok:
            raise PageError("cursor", "not a cursor of this listing")


def sort_order(order_by: str) -> tuple[str, bool]:
    """(column, descending) of an order: one column, with at most one ``-`` before it
    (``--opened_at`` names the column ``-opened_at``, no column: never "descending twice").
    The one reading of the CLI's ``--order-by`` and the service API's ``order_by``."""
    return order_by.removeprefix("-"), order_by.startswith("-")


def own_rows(column: str, values: list[Any]) -> tuple[str, list[Any]]:
    """The clause restricting a table to a customer's own rows (``column`` = their id), which
    never matches a row purged of an erased customer (its column reads ``[erased]``), whatever
    id a principal was bound to."""
    name = identifier(column)
    return f"{name} = ? AND {name} <> ?", [*values, ERASED]


def page(db: ReadDatabase, scope: QueryScope, filters: list[tuple[str, Any]],
         order_by: str | None, limit: int, after: list[Any] | None
         ) -> tuple[list[dict[str, Any]], list[Any] | None]:
    """One page of rows and the key to continue after (None on the last page)."""
    spec = table(scope.table)
    clauses, params = [], []
    for name, value in filters:
        clauses.append(f"{_expression(spec, name, db)} = ?")
        params.append(value)
    restriction = scope.where()
    if restriction is not None:
        clause, values = own_rows(*restriction)
        clauses.append(clause)
        params.extend(values)
    terms: list[tuple[str, bool]] = []  # (SQL expression, descending)
    sort, descending = sort_order(order_by) if order_by else (None, False)
    if sort is not None:
        null_flag = f"CASE WHEN {identifier(sort)} IS NULL THEN 1 ELSE 0 END"
        terms += [(null_flag, False), (_sort_expression(spec, sort, db), descending)]
    terms += [(identifier(k), False) for k in spec.key]
    if after is not None:
        check_key(spec, after, sort)
        compared = list(after)
        if sort is not None and (sorted_by := spec.column(sort)) is not None:
            compared[1] = sorted_by.sort_value(after[1])  # as the ordering compares it
        clause, values = _after(terms, compared, sort is not None)
        clauses.append(clause)
        params.extend(values)
    sql = f"SELECT * FROM {identifier(scope.table)}"
    if clauses:
        sql += " WHERE " + " AND ".join(clauses)
    sql += " ORDER BY " + ", ".join(f"{e} {'DESC' if d else 'ASC'}" for e, d in terms)
    rows = db.query(sql + f" LIMIT {int(limit) + 1}", params)
    more = len(rows) > limit
    rows = rows[:limit]
    if not more or not rows:
        return rows, None
    last = rows[-1]
    key = [] if sort is None else [1 if last[sort] is None else 0, last[sort]]
    return rows, key + [last[k] for k in spec.key]


def _expression(spec: Table, name: str, db: ReadDatabase) -> str:
    column = spec.column(name)
    return identifier(name) if column is None else column.expression(db.is_postgres)


def _sort_expression(spec: Table, name: str, db: ReadDatabase) -> str:
    column = spec.column(name)
    return identifier(name) if column is None else column.sort_expression(db.is_postgres)


def _after(terms: list[tuple[str, bool]], key: list[Any], sorted_: bool
           ) -> tuple[str, list[Any]]:
    """Rows strictly after ``key`` in the order of ``terms`` (a NULL sort value: only the null
    flag and the primary key tell rows apart)."""
    pairs = list(zip(terms, key, strict=True))
    if sorted_ and key[0] == 1:
        pairs = [pairs[0], *pairs[2:]]  # every row left with the flag set has NULL there
    ors, params = [], []
    for i, ((expr, desc), value) in enumerate(pairs):
        ands = []
        for (prior, _), prior_value in pairs[:i]:
            ands.append(f"{prior} = ?")
            params.append(prior_value)
        ands.append(f"{expr} {'<' if desc else '>'} ?")
        params.append(value)
        ors.append("(" + " AND ".join(ands) + ")")
    return "(" + " OR ".join(ors) + ")", params
