"""Reading a projection table within what the principal may see (application/reads.py decides
the scope; this applies it): the `aftersales query` command and, later, the service API."""

from __future__ import annotations

from typing import Any

from aftersales_core.application.reads import QueryScope
from projections.db import ReadDatabase, identifier


class QueryError(ValueError):
    """A query that names no such table or column, or is not well formed."""


def check_query(db: ReadDatabase, table: str, where: list[str], order_by: str | None) -> None:
    """QueryError unless every ``FIELD=VALUE`` and the order column name a column of the
    table (checked before anyone's scope is: bad arguments are bad for everyone)."""
    columns = db.columns(table)
    for condition in where:
        field, sep, _ = condition.partition("=")
        if not sep or field not in columns:
            raise QueryError(f"--where {condition!r}: expected FIELD=VALUE with FIELD one of "
                             f"{', '.join(columns)}")
    if order_by and order_by.lstrip("-") not in columns:
        raise QueryError(f"--order-by {order_by!r}: no column {order_by.lstrip('-')!r} in "
                         f"{table}")


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
        field, sep, value = condition.partition("=")
        if not sep or field not in columns:
            raise QueryError(f"--where {condition!r}: expected FIELD=VALUE with FIELD one of "
                             f"{', '.join(columns)}")
        clauses.append(f"{identifier(field)} = ?")
        params.append(value)
    restriction = scope.where()
    if restriction is not None:
        column, values = restriction
        if column not in columns:
            raise QueryError(f"{scope.table} has no {column} column to restrict it by")
        clauses.append(f"{identifier(column)} = ?")
        params.extend(values)
    sql = f"SELECT * FROM {identifier(scope.table)}"
    if clauses:
        sql += " WHERE " + " AND ".join(clauses)
    if order_by:
        column = order_by.lstrip("-")
        if column not in columns:
            raise QueryError(f"--order-by {order_by!r}: no column {column!r} in {scope.table}")
        sql += f" ORDER BY {identifier(column)}" + (" DESC" if order_by.startswith("-") else "")
    return db.query(sql + f" LIMIT {int(limit)}", params)
