"""Lengths of time as a policy book writes them: ``"14 days"``, ``"2 years"``, ``"0 days"``.

A period of N days ends at the end of the Nth calendar day after the day of the event (see
``policies/calendar.py``); one of N years on the same date N years later. Comparing a period
with a legal minimum must hold for every start date: 731 days always cover 2 years, 730 days do
not (a leap day).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TEXT = re.compile(r"^ *([0-9]{1,5}) +(day|days|year|years) *$")
MAX_DAYS = 3660
MAX_YEARS = 10


@dataclass(frozen=True, order=False)
class Length:
    days: int = 0
    years: int = 0

    @classmethod
    def parse(cls, text: str) -> Length:
        match = _TEXT.match(text)
        if match is None:
            raise ValueError(f"{text!r} is not a period such as \"14 days\" or \"2 years\"")
        number, unit = int(match.group(1)), match.group(2)
        if unit.startswith("year"):
            if not 1 <= number <= MAX_YEARS:
                raise ValueError(f"{text!r}: a period in years must be 1 to {MAX_YEARS} years")
            return cls(years=number)
        if number > MAX_DAYS:
            raise ValueError(f"{text!r}: a period in days must be 0 to {MAX_DAYS} days")
        return cls(days=number)

    def __str__(self) -> str:
        if self.years:
            return f"{self.years} year{'s' if self.years != 1 else ''}"
        return f"{self.days} day{'s' if self.days != 1 else ''}"

    @property
    def shortest_days(self) -> int:
        """The fewest calendar days it can span (365 a year)."""
        return self.days + 365 * self.years

    @property
    def longest_days(self) -> int:
        """The most calendar days it can span (a leap day in every four years, rounded up)."""
        return self.days + 365 * self.years + (self.years + 3) // 4

    def always_covers(self, other: Length) -> bool:
        """True when it ends no earlier than ``other`` from any start date."""
        if self.years and other.years and not self.days and not other.days:
            return self.years >= other.years
        return self.shortest_days >= other.longest_days

    def never_exceeds(self, other: Length) -> bool:
        """True when it ends no later than ``other`` from any start date."""
        return other.always_covers(self)


def days(number: int) -> Length:
    return Length(days=number)


def years(number: int) -> Length:
    return Length(years=number)
