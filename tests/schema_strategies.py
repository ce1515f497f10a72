"""Hypothesis strategies from the published JSON Schemas (schemas/json/), and mutations of what
they generate: the inputs an upstream service or an attacker could send.

`instances(schema)` covers the subset of JSON Schema that pydantic writes (objects,
arrays, strings with patterns and lengths, RFC 3339 times, integers with bounds, booleans,
null, const, enum, anyOf/oneOf, $ref into $defs). `placed_order` and friends make the
generated upstream events add up (totals, known currencies) so that a good share is valid;
`mutated` then breaks them the ways SPEC §7 and the threat model list."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import orjson
from hypothesis import strategies as st

from aftersales_core.money import MINOR_UNITS
from schemas.limits import EARLIEST, LATEST, MAX_DEPTH, MAX_MESSAGE_BYTES

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas" / "json"
CURRENCIES = ("EUR", "GBP", "USD", "JPY", "BHD", "CNY")
ZONES = (None, "Europe/Berlin", "Asia/Shanghai", "America/New_York", "Pacific/Kiritimati",
         "Etc/GMT+12")
OFFSETS = [timezone(timedelta(minutes=m)) for m in (-14 * 60, -5 * 60, 0, 5 * 60 + 30, 14 * 60)]


@cache
def schema(name: str) -> dict[str, Any]:
    """A schema file with its $refs resolved (e.g. ``inbound/OrderPlaced``)."""
    document = json.loads((SCHEMAS / f"{name}.schema.json").read_text())
    defs = document.get("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return inline(defs[node["$ref"].rsplit("/", 1)[-1]])
            return {k: inline(v) for k, v in node.items() if k not in ("$defs", "$id")}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    resolved: dict[str, Any] = inline(document)
    return resolved


def times() -> st.SearchStrategy[str]:
    """RFC 3339 times within the supported range, the edges of the range likely."""
    inside = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2199, 12, 30),
                          timezones=st.sampled_from(OFFSETS))
    edges = st.sampled_from([EARLIEST, LATEST, EARLIEST.astimezone(OFFSETS[-1]),
                             LATEST.astimezone(OFFSETS[0]), datetime(2026, 3, 2, 9, tzinfo=UTC)])
    return st.one_of(inside, edges).map(lambda t: t.isoformat())


def instances(node: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values valid against one schema node."""
    if "const" in node:
        return st.just(node["const"])
    if "enum" in node:
        return st.sampled_from(node["enum"])
    for key in ("anyOf", "oneOf"):
        if key in node:
            return st.one_of([instances(option) for option in node[key]])
    kind = node.get("type")
    if kind == "object":
        return _objects(node)
    if kind == "array":
        return st.lists(instances(node.get("items", {})), min_size=node.get("minItems", 0),
                        max_size=min(node.get("maxItems", 3), 3))
    if kind == "string":
        return _strings(node)
    if kind == "integer":
        low = node.get("minimum", node.get("exclusiveMinimum", -(2**31)) + 1
                       if "exclusiveMinimum" in node else -(2**31))
        high = node.get("maximum", 2**31)
        return st.one_of(st.integers(low, high), st.sampled_from([low, high]))
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    return st.none()


def _strings(node: dict[str, Any]) -> st.SearchStrategy[str]:
    if node.get("format") == "date-time":
        return times()
    if node.get("format") == "uuid":
        return st.uuids().map(str)
    low, high = node.get("minLength", 0), min(node.get("maxLength", 40), 40)
    if "pattern" in node:
        return st.from_regex(node["pattern"], fullmatch=True).filter(
            lambda s: low <= len(s) <= node.get("maxLength", 10**9))
    return st.text(min_size=low, max_size=high)


@st.composite
def _objects(draw: st.DrawFn, node: dict[str, Any]) -> dict[str, Any]:
    required = set(node.get("required", []))
    out: dict[str, Any] = {}
    for name, sub in node.get("properties", {}).items():
        if name in required or draw(st.booleans()):
            out[name] = draw(instances(sub), label=name)
    return out


# ---- upstream events that mostly add up --------------------------------------------------

def _amount(currency: str) -> st.SearchStrategy[str]:
    places = MINOR_UNITS[currency]
    big = Decimal(10) ** 12 - Decimal(1).scaleb(-places)
    usual = st.decimals(min_value=0, max_value=500, places=places)
    return st.one_of(
        usual, usual, usual, st.sampled_from([Decimal(0), big, big / 2, Decimal("999999999.99")]),
    ).map(lambda d: f"{d.quantize(Decimal(1).scaleb(-places)):f}")


UPSTREAM = ("inbound/shipments.v1", "inbound/OrderPaid", "inbound/OrderPlaced",
            "inbound/OrderCancelled")


@st.composite
def upstream(draw: st.DrawFn, order_ids: list[str], name: str | None = None) -> dict[str, Any]:
    """An orders.v1 or shipments.v1 event from its schema (``name``, else any), on one of
    ``order_ids``, with a known currency and totals that add up (so that many are valid)."""
    name = name or draw(st.sampled_from(UPSTREAM))
    event = draw(instances(schema(name)), label=name)
    event["order_id"] = draw(st.sampled_from(order_ids))
    event["event_id"] = f"{event['order_id']}-{draw(st.integers(0, 10**9))}"
    currency = draw(st.sampled_from(CURRENCIES))
    if "currency" in event:
        event["currency"] = currency
    if "buyer_timezone" in event:  # a pattern cannot say which zones exist: pick real ones
        event["buyer_timezone"] = draw(st.sampled_from(ZONES))
    if name == "inbound/OrderPlaced":
        for n, line in enumerate(event["lines"]):
            line["line_id"] = str(n + 1)
            line["quantity"] = min(line["quantity"], 3) if draw(st.booleans()) else line[
                "quantity"]
            line["unit_price"] = draw(_amount(currency))
        for field in ("shipping_fee", "duties", "taxes"):
            event[field] = draw(_amount(currency))
        event["discount"] = "0"
        items = sum(Decimal(x["unit_price"]) * x["quantity"] for x in event["lines"])
        fees = sum(Decimal(event[f]) for f in ("shipping_fee", "duties", "taxes"))
        event["total"] = f"{items + fees:f}"
    if name == "inbound/OrderPaid":
        event["amount"] = draw(_amount(currency))
    return event


