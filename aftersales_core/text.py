"""What people write, checked once for every entry point: the characters free text may not hold
and the check that names the field.

The wire schemas (`schemas/limits.py`, `schemas/common.py`: notes, reasons, messages of every
command and inbound event), the policy book's names and the reason stored with a book version
all refuse the same characters: NUL, the C0 controls other than tab, line feed and carriage
return, DEL, and the C1 controls (U+0080 to U+009F: U+009B is a terminal's escape sequence
introducer on its own). Text must also be encodable as UTF-8 (a lone surrogate, which a command
line argument of invalid UTF-8 becomes, is not).

Bidirectional and zero-width formatting characters stay allowed (right-to-left writing and emoji
sequences need some of them). Screens show what could disguise text as escapes
(`shown_visibly`): a terminal every invisible character (`INVISIBLE`: the command line's tables
and messages); the desk's pages the controls and the bidirectional embeddings, overrides and
isolates (`REORDERING`), which could make a note read backwards or turn the words after it,
while joiners and direction marks, which Persian, Arabic and emoji need, display as written."""

from __future__ import annotations

import re

from aftersales_core.errors import InvalidFieldError

# A character class (without brackets), as JSON Schema patterns and Python regexes read it.
TEXT_FORBIDDEN_CHARS = r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f"
# One line of text (a name): no line breaks or tabs either.
LINE_FORBIDDEN_CHARS = r"\u0000-\u001f\u007f-\u009f"
TEXT_FORBIDDEN = re.compile(f"[{TEXT_FORBIDDEN_CHARS}]")
LINE_FORBIDDEN = re.compile(f"[{LINE_FORBIDDEN_CHARS}]")
_SURROGATE = re.compile("[\ud800-\udfff]")
# What a screen would not show as itself: C0 and C1 controls (but tab and line feed), DEL,
# zero-width and bidirectional formatting characters (an override can make a note read
# backwards, or the words after it).
INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e"
                       "\u2060-\u2069\ufeff]")
# What on a web page could drive it or reorder text: the controls but tab and line breaks
# (a browser sends a line break as CR LF), the bidirectional embeddings, overrides and isolates.
REORDERING = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def text_problem(value: str, forbidden: re.Pattern[str] = TEXT_FORBIDDEN) -> str | None:
    """What is wrong with the characters of ``value`` (None: nothing)."""
    found = forbidden.search(value)
    if found:
        which = " other than tab and line breaks" if forbidden is TEXT_FORBIDDEN else ""
        return (f"must not contain NUL or control characters{which} "
                f"(U+{ord(found.group()):04X} at position {found.start()})")
    odd = _SURROGATE.search(value)
    if odd:
        return f"is not UTF-8 text (a lone surrogate at position {odd.start()})"
    return None


def check_text(field: str, value: str, max_length: int, what: str = "") -> str:
    """Free text a person wrote for ``field``: not blank, at most ``max_length`` characters,
    none of the forbidden ones; else InvalidFieldError naming the field (``what`` says what
    the field is for, when it is blank)."""
    if not value.strip():
        raise InvalidFieldError(field, what or "must not be empty")
    if len(value) > max_length:
        raise InvalidFieldError(field, f"at most {max_length} characters, not {len(value)}")
    problem = text_problem(value)
    if problem is not None:
        raise InvalidFieldError(field, problem)
    return value


def shown_visibly(text: str, hidden: re.Pattern[str] = INVISIBLE) -> str:
    """``text`` for people to read: each character ``hidden`` matches as its escape (``\\x1b``,
    ``\\u202e``), so what a customer wrote can neither drive the screen nor disguise itself or
    what stands next to it."""
    return hidden.sub(lambda m: f"\\u{ord(m.group()):04x}" if ord(m.group()) > 0xFF
                         else f"\\x{ord(m.group()):02x}", text)


def is_digits(value: str) -> bool:
    """``value`` is a non-negative integer written in ASCII digits: ``str.isdigit`` alone also
    accepts superscripts and other scripts' digits ("²6"), which ``int()`` then refuses."""
    return value.isascii() and value.isdigit()
