"""The erasures the store recorded, for auditors (``aftersales customer erasures``,
``GET /v1/audit/erasures``).

Each ``aftersales.customer.PersonalDataErased`` event keeps the customer id (an opaque id: the
erasure destroys the key of the personal data, never the id), when it happened, the principal
and role that did it, and the reason (stored in clear, so it names the request, never the
person); its notification id is its position in the store, the one ``audit verify`` names.
Read from the store itself, in store order: nothing a projection could have missed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Mapper

from aftersales_core.application.event_cache import ERASURE_TOPIC

COLUMNS = ("position", "customer_id", "erased_at", "by", "principal", "role", "reason")
PAGE = 1000


def recorded_erasures(recorder: ApplicationRecorder, mapper: Mapper[UUID],
                      name_of: Callable[[str], str | None]) -> Iterator[dict[str, Any]]:
    """Every erasure, oldest first; ``name_of``: the name of the principal with an id."""
    names: dict[str, str | None] = {}
    position = 1
    while True:
        page = recorder.select_notifications(position, PAGE, topics=[ERASURE_TOPIC])
        for item in page:
            event: Any = mapper.to_domain_event(item)
            erased_at: datetime = getattr(event, "erased_at", None) or event.timestamp
            yield {"position": item.id, "customer_id": event.customer_id,
                   "erased_at": erased_at.isoformat(), "by": event.by,
                   "principal": names.setdefault(event.by, name_of(event.by)),
                   "role": event.role,
                   "reason": event.reason}
        if len(page) < PAGE:
            return
        position = page[-1].id + 1
