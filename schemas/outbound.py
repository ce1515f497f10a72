"""Outbound topics (SPEC §4.2): the CloudEvents 1.0 envelope of aftersales.case-events.v1 and
the headers of aftersales.dlq.v1."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

CASE_EVENTS_TOPIC = "aftersales.case-events.v1"
DLQ_TOPIC = "aftersales.dlq.v1"
SOURCE = "urn:aftersales:case-engine"


class CaseEvent(BaseModel):
    """One stored domain event as a CloudEvents 1.0 structured-mode JSON object.

    ``id`` is stable for the stored event (consumers dedupe on it); ``position`` is the store's
    global position; ``subject`` is the case (or order) id, which is also the message key.
    Personal data inside ``data`` is replaced by ``{"personal_data": "redacted", "subject": …}``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(description="uuid5 of (aggregate id, version): stable across re-sends")
    source: str = SOURCE
    type: str = Field(pattern=r"^aftersales\.[a-z_]+\.[A-Za-z]+$",
                      description="the event's stable topic, e.g. aftersales.return.Approved")
    subject: str = Field(description="the aggregate (case) id")
    time: AwareDatetime = Field(description="business time of the event")
    datacontenttype: Literal["application/json"] = "application/json"
    data: dict[str, Any]
    position: int = Field(ge=1, description="the event store's global position (extension)")
    version: int = Field(ge=1, description="the aggregate version of this event (extension)")


CASE_EVENT: TypeAdapter[CaseEvent] = TypeAdapter(CaseEvent)

DlqHeader = Literal["error", "error_type", "source_topic", "source_partition", "source_offset"]
DLQ_HEADERS: tuple[DlqHeader, ...] = ("error", "error_type", "source_topic", "source_partition",
                                       "source_offset")
