"""The product category vocabulary: one published list, its aliases, and the return rule each
category carries.

Upstream systems name categories their own way (``newspapers``, ``Custom-made``,
``cds_dvds_musicals``); the boundary (``schemas/``) maps known aliases to their canonical name,
and the policies classify whatever they are given the same way, so an order stored before the
mapping existed is judged alike. A category that is neither canonical nor an alias is
*unclassified*: it is kept as given on the order, and the policy records that it applied the
merchant's default to it, never a silent "no match".

Changing this vocabulary changes decisions: it is part of the settings of a policy version.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Literal

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
# the canonical categories, after normalisation (lower case, words joined by "_").
ALIASES: Mapping[str, str] = MappingProxyType({
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
def normalise(text: str) -> str:
    """``"Custom-made "`` -> ``"custom_made"``: lower case, words joined by one underscore."""
    return re.sub(r"[^0-9a-z]+", "_", text.strip().lower()).strip("_")


@dataclass(frozen=True)
class Classified:
    """What a given category means: its canonical category, or unclassified."""

    given: str
    category: Category | None  # None: unclassified
    via_alias: bool = False

    @property
    def name(self) -> str:
        return self.category.name if self.category else UNCLASSIFIED


def canonical_name(text: str) -> str | None:
    """The canonical name of a category or alias, or None when it is not in the vocabulary."""
    key = normalise(text)
    if key in CATEGORIES:
        return key
    return ALIASES.get(key)


def classify(text: str) -> Classified:
    key = normalise(text)
    if key in CATEGORIES:
        return Classified(text, CATEGORIES[key], via_alias=key != text)
    if key in ALIASES:
        return Classified(text, CATEGORIES[ALIASES[key]], via_alias=True)
    return Classified(text, None)
