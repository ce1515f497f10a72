"""What every projection shares: its tables (under replaceable names) and event handlers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar

import orjson

from aftersales_core.personal import ERASED
from projections.db import Transaction, identifier, native

ERASURE = "aftersales.customer.PersonalDataErased"
#: Which customers each projection saw erased, and at which store position (the latest): an
#: event of their cases from before that position may come after the erasure (it travels on
#: the customer's partition, their cases' events on others), and must not name them again.
#: Keyed by the projection's logical name, so a rebuild's fresh tables share the live rows
#: (they hold the same facts).
ERASURES_DDL = """CREATE TABLE IF NOT EXISTS projection_erasures (
    projection TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    position BIGINT NOT NULL,
    PRIMARY KEY (projection, customer_id)
)"""
Event = dict[str, Any]  # a CloudEvents envelope: type, subject, time, data, position, version
Handler = Callable[[Any, Event, Transaction], None]


def handles(*event_types: str) -> Callable[[Handler], Handler]:
    """Mark a method as the handler of these event types (``aftersales.refund.Settled``…)."""

    def mark(method: Handler) -> Handler:
        method.__dict__.setdefault("event_types", []).extend(event_types)
        return method

    return mark


class Projection:
    """A read model: tables with their DDL, indexes, and one handler per event type it uses.

    SQL names tables as ``{cases}`` (the logical name in braces); ``self.sql`` puts in the
    physical name, which differs while a rebuild fills fresh tables next to the live ones."""

    name: ClassVar[str]
    #: logical table name -> CREATE TABLE with {name} fields, in PostgreSQL's types: amounts
    #: NUMERIC, times TIMESTAMPTZ (always written as UTC text, ``utc``), documents JSONB
    #: (always written by ``json_text``); SQLite holds those three as TEXT (projections/db.py)
    tables: ClassVar[dict[str, str]]
    indexes: ClassVar[dict[str, str]] = {}  # index name -> CREATE INDEX … ON {table} (…)
    #: table -> the column naming the customer a row is about: purged (``[erased]``) when the
    #: customer's personal data is erased, so the read database no longer links them
    subject_columns: ClassVar[dict[str, str]] = {}
    _handlers: ClassVar[dict[str, Handler]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._handlers = {}
        for value in vars(cls).values():
            for event_type in getattr(value, "event_types", ()):
                cls._handlers[event_type] = value
        if cls.subject_columns and ERASURE not in cls._handlers:
            cls._handlers[ERASURE] = Projection.purge_subject

    def purge_subject(self, event: Event, tx: Transaction) -> None:
        """The customer's personal data was erased: their rows keep their facts, but no longer
        name them."""
        customer_id = self.erasure_seen(event, tx)
        for table, column in self.subject_columns.items():
            tx.execute(self.sql(f"UPDATE {{{table}}} SET {identifier(column)} = ? "
                                f"WHERE {identifier(column)} = ?"), (ERASED, customer_id))

    def erasure_seen(self, event: Event, tx: Transaction) -> str:
        """Note the erasure (customer and store position) for events of the customer's cases
        that come after it; returns the customer id."""
        customer_id: str = event["data"]["customer_id"]
        tx.execute("INSERT INTO projection_erasures (projection, customer_id, position) "
                   "VALUES (?, ?, ?) ON CONFLICT (projection, customer_id) DO UPDATE SET "
                   "position = excluded.position WHERE projection_erasures.position < "
                   "excluded.position", (self.name, customer_id, event["position"]))
        return customer_id

    def subject(self, event: Event, tx: Transaction, customer_id: Any) -> Any:
        """The customer id a row written by this event may name: ``[erased]`` when this
        projection has already applied an erasure of that customer at a later store position
        (so the row ends as it does when events come in store order, as in a rebuild)."""
        if not isinstance(customer_id, str) or customer_id == ERASED:
            return customer_id
        found = tx.one("SELECT position FROM projection_erasures WHERE projection = ? AND "
                       "customer_id = ?", (self.name, customer_id))
        return ERASED if found is not None and int(found[0]) > event["position"] else customer_id

    def __init__(self, suffix: str = "") -> None:
        self.suffix = suffix
        self.names = {t: identifier(t + suffix) for t in self.tables}
        self._statements: dict[str, str] = {}

    def sql(self, statement: str) -> str:
        """The statement with this instance's table names (made once per statement text:
        handlers call this for every event)."""
        found = self._statements.get(statement)
        if found is None:
            found = self._statements[statement] = statement.format(**self.names)
        return found

    def create(self, tx: Transaction) -> None:
        for ddl in self.tables.values():
            tx.execute(native(self.sql(ddl), tx.db.is_postgres))

    def create_indexes(self, tx: Transaction) -> None:
        """Indexes carry the canonical names, so they are made on the live tables only."""
        for index, ddl in self.indexes.items():
            tx.execute(f"DROP INDEX IF EXISTS {identifier(index)}")
            tx.execute(ddl.format(**{t: t for t in self.tables}))

    def handlers(self) -> dict[str, Handler]:
        """Event type -> handler (called as ``handler(projection, event, tx)``)."""
        return self._handlers

    def apply(self, event: Event, tx: Transaction) -> None:
        handler = self._handlers.get(event["type"])
        if handler is not None:
            handler(self, event, tx)

    def settle(self, tx: Transaction) -> None:
        """After a batch has committed, in a transaction of its own: fold in what the batch
        left for later (the product totals and alerts, which every runner shares). Runs again
        whenever something is pending, so a crash between the two leaves nothing behind. Most
        projections have nothing to do."""


def kind_of(event_type: str) -> str:
    """aftersales.refund.Settled -> refund."""
    return event_type.split(".")[1]


def money_amount(value: Any) -> str | None:
    """The amount of a Money value as stored in events ({"amount", "currency"}), or None."""
    return None if value is None else str(value["amount"])


def json_text(value: Any) -> str:
    """A JSON document as read models hold it: compact, keys sorted (how PostgreSQL's JSONB
    is read back too, so both backends give the same text)."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def utc(text: str | None) -> str | None:
    """An RFC 3339 time as UTC ISO text, so that times sort and compare as text in SQL."""
    if text is None:
        return None
    moment = datetime.fromisoformat(text)
    return moment.astimezone(UTC).isoformat()
