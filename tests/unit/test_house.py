"""The house rules a reader can check mechanically (SPEC §2, the README's layout): the core
imports nothing of the layers built on it, nor Kafka, nor a clock or randomness (time comes
with the command or event, so replay and audit give the same decisions)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "aftersales_core"
#: the project's layers built on the core, and what the core must not depend on besides
ABOVE = {"aftersales", "api", "audit", "bench", "consumers", "database", "demo", "desk",
         "dispatch", "privacy", "projections", "schemas", "server", "tests", "workers", "kafka"}
#: what reads the wall clock, a timer or randomness
CLOCKS = {("datetime", "now"), ("datetime", "utcnow"), ("date", "today"), ("time", "time"),
          ("time", "monotonic"), ("time", "perf_counter"), ("time", "process_time"),
          ("os", "urandom"), ("uuid", "uuid1"), ("uuid", "uuid4")}
NO_IMPORT = {"random", "secrets", "time"}  # randomness, and the time module (its clocks)


def core_modules() -> list[str]:
    return [str(path.relative_to(ROOT)) for path in sorted(CORE.rglob("*.py"))]


def imported(tree: ast.Module) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


@pytest.mark.parametrize("name", core_modules())
def test_the_core_imports_no_layer_above_it_and_no_clock(name: str) -> None:
    tree = ast.parse((ROOT / name).read_text(), name)
    found = set(imported(tree))
    assert not {m for m in found if m.split(".")[0] in ABOVE}, name
    assert not {m for m in found if m.split(".")[0] in NO_IMPORT}, name
    assert not {m for m in found if tuple(m.split(".")[-2:]) in CLOCKS}, name
    calls = {(node.value.id, node.attr) for node in ast.walk(tree)
             if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)}
    assert not calls & CLOCKS, (name, calls & CLOCKS)



#: the service API and the desk are sibling front ends on server/: the one place either names
#: the other is where the server's application mounts the desk
FRONT_ENDS = {"api": "desk", "desk": "api"}
COMPOSITION = {("api/app.py", "desk.mount")}


def package_modules(*packages: str) -> list[str]:
    return [str(path.relative_to(ROOT)) for package in packages
            for path in sorted((ROOT / package).rglob("*.py"))]


def named(name: str) -> set[str]:
    """The top-level packages a module imports, at any depth of its code, save the one
    composition point."""
    tree = ast.parse((ROOT / name).read_text(), name)
    return {m.split(".")[0] for m in imported(tree)
            if (name, ".".join(m.split(".")[:2])) not in COMPOSITION}


@pytest.mark.parametrize("name", package_modules("api", "desk"))
def test_a_front_end_imports_the_other_only_where_the_server_mounts_the_desk(name: str) -> None:
    assert FRONT_ENDS[name.split("/")[0]] not in named(name), name


@pytest.mark.parametrize("name", package_modules("server", "database"))
def test_what_both_front_ends_share_imports_neither(name: str) -> None:
    assert not named(name) & set(FRONT_ENDS), name
