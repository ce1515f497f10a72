"""Who did something: the authenticated principal's id and the role it acted in.

Commands never name their actor: the application takes it from the principal the entry point
authenticated (and the ``access`` policy picks the role), and every event a command causes
records both as ``by`` (the principal's id) and ``role``. Transitions a recorded policy decision
made on its own (an automatic approval, a rejection by eligibility) are ``by`` ``policy``.

Events stored before principals existed (class version 1) named their actor in a field of their
own (``requested_by``, ``filed_by``, ``agent``, ``author`` or ``by``), as whatever the command
said, and recorded no role: the upcaster moves that name into ``by`` and sets ``role`` to
``unrecorded``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

LEGACY_ACTOR_FIELDS = ("requested_by", "filed_by", "agent", "author")
UNRECORDED = "unrecorded"


@dataclass(frozen=True)
class Actor:
    principal_id: str
    role: str


POLICY = Actor(principal_id="policy", role="policy")


def upcast_actor_v1_v2(cls: type[Any], state: dict[str, Any]) -> None:
    """Version 1 -> 2 of a case event: the actor's name moves to ``by``, ``role`` unrecorded."""
    fields = getattr(cls, "__dataclass_fields__", {})
    if "role" not in fields:
        return
    for legacy in LEGACY_ACTOR_FIELDS:
        if legacy in state:
            state["by"] = state.pop(legacy)
    state.setdefault("by", UNRECORDED)
    state["role"] = UNRECORDED
