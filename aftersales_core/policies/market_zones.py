"""The default time zone of every market ``calendar.MARKET_ZONES`` names none for,
generated once from tzdata's zone.tab by ``scripts/market_zones.py`` (do not edit by hand): the
market's zone, or for a market of several zones the one in which its day ends last, with the
others whose day starts at another moment (``SPANS``), where return.eligibility v6 counts a
period too, as it does ``zone_spans.MARKET_SPANS``. BV and HM, for which zone.tab names no zone
(uninhabited), have the nautical zone of their longitude.

Versioned data: a change here changes what return.eligibility v6, deadlines v6 and
complaint.triage v4 decide, so it comes with new versions."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

DEFAULT_ZONES: Mapping[str, str] = MappingProxyType({
    "AD": "Europe/Andorra", "AF": "Asia/Kabul", "AG": "America/Antigua", "AI": "America/Anguilla",
    "AL": "Europe/Tirane", "AM": "Asia/Yerevan", "AO": "Africa/Luanda", "AQ": "Antarctica/Palmer",
    "AS": "Pacific/Pago_Pago", "AW": "America/Aruba", "AX": "Europe/Mariehamn", "AZ": "Asia/Baku",
    "BA": "Europe/Sarajevo", "BB": "America/Barbados", "BD": "Asia/Dhaka",
    "BF": "Africa/Ouagadougou", "BH": "Asia/Bahrain", "BI": "Africa/Bujumbura",
    "BJ": "Africa/Porto-Novo", "BL": "America/St_Barthelemy", "BM": "Atlantic/Bermuda",
    "BN": "Asia/Brunei", "BO": "America/La_Paz", "BQ": "America/Kralendijk",
    "BS": "America/Nassau", "BT": "Asia/Thimphu", "BV": "Etc/GMT", "BW": "Africa/Gaborone",
    "BY": "Europe/Minsk", "BZ": "America/Belize", "CC": "Indian/Cocos", "CD": "Africa/Kinshasa",
    "CF": "Africa/Bangui", "CG": "Africa/Brazzaville", "CI": "Africa/Abidjan",
    "CK": "Pacific/Rarotonga", "CM": "Africa/Douala", "CO": "America/Bogota",
    "CR": "America/Costa_Rica", "CU": "America/Havana", "CV": "Atlantic/Cape_Verde",
    "CW": "America/Curacao", "CX": "Indian/Christmas", "DJ": "Africa/Djibouti",
    "DM": "America/Dominica", "DO": "America/Santo_Domingo", "DZ": "Africa/Algiers",
    "EC": "Pacific/Galapagos", "EG": "Africa/Cairo", "EH": "Africa/El_Aaiun",
    "ER": "Africa/Asmara", "ET": "Africa/Addis_Ababa", "FJ": "Pacific/Fiji",
    "FK": "Atlantic/Stanley", "FM": "Pacific/Chuuk", "FO": "Atlantic/Faroe",
    "GA": "Africa/Libreville", "GD": "America/Grenada", "GE": "Asia/Tbilisi",
    "GF": "America/Cayenne", "GG": "Europe/Guernsey", "GH": "Africa/Accra",
    "GI": "Europe/Gibraltar", "GL": "America/Thule", "GM": "Africa/Banjul", "GN": "Africa/Conakry",
    "GP": "America/Guadeloupe", "GQ": "Africa/Malabo", "GS": "Atlantic/South_Georgia",
    "GT": "America/Guatemala", "GU": "Pacific/Guam", "GW": "Africa/Bissau", "GY": "America/Guyana",
    "HM": "Etc/GMT-5", "HN": "America/Tegucigalpa", "HT": "America/Port-au-Prince",
    "IM": "Europe/Isle_of_Man", "IO": "Indian/Chagos", "IQ": "Asia/Baghdad", "IR": "Asia/Tehran",
    "JE": "Europe/Jersey", "JM": "America/Jamaica", "JO": "Asia/Amman", "KE": "Africa/Nairobi",
    "KG": "Asia/Bishkek", "KH": "Asia/Phnom_Penh", "KI": "Pacific/Tarawa", "KM": "Indian/Comoro",
    "KN": "America/St_Kitts", "KP": "Asia/Pyongyang", "KW": "Asia/Kuwait", "KY": "America/Cayman",
    "KZ": "Asia/Qyzylorda", "LA": "Asia/Vientiane", "LB": "Asia/Beirut", "LC": "America/St_Lucia",
    "LI": "Europe/Vaduz", "LK": "Asia/Colombo", "LR": "Africa/Monrovia", "LS": "Africa/Maseru",
    "LY": "Africa/Tripoli", "MA": "Africa/Casablanca", "MC": "Europe/Monaco",
    "MD": "Europe/Chisinau", "ME": "Europe/Podgorica", "MF": "America/Marigot",
    "MG": "Indian/Antananarivo", "MH": "Pacific/Majuro", "MK": "Europe/Skopje",
    "ML": "Africa/Bamako", "MM": "Asia/Yangon", "MN": "Asia/Hovd", "MP": "Pacific/Saipan",
    "MQ": "America/Martinique", "MR": "Africa/Nouakchott", "MS": "America/Montserrat",
    "MU": "Indian/Mauritius", "MV": "Indian/Maldives", "MW": "Africa/Blantyre",
    "MZ": "Africa/Maputo", "NA": "Africa/Windhoek", "NC": "Pacific/Noumea", "NE": "Africa/Niamey",
    "NF": "Pacific/Norfolk", "NG": "Africa/Lagos", "NI": "America/Managua", "NP": "Asia/Kathmandu",
    "NR": "Pacific/Nauru", "NU": "Pacific/Niue", "OM": "Asia/Muscat", "PA": "America/Panama",
    "PE": "America/Lima", "PF": "Pacific/Tahiti", "PG": "Pacific/Port_Moresby",
    "PK": "Asia/Karachi", "PM": "America/Miquelon", "PN": "Pacific/Pitcairn",
    "PR": "America/Puerto_Rico", "PS": "Asia/Gaza", "PW": "Pacific/Palau",
    "PY": "America/Asuncion", "QA": "Asia/Qatar", "RE": "Indian/Reunion", "RS": "Europe/Belgrade",
    "RW": "Africa/Kigali", "SB": "Pacific/Guadalcanal", "SC": "Indian/Mahe",
    "SD": "Africa/Khartoum", "SH": "Atlantic/St_Helena", "SJ": "Arctic/Longyearbyen",
    "SL": "Africa/Freetown", "SM": "Europe/San_Marino", "SN": "Africa/Dakar",
    "SO": "Africa/Mogadishu", "SR": "America/Paramaribo", "SS": "Africa/Juba",
    "ST": "Africa/Sao_Tome", "SV": "America/El_Salvador", "SX": "America/Lower_Princes",
    "SY": "Asia/Damascus", "SZ": "Africa/Mbabane", "TC": "America/Grand_Turk",
    "TD": "Africa/Ndjamena", "TF": "Indian/Kerguelen", "TG": "Africa/Lome", "TJ": "Asia/Dushanbe",
    "TK": "Pacific/Fakaofo", "TL": "Asia/Dili", "TM": "Asia/Ashgabat", "TN": "Africa/Tunis",
    "TO": "Pacific/Tongatapu", "TT": "America/Port_of_Spain", "TV": "Pacific/Funafuti",
    "TZ": "Africa/Dar_es_Salaam", "UA": "Europe/Kyiv", "UG": "Africa/Kampala",
    "UM": "Pacific/Midway", "UY": "America/Montevideo", "UZ": "Asia/Samarkand",
    "VA": "Europe/Vatican", "VC": "America/St_Vincent", "VE": "America/Caracas",
    "VG": "America/Tortola", "VI": "America/St_Thomas", "VU": "Pacific/Efate",
    "WF": "Pacific/Wallis", "WS": "Pacific/Apia", "YE": "Asia/Aden", "YT": "Indian/Mayotte",
    "ZM": "Africa/Lusaka", "ZW": "Africa/Harare",
})

SPANS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "AQ": (
        "Antarctica/McMurdo", "Antarctica/Casey", "Antarctica/Davis", "Antarctica/DumontDUrville",
        "Antarctica/Mawson", "Antarctica/Syowa", "Antarctica/Troll", "Antarctica/Vostok",
    ),
    "CD": ("Africa/Lubumbashi",),
    "EC": ("America/Guayaquil",),
    "FM": ("Pacific/Pohnpei", "Pacific/Kosrae"),
    "GL": ("America/Nuuk", "America/Danmarkshavn", "America/Scoresbysund"),
    "KI": ("Pacific/Kanton", "Pacific/Kiritimati"),
    "KZ": ("Asia/Almaty", "Asia/Qostanay"),
    "MN": ("Asia/Ulaanbaatar",),
    "PF": ("Pacific/Marquesas", "Pacific/Gambier"),
    "PG": ("Pacific/Bougainville",),
    "UA": ("Europe/Simferopol",),
    "UM": ("Pacific/Wake",),
})
