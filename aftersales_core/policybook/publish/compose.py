"""Writing the customer-facing policy from a book: the same settings the policies enforce.

Every figure comes from the book (windows, exclusions, refund times, who pays return shipping,
returnless thresholds, restocking fee, approval thresholds, service levels, calendars, the
escalation ladder); what the law fixes (which markets have a withdrawal right, what a refund is
made of, how priorities are set) from the same policy settings the engine uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal, TypeVar

from aftersales_core.policies.calendar import MARKET_ZONES
from aftersales_core.policies.categories import CATEGORIES
from aftersales_core.policies.complaint_triage import SETTINGS_V2 as TRIAGE
from aftersales_core.policies.markets import EU_GROUP, MARKETS
from aftersales_core.policies.periods import Length
from aftersales_core.policies.return_eligibility_v3_settings import (
    CUSTOMS_APPLICATION,
    CUSTOMS_ARRIVAL,
)
from aftersales_core.policies.vocabulary import CN_MARKET, EU_MARKETS
from aftersales_core.policybook.fields import PRIORITIES, WEEKDAYS, Priority
from aftersales_core.policybook.model import Book, Calendar, Windows
from aftersales_core.policybook.publish.chinese import CHINESE
from aftersales_core.policybook.publish.english import ENGLISH
from aftersales_core.policybook.publish.phrases import Phrases
from aftersales_core.policybook.publish.render import (
    Block,
    Bullets,
    Document,
    Section,
    Table,
    markdown,
    to_html,
)

LANGUAGES = {"en": ENGLISH, "zh-CN": CHINESE}
Format = Literal["md", "html"]
FAULTY_WORDING = {"EU": "eu_guarantee", "GB": "uk_reject"}
EN_DASH = "\u2013"
T = TypeVar("T")


@dataclass(frozen=True)
class Source:
    """Which book version the text is written from (version 0: the built-in settings)."""

    version: int
    book_hash: str
    set_on: date | None


def _published(entries: Mapping[str, T]) -> dict[str, T]:
    """The entries an order's market can take. A version stored before market keys had to be
    assigned codes may hold others (``UK``, ``XX``): no order the boundary takes has such a
    market, so they are kept (its decisions re-run with them) but not published."""
    return {key: entry for key, entry in entries.items() if key == EU_GROUP or key in MARKETS}


def _rest(p: Phrases, others: object) -> str:
    """The default's row: "all other markets", or "all markets" when none has its own."""
    return p.t("other_markets") if others else p.t("all_markets")


def _percent(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f}%"


def _money(amount: Decimal, currency: str) -> str:
    return f"{currency} {amount}"


def _returns(book: Book, p: Phrases) -> Section:
    returns = book.returns
    rows: list[list[str]] = []

    def no_returns(windows: Windows) -> bool:
        return windows.no_fault.days == 0 and not windows.no_fault.years

    def cells(key: str, windows: Windows) -> list[str]:
        no_fault = p.t("no_returns") if no_returns(windows) else \
            p.t("after_delivery", length=p.length(windows.no_fault))
        fault = p.t(FAULTY_WORDING.get(key, "after_delivery"), length=p.length(windows.fault))
        return [no_fault, fault]

    # China's cross-border clocks apply whatever the book: from the entry that applies to CN
    # (its own, else the default), each clock it leaves out the built-in one, as the engine
    # has them (bindings.py)
    markets = _published(returns.markets)
    china = markets.get(CN_MARKET, returns.default)
    customs = p.length(china.cross_border or CUSTOMS_APPLICATION)
    cross_border = [p.t("cn_cross_border"),
                    p.t("no_returns") if no_returns(china) else
                    p.t("cn_cross_no_fault", length=p.length(china.no_fault), customs=customs),
                    p.t("cn_cross_fault", customs=customs)]
    for key, windows in markets.items():
        name = p.t("cn_domestic") if key == CN_MARKET else p.market(key)
        rows.append([name, *cells(key, windows)])
        if key == CN_MARKET:
            rows.append(cross_border)
    if CN_MARKET not in markets:
        rows.append(cross_border)
    rows.append([_rest(p, markets), *cells("default", returns.default)])
    blocks: list[Block] = [p.t("returns_intro"),
                           Table([p.t("col_market"), p.t("col_no_fault"), p.t("col_fault")],
                                 rows), p.t("counting")]
    special = [p.t("reason_window", market=p.market(key), reason=p.reasons[reason],
                   length=p.length(length))
               for key, windows in [*markets.items(), ("default", returns.default)]
               for reason, length in windows.reasons.items()]
    special = [s.replace(p.market("default"), _rest(p, markets)) for s in special]
    if special:
        blocks.append(Bullets(special))
    blocks += [p.t("outcomes"), p.t("ship_back", length=p.length(returns.ship_back))]
    blocks.append(p.t("bonded", length=p.length(china.bonded_return or CUSTOMS_ARRIVAL)))
    return Section(p.t("returns"), blocks)


