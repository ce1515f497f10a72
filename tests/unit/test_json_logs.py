"""JSON log lines carry an RFC 3339 time (UTC, microseconds) and the fields a line names."""

from __future__ import annotations

import logging
from datetime import datetime

import orjson

from aftersales.logs import JsonLogFormatter


def test_a_json_log_line_has_an_rfc_3339_utc_time_and_its_fields() -> None:
    record = logging.LogRecord("consumers.inbound", logging.WARNING, __file__, 1,
                               "dead-lettered %s", ("x",), None)
    record.created = 1_780_000_000.123456
    record.topic, record.partition, record.offset = "orders.v1", 2, 41
    line = orjson.loads(JsonLogFormatter().format(record))
    assert line["time"].endswith("Z") and "." in line["time"]
    assert datetime.fromisoformat(line["time"]).timestamp() == 1_780_000_000.123456
    assert (line["level"], line["message"]) == ("warning", "dead-lettered x")
    assert (line["topic"], line["partition"], line["offset"]) == ("orders.v1", 2, 41)
