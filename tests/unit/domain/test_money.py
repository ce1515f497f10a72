"""Money: Decimal amounts in one ISO 4217 currency, rounded half-even to the minor unit."""

from __future__ import annotations

import operator
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aftersales_core.errors import CurrencyMismatchError, DomainError, InvalidMoneyError
from aftersales_core.money import MINOR_UNITS, Money, total

FAST = settings(max_examples=150, deadline=None)
CURRENCIES = sorted(MINOR_UNITS)

currencies = st.sampled_from(CURRENCIES)
# Amounts a desk meets (well inside the 28 significant digits of the default context).
LIMIT = 10**12


def exact_decimals(places: int = 6, limit: int = LIMIT) -> st.SearchStrategy[Decimal]:
    return st.decimals(
        min_value=-limit, max_value=limit, places=places, allow_nan=False, allow_infinity=False
    )


@st.composite
def money(
    draw: st.DrawFn, currency: str | None = None, min_value: int = -LIMIT, max_value: int = LIMIT
) -> Money:
    code = currency or draw(currencies)
    places = MINOR_UNITS[code]
    amount = draw(
        st.decimals(
            min_value=min_value,
            max_value=max_value,
            places=places,
            allow_nan=False,
            allow_infinity=False,
        )
    )
    return Money.of(amount, code)


@st.composite
def same_currency(draw: st.DrawFn, n: int) -> list[Money]:
    code = draw(currencies)
    return [draw(money(code)) for _ in range(n)]


def half_even(value: Fraction, places: int) -> Fraction:
    """An independent oracle: round a rational to ``places`` decimals, ties to even."""
    scaled = value * 10**places
    floor = scaled.numerator // scaled.denominator
    rest = scaled - floor
    if rest > Fraction(1, 2) or (rest == Fraction(1, 2) and floor % 2 == 1):
        floor += 1
    return Fraction(floor, 10**places)


# ---- rounding -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("0.125", "EUR", "0.12"),
        ("0.135", "EUR", "0.14"),
        ("-0.125", "EUR", "-0.12"),
        ("-0.135", "EUR", "-0.14"),
        ("1.005", "USD", "1.00"),
        ("1.0051", "USD", "1.01"),
        ("0.5", "JPY", "0"),
        ("1.5", "JPY", "2"),
        ("2.5", "JPY", "2"),
        ("1234.5", "KRW", "1234"),
        ("0.0005", "BHD", "0.000"),
        ("0.0015", "BHD", "0.002"),
        ("1.2345", "KWD", "1.234"),
        ("7", "EUR", "7.00"),
    ],
)
def test_an_amount_is_rounded_half_even_to_the_currency_minor_unit(
    amount: str, currency: str, expected: str
) -> None:
    rounded = Money.of(amount, currency)
    assert rounded.amount == Decimal(expected)
    assert str(rounded.amount) == expected


@FAST
@given(amount=exact_decimals(places=8), currency=currencies)
def test_rounding_agrees_with_exact_half_even_arithmetic(amount: Decimal, currency: str) -> None:
    rounded = Money.of(amount, currency)
    places = MINOR_UNITS[currency]
    assert Fraction(rounded.amount) == half_even(Fraction(amount), places)
    assert rounded.amount.as_tuple().exponent == -places
    assert rounded.currency == currency


@FAST
@given(amount=exact_decimals(places=8), currency=currencies)
def test_a_rounded_amount_is_a_fixed_point_of_rounding(amount: Decimal, currency: str) -> None:
    once = Money.of(amount, currency)
    assert Money.of(once.amount, currency) == once
    assert Money.from_json(once.to_json()) == once


@FAST
@given(currency=currencies, ticks=st.integers(min_value=1, max_value=49))
def test_a_tiny_negative_amount_rounds_to_an_unsigned_zero(currency: str, ticks: int) -> None:
    rounded = Money.of(Decimal(-ticks).scaleb(-(MINOR_UNITS[currency] + 2)), currency)
    assert rounded.is_zero()
    assert not rounded.amount.is_signed()
    assert not rounded.is_negative()


@FAST
@given(amount=exact_decimals(places=8), currency=currencies)
def test_exact_money_refuses_what_rounding_would_change(amount: Decimal, currency: str) -> None:
    rounded = Money.of(amount, currency)
    if rounded.amount == amount:
        assert Money.exact(amount, currency) == rounded
    else:
        with pytest.raises(InvalidMoneyError):
            Money.exact(amount, currency)


@pytest.mark.parametrize(
    ("amount", "currency"), [("1.10", "EUR"), ("1.100", "EUR"), ("5", "JPY"), ("0.125", "BHD")]
)
def test_exact_money_accepts_amounts_at_the_minor_unit(amount: str, currency: str) -> None:
    assert Money.exact(amount, currency).amount == Decimal(amount)


