"""Where each projection is: per source partition (next offset, highest store position
applied) and a floor (a rebuild applied everything up to it). Kept in the read database, in
the same transaction as the rows, so rows and positions never disagree."""

from __future__ import annotations

from dataclasses import dataclass, field

from projections.db import Transaction

DDL = [
    """CREATE TABLE IF NOT EXISTS projection_positions (
        projection TEXT NOT NULL,
        source TEXT NOT NULL,
        part INTEGER NOT NULL,
        next_offset INTEGER NOT NULL,
        max_position INTEGER NOT NULL,
        PRIMARY KEY (projection, source, part)
    )""",
    """CREATE TABLE IF NOT EXISTS projection_floors (
        projection TEXT PRIMARY KEY,
        position INTEGER NOT NULL
    )""",
]


@dataclass
class Positions:
    """A projection's positions as loaded inside a transaction."""

    floor: int = 0
    parts: dict[tuple[str, int], tuple[int, int]] = field(default_factory=dict)

    def applied(self, source: str, part: int, position: int) -> bool:
        """True when this store position is already in the projection's tables."""
        _, highest = self.parts.get((source, part), (0, 0))
        return position <= max(self.floor, highest)

    def advance(self, source: str, part: int, next_offset: int, position: int) -> None:
        _, highest = self.parts.get((source, part), (0, 0))
        self.parts[(source, part)] = (next_offset, max(highest, position))

    def highest(self) -> int:
        return max([self.floor, *(p for _, p in self.parts.values())])


def create(tx: Transaction) -> None:
    for ddl in DDL:
        tx.execute(ddl)


def load(tx: Transaction, projection: str) -> Positions:
    positions = Positions()
    row = tx.one("SELECT position FROM projection_floors WHERE projection = ?", (projection,))
    positions.floor = int(row[0]) if row else 0
    tx.cursor.execute(tx.db.sql("SELECT source, part, next_offset, max_position FROM "
                                "projection_positions WHERE projection = ?"), (projection,))
    for source, part, next_offset, max_position in tx.cursor.fetchall():
        positions.parts[(source, int(part))] = (int(next_offset), int(max_position))
    return positions


def save(tx: Transaction, projection: str, positions: Positions) -> None:
    tx.executemany(
        "INSERT INTO projection_positions (projection, source, part, next_offset, max_position) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (projection, source, part) DO UPDATE SET "
        "next_offset = excluded.next_offset, max_position = excluded.max_position",
        [(projection, source, part, off, pos)
         for (source, part), (off, pos) in positions.parts.items()])


def set_floor(tx: Transaction, projection: str, position: int) -> None:
    tx.execute("INSERT INTO projection_floors (projection, position) VALUES (?, ?) "
               "ON CONFLICT (projection) DO UPDATE SET position = excluded.position",
               (projection, position))
