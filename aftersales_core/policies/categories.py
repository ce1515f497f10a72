"""The product category vocabulary: one published list, its aliases, and the return rule each
category carries.

Upstream systems name categories their own way (``newspapers``, ``Custom-made``,
``cds_dvds_musicals``, ``报纸``, ``newspapers`` in full-width letters); the boundary
(``schemas/``) maps known aliases to their canonical name, and the policies classify whatever
they are given the same way, so an order stored before the mapping existed is judged alike. A
category that is neither canonical nor an alias is *unclassified*: it is kept as given on the
order, and the policy records that it applied the merchant's default to it, never a silent "no
match".

Changing this vocabulary changes decisions, so it is versioned with the policies that read it:
``VOCABULARY_V1`` (ASCII names only: every other character separated words, so ``报纸`` had no
key at all) is what ``return.eligibility`` v2 and v3 classify with, and re-run with;
``VOCABULARY`` (names folded with NFKC and case folding, any script's letters kept, the Chinese
names of ``categories_zh.py``) is what the boundary and ``return.eligibility`` v4 use.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Literal

from aftersales_core.policies.categories_zh import CHINESE_NAMES

# How a category limits a return that is not the merchant's fault (faulty goods are always
# returnable): never, only while sealed, or not at all.
Exclusion = Literal["none", "unless_sealed", "always"]
UNCLASSIFIED = "unclassified"


@dataclass(frozen=True)
class Category:
    name: str
    label: str
    exclusion: Exclusion = "none"
    law: str = ""  # what the law excludes, for the excluded ones

    @property
    def rule(self) -> str:
        return f"category.{self.name}" if self.exclusion != "none" else "category.standard"


_EXCLUDED = (
    Category("custom_made", "custom-made or personalised goods", "always",
             "goods made to the buyer's specifications"),
    Category("perishable", "perishable goods (fresh food, flowers, live plants)", "always",
             "goods liable to deteriorate or expire rapidly"),
    Category("digital_download", "digital content delivered by download", "always",
             "digital content, once delivered,"),
    Category("audio_video_software", "audio, video recordings and software", "unless_sealed",
             "sealed recordings and software, once unsealed,"),
    Category("newspapers_periodicals", "newspapers, periodicals and magazines", "always",
             "newspapers and periodicals"),
)
_STANDARD = (
    Category("apparel", "clothing"), Category("shoes", "shoes"),
    Category("bags_accessories", "bags, luggage and accessories"),
    Category("jewellery_watches", "jewellery and watches"),
    Category("cosmetics", "cosmetics, perfume and personal care"),
    Category("health", "health products and supplements"), Category("baby", "baby products"),
    Category("toys", "toys and games"), Category("sports_outdoors", "sports and outdoors"),
    Category("electronics", "consumer electronics"), Category("computers", "computers"),
    Category("phones", "phones and accessories"), Category("home", "home and kitchen"),
    Category("furniture", "furniture"), Category("appliances", "household appliances"),
    Category("garden_tools", "garden, DIY and tools"), Category("books", "printed books"),
    Category("stationery", "stationery and office supplies"),
    Category("food_drink", "packaged food and drink (not perishable)"),
    Category("pet_supplies", "pet supplies"), Category("automotive", "automotive"),
    Category("musical_instruments", "musical instruments"),
    Category("gifts", "gifts, party and seasonal goods"),
    Category("art_collectibles", "art, crafts and collectibles"),
)
CATEGORIES: Mapping[str, Category] = MappingProxyType(
    {c.name: c for c in (*_EXCLUDED, *_STANDARD)}
)

# Common names of upstream systems (marketplaces, the UCI and Olist data, everyday words) for
# the canonical categories, after normalisation (lower case, words joined by "_"): vocabulary 1.
# Never change it (recorded decisions re-run with it); add aliases to vocabulary 2 below.
ALIASES_V1: Mapping[str, str] = MappingProxyType({
    # excluded categories
    "custom": "custom_made", "custommade": "custom_made", "made_to_order": "custom_made",
    "made_to_measure": "custom_made", "bespoke": "custom_made", "personalised": "custom_made",
    "personalized": "custom_made", "engraved": "custom_made",
    "perishables": "perishable", "fresh_food": "perishable", "fresh_produce": "perishable",
    "flowers": "perishable", "live_plants": "perishable", "groceries_fresh": "perishable",
    "digital_downloads": "digital_download", "digital": "digital_download",
    "digital_content": "digital_download", "download": "digital_download",
    "downloads": "digital_download", "ebook": "digital_download", "ebooks": "digital_download",
    "software_download": "digital_download",
    "unsealed_media": "audio_video_software", "media": "audio_video_software",
    "cds_dvds_musicals": "audio_video_software",
    "dvds_blu_ray": "audio_video_software", "cds": "audio_video_software",
    "dvds": "audio_video_software", "video_games": "audio_video_software",
    "software": "audio_video_software", "audio_video": "audio_video_software",
    "newspapers": "newspapers_periodicals", "newspaper": "newspapers_periodicals",
    "periodicals": "newspapers_periodicals", "magazines": "newspapers_periodicals",
    "magazine": "newspapers_periodicals",
    # standard categories (Olist's English names among them)
    "clothing": "apparel", "fashion": "apparel", "fashion_male_clothing": "apparel",
    "fashio_female_clothing": "apparel", "fashion_female_clothing": "apparel",
    "fashion_childrens_clothes": "apparel", "fashion_underwear_beach": "apparel",
    "fashion_sport": "apparel", "textiles": "home",
    "fashion_shoes": "shoes", "footwear": "shoes",
    "bags": "bags_accessories", "fashion_bags_accessories": "bags_accessories",
    "luggage_accessories": "bags_accessories",
    "jewellery": "jewellery_watches", "jewelry": "jewellery_watches",
    "watches_gifts": "jewellery_watches", "watches": "jewellery_watches",
    "beauty": "cosmetics", "health_beauty": "cosmetics", "perfumery": "cosmetics",
    "personal_care": "cosmetics", "diapers_and_hygiene": "baby",
    "toys_games": "toys", "consoles_games": "toys", "games": "toys",
    "sports_leisure": "sports_outdoors", "sports": "sports_outdoors",
    "audio": "electronics", "cine_photo": "electronics", "tablets_printing_image": "electronics",
    "signaling_and_security": "electronics", "air_conditioning": "appliances",
    "computers_accessories": "computers", "telephony": "phones", "fixed_telephony": "phones",
    "bed_bath_table": "home", "housewares": "home", "home_decor": "home", "kitchen": "home",
    "lighting": "home", "home_confort": "home", "home_comfort_2": "home",
    "la_cuisine": "home", "furniture_decor": "furniture", "office_furniture": "furniture",
    "furniture_living_room": "furniture", "furniture_bedroom": "furniture",
    "furniture_mattress_and_upholstery": "furniture",
    "kitchen_dining_laundry_garden_furniture": "furniture",
    "home_appliances": "appliances", "home_appliances_2": "appliances",
    "small_appliances": "appliances", "small_appliances_home_oven_and_coffee": "appliances",
    "garden": "garden_tools", "construction_tools_construction": "garden_tools",
    "costruction_tools_garden": "garden_tools", "costruction_tools_tools": "garden_tools",
    "construction_tools_lights": "garden_tools", "construction_tools_safety": "garden_tools",
    "home_construction": "garden_tools",
    "books_technical": "books", "books_general_interest": "books", "books_imported": "books",
    "food": "food_drink", "drinks": "food_drink", "pet_shop": "pet_supplies",
    "auto": "automotive", "seasonal": "gifts", "christmas_supplies": "gifts",
    "party_supplies": "gifts", "cool_stuff": "gifts", "art": "art_collectibles",
    "arts_and_craftmanship": "art_collectibles",
})


@lru_cache(maxsize=4096)  # a pure function of a small vocabulary, called for every line
def normalise_v1(text: str) -> str:
    """Vocabulary 1: ``"Custom-made "`` -> ``"custom_made"``; anything but ASCII letters and
    digits separates words, so a name in another script has the empty key (it is unclassified)."""
    return re.sub(r"[^0-9a-z]+", "_", text.strip().lower()).strip("_")


def _word_character(character: str) -> bool:
    """Letters and digits of any script, and the marks that belong to them."""
    return character.isalnum() or unicodedata.category(character).startswith("M")


def _fold_once(text: str) -> str:
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    words = "".join(c if _word_character(c) else "_" for c in folded)
    return re.sub(r"_+", "_", words).strip("_")


@lru_cache(maxsize=4096)  # a pure function of a small vocabulary, called for every line
def normalise(text: str) -> str:
    """``"Custom-made "`` and its full-width form -> ``"custom_made"``; ``"报纸"`` stays:
    NFKC (full-width and other compatibility forms become plain ones) and case folding, then
    words (letters and digits of any script, with their marks) joined by one underscore.
    Folded until nothing changes, so a key normalises to itself."""
    key = _fold_once(text)
    for _ in range(8):  # one more fold changes a key only for exotic compatibility characters
        again = _fold_once(key)
        if again == key:
            break
        key = again
    return key


def _chinese_aliases() -> dict[str, str]:
    """The Chinese names as keys; refuses a name that would mean two categories."""
    found: dict[str, str] = {}
    for category, names in CHINESE_NAMES.items():
        for name in names:
            key = normalise(name)
            taken = found.get(key) or ALIASES_V1.get(key) or (key if key in CATEGORIES else None)
            if category not in CATEGORIES or not key or taken not in (None, category):
                raise ValueError(f"the category name {name!r} is not an alias of {category} "
                                 f"alone (its key {key!r} means {taken})")
            found[key] = category
    return found


# Vocabulary 2: vocabulary 1's aliases and the Chinese names (Simplified and Traditional).
ALIASES: Mapping[str, str] = MappingProxyType({**ALIASES_V1, **_chinese_aliases()})


@dataclass(frozen=True)
class Classified:
    """What a given category means: its canonical category, or unclassified."""

    given: str
    category: Category | None  # None: unclassified
    via_alias: bool = False

    @property
    def name(self) -> str:
        return self.category.name if self.category else UNCLASSIFIED


@dataclass(frozen=True)
class Vocabulary:
    """One version of the vocabulary: how a name becomes a key, and the aliases it knows."""

    version: int
    key: Callable[[str], str]
    aliases: Mapping[str, str]

    def canonical_name(self, text: str) -> str | None:
        """The canonical name of a category or alias, or None when it is not in the
        vocabulary."""
        key = self.key(text)
        if key in CATEGORIES:
            return key
        return self.aliases.get(key)

    def classify(self, text: str) -> Classified:
        key = self.key(text)
        if key in CATEGORIES:
            return Classified(text, CATEGORIES[key], via_alias=key != text)
        if key in self.aliases:
            return Classified(text, CATEGORIES[self.aliases[key]], via_alias=True)
        return Classified(text, None)


VOCABULARY_V1 = Vocabulary(1, normalise_v1, ALIASES_V1)
VOCABULARY = Vocabulary(2, normalise, ALIASES)


def canonical_name(text: str) -> str | None:
    """The canonical name of a category or alias in the current vocabulary, or None."""
    return VOCABULARY.canonical_name(text)


def classify(text: str) -> Classified:
    """What ``text`` means in the current vocabulary."""
    return VOCABULARY.classify(text)