@pytest.mark.parametrize(
    ("amount", "currency"), [("0.125", "EUR"), ("1.5", "JPY"), ("0.0001", "BHD"), ("-0.001", "USD")]
)
def test_exact_money_refuses_amounts_finer_than_the_minor_unit(amount: str, currency: str) -> None:
    with pytest.raises(InvalidMoneyError):
        Money.exact(amount, currency)


# ---- arithmetic -----------------------------------------------------------------------------


@FAST
@given(parts=same_currency(3))
def test_addition_is_associative_and_commutative(parts: list[Money]) -> None:
    a, b, c = parts
    assert (a + b) + c == a + (b + c)
    assert a + b == b + a


@FAST
@given(parts=same_currency(2))
def test_addition_and_subtraction_are_exact(parts: list[Money]) -> None:
    a, b = parts
    assert (a + b).amount == a.amount + b.amount
    assert (a - b).amount == a.amount - b.amount
    assert (a + b) - b == a
    assert a - a == Money.zero(a.currency)
    assert a + Money.zero(a.currency) == a
    negated = -a
    assert -negated == a
    assert a + (-a) == Money.zero(a.currency)


@FAST
@given(parts=st.integers(min_value=0, max_value=12).flatmap(same_currency))
def test_a_total_is_the_exact_sum_of_its_parts(parts: list[Money]) -> None:
    currency = parts[0].currency if parts else "EUR"
    assert total(parts, currency).amount == sum((p.amount for p in parts), Decimal(0))


@FAST
@given(a=money(), n=st.integers(min_value=0, max_value=50))
def test_multiplying_by_a_count_equals_repeated_addition(a: Money, n: int) -> None:
    assert a.times(n) == total([a] * n, a.currency)


@FAST
@given(parts=same_currency(2))
def test_comparisons_order_amounts_of_one_currency(parts: list[Money]) -> None:
    a, b = parts
    assert (a < b) == (a.amount < b.amount)
    assert (a <= b) == (a.amount <= b.amount)
    assert (a > b) == (a.amount > b.amount)
    assert (a >= b) == (a.amount >= b.amount)
    assert a.min(b).amount == min(a.amount, b.amount)
    assert a.max(b).amount == max(a.amount, b.amount)


MIXING: list[Callable[[Money, Money], Any]] = [
    operator.add,
    operator.sub,
    operator.lt,
    operator.le,
    operator.gt,
    operator.ge,
    Money.min,
    Money.max,
    lambda a, b: total([a, b], a.currency),
]


@FAST
@given(a=money(), b=money(), op=st.sampled_from(MIXING))
def test_mixing_currencies_is_refused(
    a: Money, b: Money, op: Callable[[Money, Money], Any]
) -> None:
    if a.currency == b.currency:
        b = Money.of(
            b.amount,
            next(
                c
                for c in CURRENCIES
                if c != a.currency and MINOR_UNITS[c] == MINOR_UNITS[b.currency]
            ),
        )
    with pytest.raises(CurrencyMismatchError) as refused:
        op(a, b)
    assert {refused.value.left, refused.value.right} == {a.currency, b.currency}
    assert isinstance(refused.value, DomainError)


def test_combining_money_with_a_bare_number_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        Money.of("1.00", "EUR") + Decimal("1.00")  # type: ignore[operator]


# ---- what is refused ----------------------------------------------------------------------


@FAST
@given(amount=st.floats(allow_nan=False, allow_infinity=False), currency=currencies)
def test_a_float_is_never_accepted_as_money(amount: float, currency: str) -> None:
    with pytest.raises(InvalidMoneyError):
        Money.of(amount, currency)  # type: ignore[arg-type]
    with pytest.raises(InvalidMoneyError):
        Money(amount, currency)  # type: ignore[arg-type]
    with pytest.raises(InvalidMoneyError):
        Money.of("1", currency).times(amount)  # type: ignore[arg-type]


@FAST
@given(code=st.text(max_size=5).filter(lambda code: code not in MINOR_UNITS))
def test_an_unknown_currency_is_refused(code: str) -> None:
    with pytest.raises(InvalidMoneyError):
        Money.of("1.00", code)
    with pytest.raises(InvalidMoneyError):
        Money.zero(code)


@pytest.mark.parametrize(
    ("code", "places"),
    [("IDR", 2), ("VND", 0), ("MYR", 2), ("PHP", 2), ("TRY", 2), ("CLP", 0), ("JOD", 3),
     ("UYW", 4), ("ISK", 0), ("KRW", 0)],
)
def test_every_active_iso_4217_currency_is_known_with_its_minor_unit(code: str,
                                                                     places: int) -> None:
    assert MINOR_UNITS[code] == places
    assert Money.zero(code).amount == Decimal(0).scaleb(-places)


