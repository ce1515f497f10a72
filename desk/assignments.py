"""Who works on a case: the desk's assignments, kept in the store's database
(``desk_assignments``, one row per assignment, never updated: the latest row of a case is its
assignee). Assigning is allowed by the permission matrix (``AssignCase``) and changes no case:
it is the desk's work distribution, not a fact of the case."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from database.tables import StoreTable, is_duplicate

CHUNK = 500


@dataclass(frozen=True)
class Assignment:
    case_id: str
    assignee: str  # a principal's name
    assigned_by: str
    assigned_at: datetime


class AssignmentChanged(Exception):
    """The case's assignee is no longer the one the page showed (``now``: who it is, None
    when another assignment was being written at the same moment)."""

    def __init__(self, now: str | None) -> None:
        super().__init__(now)
        self.now = now


class Assignments(StoreTable):
    name = "desk_assignments"
    create = (
        "CREATE TABLE IF NOT EXISTS {table} (case_id TEXT NOT NULL, assignee TEXT NOT NULL, "
        "assigned_by TEXT NOT NULL, assigned_at TEXT NOT NULL, seq INTEGER NOT NULL, "
        "PRIMARY KEY (case_id, seq))"
    )

    def assign(self, case_id: str, assignee: str, by: str, at: datetime,
               was: str | None = None) -> None:
        """Assign the case; with ``was`` (the assignee the page showed, "" for nobody) only
        when it still has that assignee, else AssignmentChanged: an agent never takes over a
        colleague's case without having seen it was theirs."""
        try:
            with self.transaction() as tx:
                rows = tx.rows(f"SELECT seq, assignee FROM {self.table} WHERE case_id = ? "
                               "ORDER BY seq DESC LIMIT 1", (case_id,))
                seq, current = (rows[0][0], rows[0][1]) if rows else (0, "")
                if was is not None and was != current:
                    raise AssignmentChanged(current)
                tx.execute(f"INSERT INTO {self.table} (case_id, assignee, assigned_by, "
                           "assigned_at, seq) VALUES (?, ?, ?, ?, ?)",
                           (case_id, assignee, by, at.astimezone(UTC).isoformat(), seq + 1))
        except Exception as error:
            if is_duplicate(error):  # another assignment of the case at the same moment
                raise AssignmentChanged(None) from None
            raise

    def current(self, case_ids: Iterable[str]) -> dict[str, Assignment]:
        """The assignee of each of these cases that has one."""
        found: dict[str, Assignment] = {}
        ids = list(dict.fromkeys(case_ids))
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start:start + CHUNK]
            marks = ", ".join("?" for _ in chunk)
            with self.transaction(commit=False) as tx:
                rows = tx.rows(
                    f"SELECT case_id, assignee, assigned_by, assigned_at FROM {self.table} a "
                    f"WHERE case_id IN ({marks}) AND seq = (SELECT MAX(seq) FROM {self.table} b "
                    "WHERE b.case_id = a.case_id)", chunk)
            for case_id, assignee, by, at in rows:
                found[case_id] = Assignment(case_id, assignee, by, datetime.fromisoformat(at))
        return found

    def assigned(self) -> set[str]:
        """Every case that has an assignee."""
        with self.transaction(commit=False) as tx:
            rows = tx.rows(f"SELECT DISTINCT case_id FROM {self.table}")
        return {r[0] for r in rows}
