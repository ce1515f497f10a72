"""The real service API for tests: `aftersales serve` started as a process on a free loopback
port, over a real SQLite file or a fresh PostgreSQL schema, with the test cast as principals
holding API keys (issued as `aftersales principals key` issues them)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg

from aftersales.bootstrap import build_app, build_read_db, store_reader
from aftersales.brokers.process import free_port
from aftersales.settings import Settings
from aftersales_core.application.services import Services
from api.key_admin import KeyAdmin
from projections.rebuild import rebuild
from server.keys import ApiKeys
from tests.factories import STAFF, admin, caller, cast

CUSTOMERS = ("c-1", "c-2")


@dataclass
class ApiServer:
    env: dict[str, str] = field(repr=False)  # the environment and the keys hold secrets:
    settings: Settings = field(repr=False)  # a failing test's report must not print them
    log: Path
    url: str = ""
    process: subprocess.Popen[bytes] | None = None
    keys: dict[str, str] = field(default_factory=dict, repr=False)

    def start(self, *args: str, timeout: float = 90.0, options: tuple[str, ...] = ()) -> None:
        """Start `aftersales [options] serve --port P [args]`."""
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "aftersales", *options, "serve", "--port", str(port),
                 *args],
                env=self.env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the server did not become ready: {self.log.read_text()[-3000:]}")

    def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise

    def client(self, name: str | None = None, **headers: str) -> httpx.Client:
        """A client acting as principal ``name`` (its API key), or with no credentials."""
        auth = {"Authorization": f"Bearer {self.keys[name]}"} if name else {}
        return httpx.Client(base_url=self.url, headers={**auth, **headers}, timeout=60)

    @contextmanager
    def app(self) -> Iterator[Services]:
        """The application over the server's store, in the test process (set-up, checks)."""
        services = build_app(self.settings)
        try:
            yield services
        finally:
            services.close()

    def refresh_projections(self) -> None:
        """Fill the read models from the store, as `aftersales projections rebuild` does."""
        with self.app() as services:
            rebuild(build_read_db(self.settings), None, store_reader(services))

    def key_for(self, name: str, **options: Any) -> str:
        with self.app() as services:
            caller(services, name)
            issued = KeyAdmin(services, ApiKeys(services.store.recorder)).issue(
                admin(services), name, datetime.now(UTC), **options)
        return issued.token


def make_server(tmp_path: Path, backend: str, extra_env: dict[str, str] | None = None
                ) -> ApiServer:
    """A server (not started) over a fresh store, the test cast and their keys made."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AFTERSALES_", "OIDC"))}
    if os.environ.get("AFTERSALES_KEK_FILE"):  # the tests' key-encryption key (tests/conftest)
        env["AFTERSALES_KEK_FILE"] = os.environ["AFTERSALES_KEK_FILE"]
    env["AFTERSALES_READ_DATABASE_URL"] = f"sqlite:///{tmp_path / 'read.sqlite'}"
    if backend == "postgres":
        url = os.environ["AFTERSALES_TEST_POSTGRES_URL"]
        schema = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
            conn.execute(f'CREATE SCHEMA "{schema}_read"')  # read models in native types
        env.update(AFTERSALES_DATABASE_URL=url, AFTERSALES_POSTGRES_SCHEMA=schema,
                   AFTERSALES_READ_DATABASE_URL=f"{url}?options=-csearch_path%3D{schema}_read")
    else:
        env["AFTERSALES_DATABASE_URL"] = f"sqlite:///{tmp_path / 'events.sqlite'}"
    env["AFTERSALES_API_RATE"] = "1000"
    env["AFTERSALES_API_BURST"] = "2000"
    env["AFTERSALES_API_AUTH_FAILURE_RATE"] = "1000"
    env.update(extra_env or {})
    settings = Settings.from_env(env)
    server = ApiServer(env, settings, tmp_path / "serve.log")
    with server.app() as services:
        cast(services)
        for name in (*STAFF, *(f"customer-{c}" for c in CUSTOMERS), "system.upstream"):
            caller(services, name)
        keys = KeyAdmin(services, ApiKeys(services.store.recorder))
        boss = admin(services)
        for name in (*STAFF, *(f"customer-{c}" for c in CUSTOMERS)):
            server.keys[name] = keys.issue(boss, name, datetime.now(UTC)).token
    return server


def drop_schema(server: ApiServer) -> None:
    schema = server.env.get("AFTERSALES_POSTGRES_SCHEMA")
    if schema:
        with psycopg.connect(os.environ["AFTERSALES_TEST_POSTGRES_URL"], autocommit=True) as c:
            c.execute(f'DROP SCHEMA "{schema}" CASCADE')
            c.execute(f'DROP SCHEMA IF EXISTS "{schema}_read" CASCADE')