def _conditions(book: Book, p: Phrases) -> Section:
    excluded = [CATEGORIES[name] for name in book.returns.excluded_categories]
    items = []
    for category in excluded:
        label = p.categories[category.name]
        if category.exclusion == "unless_sealed":
            items.append(p.t("excluded_sealed", label=label))
        elif category.exclusion == "none":
            items.append(p.t("excluded_not_everywhere", label=label))
        else:
            items.append(label)
    blocks: list[Block] = []
    if items:
        blocks += [p.t("excluded_intro"), Bullets(items)]
    accepted = [p.categories[c.name] for c in CATEGORIES.values()
                if c.exclusion != "none" and c.name not in book.returns.excluded_categories]
    if accepted:
        blocks.append(p.t("accepted", labels=p.join(accepted)))
    blocks.append(p.t(f"unclassified_{book.returns.unclassified}"))
    blocks.append(Bullets([p.t("cn_intact"), p.t("withdrawal_value"), p.t("confirmed")]))
    return Section(p.t("conditions"), blocks)


def _refunds(book: Book, p: Phrases) -> Section:
    rows = []
    markets = _published(book.refunds.markets)
    # an EU or UK withdrawal is refunded counting from the notice whatever term applies
    # (eligibility, deadlines): without an entry of its own it takes the default's, in a row of
    # its own, so that the default's row ("of receiving the returned goods") is not read as
    # theirs
    implicit = [(key, book.refunds.default) for key in ("EU", "GB") if key not in markets]
    for key, term in [*markets.items(), *implicit, ("default", book.refunds.default)]:
        name = _rest(p, markets or implicit) if key == "default" else p.market(key)
        if term.working_days is not None:
            when = p.t("refund_working", days=term.working_days)
        elif key in ("EU", "GB") or key in EU_MARKETS:
            when = p.t("refund_withdrawal", length=p.length(Length(days=term.days or 0)))
        else:
            when = p.t("refund_received", length=p.length(Length(days=term.days or 0)))
        rows.append([name, when])
    restocking = book.restocking
    components = [p.t("c_items"), p.t("c_shipping"), p.t("c_taxes")]
    if restocking.rate and restocking.grades:
        grades = [p.t("grade", grade=g) for g in sorted(restocking.grades)]
        components.append(p.t("c_restocking", rate=_percent(restocking.rate),
                              grades=p.join_or(grades)))
    components += [p.t("c_return_shipping"), p.t("c_goodwill")]
    limits = [_money(book.approval.thresholds[c], c) for c in book.currencies]
    return Section(p.t("refunds"), [
        p.t("refunds_intro"), Table([p.t("col_market"), p.t("col_refund_time")], rows),
        p.t("components_intro"), Bullets(components), p.t("approval", limits=p.join(limits))])


def _shipping(book: Book, p: Phrases) -> Section:
    markets = _published(book.return_shipping.markets)
    rules = [*markets.items(), ("default", book.return_shipping.default)]
    rows = [[_rest(p, markets) if key == "default" else p.market(key),
             p.payers[payer]] for key, payer in rules]
    floors = [_money(book.returnless.value_floors[c], c) for c in book.currencies
              if c in book.returnless.value_floors]
    # either alternative makes a refund returnless; each currency's floor is its own
    floor_words = p.t("returnless_floors", floors=p.join_or(floors)) if floors else ""
    return Section(p.t("shipping"), [
        p.t("shipping_fault"), Table([p.t("col_market"), p.t("col_payer")], rows),
        p.t("returnless", share=_percent(book.returnless.share), floors=floor_words)])


def _means(priority: str, p: Phrases) -> str:
    if priority == "P3":
        return p.t("means_p3")
    categories = TRIAGE.p1_categories if priority == "P1" else TRIAGE.p2_categories
    channels = TRIAGE.p1_channels if priority == "P1" else TRIAGE.p2_channels
    parts = []
    if categories:
        parts.append(p.t("means_category", categories=p.join_or(
            [p.complaint_categories[c] for c in sorted(categories)])))
    if channels:
        parts.append(p.t("means_channel", channels=p.join_or(
            [p.channels[c] for c in sorted(channels)])))
    joined = p.join(parts)
    if priority == "P1":
        return p.t("means_p1", items=joined)
    return p.t("means_p2", items=joined, repeat=p.ordinal(TRIAGE.repeat_complainer + 1))


def _lowest_priority(channel: str) -> Priority:
    """The priority a complaint on this channel gets at the least."""
    if channel in TRIAGE.p1_channels:
        return "P1"
    return "P2" if channel in TRIAGE.p2_channels else "P3"


def _days(days: list[str], p: Phrases) -> str:
    """Working days in order, a run of three or more as a range ("Monday to Friday")."""
    ordered = [d for d in WEEKDAYS if d in days]
    indexes = [WEEKDAYS.index(d) for d in ordered]
    if len(ordered) >= 3 and indexes == list(range(indexes[0], indexes[-1] + 1)):
        return p.t("day_range", first=p.weekdays[ordered[0]], last=p.weekdays[ordered[-1]])
    return p.join([p.weekdays[d] for d in ordered])


