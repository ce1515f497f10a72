"""Where each projection is: per source partition (next offset, highest store position
applied) and a floor (a rebuild applied everything up to it). Kept in the read database, in
the same transaction as the rows, so rows and positions never disagree."""

from __future__ import annotations

from collections.abc import Iterable
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

    def highest(self) -> int:
        return max([self.floor, *(p for _, p in self.parts.values())])


def create(tx: Transaction) -> None:
    for ddl in DDL:
        tx.execute(ddl)


def _floor(tx: Transaction, projection: str) -> int:
    row = tx.one("SELECT position FROM projection_floors WHERE projection = ?", (projection,))
    return int(row[0]) if row else 0


def load(tx: Transaction, projection: str) -> Positions:
    """Every partition's position (for status and seeking; not for writing back)."""
    positions = Positions(floor=_floor(tx, projection))
    tx.cursor.execute(tx.db.sql("SELECT source, part, next_offset, max_position FROM "
                                "projection_positions WHERE projection = ?"), (projection,))
    for source, part, next_offset, max_position in tx.cursor.fetchall():
        positions.parts[(source, int(part))] = (int(next_offset), int(max_position))
    return positions


def claim(tx: Transaction, projection: str, keys: Iterable[tuple[str, int]]) -> Positions:
    """The positions of just these partitions, locked until the transaction ends.

    Several runners share a read database: each must read and write only the partitions its
    batch covers, and hold them while it applies, so a runner that lost a partition in a
    rebalance and the one that got it can never both apply the same events, nor write back an
    older position over a newer one. Rows are created first (a no-op when they exist) so that
    there is always a row to lock, and locked in key order so two runners never deadlock."""
    wanted = sorted(set(keys))
    tx.executemany(
        "INSERT INTO projection_positions (projection, source, part, next_offset, max_position) "
        "VALUES (?, ?, ?, 0, 0) ON CONFLICT (projection, source, part) DO NOTHING",
        [(projection, source, part) for source, part in wanted])
    positions = Positions(floor=_floor(tx, projection))
    lock = " ORDER BY source, part FOR UPDATE" if tx.db.is_postgres else ""
    for source in sorted({source for source, _ in wanted}):
        parts = [part for s, part in wanted if s == source]
        marks = ", ".join("?" * len(parts))
        tx.cursor.execute(tx.db.sql(
            "SELECT part, next_offset, max_position FROM projection_positions WHERE "
            f"projection = ? AND source = ? AND part IN ({marks}){lock}"),
            (projection, source, *parts))
        for part, next_offset, max_position in tx.cursor.fetchall():
            positions.parts[(source, int(part))] = (int(next_offset), int(max_position))
    return positions


def save(tx: Transaction, projection: str, positions: Positions) -> None:
    """Write back the partitions of ``positions`` (only those ``claim`` loaded and locked)."""
    tx.executemany(
        "UPDATE projection_positions SET next_offset = ?, max_position = ? "
        "WHERE projection = ? AND source = ? AND part = ?",
        [(off, pos, projection, source, part)
         for (source, part), (off, pos) in positions.parts.items()])


def set_floor(tx: Transaction, projection: str, position: int) -> None:
    tx.execute("INSERT INTO projection_floors (projection, position) VALUES (?, ?) "
               "ON CONFLICT (projection) DO UPDATE SET position = excluded.position",
               (projection, position))


def rewind(tx: Transaction, source: str, part: int, offset: int) -> None:
    """Read a partition again from ``offset`` (every projection): its topic was re-created or
    its broker lost it, so the offsets stored are beyond its end. The highest store positions
    applied stay, so what was applied before is skipped when it comes again."""
    tx.execute("UPDATE projection_positions SET next_offset = ? "
               "WHERE source = ? AND part = ? AND next_offset > ?",
               (offset, source, part, offset))
