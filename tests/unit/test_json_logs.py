"""JSON log lines carry an RFC 3339 time (UTC, microseconds) and the fields a line names."""

from __future__ import annotations

import logging
import subprocess
import sys
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


BYPASSING = """
import threading, warnings
from aftersales.logs import configure

configure(0, "json")

class Producer:  # as kafka-python's, dropped with records it could not send
    def __del__(self):
        raise TimeoutError("Timeout waiting for future")

Producer()
warnings.warn("a library's warning")
thread = threading.Thread(target=lambda: 1 / 0, name="relay")
thread.start()
thread.join()
"""


def test_what_python_would_print_itself_comes_as_json_log_lines_too() -> None:
    """An error in a __del__ (kafka-python's producer, dropped by a relay whose broker was
    down), a thread's uncaught exception and a warning went to stderr as raw text, in the
    middle of `--log-format json` lines."""
    done = subprocess.run([sys.executable, "-c", BYPASSING], capture_output=True, text=True,
                          timeout=60, check=True)
    lines = [orjson.loads(line) for line in done.stderr.splitlines()]
    assert [(x["logger"], x["level"]) for x in lines] == [
        ("py.unraisable", "warning"), ("py.warnings", "warning"), ("py.threading", "error")]
    assert "Producer.__del__" in lines[0]["message"]
    assert "TimeoutError: Timeout waiting for future" in lines[0]["error"]
    assert "a library's warning" in lines[1]["message"]
    assert "relay" in lines[2]["message"] and "ZeroDivisionError" in lines[2]["error"]
