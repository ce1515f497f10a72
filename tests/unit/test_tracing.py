"""W3C trace context: what is carried, what is dropped, and that each command of a group
commit stores its own context with its events (and the domain never sees it)."""

from __future__ import annotations

from functools import partial

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aftersales.bootstrap import open_app
from aftersales_core.domain.ids import order_aggregate_id
from consumers.case_events import to_cloud_event
from dispatch.group_commit import run_together
from dispatch.tracing import TraceContext, from_headers, parse_traceparent, traced
from dispatch.upstream import apply_upstream
from schemas.boundary import inbound
from tests.factories import caller, order_placed

TRACE, PARENT = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
GOOD = f"00-{TRACE}-{PARENT}-01"


@pytest.mark.parametrize(("header", "carried"), [
    (GOOD, GOOD),
    (f"  {GOOD}\t", GOOD),  # optional white space around the value
    (f"00-{TRACE}-{PARENT}-00", f"00-{TRACE}-{PARENT}-00"),  # not sampled: still carried
    (f"01-{TRACE}-{PARENT}-01", GOOD),  # a newer version: carried as the 00 it contains
    (f"cc-{TRACE}-{PARENT}-01-what-comes-next", GOOD),
    (f"00-{TRACE}-{PARENT}-01-more", None),  # version 00 has exactly four fields
    (f"cc-{TRACE}-{PARENT}-01more", None),
    (f"ff-{TRACE}-{PARENT}-01", None),  # version ff is forbidden
    (GOOD.upper(), None),  # lowercase hex only
    (f"00-{'0' * 32}-{PARENT}-01", None),  # all-zero trace id
    (f"00-{TRACE}-{'0' * 16}-01", None),  # all-zero parent id
    (f"00-{TRACE[:-1]}-{PARENT}-01", None),
    (f"00-{TRACE}-{PARENT}-1", None),
    ("", None),
])
def test_a_traceparent_is_carried_only_when_valid(header: str, carried: str | None) -> None:
    assert parse_traceparent(header) == carried


def test_headers_give_the_context_or_nothing() -> None:
    assert from_headers([("TraceParent", GOOD.encode()), ("tracestate", b"a=1, b=2"),
                         ("tracestate", "c=3")]) == TraceContext(GOOD, "a=1,b=2,c=3")
    assert from_headers([("traceparent", GOOD), ("traceparent", GOOD)]) is None  # several
    assert from_headers([("traceparent", "00-é".encode())]) is None
    assert from_headers([("tracestate", b"a=1")]) is None  # tracestate alone means nothing
    assert from_headers([("traceparent", None)]) is None
    for state in ("a=1,a=2", "A=1", "a=1\x00", "a=" + "x" * 257, ",".join(
            f"k{n}=v" for n in range(33)), ",".join(f"k{n}={'v' * 40}" for n in range(13))):
        assert from_headers([("traceparent", GOOD), ("tracestate", state)]) == TraceContext(
            GOOD, None), state  # a bad tracestate is dropped, the traceparent kept


@given(st.lists(st.tuples(st.sampled_from(["traceparent", "tracestate", "x"]),
                          st.binary(max_size=80))))
def test_any_headers_give_a_valid_context_or_none(headers: list[tuple[str, bytes]]) -> None:
    found = from_headers(headers)
    if found is not None:
        assert parse_traceparent(found.traceparent) == found.traceparent


def test_each_command_of_a_group_commit_stores_its_own_context() -> None:
    app = open_app({"PERSISTENCE_MODULE": "eventsourcing.popo"})
    try:
        upstream = caller(app, "upstream-1")
        other = f"00-{TRACE}-{'1' * 16}-01"
        jobs = [traced(from_headers([("traceparent", parent)]), partial(
            apply_upstream, app, upstream, inbound(order_placed(f"o-{n}", customer_id=f"c-{n}"))))
            for n, parent in enumerate((GOOD, "not a trace", other))]
        assert all(done.error is None for done in run_together(app.store, jobs))
        recorder = app.store.recorder
        stored = recorder.select_notifications(1, recorder.max_notification_id() or 0)
        by_order: dict[str, str | None] = {}
        for notification in stored:
            event = to_cloud_event(notification)
            if event["type"] == "aftersales.order.Placed":
                by_order[event["subject"]] = event.get("traceparent")
            assert not any("traceparent" in vars(e)
                           for e in app.store.history(notification.originator_id))
        assert by_order == {str(order_aggregate_id("o-0")): GOOD,
                            str(order_aggregate_id("o-1")): None,
                            str(order_aggregate_id("o-2")): other}
    finally:
        app.close()
