"""Write the OpenAPI document the server serves to ``api/openapi.json`` (`python -m
api.export`); ``--check`` exits 1 when the file is stale. A test runs the check."""

from __future__ import annotations

import sys
from pathlib import Path

import orjson

from api.app import openapi_document

OUT = Path(__file__).parent / "openapi.json"


def document_bytes() -> bytes:
    return orjson.dumps(openapi_document(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS
                        ) + b"\n"


def main(argv: list[str]) -> int:
    data = document_bytes()
    if "--check" in argv:
        if not OUT.exists() or OUT.read_bytes() != data:
            print(f"{OUT} is stale: run python -m api.export", file=sys.stderr)
            return 1
        return 0
    OUT.write_bytes(data)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
