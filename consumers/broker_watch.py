"""Telling a consumer that polls nothing because nothing comes from one that polls nothing
because no broker answers.

kafka-python never raises for an unreachable cluster: ``poll`` waits for a group coordinator,
gives up after its timeout and returns no records, for ever. Without this watch an inbound
consumer or projection runner whose brokers are down (or whose bootstrap address is wrong)
looks idle and healthy. After an empty poll the watch asks whether the consumer knows its
group's coordinator and is connected to it; once it has not for ``after`` seconds in a row,
:class:`BrokerUnreachable` is raised, which the error policy (workers/error_policy.py) treats
as the infrastructure's failure: the session ends, the worker backs off and joins again, and
after two such failures in a row its health says it keeps failing (``/healthz`` 503). The
first poll that finds the coordinator again ends the silence.

A broker frozen rather than gone (its connections open, nothing answered) is noticed once the
client's request timeout has closed the connection, not before."""

from __future__ import annotations

import time
from collections.abc import Callable

from kafka import KafkaConsumer

UNREACHABLE_AFTER = 30.0  # seconds without a group coordinator before it is a failure


class BrokerUnreachable(ConnectionError):
    """No group coordinator answered for a while: the brokers are down or not where the
    settings say (the message names no address: the caller's log line has the worker)."""


class BrokerWatch:
    def __init__(self, after: float = UNREACHABLE_AFTER,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.after, self.clock = after, clock
        self._since: float | None = None  # first empty poll without a coordinator

    def reset(self) -> None:
        """A new session starts its own count (joining takes a moment)."""
        self._since = None

    def after_empty_poll(self, consumer: KafkaConsumer) -> None:
        """Raise :class:`BrokerUnreachable` once the consumer has had no coordinator for
        ``after`` seconds; a poll that brought records proves the brokers answer, so only an
        empty one is checked."""
        if has_coordinator(consumer):
            self._since = None
            return
        now = self.clock()
        if self._since is None:
            self._since = now
        elif now - self._since >= self.after:
            silent = now - self._since
            self._since = None
            raise BrokerUnreachable(f"no Kafka group coordinator answered for {silent:.0f}s: "
                                    "the brokers are down or not at the configured address")


def has_coordinator(consumer: KafkaConsumer) -> bool:
    """Does the consumer know its group's coordinator and hold a live connection to it?
    (kafka-python has no public call for it; a client without the attribute is trusted.)"""
    coordinator = getattr(consumer, "_coordinator", None)
    unknown = getattr(coordinator, "coordinator_unknown", None)
    return unknown is None or not unknown()
