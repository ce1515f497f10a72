"""The published product category vocabulary, applied where order lines enter the system.

A line's ``category`` that names a canonical category or one of its aliases is stored under the
canonical name (``Newspapers``, ``报纸`` or ``newspapers`` in full-width letters ->
``newspapers_periodicals``: names are compared after NFKC and case folding, words joined by
``_``); any other category is kept as given and the policies classify it as ``unclassified``
(the merchant default applies). The vocabulary itself is data of the policies
(``aftersales_core/policies/categories.py``); this module publishes it as
``schemas/json/vocabulary/categories.schema.json``."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema

from aftersales_core.policies.categories import (
    ALIASES,
    CATEGORIES,
    UNCLASSIFIED,
    canonical_name,
)
from schemas.common import check_identifier
from schemas.limits import IDENT_PATTERN

VOCABULARY_ID = "urn:aftersales:schema:vocabulary:categories"
RULES = {
    "none": "the standard return rules of the market",
    "always": "not returnable without a fault (CN 7-day no-reason return, EU/UK withdrawal, "
              "merchant policy); faulty goods are always returnable",
    "unless_sealed": "returnable without a fault only with its seal unbroken",
}


def normalise_category(value: str) -> str:
    """The canonical name of a known category or alias; anything else as given."""
    return canonical_name(value) or value


def vocabulary_schema() -> dict[str, Any]:
    """The vocabulary as a JSON Schema: one ``const`` per category, with its return rule."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": VOCABULARY_ID,
        "title": "Product category",
        "description": "The canonical product categories. An order line may name one of these "
                       "or an alias (x-aliases), which is stored under the canonical name; "
                       "names are compared after Unicode NFKC normalisation and case folding, "
                       "with every run of characters other than letters, digits and marks "
                       "read as one '_' (so 'Custom-made', its full-width form and "
                       "'custom_made' are one name, '报纸' is itself); any "
                       f"other category is kept as given and treated as {UNCLASSIFIED!r}: the "
                       "merchant default applies (returnable under the standard rules).",
        "oneOf": [{"const": c.name, "title": c.label, "description": RULES[c.exclusion]}
                  for c in CATEGORIES.values()],
        "x-aliases": dict(sorted(ALIASES.items())),
    }


Category = Annotated[
    str,
    Field(min_length=1, max_length=100),
    BeforeValidator(check_identifier),
    AfterValidator(normalise_category),
    WithJsonSchema({
        "type": "string", "minLength": 1, "maxLength": 100, "pattern": IDENT_PATTERN,
        "description": "a product category of the published vocabulary "
                       f"({VOCABULARY_ID}) or one of its aliases; any other value is kept "
                       f"and classified {UNCLASSIFIED!r}",
        "examples": sorted(CATEGORIES),
    }),
]
