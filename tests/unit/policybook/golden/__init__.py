"""Golden published policies: ``python -m tests.unit.policybook.golden`` writes them from the
books as they are; ``test_publish.py`` checks the texts have not changed. Read a changed text
before you regenerate: it is what customers read."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from aftersales_core.policybook.builtin import builtin_book
from aftersales_core.policybook.canonical import digest
from aftersales_core.policybook.documents import canonical_document, read_book
from aftersales_core.policybook.model import Book
from aftersales_core.policybook.publish.compose import Source, publish

HERE = Path(__file__).parent
BOOKS = Path(__file__).parents[4] / "demo" / "books"
SET_ON = date(2026, 11, 30)
CASES = [("builtin", "en", "md"), ("builtin", "zh-CN", "md"),
         ("uci-online-retail", "en", "md"), ("uci-online-retail", "zh-CN", "md"),
         ("uci-online-retail", "en", "html"), ("uci-online-retail", "zh-CN", "html"),
         ("olist", "en", "md"), ("olist", "zh-CN", "md")]


def book(name: str) -> tuple[Book, Source]:
    if name == "builtin":
        found = builtin_book()
        return found, Source(0, digest(canonical_document(found)), None)
    found = read_book((BOOKS / f"{name}.toml").read_bytes())
    return found, Source(1, digest(canonical_document(found)), SET_ON)


def path(name: str, lang: str, fmt: str) -> Path:
    return HERE / f"{name}.{lang}.{fmt}"


def render(name: str, lang: str, fmt: str) -> str:
    found, source = book(name)
    return publish(found, lang, fmt, source)  # type: ignore[arg-type]


def main() -> None:
    for name, lang, fmt in CASES:
        path(name, lang, fmt).write_text(render(name, lang, fmt), encoding="utf-8")
        print(f"wrote {path(name, lang, fmt)}")


if __name__ == "__main__":
    main()
