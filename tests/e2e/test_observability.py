"""`aftersales run --metrics-port` serves Prometheus metrics and a health state, and
`--log-format json` logs lines whose fields name topic, partition and offset."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from aftersales.brokers.process import free_port
from aftersales.settings import Settings
from tests.factories import cli_cast, order_placed
from tests.kafka_fixtures import TestBroker
from tests.pipeline import as_message, pipeline_settings, publish

pytestmark = pytest.mark.kafka


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_metrics_health_and_json_logs(kafka_broker: TestBroker, topic_prefix: str,
                                      tmp_path: Path) -> None:
    settings = pipeline_settings(Settings(database_url=f"sqlite:///{tmp_path / 'e.sqlite'}"),
                                 kafka_broker.bootstrap_servers, topic_prefix)
    env = {**os.environ, "AFTERSALES_DATABASE_URL": settings.database_url,
           "AFTERSALES_READ_DATABASE_URL": f"sqlite:///{tmp_path / 'r.sqlite'}",
           "AFTERSALES_KAFKA_BOOTSTRAP_SERVERS": kafka_broker.bootstrap_servers,
           **{f"AFTERSALES_{name.upper()}": getattr(settings, name) for name in (
               "orders_topic", "shipments_topic", "case_events_topic", "case_states_topic",
               "dlq_topic", "inbound_group", "projections_group")}}

    def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "aftersales", *args], input=stdin,
                              capture_output=True, text=True, env=env, timeout=120,
                              check=False)

    cli_cast(cli)
    publish(settings, settings.orders_topic, [as_message(order_placed("o-1")),
                                              (b"o-2", b"{not json"),
                                              (b"o-3", b'{"event_type": "OrderPaid"}'),
                                              (b"o-4", b'{"event_type": "Made up"}')])
    port = free_port()
    run = subprocess.Popen(
        [sys.executable, "-m", "aftersales", "--log-format", "json", "run", "--role", "inbound",
         "--role", "relay", "--role", "projections", "--metrics-port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        metrics = ""
        orders = settings.orders_topic
        applied = (f'aftersales_inbound_messages_total{{error_type="",outcome="applied",'
                   f'topic="{orders}"}} 1.0')
        dead = (f'aftersales_inbound_messages_total{{error_type="not_json",'
                f'outcome="dead_lettered",topic="{orders}"}} 1.0')
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                status, metrics = fetch(f"http://127.0.0.1:{port}/metrics")
            except (urllib.error.URLError, ConnectionError):
                status = 0
            if status == 200 and applied in metrics and dead in metrics and \
                    'command="?",outcome="invalid"} 2.0' in metrics and \
                    'command="OrderPaid",outcome="invalid"} 1.0' in metrics and (
                    'aftersales_projection_lag_events{projection="cases"} 0.0' in metrics):
                break
            time.sleep(0.5)
        assert applied in metrics and dead in metrics, metrics
        assert 'aftersales_projection_applications_total{outcome="applied"} 0.0' not in metrics
        assert "aftersales_projection_records_total" in metrics
        assert 'outcome="events"' not in metrics
        assert 'aftersales_worker_up{worker="relay"} 1.0' in metrics
        assert 'aftersales_commands_total{command="OrderPlaced",outcome="done"} 1.0' in metrics
        # a readable fact the boundary refused counts under its type; a type no upstream
        # fact has (a label a sender would choose) and an unreadable message under "?"
        assert 'aftersales_commands_total{command="?",outcome="invalid"} 2.0' in metrics
        assert 'aftersales_commands_total{command="OrderPaid",outcome="invalid"} 1.0' in metrics
        assert "aftersales_store_commit_batch_commands_count 1.0" in metrics  # the one fact
        assert 'aftersales_projection_lag_events{projection="cases"}' in metrics
        status, body = fetch(f"http://127.0.0.1:{port}/healthz")
        assert status == 200 and json.loads(body)["workers"] == {
            "inbound": "running", "relay": "running", "case-states": "running",
            "projections": "running"}
        assert fetch(f"http://127.0.0.1:{port}/nothing")[0] == 404
    finally:
        run.send_signal(signal.SIGTERM)
        _, stderr = run.communicate(timeout=60)
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    logged = [line for line in lines if "dead-lettered" in line["message"]]
    assert logged and logged[0]["topic"] == orders and logged[0]["level"] == "warning"
    assert isinstance(logged[0]["partition"], int) and isinstance(logged[0]["offset"], int)


def test_a_metrics_port_in_use_is_named_and_no_worker_starts(tmp_path: Path) -> None:
    """It said only "a file or connection failed: OSError: [Errno 98] Address already in
    use", after the workers had started."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AFTERSALES_", "KAFKA_"))}
    env.update({"AFTERSALES_DATABASE_URL": f"sqlite:///{tmp_path / 'e.sqlite'}",
                "AFTERSALES_READ_DATABASE_URL": f"sqlite:///{tmp_path / 'r.sqlite'}"})
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "aftersales", "run", "--role", "auditor",
                               "--metrics-port", str(port), "--seconds", "30"],
                              capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 5, done.stderr
    assert f"--metrics-port: 127.0.0.1:{port}: address already in use" in done.stderr
    assert "running" not in done.stdout and "Errno" not in done.stderr
