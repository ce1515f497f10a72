"""The published policy in English."""

from __future__ import annotations

from types import MappingProxyType

from aftersales_core.policies.categories import CATEGORIES
from aftersales_core.policies.periods import Length
from aftersales_core.policies.service_levels import whole_days
from aftersales_core.policybook.publish.phrases import Phrases


def _length(length: Length) -> str:
    return str(length)


def _hours(hours: int) -> str:
    days = whole_days(hours)  # as the engine counts a resolution target of days
    if days is not None:
        return f"{days} days"
    return f"{hours} hour{'s' if hours != 1 else ''}"


def _join(items: list[str], word: str = "and") -> str:
    if len(items) <= 2:
        return f" {word} ".join(items)
    return ", ".join(items[:-1]) + f" {word} " + items[-1]


def _join_or(items: list[str]) -> str:
    return _join(items, "or")


def _steps(items: list[str]) -> str:
    return "first to " + ", then to ".join(items)


def _ordinal(number: int) -> str:
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(
        number % 10, "th")
    return f"{number}{suffix}"


TEXT = MappingProxyType({
    "title": "{merchant}: after-sales policy",
    "intro": "This policy sets out how {merchant} handles returns, exchanges, repairs, refunds "
             "and complaints. It is written from the same rules our after-sales system applies "
             "to every case, so what you read here is what happens.",
    "counting": "Periods of days count calendar days from the day after the event (delivery, "
                "customs clearance or our receipt of the goods) and end at the end of their "
                "last day in your time zone.",
    "returns": "Returns and exchanges",
    "returns_intro": "You can ask to return goods within these periods after delivery:",
    "col_market": "Market",
    "col_no_fault": "Change of mind and other reasons",
    "col_fault": "Faulty, damaged, wrong or not as described",
    "after_delivery": "{length} from delivery",
    "no_returns": "no returns without a fault",
    "eu_guarantee": "{length} from delivery (legal guarantee)",
    "uk_reject": "{length} from delivery (right to reject; repair or replacement after that)",
    "cn_domestic": "China (orders shipped within China)",
    "cn_cross_border": "China, cross-border (bonded warehouse or direct mail)",
    "cn_cross_no_fault": "{length} from delivery, and no later than {customs} after customs "
                         "clearance",
    "cn_cross_fault": "{customs} from customs clearance",
    "other_markets": "All other markets",
    "all_markets": "All markets",
    "hours_zone": "{hours} ({zone})",
    "eu_markets": "EU member states",
    "reason_window": "{market}: returns because of \u201c{reason}\u201d within {length} from "
                     "delivery",
    "outcomes": "Instead of a refund you can ask for an exchange (another size, colour or "
                "model; a price difference is refunded to you or charged) or, for faulty goods, "
                "a repair.",
    "ship_back": "Please send the goods back within {length} of your request, unless we tell "
                 "you to keep them.",
    "bonded": "Cross-border returns to China must arrive back in the bonded zone within {length} "
              "of customs clearance. Then the cross-border tax is refunded and your annual "
              "cross-border shopping quota is restored; goods arriving later are refunded "
              "without the tax.",
    "conditions": "Conditions and exclusions",
    "excluded_intro": "These goods cannot be returned unless they are faulty:",
    "excluded_sealed": "{label}, once unsealed",
    "excluded_not_everywhere": "{label} (except where the law gives you a right to return "
                               "them: the EU, the UK and China)",
    "accepted": "We also accept returns of {labels}, although the law would let us refuse them.",
    "unclassified_returnable": "Goods of any other kind follow the standard rules above.",
    "unclassified_review": "Goods of a kind not named here are reviewed by our team before a "
                           "return is accepted.",
    "cn_intact": "China: goods returned without a reason must be complete and in their "
                 "original condition.",
    "withdrawal_value": "EU and UK: you may handle the goods as you would in a shop; if their "
                        "value is reduced by more handling than that, we may deduct the "
                        "difference.",
    "confirmed": "Goods you confirmed as non-returnable when you bought them can be returned "
                 "only if they are faulty.",
    "refunds": "Refunds",
    "refunds_intro": "We refund to your original payment method, in the currency you paid in, "
                     "within:",
    "col_refund_time": "Refunded within",
    "refund_withdrawal": "{length} of your withdrawal notice (we may wait until the goods, or "
                         "proof that you sent them, arrive); faulty goods: {length} of receiving "
                         "them",
    "refund_received": "{length} of receiving the returned goods",
    "refund_working": "{days} working days of receiving the returned goods",
    "components_intro": "A refund is made of:",
    "c_items": "the price of the goods returned, less their share of any order discount",
    "c_shipping": "the standard delivery charge you paid, when you withdraw in the EU or the UK, "
                  "when the goods are faulty, or when an order is cancelled",
    "c_taxes": "duties and taxes, when they follow the goods back",
    "c_restocking": "less a restocking fee of {rate} of the goods' price when returned goods "
                    "are graded {grades} at inspection; never when you withdraw under the law "
                    "of the EU, the UK or China, nor when the goods are faulty",
    "c_return_shipping": "less the return postage, when you pay it and used our label",
    "grade": "{grade}",
    "c_goodwill": "plus any goodwill payment we offered",
    "approval": "A refund is checked by a supervisor when, added to the order's other "
                "refunds, it comes to more than {limits} for the order; this never extends the "
                "times above.",
    "shipping": "Return shipping",
    "shipping_fault": "We pay the return shipping whenever the goods are faulty, damaged, "
                      "wrong, not as described or suspected counterfeit. For other returns:",
    "col_payer": "Return shipping paid by",
    "returnless": "When we pay the return shipping, we refund you without asking for the goods "
                  "back if returning them would cost more than {share} of the item's "
                  "value{floors}.",
    "returnless_floors": ", or if the item is worth less than {floors}",
    "complaints": "Complaints",
    "channels_intro": "You can reach our service desk through:",
    "channels_none": "You can complain through the channel you bought on, by email or by "
                     "phone.",
    "times_intro": "We answer and resolve complaints within these times:",
    "col_priority": "Priority",
    "col_means": "Applies to",
    "col_first": "First response",
    "col_resolution": "Resolution",
    "p1": "Urgent (P1)",
    "p2": "High (P2)",
    "p3": "Normal (P3)",
    "means_p1": "{items}",
    "means_p2": "{items}; or your {repeat} complaint or later",
    "means_p3": "all other complaints",
    "means_category": "complaints about {categories}",
    "means_channel": "complaints through {channels}",
    "support_line": "{channel}: {where}",
    "day_range": "{first} to {last}",
    "channel_faster": "Complaints through {channels}: first response within {hours}.",
    "clock_calendar": "Times count around the clock, every day.",
    "clock_business": "Times count in our business hours only:",
    "col_hours": "Business hours",
    "col_days": "Working days",
    "col_holidays": "Closed",
    "usual_week": "the usual working week of the market",
    "local_time": "local time",
    "public_holidays": "public holidays",
    "closed_days": "; also {days}",
    "no_holidays": "open on public holidays",
    "pause": "While we wait for information from you, the resolution clock stops, and it "
             "starts again when you reply.",
    "open_days": "; also {days}",
    "working_days_note": "Working days skip the weekend, public holidays and the days we are "
                         "closed, as listed here.",
    "working_days_note_open": "Working days skip the weekend, public holidays and the days we "
                              "are closed, and include the extra days we open, as listed here.",
    "escalation": "How to escalate",
    "ladder": "If we miss one of these times, your complaint moves up automatically: {ladder}. "
              "You can also ask us to escalate it: say so in a message about your complaint, "
              "and our team will move it up.",
    "escalated": "After a missed resolution time we resolve your complaint within a further "
                 "{hours}.",
    "authorities": "You can always turn to a consumer authority: in China the 12315 hotline "
                   "and platform of the market regulator, in the EU a European Consumer "
                   "Centre, in the UK Citizens Advice, in Brazil a Procon or consumidor.gov.br.",
    "footer_source": "Written from {merchant}'s policy book, version {version} ({hash}), "
                     "set on {date}: the same settings our after-sales system applies to your "
                     "case.",
    "footer_builtin": "Written from the built-in policy settings ({hash}): the same settings "
                      "our after-sales system applies to your case.",
    "footer_rights": "This policy does not limit your statutory rights.",
})

