"""Pages of a projection table, for the service API: typed filters, one sort column, and
keyset (cursor) pagination that stays right while rows are added.

Columns and their types come from the projections' own CREATE TABLE statements, so the API's
OpenAPI document is written without a database. Rows are ordered by the sort column (rows
where it is NULL last, in both directions) and then by the table's primary key, so every row
has one place; a page ends with the key of its last row, and the next page starts after it."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from aftersales_core.application.reads import QueryScope
from projections.catalog import PROJECTIONS
from projections.db import ReadDatabase, identifier
from schemas.limits import TEXT_FORBIDDEN

_COLUMN = re.compile(r"^\s*([a-z_][a-z0-9_]*)\s+(TEXT|INTEGER|REAL)\b(.*)$")
_KEY = re.compile(r"PRIMARY KEY\s*\(([^)]*)\)")
MAX_TEXT = 1000
INT_RANGE = (-(2**63), 2**63 - 1)


class PageError(ValueError):
    """A filter, sort or cursor that is not right for the table (``field`` names it)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # TEXT, INTEGER or REAL


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
            columns.append(Column(found.group(1), found.group(2)))
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
    return _text(text, field)


def _text(text: str, field: str) -> str:
    if len(text) > MAX_TEXT or TEXT_FORBIDDEN.search(text):
        raise PageError(field, f"at most {MAX_TEXT} characters, no control characters")
    return text


def check_key(spec: Table, key: list[Any], has_order: bool) -> None:
    """A cursor's key: the sort column's null flag and value (when sorted), then the primary
    key, each of its column's type (a cursor is the caller's to send back, and to garble)."""
    expected = (2 if has_order else 0) + len(spec.key)
    if len(key) != expected:
        raise PageError("cursor", "not a cursor of this listing")
    for value in key:
        ok = value is None or (isinstance(value, str) and len(value) <= MAX_TEXT * 2
                               and not TEXT_FORBIDDEN.search(value)) or (
            isinstance(value, int) and not isinstance(value, bool)
            and INT_RANGE[0] <= value <= INT_RANGE[1]) or (
            isinstance(value, float) and math.isfinite(value))
        if not ok:
            raise PageError("cursor", "not a cursor of this listing")


def page(db: ReadDatabase, scope: QueryScope, filters: list[tuple[str, Any]],
         order_by: str | None, limit: int, after: list[Any] | None
         ) -> tuple[list[dict[str, Any]], list[Any] | None]:
    """One page of rows and the key to continue after (None on the last page)."""
    spec = table(scope.table)
    clauses, params = [], []
    for name, value in filters:
        clauses.append(f"{identifier(name)} = ?")
        params.append(value)
    restriction = scope.where()
    if restriction is not None:
        column, values = restriction
        clauses.append(f"{identifier(column)} = ?")
        params.extend(values)
    terms: list[tuple[str, bool]] = []  # (SQL expression, descending)
    sort = order_by.lstrip("-") if order_by else None
    if order_by and sort is not None:
        null_flag = f"CASE WHEN {identifier(sort)} IS NULL THEN 1 ELSE 0 END"
        terms += [(null_flag, False), (identifier(sort), order_by.startswith("-"))]
    terms += [(identifier(k), False) for k in spec.key]
    if after is not None:
        check_key(spec, after, sort is not None)
        clause, values = _after(terms, after, sort is not None)
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
