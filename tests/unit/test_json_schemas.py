"""The JSON Schema files in schemas/json are exactly what the pydantic models generate."""

from __future__ import annotations

from pathlib import Path

from schemas.export import OUT, schemas


def test_json_schema_files_are_current() -> None:
    expected = schemas()
    stale = [name for name, content in expected.items()
             if not (OUT / name).is_file() or (OUT / name).read_bytes() != content]
    extra = [str(p.relative_to(OUT)) for p in OUT.rglob("*.json")
             if str(p.relative_to(OUT)) not in expected]
    assert not stale and not extra, (
        f"stale: {stale}, not generated: {extra}; run `python -m schemas.export`")


def test_every_command_and_topic_has_a_schema() -> None:
    names = {Path(n).name for n in schemas()}
    assert {"RequestReturn.schema.json", "orders.v1.schema.json", "shipments.v1.schema.json",
            "aftersales.case-events.v1.schema.json", "command.schema.json"} <= names
