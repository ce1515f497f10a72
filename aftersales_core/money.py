"""Money: a Decimal amount in one ISO 4217 currency, rounded to the currency's minor unit."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from iso4217 import Currency as _Iso4217

from aftersales_core.errors import CurrencyMismatchError, InvalidMoneyError

# ISO 4217 minor units of every active currency, from the ``iso4217`` package (the ISO 4217
# maintenance agency's list A.1). Codes without a minor unit (gold, SDR, test and "no currency"
# codes) are not money a refund can be paid in. An unknown code is an error: guessing a minor
# unit would round money wrongly.
MINOR_UNITS: dict[str, int] = {
    c.code: c.exponent for c in _Iso4217 if c.exponent is not None
}


def check_currency(code: str) -> str:
    """Return the code when it is a known ISO 4217 currency, else raise InvalidMoneyError."""
    if code not in MINOR_UNITS:
        raise InvalidMoneyError(f"unknown currency {code!r} (expected an ISO 4217 code)")
    return code


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-MINOR_UNITS[check_currency(currency)])


def to_decimal(value: Decimal | int | str) -> Decimal:
    """Parse an amount without ever going through float."""
    if isinstance(value, float):
        raise InvalidMoneyError("money is never a float: pass a decimal string")
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise InvalidMoneyError(f"not a decimal amount: {value!r}") from None
    if not amount.is_finite():
        raise InvalidMoneyError(f"not a finite amount: {value!r}")
    return amount


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in one currency, always rounded to the minor unit with ROUND_HALF_EVEN."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        try:
            amount = to_decimal(self.amount).quantize(quantum(self.currency), ROUND_HALF_EVEN)
        except InvalidOperation:
            raise InvalidMoneyError(f"amount {self.amount} is too large") from None
        object.__setattr__(self, "amount", amount + 0)  # normalise -0 to 0

    @classmethod
    def of(cls, amount: Decimal | int | str, currency: str) -> Money:
        return cls(to_decimal(amount), currency)

    @classmethod
    def exact(cls, amount: Decimal | int | str, currency: str, field: str | None = None
              ) -> Money:
        """Money from an amount given by a person or a message: finer than the currency's
        minor unit is an error, not something to round away quietly. ``field`` names where
        the amount came from in the error (``amount: 1.001 has more decimals…``)."""
        value = to_decimal(amount)
        money = cls(value, currency)
        if money.amount != value:
            where = f"{field}: " if field else ""
            raise InvalidMoneyError(
                f"{where}{value} has more decimals than {currency} allows "
                f"({MINOR_UNITS[currency]})"
            )
        return money

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatchError(self.currency, other.currency)

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def times(self, factor: Decimal | int) -> Money:
        """Multiply by a quantity or ratio, rounding the result to the minor unit."""
        return Money(self.amount * to_decimal(factor), self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount >= other.amount

    def is_zero(self) -> bool:
        return self.amount == 0

    def is_negative(self) -> bool:
        return self.amount < 0

    def min(self, other: Money) -> Money:
        return self if self <= other else other

    def max(self, other: Money) -> Money:
        return self if self >= other else other

    def allocate(self, weights: list[Decimal]) -> list[Money]:
        """Split into parts proportional to weights that add up exactly to self.

        Remainders of rounding go to the largest parts first, so nothing is created or lost
        (pro-rating an order discount over its lines, for instance).
        """
        total = sum(weights, Decimal(0))
        if total <= 0 or any(w < 0 for w in weights):
            raise InvalidMoneyError("allocation weights must be non-negative with a positive sum")
        if self.is_negative():
            return [-part for part in (-self).allocate(weights)]
        q = quantum(self.currency)
        raw = [self.amount * w / total for w in weights]
        parts = [r.quantize(q, rounding="ROUND_DOWN") for r in raw]
        left = int((self.amount - sum(parts, Decimal(0))) / q)
        order = sorted(range(len(raw)), key=lambda i: (raw[i] - parts[i], raw[i]), reverse=True)
        step = q if left >= 0 else -q
        for i in order[: abs(left)]:
            parts[i] += step
        return [Money(p, self.currency) for p in parts]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"

    def to_json(self) -> dict[str, str]:
        return {"amount": str(self.amount), "currency": self.currency}

    @classmethod
    def from_json(cls, data: dict[str, str]) -> Money:
        return cls.of(data["amount"], data["currency"])


def total(amounts: list[Money], currency: str) -> Money:
    result = Money.zero(currency)
    for amount in amounts:
        result = result + amount
    return result
