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
and messages); the desk's pages the controls, the bidirectional embeddings, overrides and
isolates, which could make a note read backwards or turn the words after it, and the invisible
tag letters (`DISGUISING`), while joiners and direction marks, which Persian, Arabic and emoji
need, display as written."""

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
# What a terminal would not show as itself: every control but tab and line feed, every format
# character (zero-width, bidirectional, the invisible tag letters) and the line and paragraph
# separators: Unicode 14's categories Cc, Cf, Zl and Zp (a test holds the list to unicodedata).
INVISIBLE = re.compile(
    "[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u00ad\u0600-\u0605\u061c\u06dd\u070f"
    "\u0890-\u0891\u08e2\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff"
    "\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U00013438\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]")
# What on a web page could drive it, reorder text or hide some: the controls but tab and line
# breaks (a browser sends a line break as CR LF), the bidirectional embeddings, overrides and
# isolates, and the tag characters (invisible letters).
DISGUISING = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
                        "\U000e0001\U000e0020-\U000e007f]")


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
    ``\\u202e``, ``\\U000e0041``), so what a customer wrote can neither drive the screen nor
    disguise itself or what stands next to it."""
    return hidden.sub(_escape, text)


def _escape(found: re.Match[str]) -> str:
    code = ord(found.group())
    return (f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}" if code <= 0xFFFF
            else f"\\U{code:08x}")


def is_digits(value: str) -> bool:
    """``value`` is a non-negative integer written in ASCII digits: ``str.isdigit`` alone also
    accepts superscripts and other scripts' digits ("²6"), which ``int()`` then refuses."""
    return value.isascii() and value.isdigit()
