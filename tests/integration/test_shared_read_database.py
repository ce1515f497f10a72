"""Several projection runners on one PostgreSQL read database: each writes back only the
partitions its batch covers, under a lock, so none can undo another's position or apply an
event twice (two runners once doubled `orders.paid` after a rebalance)."""

from __future__ import annotations

import threading
import zlib
from collections.abc import Sequence
from pathlib import Path

import pytest

from aftersales.bootstrap import store_reader
from aftersales_core.application.services import Services
from aftersales_core.domain.ids import order_aggregate_id
from projections import positions
from projections.apply import Delivery, apply_batch, apply_in, ensure_schema
from projections.catalog import all_projections
from projections.db import ReadDatabase
from tests.integration.test_projection_runner import rebuilt, snapshot
from tests.integration.test_projections import busy_day

pytestmark = pytest.mark.postgres
TOPIC = "aftersales.case-events.v1"
PARTS = 2


@pytest.fixture
def read_url(pg_schema: tuple[str, str]) -> str:
    url, schema = pg_schema
    return f"{url}?options=-csearch_path%3D{schema}"


def partitioned(app: Services, first: set[str] | None = None) -> dict[int, list[Delivery]]:
    """The store's events laid out on partitions in order per case, as the relay does: by a
    hash of the case id, or the cases in ``first`` on partition 0 and the rest on 1."""
    by_part: dict[int, list[Delivery]] = {p: [] for p in range(PARTS)}
    for event in store_reader(app)(0, 100_000):
        subject = event["subject"]
        if first is None:
            part = zlib.crc32(subject.encode()) % PARTS
        else:
            part = 0 if subject in first else 1
        by_part[part].append(Delivery(TOPIC, part, len(by_part[part]), event))
    assert all(len(d) >= 4 for d in by_part.values())
    return by_part


def halves(deliveries: Sequence[Delivery]) -> tuple[list[Delivery], list[Delivery]]:
    middle = len(deliveries) // 2
    return list(deliveries[:middle]), list(deliveries[middle:])


def test_a_batch_never_writes_back_a_position_another_runner_moved(
        app: Services, read_url: str, tmp_path: Path) -> None:
    cases = busy_day(app)  # one order and its refund alone on partition 0: no row in common
    p0, p1 = partitioned(app, {str(order_aggregate_id("o-3")), str(cases["refund"][1])}).values()
    (p0a, p0b), (p1a, p1b) = halves(p0), halves(p1)
    one, two = ReadDatabase(read_url), ReadDatabase(read_url)
    ensure_schema(one, all_projections())
    apply_batch(one, all_projections(), [p0a[0], p1a[0]])  # both partitions have positions
    with one.transaction() as tx:  # runner one is mid-batch on partition 0 ...
        apply_in(tx, all_projections(), p0a[1:])
        apply_batch(two, all_projections(), p1a[1:] + p1b)  # ... while two commits partition 1
    apply_batch(one, all_projections(), p0b)
    with one.transaction() as tx:
        where = positions.load(tx, "orders")
    assert where.parts == {(TOPIC, 0): (len(p0), p0[-1].event["position"]),
                           (TOPIC, 1): (len(p1), p1[-1].event["position"])}
    apply_batch(two, all_projections(), p0 + p1)  # a restart re-reads everything: no effect
    assert snapshot(ReadDatabase(read_url)) == rebuilt(app, tmp_path)


def test_two_runners_holding_one_partition_apply_each_event_once(
        app: Services, read_url: str, tmp_path: Path) -> None:
    busy_day(app)
    everything = [d for part in partitioned(app).values() for d in part]
    one, two = ReadDatabase(read_url), ReadDatabase(read_url)
    ensure_schema(one, all_projections())
    failures: list[BaseException] = []

    def the_other_runner() -> None:
        try:
            apply_batch(two, all_projections(), everything)
        except BaseException as error:  # reported below
            failures.append(error)

    other = threading.Thread(target=the_other_runner)
    with one.transaction() as tx:  # a rebalance: both believe they own every partition
        apply_in(tx, all_projections(), everything)
        other.start()
    other.join(timeout=60)
    assert not other.is_alive() and not failures
    assert snapshot(ReadDatabase(read_url)) == rebuilt(app, tmp_path)
