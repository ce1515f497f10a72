"""What the CLI prints cannot be turned against its reader, and no configured secret is ever
shown: terminal escapes and markup in data are neutralised, CSV cells are not formulas,
database URLs are redacted, configuration errors never echo a value."""

from __future__ import annotations

import io
import logging
import sys
import unicodedata
from typing import Literal

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from aftersales.output import cell, csv_safe, dumps, emit_rows, printable, table
from aftersales.secrets import ScrubSecrets, configured_secrets, redact, scrub
from aftersales.settings import ConfigError, Settings
from aftersales_core.text import INVISIBLE

MARKER = "Zq9-marker-S3cret"


@given(st.text())
def test_printable_text_has_no_control_characters_left(text: str) -> None:
    shown = printable(text)
    assert not any((ord(c) < 32 and c not in "\t\n") or 0x7F <= ord(c) <= 0x9F for c in shown)
    assert not any(unicodedata.category(c) in ("Cf", "Zl", "Zp") for c in shown)
    assert "\x1b" not in shown and "\u202e" not in shown


def test_what_a_terminal_shows_as_escapes_is_every_control_format_and_separator() -> None:
    """The list in aftersales_core/text.py against this Python's Unicode database: a newer
    Unicode's new format characters make this fail until they are added."""
    hidden = {cp for cp in range(sys.maxunicode + 1)
              if INVISIBLE.match(chr(cp)) is not None}
    wanted = {cp for cp in range(sys.maxunicode + 1)
              if unicodedata.category(chr(cp)) in ("Cc", "Cf", "Zl", "Zp")} - {0x09, 0x0A}
    assert hidden == wanted, sorted(hidden ^ wanted)[:10]


def test_invisible_tag_letters_are_shown_in_full() -> None:
    smuggled = "ok" + "".join(chr(0xE0000 + ord(c)) for c in "pay")
    assert printable(smuggled) == "ok\\U000e0070\\U000e0061\\U000e0079"


def test_a_terminal_escape_and_markup_in_a_table_stay_plain_text() -> None:
    out = io.StringIO()
    Console(file=out, force_terminal=True, width=120).print(
        table("t", ["a"], [["\x1b[2J\x1b]0;owned\x07 [bold red]x[/] \u202eevil"]]))
    text = out.getvalue()
    assert "\x1b[2J" not in text and "\x1b]0;" not in text and "\u202e" not in text
    assert "\\x1b[2J" in text and "[bold red]x[/]" in text
    assert cell(None).plain == ""


@pytest.mark.parametrize("value", ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)",
                                   "\t=1", "\r=1"])
def test_csv_cells_that_a_spreadsheet_would_run_are_quoted(value: str) -> None:
    assert csv_safe(value) == "'" + value


@pytest.mark.parametrize("value", ["-12.50", "12.50", "normal", "", 5, None, "-1e5"])
def test_csv_numbers_and_plain_text_stay_as_they_are(value: object) -> None:
    assert csv_safe(value) == value


@pytest.mark.parametrize("url", [
    f"postgresql://admin:{MARKER}@db:5432/x", f"postgres://admin:{MARKER}@[::1]:5/x?sslmode=a",
    f"postgresql://admin@db/x?password={MARKER}", f"mysql://admin:{MARKER}@h/db",
])
def test_redact_removes_the_password(url: str) -> None:
    assert MARKER not in redact(url)


@pytest.mark.parametrize("url", [
    f"mysql://admin:{MARKER}@h/db", f"postgresql://admin:{MARKER}%zz@h/db",
    f"postgresql://admin:{MARKER}@h:notaport/db", f"postgresql://admin:{MARKER}@[::1/db",
    f"postgresql://admin:{MARKER}@/db", "sqlite:///", MARKER,
])
def test_a_bad_database_url_is_refused_without_showing_it(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"AFTERSALES_DATABASE_URL": url})
    assert MARKER not in str(caught.value)
    assert "AFTERSALES_DATABASE_URL" in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"AFTERSALES_READ_DATABASE_URL": url})
    assert MARKER not in str(caught.value)


def test_secrets_are_found_as_written_and_decoded_and_scrubbed() -> None:
    env = {"AFTERSALES_DATABASE_URL": "postgresql://u:p%40ss-word@h/db",
           "AFTERSALES_READ_DATABASE_URL": f"postgresql://u@h/db?password={MARKER}"}
    secrets = configured_secrets(env)
    assert {"p%40ss-word", "p@ss-word", MARKER} <= set(secrets)
    assert scrub(f"failed: p@ss-word {MARKER}", secrets) == "failed: *** ***"


def test_log_records_are_scrubbed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AFTERSALES_DATABASE_URL", f"postgresql://u:{MARKER}@h/db")
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "connect %s failed",
                               (f"postgresql://u:{MARKER}@h/db",), None)
    assert ScrubSecrets().filter(record)
    assert MARKER not in record.getMessage()


@pytest.mark.parametrize("fmt", ["csv", "tsv", "json"])
def test_machine_formats_carry_no_terminal_control_but_keep_what_free_text_may_hold(
        fmt: Literal["csv", "tsv", "json"], capsys: pytest.CaptureFixture[str]) -> None:
    kept = "tab\there, lines\nand \u202e\u200d é"
    emit_rows([{"key": "\x1b]0;pwned\x07\x9b2J\x7f", "note": kept}], fmt, "t")
    out = capsys.readouterr().out
    assert not any(c in out for c in "\x1b\x07\x9b\x7f"), out
    if fmt == "json":
        assert orjson.loads(out) == [{"key": "\x1b]0;pwned\x07\x9b2J\x7f", "note": kept}]
    else:
        assert "\\x1b]0;pwned\\x07\\x9b2J\\x7f" in out.replace("\\\\", "\\")
        assert "\u202e\u200d é" in out
    if fmt == "csv":
        assert kept in out


@given(st.text())
def test_json_output_is_the_same_json_with_no_raw_control_character(text: str) -> None:
    shown = dumps({"t": text})
    assert orjson.loads(shown) == {"t": text}
    assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in shown)
