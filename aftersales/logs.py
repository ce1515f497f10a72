"""The CLI's logging: how much (`--verbose`) and in which form (`--log-format json`: fields name
topic, partition, offset and case id where a line is about one message or case)."""

from __future__ import annotations

import logging
import sys
import threading
from datetime import UTC, datetime
from typing import Any

import orjson

from aftersales.secrets import ScrubSecrets

LOG_FIELDS = ("topic", "partition", "offset", "case_id")
# the project's own packages (pyproject's): what `-v` turns to DEBUG
PROJECT_LOGGERS = ("aftersales", "aftersales_core", "schemas", "dispatch", "consumers",
                   "projections", "audit", "scheduling", "workers", "database", "privacy", "demo",
                   "bench", "api", "server", "desk")
# kafka-python logs every failed connection attempt (our workers log what they do about it);
# with -v its warnings and errors show, its DEBUG lines (every request, every poll) only with -vv
QUIET = {"kafka": logging.CRITICAL}


#: The form chosen by `--log-format` (configure): commands that set up logging of their own
#: (serve's server processes) take it from here
chosen = {"format": "text"}


def configure(verbosity: int, log_format: str) -> None:
    """Lines on stderr, secrets scrubbed. 0: warnings and errors; 1 (-v): the project's own
    loggers at DEBUG, libraries (kafka-python, urllib3, psycopg, …) at WARNING; 2 (-vv):
    everything at DEBUG, the libraries' too."""
    chosen["format"] = log_format
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger().setLevel(logging.DEBUG if verbosity >= 2 else logging.WARNING)
    for handler in logging.getLogger().handlers:
        handler.addFilter(ScrubSecrets())
        if log_format == "json":
            handler.setFormatter(JsonLogFormatter())
    for name in PROJECT_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG if verbosity >= 1 else logging.NOTSET)
    for name, level in QUIET.items():
        logging.getLogger(name).setLevel({0: level, 1: logging.WARNING}.get(verbosity,
                                                                         logging.DEBUG))
    # what Python itself would print on stderr, bypassing the log's form and its scrubbing (an
    # error in a __del__, as kafka-python's producer raises when dropped with records it
    # could not send; an exception a thread did not catch; a warning): log lines too
    logging.captureWarnings(True)
    sys.unraisablehook = _log_unraisable
    threading.excepthook = _log_thread_exception


def _log_unraisable(unraisable: sys.UnraisableHookArgs) -> None:
    what = unraisable.err_msg or "Exception ignored in"
    logging.getLogger("py.unraisable").warning(
        "%s: %s", what, "" if unraisable.object is None else repr(unraisable.object),
        exc_info=unraisable.exc_value or (None, None, None))


def _log_thread_exception(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    name = "?" if args.thread is None else args.thread.name
    logging.getLogger("py.threading").error(
        "an exception the thread %s did not catch", name,
        exc_info=args.exc_value or (None, None, None))


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