def _calendar_row(key: str, calendar: Calendar, p: Phrases, others: bool,
                  with_hours: bool) -> list[str]:
    name = _rest(p, others) if key == "default" else p.market(key)
    zone = calendar.zone or MARKET_ZONES.get(key) or p.t("local_time")
    hours = p.t("hours_zone", hours=calendar.hours.replace("-", EN_DASH), zone=zone)
    days = p.t("usual_week") if calendar.working_days is None else _days(
        list(calendar.working_days), p)
    if calendar.open:  # the engine counts them as working days, holiday or weekend alike
        days += p.t("open_days", days=p.join([d.isoformat() for d in sorted(calendar.open)]))
    closed = p.t("public_holidays") if calendar.public_holidays else p.t("no_holidays")
    if calendar.closed:
        closed += p.t("closed_days", days=p.join([d.isoformat()
                                                  for d in sorted(calendar.closed)]))
    return [name, hours, days, closed] if with_hours else [name, days, closed]


def _complaints(book: Book, p: Phrases) -> Section:
    sla = book.complaints
    blocks: list[Block] = []
    if book.support:
        blocks += [p.t("channels_intro"),
                   Bullets([p.t("support_line", channel=p.channels[c], where=where)
                            for c, where in book.support.items()])]
    else:
        blocks.append(p.t("channels_none"))
    rows = [[p.t(priority.lower()), _means(priority, p),
             p.hours(sla.first_response_hours[priority]),
             p.hours(sla.resolution_hours[priority])] for priority in PRIORITIES]
    blocks += [p.t("times_intro"), Table([p.t("col_priority"), p.t("col_means"),
                                          p.t("col_first"), p.t("col_resolution")], rows)]
    faster: dict[int, list[str]] = {}
    for channel, hours in sla.channel_first_response_hours.items():
        if hours < sla.first_response_hours[_lowest_priority(channel)]:
            faster.setdefault(hours, []).append(p.channels[channel])
    blocks += [p.t("channel_faster", channels=p.join(names), hours=p.hours(hours))
               for hours, names in sorted(faster.items())]
    uses_working_days = any(t.working_days for t in [book.refunds.default,
                                                     *_published(book.refunds.markets).values()])
    if sla.clock == "business":
        blocks.append(p.t("clock_business"))
    else:
        blocks.append(p.t("clock_calendar"))
    if sla.clock == "business" or uses_working_days:
        markets = _published(book.calendars.markets)
        calendars = [*markets.items(), ("default", book.calendars.default)]
        business = sla.clock == "business"
        header = [p.t("col_market"), *([p.t("col_hours")] if business else []),
                  p.t("col_days"), p.t("col_holidays")]
        blocks.append(Table(header, [_calendar_row(key, cal, p, bool(markets),
                                                   business) for key, cal in calendars]))
        if uses_working_days:
            opens = any(cal.open for _, cal in calendars)
            blocks.append(p.t("working_days_note_open" if opens else "working_days_note"))
    if sla.pause_while_waiting_on_customer:
        blocks.append(p.t("pause"))
    return Section(p.t("complaints"), blocks)


def _escalation(book: Book, p: Phrases) -> Section:
    ladder = p.steps([p.levels[level] for level in book.escalation.complaint_ladder])
    return Section(p.t("escalation"), [
        p.t("ladder", ladder=ladder),
        p.t("escalated", hours=p.hours(book.escalation.escalated_resolution_hours)),
        p.t("authorities")])


def compose(book: Book, phrases: Phrases, source: Source) -> Document:
    merchant = book.merchant_name
    short = source.book_hash.removeprefix("sha256:")[:12]
    if source.version == 0 or source.set_on is None:
        origin = phrases.t("footer_builtin", hash=short)
    else:
        origin = phrases.t("footer_source", merchant=merchant, version=source.version,
                           hash=short, date=source.set_on.isoformat())
    footer = [origin, phrases.t("footer_rights")]
    return Document(
        lang=phrases.lang, title=phrases.t("title", merchant=merchant),
        intro=[phrases.t("intro", merchant=merchant)],
        sections=[_returns(book, phrases), _conditions(book, phrases),
                  _refunds(book, phrases), _shipping(book, phrases),
                  _complaints(book, phrases), _escalation(book, phrases)],
        footer=footer)


def publish(book: Book, lang: str, fmt: Format, source: Source) -> str:
    """The customer-facing policy of the book, in ``lang`` (en, zh-CN) as Markdown or HTML."""
    if lang not in LANGUAGES:
        raise ValueError(f"no published policy in {lang!r}: {', '.join(LANGUAGES)}")
    document = compose(book, LANGUAGES[lang], source)
    return markdown(document) if fmt == "md" else to_html(document)
