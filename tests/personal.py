"""A customer with personal data planted in every place it can be written, and searches for it
in raw bytes (store and read database files, their WAL, PostgreSQL tables, topics)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import psycopg

from aftersales_core.application.services import Services
from tests.factories import T0, delivered_order, run

AT = T0 + timedelta(days=4)


@dataclass
class Planted:
    """One customer's cases, and the unique strings planted in their personal data."""

    customer_id: str
    order_id: str
    return_id: UUID
    complaint_id: UUID
    markers: list[str] = field(default_factory=list)

    def found_in(self, data: bytes) -> list[str]:
        """The markers that occur in ``data`` (as UTF-8, UTF-16 or in JSON escapes)."""
        found = []
        for marker in self.markers:
            forms = (marker.encode(), marker.encode("utf-16-le"), marker.encode("utf-16-be"))
            if any(form in data for form in forms):
                found.append(marker)
        return found


def plant(app: Services, customer_id: str = "c-9", order_id: str = "o-9",
          close: bool = False) -> Planted:
    """A delivered order, a return with a note and evidence, a complaint with a description,
    an acknowledgement, messages both ways and a proposal's note, each holding a unique
    string; with ``close`` the return is cancelled and the complaint resolved and closed."""
    tag = uuid4().hex[:12]
    planted = Planted(customer_id, order_id, uuid4(), uuid4(),  # the ids: once opened
                      [f"PLANTED-{tag}-{part}" for part in
                       ("note", "evidence", "description", "ack", "in", "out", "proposal")])
    note, evidence, description, ack, inbound, outbound, proposal = planted.markers
    delivered_order(app, order_id, customer_id=customer_id)
    customer = f"customer-{customer_id}"
    planted.return_id = run(app, customer, {
        "command": "RequestReturn", "order_id": order_id,
        "lines": [{"line_id": "2", "quantity": 1}], "reason": "changed_mind",
        "outcome": "refund", "note": f"please call me — {note}",
        "evidence": [f"https://img.example/{evidence}.jpg"], "at": iso(AT)}).case_id
    steps: list[tuple[str, dict[str, Any]]] = [
        (customer, {"command": "FileComplaint", "order_id": order_id, "channel": "email",
                    "category": "damaged", "description": f"Ich heiße Erika. {description}"}),
        ("agent-1", {"command": "AcknowledgeComplaint", "message": f"Hello, {ack}"}),
        (customer, {"command": "AddComplaintMessage", "direction": "in", "text": inbound}),
        ("agent-1", {"command": "AddComplaintMessage", "direction": "out", "text": outbound}),
        ("agent-1", {"command": "ProposeResolution", "resolution": "apology",
                     "note": f"Dear Erika, {proposal}"}),
    ]
    if close:
        steps += [("agent-1", {"command": "ResolveComplaint", "summary": "apology sent"}),
                  ("agent-1", {"command": "CloseComplaint", "satisfaction": 3})]
    for index, (who, command) in enumerate(steps):
        if command["command"] != "FileComplaint":
            command["case_id"] = str(planted.complaint_id)
        done = run(app, who, {**command, "at": iso(AT + timedelta(hours=index + 1))})
        if command["command"] == "FileComplaint":
            planted.complaint_id = done.case_id
    if close:
        run(app, customer, {"command": "CancelReturn", "case_id": str(planted.return_id),
                            "at": iso(AT + timedelta(hours=9))})
    return planted


def iso(at: datetime) -> str:
    return at.isoformat()


def sqlite_bytes(path: Path) -> bytes:
    """A SQLite database file and its -wal and -journal files, as raw bytes."""
    found = b""
    for suffix in ("", "-wal", "-journal"):
        candidate = path.with_name(path.name + suffix)
        if candidate.exists():
            found += candidate.read_bytes()
    return found


def postgres_bytes(url: str, schema: str) -> bytes:
    """Every row of every table of a PostgreSQL schema, each value as text or bytes."""
    out = bytearray()
    with psycopg.connect(url, autocommit=True) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (schema,)).fetchall()]
        for table in tables:
            for row in conn.execute(f'SELECT * FROM "{schema}"."{table}"').fetchall():
                for value in row:
                    out += bytes(value) if isinstance(value, (bytes, memoryview)) \
                        else str(value).encode()
                    out += b"\x00"
    return bytes(out)