@pytest.mark.parametrize("code", ["XAU", "XDR", "XTS", "XXX"])
def test_codes_without_a_minor_unit_are_not_money_a_refund_can_be_paid_in(code: str) -> None:
    with pytest.raises(InvalidMoneyError, match="unknown currency"):
        Money.of("1", code)


def test_the_currency_list_is_the_full_iso_4217_list() -> None:
    assert len(MINOR_UNITS) > 150


@pytest.mark.parametrize("code", ["eur", "EURO", "XXX", "", " EUR", "BTC"])
def test_a_currency_code_must_be_an_exact_iso_4217_code(code: str) -> None:
    with pytest.raises(InvalidMoneyError):
        Money.of("1.00", code)


@pytest.mark.parametrize(
    "amount",
    [
        "NaN",
        "sNaN",
        "Infinity",
        "-Infinity",
        "1,00",
        "abc",
        "",
        None,
        [],
        Decimal("NaN"),
        Decimal("Infinity"),
    ],
)
def test_an_amount_that_is_not_a_finite_decimal_is_refused(amount: Any) -> None:
    with pytest.raises(InvalidMoneyError):
        Money.of(amount, "EUR")


HUGE = "9" * 26 + ".99"  # 28 significant digits: still a valid amount


def test_the_largest_amount_the_decimal_context_holds_is_still_money() -> None:
    assert str(Money.of(HUGE, "EUR").amount) == HUGE


@pytest.mark.parametrize(
    "make",
    [
        lambda: Money.of("1e26", "EUR"),
        lambda: Money.of(HUGE, "EUR") + Money.of(HUGE, "EUR"),
        lambda: Money.of(HUGE, "EUR").times(10),
    ],
    ids=["parse", "add", "times"],
)
def test_money_too_large_for_the_decimal_context_is_refused_as_invalid_money(
    make: Callable[[], Money],
) -> None:
    with pytest.raises(InvalidMoneyError):
        make()


# ---- allocation ---------------------------------------------------------------------------

weights = st.lists(
    st.one_of(
        st.integers(min_value=0, max_value=10**6).map(Decimal),
        st.decimals(min_value=0, max_value=10**4, places=3, allow_nan=False, allow_infinity=False),
    ),
    min_size=1,
    max_size=12,
).filter(lambda ws: sum(ws, Decimal(0)) > 0)


@FAST
@given(whole=money(min_value=0, max_value=10**9), ws=weights)
def test_allocated_parts_add_up_exactly_and_stay_within_a_minor_unit_of_the_share(
    whole: Money, ws: list[Decimal]
) -> None:
    parts = whole.allocate(ws)
    unit = Fraction(1, 10 ** MINOR_UNITS[whole.currency])
    weight_sum = sum((Fraction(w) for w in ws), Fraction(0))

    assert len(parts) == len(ws)
    assert all(p.currency == whole.currency for p in parts)
    assert total(parts, whole.currency) == whole
    for part, weight in zip(parts, ws, strict=True):
        exact_share = Fraction(whole.amount) * Fraction(weight) / weight_sum
        assert abs(Fraction(part.amount) - exact_share) < unit
        assert not part.is_negative()
        if weight == 0:
            assert part.is_zero()


@FAST
@given(whole=money(min_value=0, max_value=10**9), n=st.integers(min_value=1, max_value=12))
def test_equal_weights_split_into_parts_at_most_one_minor_unit_apart(whole: Money, n: int) -> None:
    parts = whole.allocate([Decimal(1)] * n)
    unit = Decimal(1).scaleb(-MINOR_UNITS[whole.currency])
    assert max(p.amount for p in parts) - min(p.amount for p in parts) <= unit
    assert total(parts, whole.currency) == whole


@pytest.mark.parametrize(
    "ws",
    [
        [],
        [Decimal(0)],
        [Decimal(0), Decimal(0)],
        [Decimal(1), Decimal(-1), Decimal(2)],
        [Decimal(-1)],
    ],
)
def test_allocation_needs_non_negative_weights_with_a_positive_sum(ws: list[Decimal]) -> None:
    with pytest.raises(InvalidMoneyError):
        Money.of("10.00", "EUR").allocate(ws)


def test_a_discount_is_split_by_the_largest_remainders() -> None:
    parts = Money.of("1.00", "EUR").allocate([Decimal(1), Decimal(2)])
    assert [p.amount for p in parts] == [Decimal("0.33"), Decimal("0.67")]
    parts = Money.of("100", "JPY").allocate([Decimal(1)] * 3)
    assert sorted(p.amount for p in parts) == [Decimal(33), Decimal(33), Decimal(34)]


@settings(max_examples=200, deadline=None)
@given(whole=money(min_value=0, max_value=10**6), ws=weights)
def test_allocating_a_negative_amount_mirrors_allocating_the_positive_one(
    whole: Money, ws: list[Decimal]
) -> None:
    assert [-p for p in whole.allocate(ws)] == (-whole).allocate(ws)