MARKETS = MappingProxyType({
    "EU": "EU member states", "GB": "United Kingdom", "CN": "China", "US": "United States",
    "BR": "Brazil", "JP": "Japan", "KR": "South Korea", "HK": "Hong Kong, China",
    "MO": "Macao, China", "TW": "Taiwan, China", "SG": "Singapore", "MY": "Malaysia",
    "TH": "Thailand", "VN": "Vietnam", "ID": "Indonesia", "PH": "Philippines", "IN": "India",
    "AE": "United Arab Emirates", "SA": "Saudi Arabia", "IL": "Israel", "TR": "Turkey",
    "AU": "Australia", "NZ": "New Zealand", "CA": "Canada", "MX": "Mexico", "AR": "Argentina",
    "CL": "Chile", "IE": "Ireland", "IS": "Iceland", "NO": "Norway", "CH": "Switzerland",
    "RU": "Russia", "ZA": "South Africa", "AT": "Austria", "BE": "Belgium", "BG": "Bulgaria",
    "HR": "Croatia", "CY": "Cyprus", "CZ": "Czechia", "DK": "Denmark", "EE": "Estonia",
    "FI": "Finland", "FR": "France", "DE": "Germany", "GR": "Greece", "HU": "Hungary",
    "IT": "Italy", "LV": "Latvia", "LT": "Lithuania", "LU": "Luxembourg", "MT": "Malta",
    "NL": "Netherlands", "PL": "Poland", "PT": "Portugal", "RO": "Romania", "SK": "Slovakia",
    "SI": "Slovenia", "ES": "Spain", "SE": "Sweden",
})

