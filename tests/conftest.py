"""Shared fixtures: the application on a real SQLite file and on the PostgreSQL of `make test`."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from hypothesis import HealthCheck, settings

from aftersales.bootstrap import open_app
from aftersales.settings import Settings, eventsourcing_env
from aftersales_core.application.services import Services
from privacy.kek import write_key_file
from projections.db import ReadDatabase

pytest_plugins = ["tests.kafka_fixtures"]

# No example is failed for taking long, nor a test for generating slowly: the suite runs on 2
# loaded cores beside brokers and browsers, where Hypothesis's default 200 ms deadline fails
# correct code at random. Speed is measured by `make bench`, never asserted by a timer (a test
# that sets its own settings keeps them).
settings.register_profile("suite", deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("suite")

PG_URL_VAR = "AFTERSALES_TEST_POSTGRES_URL"


def pytest_configure(config: pytest.Config) -> None:
    """The tests' own key-encryption key, generated for this run (0600, in a private temporary
    folder): every store the tests open, and every CLI process they start, seals personal data
    under it, as a production deployment would under its configured one."""
    if os.environ.get("AFTERSALES_KEK_FILE") or os.environ.get("AFTERSALES_KEK"):
        return
    path = Path(tempfile.mkdtemp(prefix="aftersales-test-kek-")) / "kek.key"
    write_key_file(path)
    os.environ["AFTERSALES_KEK_FILE"] = str(path)


def postgres_url() -> str:
    url = os.environ.get(PG_URL_VAR)
    if not url:
        pytest.skip(f"{PG_URL_VAR} is not set (make test sets it and starts PostgreSQL)")
    return url


@pytest.fixture
def pg_schema() -> Iterator[tuple[str, str]]:
    """A fresh schema per test in the test database, dropped afterwards."""
    url = postgres_url()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    yield url, schema
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", "postgres"])
def read_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ReadDatabase]:
    """A fresh read database on a SQLite file, and on a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        db = ReadDatabase(f"sqlite:///{tmp_path / 'read.sqlite'}")
    else:
        url, schema = request.getfixturevalue("pg_schema")
        db = ReadDatabase(f"{url}?options=-csearch_path%3D{schema}")
    yield db
    db.close()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'events.sqlite'}"


@pytest.fixture(params=["sqlite", "postgres"])
def store_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for each store backend: contract tests run once per backend."""
    if request.param == "sqlite":
        return Settings(database_url=f"sqlite:///{tmp_path / 'events.sqlite'}")
    url, schema = request.getfixturevalue("pg_schema")
    return Settings(database_url=url, postgres_schema=schema)


@pytest.fixture
def app(store_settings: Settings) -> Iterator[Services]:
    """The application's services, composed as the composition root composes them."""
    application = open_app(
        eventsourcing_env(store_settings.database_url, store_settings.postgres_schema)
    )
    yield application
    application.close()
