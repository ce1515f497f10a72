"""`aftersales status`: the relay (stuck?) and each projection's lag."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from aftersales import exit_codes
from aftersales.output import console, emit_json_line, fail, table

if TYPE_CHECKING:
    from aftersales.settings import Settings
    from aftersales_core.application.services import Services


def status(fmt: Annotated[Literal["table", "json"], typer.Option("--format")] = "table"
           ) -> None:
    """The relay's position and whether it is stuck on an event the broker refuses; each
    projection's position and its lag behind the event store (published events not yet
    applied) and, when a broker is configured (KAFKA_BOOTSTRAP_SERVERS), behind the
    case-events topic, per partition (a partition that lags shows even when the others are up
    to date).

    Exits 7 when the relay is stuck, or when a projection (or the relay) is beyond the event
    store's last position (a read database of another store, a store restored from an older
    copy); 5 when the broker cannot be reached."""
    from aftersales.bootstrap import build_app, build_read_db, require_store
    from aftersales.settings import Settings
    from consumers.case_events import count_relayed
    from projections import positions
    from projections.apply import ensure_schema
    from projections.catalog import PROJECTIONS, all_projections

    settings = Settings.from_env()
    require_store(settings, read_database=True)  # before the read database is made
    ends, broker_error = topic_ends(settings)
    app = build_app(settings, reading=True)  # a store that cannot be opened: nothing made
    rows: list[dict[str, Any]] = []
    try:
        db = build_read_db(settings)
        ensure_schema(db, all_projections())
        store_end = app.store.recorder.max_notification_id() or 0
        relay = relay_status(app, settings, store_end)
        with db.transaction() as tx:
            where_is = {name: positions.load(tx, name) for name in PROJECTIONS}
        for name, where in where_is.items():
            by_part = None if ends is None else {
                str(part): max(end - where.parts.get((settings.case_events_topic, part),
                                                     (0, 0))[0], 0)
                for part, end in sorted(ends.items())}
            rows.append({"projection": name, "position": where.highest(),
                         "store_position": store_end,
                         "lag_events": count_relayed(app.store.recorder, where.highest())[0],
                         "topic_lag": None if by_part is None else sum(by_part.values()),
                         "partition_lag": by_part, "partitions": len(where.parts),
                         "rebuild_floor": where.floor})
    finally:
        app.close()
    if fmt == "json":
        emit_json_line({"relay": relay, "projections": rows})
    else:
        console.print(table("relay", list(relay), [list(relay.values())]))
        shown = [{**r, "partition_lag": _lag_text(r["partition_lag"])} for r in rows]
        console.print(table("projections", list(shown[0]), ([*r.values()] for r in shown)))
    ahead = [r for r in rows if r["position"] > store_end]
    if ahead or relay["position"] > store_end:
        what = (f"projection {ahead[0]['projection']} has applied up to position "
                f"{ahead[0]['position']}" if ahead else
                f"the relay has published up to position {relay['position']}")
        fail(f"{what}, beyond the event store's last position {store_end}: the read database "
             "or the store's tracking does not belong to this event store, or the store was "
             "restored from an older copy (check AFTERSALES_DATABASE_URL and "
             "AFTERSALES_READ_DATABASE_URL; after a restore, aftersales projections rebuild)")
        raise typer.Exit(exit_codes.UNHEALTHY)
    if relay["refused_at"] is not None:
        fail(f"the relay is STUCK at store position {relay['refused_at']}: {relay['reason']}; "
             "events from there on are not published (see the relay's log)")
        raise typer.Exit(exit_codes.UNHEALTHY)
    if broker_error is not None:
        fail(f"the broker cannot be reached {broker_error}: topic lag unknown")
        raise typer.Exit(exit_codes.UNAVAILABLE)


def _lag_text(by_part: dict[str, int] | None) -> str:
    """``0:0 1:12 2:0`` (partition:records behind), or "unknown" without a broker."""
    if by_part is None:
        return "unknown"
    return " ".join(f"{part}:{lag}" for part, lag in by_part.items())


def relay_status(app: Services, settings: Settings, store_end: int) -> dict[str, Any]:
    """Where the relay is, and the position it is stuck at (with why, as far as the store
    can tell) or None."""
    from consumers.case_events import relayed_size
    from consumers.relay import refused_position, relay_name

    tracking = app.store.factory.tracking_recorder()
    position = tracking.max_tracking_id(relay_name(settings.case_events_topic)) or 0
    refused = refused_position(tracking, settings.case_events_topic)
    reason = ""
    if refused is not None:
        reason = "refused by the broker"
        for notification in app.store.recorder.select_notifications(refused, 1):
            size = relayed_size(notification)
            reason = (f"a {size}-byte message ({notification.topic}); the store allows "
                      f"{settings.case_event_max_bytes}, the broker refused it")
    return {"topic": settings.case_events_topic, "position": position,
            "store_position": store_end, "lag_events": max(store_end - position, 0),
            "refused_at": refused, "reason": reason}


def topic_ends(settings: Settings) -> tuple[dict[int, int] | None, str | None]:
    """End offsets of the case-events topic's partitions (None without a broker configured),
    and what went wrong when the configured broker could not tell."""
    if not settings.kafka_bootstrap_servers:
        return None, None
    from kafka import TopicPartition
    from kafka.errors import KafkaError

    from aftersales.errors import said
    from consumers import kafka_clients

    where, topic = settings.kafka(), settings.case_events_topic
    consumer = None
    try:  # the admin client gives up after its timeout (a consumer's metadata call may not)
        tps = [TopicPartition(topic, p) for p in kafka_clients.partitions_of(where, topic)]
        consumer = kafka_clients.consumer(where, None, request_timeout_ms=10_000)
        ends = consumer.end_offsets(tps, timeout_ms=10_000)
        return {tp.partition: end for tp, end in ends.items()}, None
    except KafkaError as error:
        return None, f"at {kafka_clients.servers_of(where)}: {said(error)}"
    finally:
        if consumer is not None:
            consumer.close()