REASONS = MappingProxyType({
    "damaged": "damaged", "defective": "faulty", "wrong_item": "wrong item",
    "not_as_described": "not as described", "counterfeit_suspected": "suspected counterfeit",
    "changed_mind": "changed my mind", "no_longer_needed": "no longer needed",
    "doesnt_fit": "doesn't fit", "better_price_found": "found a better price",
    "arrived_late": "arrived late", "other": "other",
})

COMPLAINT_CATEGORIES = MappingProxyType({
    "logistics_delay": "late delivery", "damaged": "damaged goods",
    "not_as_described": "goods not as described", "counterfeit_suspected": "suspected "
    "counterfeit goods", "customs": "customs", "refund_delay": "a late refund",
    "service": "our service", "other": "anything else",
})

CHANNELS = MappingProxyType({
    "chat": "online chat", "phone": "phone", "email": "email", "platform": "the marketplace "
    "platform", "social": "social media", "regulator": "a regulator",
})

WEEKDAYS = MappingProxyType({"mon": "Monday", "tue": "Tuesday", "wed": "Wednesday",
                             "thu": "Thursday", "fri": "Friday", "sat": "Saturday",
                             "sun": "Sunday"})

LEVELS = MappingProxyType({"supervisor": "a supervisor",
                           "platform_arbitration": "the marketplace platform's arbitration",
                           "regulator": "the regulator"})

PAYERS = MappingProxyType({"buyer": "you", "merchant": "us",
                           "buyer_if_informed": "you, if we told you so before you ordered; "
                                                "otherwise us"})

ENGLISH = Phrases(lang="en", text=TEXT, markets=MARKETS,
                  categories=MappingProxyType({c.name: c.label for c in CATEGORIES.values()}),
                  reasons=REASONS, complaint_categories=COMPLAINT_CATEGORIES, channels=CHANNELS,
                  weekdays=WEEKDAYS, levels=LEVELS, payers=PAYERS, length=_length, hours=_hours,
                  join=_join, join_or=_join_or, steps=_steps, ordinal=_ordinal)
