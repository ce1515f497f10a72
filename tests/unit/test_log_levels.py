"""How much the CLI logs (`aftersales [-v|-vv] …`, aftersales/logs.py): -v turns the engine's
own loggers to DEBUG and leaves the libraries at WARNING (kafka-python's DEBUG lines, one per
request and poll, flooded the log); -vv turns everything to DEBUG."""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from aftersales.logs import PROJECT_LOGGERS, QUIET, configure

LIBRARIES = ("kafka", "kafka.conn", "urllib3", "psycopg", "eventsourcing", "asyncio")
OURS = ("aftersales", "consumers.relay", "projections.insights.view", "workers.error_policy",
        "api.http")


@pytest.fixture(autouse=True)
def levels_restored() -> Iterator[None]:
    names = ["", *PROJECT_LOGGERS, *QUIET]
    saved = {name: logging.getLogger(name).level for name in names}
    yield
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


def debug(name: str) -> bool:
    return logging.getLogger(name).isEnabledFor(logging.DEBUG)


def test_verbose_is_the_engines_debug_lines_and_the_libraries_warnings() -> None:
    configure(1, "text")
    assert all(debug(name) for name in OURS)
    assert not any(debug(name) for name in LIBRARIES)
    assert logging.getLogger("kafka.conn").isEnabledFor(logging.WARNING)
    assert not logging.getLogger("urllib3").isEnabledFor(logging.INFO)


def test_twice_verbose_is_everything_at_debug() -> None:
    configure(2, "text")  # but for a library that sets its own level (psycopg: WARNING)
    assert all(debug(name) for name in (*OURS, "kafka", "kafka.conn", "urllib3", "asyncio"))


def test_quiet_is_warnings_and_kafka_python_only_when_critical() -> None:
    configure(0, "text")
    assert not any(debug(name) for name in (*OURS, *LIBRARIES))
    assert logging.getLogger("consumers.relay").isEnabledFor(logging.WARNING)
    assert not logging.getLogger("kafka.conn").isEnabledFor(logging.ERROR)


def test_the_engines_loggers_are_its_packages() -> None:
    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    assert sorted(PROJECT_LOGGERS) == sorted(pyproject["tool"]["mypy"]["packages"])
