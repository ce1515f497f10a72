"""Reading a policy's JSON inputs into domain values, with errors that name the field.

Inputs are plain JSON: amounts are decimal strings in one currency, times are RFC 3339 strings
with an offset. Nothing here reads a clock or guesses a default for a missing fact.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from aftersales_core.errors import InvalidCommandError, InvalidMoneyError
from aftersales_core.money import Money, check_currency, to_decimal

_MISSING = object()


@dataclass(frozen=True)
class Line:
    """An order line, or the part of one that a return or refund is about."""

    line_id: str
    sku: str
    category: str
    quantity: int
    unit_price: Money

    @property
    def value(self) -> Money:
        return self.unit_price.times(self.quantity)


class Reader:
    """Typed access to one policy's inputs; every error names the policy and the field."""

    def __init__(self, policy_id: str, inputs: Mapping[str, Any], prefix: str = "") -> None:
        if not isinstance(inputs, Mapping):
            raise InvalidCommandError(f"{policy_id}: {prefix.rstrip('.') or 'inputs'} "
                                      "must be a JSON object")
        self.policy_id = policy_id
        self.inputs = inputs
        self.prefix = prefix

    def error(self, name: str, problem: str) -> InvalidCommandError:
        return InvalidCommandError(f"{self.policy_id}: {self.prefix}{name} {problem}")

    def _raw(self, name: str, nullable: bool) -> Any:
        value = self.inputs.get(name, _MISSING)
        if value is _MISSING:
            raise self.error(name, "is missing")
        if value is None and not nullable:
            raise self.error(name, "must not be null")
        return value

    def is_null(self, name: str) -> bool:
        """True when the field is present and null (a missing field is still an error)."""
        return self._raw(name, nullable=True) is None

    def text(self, name: str, allowed: Iterable[str] | None = None) -> str:
        value = self._raw(name, nullable=False)
        if not isinstance(value, str) or not value:
            raise self.error(name, f"must be a non-empty string, not {value!r}")
        if allowed is not None and value not in allowed:
            raise self.error(name, f"is {value!r}, expected one of {', '.join(sorted(allowed))}")
        return value

    def optional_text(self, name: str, allowed: Iterable[str] | None = None) -> str | None:
        return None if self._raw(name, nullable=True) is None else self.text(name, allowed)

    def market(self, name: str = "market") -> str:
        value = self.text(name)
        if len(value) != 2 or not value.isascii() or not value.isupper():
            raise self.error(name, f"must be an ISO 3166-1 alpha-2 code such as CN, not {value!r}")
        return value

    def optional_market(self, name: str = "market") -> str | None:
        return None if self._raw(name, nullable=True) is None else self.market(name)

    def currency(self, name: str = "currency") -> str:
        value = self.text(name)
        try:
            return check_currency(value)
        except InvalidMoneyError as error:
            raise InvalidMoneyError(f"{self.policy_id}: {self.prefix}{name}: {error}") from None

    def optional_currency(self, name: str = "currency") -> str | None:
        return None if self._raw(name, nullable=True) is None else self.currency(name)

    def flag(self, name: str) -> bool:
        value = self._raw(name, nullable=False)
        if not isinstance(value, bool):
            raise self.error(name, f"must be true or false, not {value!r}")
        return value

    def optional_flag(self, name: str) -> bool | None:
        return None if self._raw(name, nullable=True) is None else self.flag(name)

    def count(self, name: str, minimum: int = 0) -> int:
        value = self._raw(name, nullable=False)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.error(name, f"must be an integer of at least {minimum}, not {value!r}")
        return value

    def money(self, name: str, currency: str) -> Money:
        """A non-negative amount in the given currency, exact to its minor unit."""
        value = self._raw(name, nullable=False)
        where = f"{self.policy_id}: {self.prefix}{name}"
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise InvalidMoneyError(f"{where} must be a decimal string, not {value!r}")
        try:
            amount = to_decimal(value)
        except InvalidMoneyError as error:
            raise InvalidMoneyError(f"{where}: {error}") from None
        if amount < 0:
            raise InvalidMoneyError(f"{where} must not be negative, got {value!r}")
        money = Money(amount, currency)
        if money.amount != amount:
            raise InvalidMoneyError(f"{where} {value!r} has more decimals than {currency} allows")
        return money

    def optional_money(self, name: str, currency: str) -> Money | None:
        return None if self._raw(name, nullable=True) is None else self.money(name, currency)

    def time(self, name: str) -> datetime:
        value = self._raw(name, nullable=False)
        if not isinstance(value, str):
            raise self.error(name, f"must be an RFC 3339 time string, not {value!r}")
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise self.error(name, f"is not an RFC 3339 time: {value!r}") from None
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise self.error(name, f"must carry a UTC offset, got {value!r}")
        return moment

    def optional_time(self, name: str) -> datetime | None:
        return None if self._raw(name, nullable=True) is None else self.time(name)

    def items(self, name: str, nullable: bool = False) -> list[Reader]:
        """A list of JSON objects, each read by its own Reader (errors say ``name[i].field``)."""
        value = self._raw(name, nullable=nullable)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.error(name, f"must be a list, not {value!r}")
        return [Reader(self.policy_id, item, f"{self.prefix}{name}[{i}].")
                for i, item in enumerate(value)]

    def section(self, name: str) -> Reader:
        """A nested JSON object, read by its own Reader (errors say ``name.field``)."""
        return Reader(self.policy_id, self._raw(name, nullable=False), f"{self.prefix}{name}.")

    def strings(self, name: str) -> list[str]:
        value = self._raw(name, nullable=False)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(name, f"must be a list of strings, not {value!r}")
        return list(value)

    def lines(self, name: str, currency: str, *, allow_empty: bool = False) -> list[Line]:
        """Order lines ``{line_id, sku, category, quantity, unit_price}`` with distinct ids."""
        lines = [Line(line_id=item.text("line_id"), sku=item.text("sku"),
                      category=item.text("category"), quantity=item.count("quantity", 1),
                      unit_price=item.money("unit_price", currency))
                 for item in self.items(name)]
        if not lines and not allow_empty:
            raise self.error(name, "must list at least one line")
        ids = [line.line_id for line in lines]
        if len(set(ids)) != len(ids):
            raise self.error(name, "lists the same line_id twice")
        return lines


def iso(moment: datetime) -> str:
    return moment.isoformat()


def amount(money: Money | None) -> str | None:
    """An amount as a JSON decimal string ("12.50"), or None."""
    return None if money is None else str(money.amount)


def elapsed(start: datetime, end: datetime) -> str:
    """How long after start end came, in words ("9 days", "7 days 3 hours")."""
    span = max(end - start, timedelta(0))
    days, hours = span.days, span.seconds // 3600
    text = f"{days} day{'s' if days != 1 else ''}"
    return f"{text} {hours} hour{'s' if hours != 1 else ''}" if hours else text


def percent(ratio: Decimal) -> str:
    """A ratio as a percentage without trailing zeros (Decimal("0.6") -> "60%")."""
    value = (ratio * 100).normalize()
    return f"{value:f}%"
