"""Generate the JSON Schema files of every message (`python -m schemas.export`).

The files in schemas/json/ are kept in the repository for services in other languages;
a test fails when they are not what the pydantic models generate."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel, TypeAdapter

from aftersales_core.policybook.model import Book
from schemas import asyncapi, categories, commands, events, inbound, outbound

OUT = Path(__file__).parent / "json"
ID_BASE = "urn:aftersales:schema:"


def _models() -> dict[str, type[BaseModel] | TypeAdapter[Any]]:
    found: dict[str, type[BaseModel] | TypeAdapter[Any]] = {
        "commands/command": commands.COMMAND,
        "inbound/orders.v1": inbound.ORDER_EVENT,
        "inbound/shipments.v1": inbound.SHIPMENT_EVENT,
        "outbound/aftersales.case-events.v1": outbound.CaseEvent,
        "outbound/aftersales.cases.v1": outbound.CaseState,
    }
    for name in commands.AnyCommand.__args__:
        found[f"commands/{name.__name__}"] = name
    for model in (inbound.OrderPlaced, inbound.OrderPaid, inbound.OrderCancelled):
        found[f"inbound/{model.__name__}"] = model
    found["policy-book"] = Book  # the files `aftersales policy set` takes (TOML or JSON)
    return found


def schemas() -> dict[str, bytes]:
    """Every schema file's relative path and its exact content."""
    out = {}
    for name, model in _models().items():
        schema = (model.model_json_schema() if isinstance(model, type)
                  else model.json_schema())
        schema = {"$schema": "https://json-schema.org/draft/2020-12/schema",
                  "$id": ID_BASE + name.replace("/", ":"), **schema}
        out[f"{name}.schema.json"] = orjson.dumps(
            schema, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
    for event_type in events.event_classes():
        version = events.class_version(event_type) or 1
        schema = {"$schema": "https://json-schema.org/draft/2020-12/schema",
                  "$id": events.schema_id(event_type, version),
                  **events.data_model(event_type).model_json_schema()}
        out[f"events/{event_type}.v{version}.schema.json"] = _dump(schema)
    out["vocabulary/categories.schema.json"] = orjson.dumps(
        categories.vocabulary_schema(), option=orjson.OPT_INDENT_2) + b"\n"
    out["asyncapi.json"] = _dump(asyncapi.document())
    return out


def _dump(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def main() -> int:
    for relative, content in schemas().items():
        path = OUT / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    print(f"wrote {len(schemas())} schema files under {OUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