# ---- mutations ---------------------------------------------------------------------------

EDGE_TIMES = ["9999-12-31T23:00:00-14:00", "0001-01-01T00:00:00+14:00",
              "1969-12-31T23:59:59.999999+00:00", "2200-01-01T00:00:00+00:00",
              "2199-12-31T23:59:59-00:01", "1970-01-01T00:00:00+00:01", "2026-02-30T10:00:00Z",
              "2026-03-02T24:00:00Z", "2026-03-02T09:00:00", "2026-03-02", 1772442000,
              "2026-03-02T09:00:00+24:00"]
BAD_AMOUNTS = ["9e999999", "2_0.00", "1e3", "-1.00", " 1.00", "1.00 ", "١٢", "NaN",
               "Infinity", "1000000000000", "999999999999.9999999", "0x10", "", ".5", "5.",
               "+1", 12.5, 10**40]
NUMBERS = [10**30, -(10**30), -1, 0, 1e308, 5e-324, 2**63, 2**64, -(2**63) - 1, 1.5,
           float("1e16"), True]
CONTROL = ["\x00", "\x1b[31m", "\u202e", "\u2028", "\x7f", "\x85", "\ufeff", "\u200b", "\t",
           "\n"]


def _fields(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths to every scalar in a JSON value."""
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _fields(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _fields(v, (*path, i))]
    return [path]


def _set(value: Any, path: tuple[Any, ...], new: Any) -> None:
    for step in path[:-1]:
        value = value[step]
    value[path[-1]] = new


@st.composite
def mutated(draw: st.DrawFn, message: dict[str, Any]) -> bytes:
    """The message as bytes, maybe broken in one of the ways attackers and bugs break it."""
    how = draw(st.sampled_from(["none"] * 6 + [
        "time", "amount", "number", "control", "deep", "escaped_size", "raw_size",
        "duplicate_key", "surrogate", "not_json", "extra"]), label="mutation")
    message = json.loads(json.dumps(message))
    paths = _fields(message)
    if how == "time":
        path = draw(st.sampled_from([p for p in paths if p[-1] == "occurred_at"] or paths))
        _set(message, path, draw(st.sampled_from(EDGE_TIMES)))
    elif how == "amount":
        amounts = [p for p in paths if p[-1] in ("unit_price", "shipping_fee", "duties",
                                                 "taxes", "total", "amount", "discount")]
        _set(message, draw(st.sampled_from(amounts or paths)), draw(st.sampled_from(BAD_AMOUNTS)))
    elif how == "number":
        _set(message, draw(st.sampled_from(paths)), draw(st.sampled_from(NUMBERS)))
    elif how == "control":
        texts = [p for p in paths if isinstance(p[-1], str) and p[-1] != "event_type"]
        path = draw(st.sampled_from(texts or paths))
        _set(message, path, f"x{draw(st.sampled_from(CONTROL))}y")
    elif how == "deep":
        depth = draw(st.sampled_from([MAX_DEPTH - 2, MAX_DEPTH, MAX_DEPTH + 1, 300]))
        nested: Any = "bottom"
        for _ in range(depth):
            nested = [nested]
        message["nested"] = nested
    elif how == "escaped_size":  # fits as sent, may not once escaped again for storage
        share = draw(st.sampled_from([1.0, 0.7, 0.5]))  # of what fits as sent
        room = MAX_MESSAGE_BYTES - len(orjson.dumps(message | {"padding": ""}))
        message["padding"] = '"' * max(int(room * share) // 2, 1)
    elif how == "raw_size":
        size = draw(st.sampled_from([MAX_MESSAGE_BYTES - 1, MAX_MESSAGE_BYTES,
                                     MAX_MESSAGE_BYTES + 1]))
        base = len(orjson.dumps(message | {"padding": ""}))
        message["padding"] = "x" * max(size - base, 0)
    elif how == "extra":
        message[draw(st.sampled_from(["note", "_type_", "extra", "x" * 300]))] = draw(
            st.sampled_from([{"_type_": "uuid_hex", "_data_": "zz"}, "\x00", [1, {"a": None}],
                             "9999-12-31T23:00:00-14:00", 2**63 - 1]))
        if message.get("lines"):
            message["lines"][0]["estimated_delivery_at"] = "9999-12-31T23:00:00-14:00"
    raw = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()
    if how == "duplicate_key":
        key = draw(st.sampled_from(list(message)))
        again = json.dumps(key).encode() + b":" + json.dumps(message[key]).encode()
        raw = raw[:-1] + b"," + again + b"}"
    elif how == "surrogate":
        raw = raw[:-1] + b',"lone":"\\ud800"}'
    elif how == "not_json":
        raw = draw(st.sampled_from([raw[: len(raw) // 2], b"\xef\xbb\xbf" + raw, b"NaN",
                                    raw.replace(b'"', b"'", 2), raw + b"\xff"]))
    return raw
