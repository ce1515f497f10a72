"""Outbound topics (SPEC §4.2): the CloudEvents 1.0 envelope of aftersales.case-events.v1, the
case states of the compacted aftersales.cases.v1, and the headers of aftersales.dlq.v1."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

CASE_EVENTS_TOPIC = "aftersales.case-events.v1"
CASE_STATES_TOPIC = "aftersales.cases.v1"
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
    dataschema: str | None = Field(
        None, description="the JSON Schema of data: urn:aftersales:schema:events:<type>.v<N> "
                          "(schemas/json/events/); absent for events stored before the current "
                          "class version of their type")
    data: dict[str, Any]
    partitionkey: str = Field(description="the message key, the case id (Partitioning "
                                          "extension)")
    position: int = Field(ge=1, description="the event store's global position (extension)")
    version: int = Field(ge=1, description="the aggregate version of this event (extension)")
    traceparent: str | None = Field(
        None, pattern=r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
        description="W3C trace context of the request or message that caused the event "
                    "(Distributed Tracing extension)")
    tracestate: str | None = Field(None, description="W3C tracestate, with traceparent")


class CaseState(BaseModel):
    """A case's current state on the compacted case-states topic (key = case id): the
    latest message per key is the case as it is now. Personal data is redacted as on the
    case-events topic."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    case_id: str
    case_type: Literal["return", "refund", "complaint"]
    version: int = Field(ge=1, description="the case's aggregate version")
    position: int = Field(ge=1, description="the store position the publisher had reached")
    created_at: AwareDatetime
    updated_at: AwareDatetime
    status: str
    state: dict[str, Any] = Field(description="every public attribute of the case, as the "
                                              "engine holds it")


CASE_EVENT: TypeAdapter[CaseEvent] = TypeAdapter(CaseEvent)

DlqHeader = Literal["error", "error_type", "source_topic", "source_partition", "source_offset"]
DLQ_HEADERS: tuple[DlqHeader, ...] = ("error", "error_type", "source_topic", "source_partition",
                                       "source_offset")
# Only on a dead letter too large to keep whole (consumers/dead_letters.py): what was cut, the
# original value's size and SHA-256 (and the key's, when it was cut).
DLQ_CUT_HEADERS = ("cut", "original_bytes", "original_sha256", "original_key_bytes",
                   "original_key_sha256")
ERROR_TYPES = ("oversized", "not_json", "duplicate_key", "too_deep", "out_of_range", "invalid",
               "wrong_topic", "key_mismatch", "refused", "not_a_case_event", "unprojectable",
               "undecodable")
