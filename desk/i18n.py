"""Words, times and amounts as the viewer reads them: English or Simplified Chinese, times in
the viewer's time zone, amounts in the case's currency (Babel's CLDR data for both)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_datetime
from babel.numbers import format_currency, format_decimal

from desk.catalog import WORDS
from desk.terms import TERMS

LANGUAGES = {"en": ("en", "English", "en"), "zh": ("zh_Hans_CN", "简体中文", "zh-Hans")}
ZONE = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+){0,2}$")
ALL = {**WORDS, **TERMS}


def negotiate(accept_language: str | None) -> str:
    """The language an Accept-Language header prefers among ours (English by default)."""
    best, weight = "en", -1.0
    for part in (accept_language or "").split(",")[:20]:
        tag, _, q = part.strip().partition(";q=")
        try:
            value = float(q) if q else 1.0
        except ValueError:
            continue
        code = tag.strip().lower().split("-")[0]
        if code in LANGUAGES and value > weight:
            best, weight = code, value
    return best


def zone_of(name: str | None) -> ZoneInfo | None:
    """The IANA time zone of this name, or None when it is not one."""
    if not name or len(name) > 64 or not ZONE.match(name):
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


#: a recorded code rather than words people typed: ``pending_review``, ``DeadlineScheduled``
CODE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*|(?:[A-Z][a-z0-9]+)+")


def humanise(value: str) -> str:
    """``pending_review`` -> ``pending review``; ``DeadlineScheduled`` -> ``Deadline scheduled``."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", value).replace("_", " ").strip()
    return spaced[:1].upper() + spaced[1:].lower() if spaced and spaced[0].isupper() else spaced


@dataclass(frozen=True)
class Reader:
    """One viewer's language and time zone; what templates call to show words and values."""

    language: str
    zone_name: str

    @property
    def zone(self) -> ZoneInfo:
        return zone_of(self.zone_name) or ZoneInfo("UTC")

    @property
    def locale(self) -> str:
        return LANGUAGES[self.language][0]

    @property
    def html_lang(self) -> str:
        return LANGUAGES[self.language][2]

    def t(self, key: str, **values: Any) -> str:
        """The words of ``key`` in the viewer's language, with ``values`` put in."""
        pair = ALL.get(key)
        if pair is None:
            raise KeyError(f"no words for {key!r}")
        text = pair[1] if self.language == "zh" else pair[0]
        return text.format(**values) if values else text

    def term(self, kind: str, value: Any) -> str:
        """A domain value in plain words (``status``, ``type``, ``cmd``, ``opt`` …), or the
        value as recorded, humanised, when there are none for it."""
        if value is None:
            return "—"
        text = str(value).lower() if isinstance(value, bool) else str(value)
        pair = TERMS.get(f"{kind}.{text}")
        if pair is None:
            return humanise(text)
        return pair[1] if self.language == "zh" else pair[0]

    def fact(self, value: Any) -> str:
        """A value an event recorded, as the timeline shows it: a domain value the desk has
        words for in those words, a code (``customer_declined``) humanised, and anything else,
        the text people typed (a reason, a note) exactly as recorded, never reworded."""
        if value is None:
            return "—"
        text = str(value).lower() if isinstance(value, bool) else str(value)
        pair = TERMS.get(f"opt.{text}")
        if pair is not None:
            return pair[1] if self.language == "zh" else pair[0]
        return humanise(text) if CODE.fullmatch(text) else text

    def when(self, value: str | datetime | None, seconds: bool = False) -> str:
        """A moment in the viewer's zone and language (— for none)."""
        moment = as_datetime(value)
        if moment is None:
            return "—"
        pattern = "yyyy-MM-dd HH:mm:ss" if seconds else "yyyy-MM-dd HH:mm"
        return format_datetime(moment, pattern, tzinfo=self.zone, locale=self.locale)

    def local_input(self, value: str | datetime | None) -> str:
        """A moment as a datetime-local input's value in the viewer's zone."""
        moment = as_datetime(value)
        return "" if moment is None else moment.astimezone(self.zone).strftime("%Y-%m-%dT%H:%M:%S")

    def money(self, amount: Any, currency: str | None) -> str:
        """An amount in its currency (— for none); a currency Babel does not know shows its
        code."""
        number = as_decimal(amount)
        if number is None:
            return "—"
        if not currency:
            return format_decimal(number, locale=self.locale)
        return format_currency(number, currency, locale=self.locale, currency_digits=True,
                               format_type="standard")

    def number(self, value: Any) -> str:
        number = as_decimal(value)
        return "—" if number is None else format_decimal(number, locale=self.locale)

    def left(self, due: str | datetime | None, now: datetime) -> str:
        """Time left until ``due`` (or how long ago it passed), to the minute."""
        moment = as_datetime(due)
        if moment is None:
            return "—"
        delta = moment - now
        span = self.span(abs(delta))
        return self.t("left.in", span=span) if delta >= timedelta(0) else \
            self.t("left.over", span=span)

    def span(self, delta: timedelta) -> str:
        minutes = int(delta.total_seconds() // 60)
        days, rest = divmod(minutes, 24 * 60)
        hours, minutes = divmod(rest, 60)
        parts = [self.t("span.d", n=days)] if days else []
        if hours or days:
            parts.append(self.t("span.h", n=hours))
        if not days:
            parts.append(self.t("span.m", n=minutes))
        return " ".join(parts)


def as_datetime(value: str | datetime | None) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def as_decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, dict):  # a Money value as events carry it
        value = value.get("amount")
    try:
        number = Decimal(str(value).split(" ")[0])
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None
