"""The category vocabulary at the boundary: aliases become canonical names, unknown categories
are kept as given (the policies classify them as unclassified), and the published vocabulary
lists every canonical category."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from aftersales_core.policies.categories import ALIASES, CATEGORIES
from schemas.categories import vocabulary_schema
from schemas.inbound import ANY_INBOUND
from tests.factories import order_placed


def line_category(category: str) -> str:
    lines = [{"line_id": "1", "sku": "X", "category": category, "quantity": 1,
              "unit_price": "10.00"}]
    message = ANY_INBOUND.validate_python(order_placed("o-1", lines=lines))
    return message.lines[0].category  # type: ignore[union-attr]


@pytest.mark.parametrize(("given", "stored"), [
    ("Newspapers", "newspapers_periodicals"), ("custom-made", "custom_made"),
    ("digital_downloads", "digital_download"), ("Health Beauty", "cosmetics"),
    ("cosmetics", "cosmetics"), ("widgets", "widgets"), ("Postage", "Postage"),
    ("报纸", "newspapers_periodicals"), ("報刊雜誌", "newspapers_periodicals"),
    ("定制商品", "custom_made"), ("生鲜", "perishable"), ("鲜花", "perishable"),
    ("ｎｅｗｓｐａｐｅｒｓ", "newspapers_periodicals"),  # noqa: RUF001
    ("未知品类", "未知品类"),
])
def test_aliases_are_stored_under_their_canonical_name_and_others_as_given(given: str,
                                                                          stored: str) -> None:
    assert line_category(given) == stored


def test_a_category_with_a_space_at_either_end_is_refused_naming_it() -> None:
    """Categories are identifiers: "  Postage " was kept as given, beside "Postage"."""
    with pytest.raises(ValidationError) as refused:
        line_category("  Postage ")
    assert "category" in str(refused.value)


def test_the_published_vocabulary_lists_every_category_and_alias() -> None:
    schema = vocabulary_schema()
    assert [c["const"] for c in schema["oneOf"]] == list(CATEGORIES)
    assert schema["x-aliases"] == dict(sorted(ALIASES.items()))
