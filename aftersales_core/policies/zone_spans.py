"""The zones a market's buyers live in, beyond its default (``calendar.MARKET_ZONES``): where an
event near midnight falls on another day than in the default zone.

The default zone is the one in which the market's day ends last, so a period counted there never
ends sooner on its last day; but an event in the first hours of a day further east is still the
day before there (a delivery at 00:30 in Madrid is 23:30 in the Canaries), and the period then
starts, and ends, a day early. ``return.eligibility`` v5 counts a buyer's period in each of the
market's zones and keeps the one that ends last. Only zones whose day starts at another moment
than the default's (on some day of the year) are listed; territories with their own ISO 3166
code (Puerto Rico, Guam, Réunion, Greenland...) are markets of their own.

Versioned data: a change here changes what v5 decides, so it comes with a new version."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

MARKET_SPANS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "ES": ("Europe/Madrid",),
    "PT": ("Europe/Lisbon",),
    "US": ("America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
           "America/Los_Angeles", "America/Anchorage", "America/Adak"),
    "CA": ("America/St_Johns", "America/Halifax", "America/Toronto", "America/Winnipeg",
           "America/Regina", "America/Edmonton"),
    "MX": ("America/Cancun", "America/Mexico_City", "America/Chihuahua", "America/Hermosillo",
           "America/Mazatlan"),
    "BR": ("America/Noronha", "America/Sao_Paulo", "America/Manaus"),
    "AU": ("Australia/Lord_Howe", "Australia/Sydney", "Australia/Brisbane",
           "Australia/Adelaide", "Australia/Darwin", "Australia/Eucla"),
    "CL": ("America/Santiago", "America/Punta_Arenas"),
    "NZ": ("Pacific/Chatham",),
    "ID": ("Asia/Makassar", "Asia/Jayapura"),
    "RU": ("Europe/Moscow", "Europe/Samara", "Asia/Yekaterinburg", "Asia/Omsk",
           "Asia/Novosibirsk", "Asia/Krasnoyarsk", "Asia/Irkutsk", "Asia/Yakutsk",
           "Asia/Vladivostok", "Asia/Magadan", "Asia/Kamchatka"),
})
