"""Reading a projection table within what the principal may see (application/reads.py decides
the scope; this applies it): the `aftersales query` command and, later, the service API.

A value compares as its column's type: an amount as a number, a time as a time (any offset),
a document as JSON (projections/pages.py), alike on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from aftersales_core.application.reads import QueryScope
from projections.db import ReadDatabase, identifier
from projections.pages import PageError, Table, own_rows, sort_order, table, value_of
from schemas.common import shown


class QueryError(ValueError):
    """A query that names no such table or column, or is not well formed."""


def _spec(name: str) -> Table | None:
    try:
        return table(name)
    except KeyError:  # a plain SQL table of the read database: its values are as given
        return None


def _condition(db: ReadDatabase, name: str, columns: list[str], condition: str
               ) -> tuple[str, Any]:
    """(SQL expression, parameter) of a ``FIELD=VALUE`` condition."""
    field, sep, value = condition.partition("=")
    if not sep or field not in columns:
        raise QueryError(f"--where {condition!r}: expected FIELD=VALUE with FIELD one of "
                         f"{', '.join(columns)}")
    column = (spec := _spec(name)) and spec.column(field)
    if not column:
        return identifier(field), value
    try:
        return column.expression(db.is_postgres), value_of(column, value, f"--where {field}")
    except PageError as error:
        raise QueryError(str(error)) from None


def _order(db: ReadDatabase, name: str, columns: list[str], order_by: str) -> str:
    field, descending = sort_order(order_by)
    if field not in columns:
        raise QueryError(f"--order-by {shown(order_by)}: not a column of "
                         f"{name}, nor one with one - before it (descending)")
    column = (spec := _spec(name)) and spec.column(field)
    expression = column.sort_expression(db.is_postgres) if column else identifier(field)
    return expression + (" DESC" if descending else "")


def check_query(db: ReadDatabase, table: str, where: list[str], order_by: str | None) -> None:
    """QueryError unless every ``FIELD=VALUE`` names a column of the table with a value of
    its type, and the order column is one (checked before anyone's scope is: bad arguments are
    bad for everyone)."""
    columns = db.columns(table)
    for condition in where:
        _condition(db, table, columns, condition)
    if order_by:
        _order(db, table, columns, order_by)


def query_table(
    db: ReadDatabase,
    scope: QueryScope,
    where: list[str],
    order_by: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Rows of ``scope.table`` matching every ``FIELD=VALUE`` (parameters only), restricted to
    the scope's rows (a customer's own), ordered by a column (``-`` for descending)."""
    columns = db.columns(scope.table)
    clauses, params = [], []
    for condition in where:
        expression, value = _condition(db, scope.table, columns, condition)
        clauses.append(f"{expression} = ?")
        params.append(value)
    restriction = scope.where()
    if restriction is not None:
        column, values = restriction
        if column not in columns:
            raise QueryError(f"{scope.table} has no {column} column to restrict it by")
        clause, values = own_rows(column, values)
        clauses.append(clause)
        params.extend(values)
    sql = f"SELECT * FROM {identifier(scope.table)}"
    if clauses:
        sql += " WHERE " + " AND ".join(clauses)
    if order_by:
        sql += " ORDER BY " + _order(db, scope.table, columns, order_by)
    return db.query(sql + f" LIMIT {int(limit)}", params)
