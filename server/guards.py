"""What keeps one caller from exhausting the server (OWASP API4): a body limit (413, before a
byte more than the limit is read), a deadline for receiving a body (408; granian gives headers
their own deadline), and token-bucket rate limits per principal and, for failed
authentications, per client address (429 with Retry-After).

The buckets live in each worker process: with N workers a principal gets up to N times the
rate (README "Service API")."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict
from typing import Any

import orjson
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.problems import MEDIA_TYPE, Problem

MAX_BUCKETS = 100_000
DRAIN_BYTES = 4 * 1024 * 1024  # of a body over the limit, read and dropped at most


class BodyTooLarge(Exception):
    pass


class BodyTimeout(Exception):
    pass


class BodyGuard:
    """ASGI middleware: a request body over ``max_bytes`` (declared or as it streams in) is
    refused, and so is one that does not arrive whole within ``timeout`` seconds."""

    def __init__(self, app: ASGIApp, max_bytes: int, timeout: float) -> None:
        self.app, self.max_bytes, self.timeout = app, max_bytes, timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self.refuse(scope, receive, send)
                return
        received = 0
        deadline = time.monotonic() + self.timeout

        async def guarded() -> Message:
            nonlocal received
            try:
                message = await asyncio.wait_for(receive(), max(deadline - time.monotonic(),
                                                                 0.001))
            except TimeoutError:
                raise BodyTimeout() from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    await drain(message)
                    raise BodyTooLarge()
            return message

        async def drain(message: Message) -> None:
            """Read (and drop) a little more of a streamed body, so that a client still
            sending it reads the 413 instead of a reset connection."""
            dropped = 0
            while message.get("more_body") and dropped < DRAIN_BYTES:
                try:
                    message = await asyncio.wait_for(
                        receive(), max(deadline - time.monotonic(), 0.001))
                except TimeoutError:
                    return
                dropped += len(message.get("body", b""))

        await self.app(scope, guarded, send)

    async def refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        """413 at once for a body declared over the limit: nothing of it is read (waiting
        for a body that may never come would hold the request until the body deadline),
        and the connection is closed after the answer."""
        problem = body_problem(BodyTooLarge(), self.max_bytes, self.timeout)
        request_id = scope.get("state", {}).get("request_id")
        body = orjson.dumps(problem.to_json(scope.get("path", ""), request_id))
        await Response(body, status_code=problem.status, headers=problem.headers,
                       media_type=MEDIA_TYPE)(scope, receive, send)


def body_problem(error: BaseException, max_bytes: int, timeout: float) -> Problem:
    if isinstance(error, BodyTooLarge):
        return Problem(413, "too_large", f"the request body is over the limit of {max_bytes} "
                       "bytes", headers={"Connection": "close"})
    return Problem(408, "timeout", f"the request body did not arrive within {timeout:g} s",
                   headers={"Connection": "close"})


class RateLimiter:
    """Token buckets by key: ``rate`` tokens a second, up to ``burst``."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self._buckets: OrderedDict[Any, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def wait_needed(self, key: Any, now: float | None = None) -> float:
        """0 when a token was taken; else the seconds until one is there (none taken)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                self._buckets.move_to_end(key)
                while len(self._buckets) > MAX_BUCKETS:
                    self._buckets.popitem(last=False)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.rate

    def peek(self, key: Any, now: float | None = None) -> float:
        """The seconds until the key has a token (0 when it has one now); none taken."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        return 0.0 if tokens >= 1 else (1 - tokens) / self.rate
