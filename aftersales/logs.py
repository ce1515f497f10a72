"""JSON log lines (`aftersales --log-format json`): fields name topic, partition, offset and
case id where a line is about one message or case."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import orjson

LOG_FIELDS = ("topic", "partition", "offset", "case_id")


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the fields a line gives
    with ``extra=`` (topic, partition, offset, case_id)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            # RFC 3339 in UTC, to the microsecond: lines of one second keep their order
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="microseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(), "logger": record.name,
            "message": record.getMessage()}
        for name in LOG_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value if isinstance(value, int) else str(value)
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return orjson.dumps(line).decode()
