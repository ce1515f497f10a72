"""Principal names: normalised once, refused when they could pass for someone else's.

A principal's id derives from its normalised name, so two spellings that normalise alike are one
principal (``ALICE``, ``Alice``, full-width ``ａｌｉｃｅ`` are all ``alice``), and names that only
look alike are refused instead of becoming a second identity that reads like the first:

* NFKC, then case folding, then NFKC again (Unicode's identifier normalisation);
* 1 to 64 characters: letters, combining marks, ASCII digits and ``- _ . @``, starting with a
  letter or digit; no spaces, control, format (bidi overrides, zero-width joiners), private-use
  or unassigned characters, nor the Hangul fillers (letters that show as nothing);
* the letters' scripts follow Unicode's "highly restrictive" profile (UTS #39): one script, or
  Latin with Han and Japanese kana, Latin with Han and Bopomofo, Latin with Han and Hangul;
  ``аlice`` with a Cyrillic ``а`` is refused;
* a name written wholly in Cyrillic or Greek letters that all look like Latin ones (``асе``) is
  refused as confusable with the Latin name;
* ``system.`` names are reserved for the built-in principals.
"""

from __future__ import annotations

import unicodedata

from aftersales_core.errors import InvalidCommandError

MAX_LENGTH = 64
PUNCTUATION = frozenset("-_.@")
SYSTEM_PREFIX = "system."
HANGUL_FILLERS = frozenset("\u115f\u1160\u3164\uffa0")
ALLOWED_SCRIPT_SETS = (
    frozenset({"Latin", "Han", "Hiragana", "Katakana"}),
    frozenset({"Latin", "Han", "Bopomofo"}),
    frozenset({"Latin", "Han", "Hangul"}),
)
SCRIPT_OF_NAME = {  # the first word(s) of a letter's Unicode name -> its script
    "CJK": "Han",
    "KATAKANA-HIRAGANA": "Hiragana",  # the prolonged sound mark, used with both kana
    "HANGUL": "Hangul",
    "HIRAGANA": "Hiragana",
    "KATAKANA": "Katakana",
    "BOPOMOFO": "Bopomofo",
    "LATIN": "Latin",
    "CYRILLIC": "Cyrillic",
    "GREEK": "Greek",
}
# Cyrillic and Greek letters that read as Latin ones (a subset of Unicode's confusables.txt).
LATIN_LOOKALIKES = {
    "а": "a", "с": "c", "ԁ": "d", "е": "e", "һ": "h", "і": "i", "ј": "j", "ӏ": "l", "о": "o",
    "р": "p", "ԛ": "q", "ѕ": "s", "у": "y", "ѵ": "v", "ԝ": "w", "х": "x", "ү": "y",
    "α": "a", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "υ": "u",
    "χ": "x", "γ": "y", "ω": "w",
}


def script_of(char: str) -> str | None:
    """The script of a letter (None for marks, digits and punctuation, which go with any)."""
    if not unicodedata.category(char).startswith("L"):
        return None
    name = unicodedata.name(char, "")
    first = name.split(" ", 1)[0]
    return SCRIPT_OF_NAME.get(first, first.title() or "Unknown")


def normalise_name(raw: str) -> str:
    """The canonical form of a principal's name, or InvalidCommandError naming the problem."""
    if not isinstance(raw, str):
        raise InvalidCommandError("a principal's name must be text")
    name = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", raw).casefold())
    if not 1 <= len(name) <= MAX_LENGTH:
        raise InvalidCommandError(f"a principal's name has 1 to {MAX_LENGTH} characters")
    for char in name:
        if not _allowed(char):
            raise InvalidCommandError(
                f"a principal's name may not contain {_describe(char)}: use letters, ASCII "
                "digits and - _ . @"
            )
    if not (name[0].isalnum() and name[0] not in PUNCTUATION):
        raise InvalidCommandError("a principal's name starts with a letter or a digit")
    scripts = {s for s in map(script_of, name) if s is not None}
    if len(scripts) > 1 and not any(scripts <= allowed for allowed in ALLOWED_SCRIPT_SETS):
        raise InvalidCommandError(
            f"a principal's name mixes the scripts {', '.join(sorted(scripts))}, which lets one "
            "name pass for another: write it in one script"
        )
    if scripts and scripts <= {"Cyrillic", "Greek"}:
        skeleton = "".join(LATIN_LOOKALIKES.get(c, c) for c in name)
        if skeleton.isascii():
            raise InvalidCommandError(
                f"a principal's name in Cyrillic or Greek letters that read as the Latin "
                f"{skeleton!r} could pass for that name: choose another"
            )
    return name


def is_system_name(name: str) -> bool:
    return name.startswith(SYSTEM_PREFIX)


def user_name(raw: str) -> str:
    """A name an administrator may give a principal: normalised, not a reserved system name."""
    name = normalise_name(raw)
    if is_system_name(name):
        raise InvalidCommandError(f"names starting with {SYSTEM_PREFIX!r} are reserved for the "
                                  "built-in principals")
    return name


def _allowed(char: str) -> bool:
    if char in PUNCTUATION or ("0" <= char <= "9"):
        return True
    if char in HANGUL_FILLERS:  # letters by category, blank on a screen
        return False
    category = unicodedata.category(char)
    return category.startswith("L") or category in ("Mn", "Mc")


def _describe(char: str) -> str:
    name = unicodedata.name(char, "an unnamed character")
    return f"U+{ord(char):04X} ({name.lower()})"
