"""The published policy: written from the book the engine enforces, in English and Simplified
Chinese, as Markdown or HTML; golden texts for the built-in and the demo merchants' books."""

from __future__ import annotations

import re
from datetime import date

import pytest

from aftersales_core.policybook.bindings import eligibility_v3, service_levels
from aftersales_core.policybook.documents import validate
from aftersales_core.policybook.publish.compose import Source, publish
from aftersales_core.policybook.rulebook import PLATFORM_BOOK, Rulebook
from tests.unit.policybook import golden
from tests.unit.policybook.books import DELETE, book, document

SOURCE = Source(3, "sha256:" + "ab" * 32, date(2026, 11, 30))


@pytest.mark.parametrize(("name", "lang", "fmt"), golden.CASES)
def test_the_published_policy_is_the_golden_text(name: str, lang: str, fmt: str) -> None:
    expected = golden.path(name, lang, fmt).read_text(encoding="utf-8")
    assert golden.render(name, lang, fmt) == expected


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_what_the_book_says_is_what_is_published(lang: str) -> None:
    text = publish(book(**{"returns.markets.EU.no_fault": "30 days",
                           "approval.thresholds.EUR": "275.50", "restocking.rate": "0.125",
                           "complaints.resolution_hours.P3": 100}), lang, "md", SOURCE)
    assert ("30 days from delivery" if lang == "en" else "签收后30天内") in text
    assert "EUR 275.50" in text and "12.5%" in text
    assert ("100 hours" if lang == "en" else "100小时") in text
    assert "abababababab" in text


def test_the_chinese_text_is_chinese_and_the_english_english() -> None:
    zh = publish(book(), "zh-CN", "md", SOURCE)
    en = publish(book(), "en", "md", SOURCE)
    assert "售后服务政策" in zh and "退货" in zh and "after-sales policy" not in zh
    assert not re.search(r"[\u4e00-\u9fff]", en)


def test_markup_in_a_book_never_becomes_markup() -> None:
    hostile = book(merchant_name="<script>alert(1)</script> | *Shop*",
                   support={"email": "<img src=x onerror=alert(1)>"})
    html = publish(hostile, "en", "html", SOURCE)
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    md = publish(hostile, "en", "md", SOURCE)
    assert "\\<script\\>" in md and "\\| \\*Shop\\*" in md


def test_html_names_its_language_and_encoding() -> None:
    html = publish(book(), "zh-CN", "html", SOURCE)
    assert html.startswith("<!DOCTYPE html>\n<html lang=\"zh-CN\">")
    assert '<meta charset="utf-8">' in html


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="no published policy in 'fr'"):
        publish(book(), "fr", "md", SOURCE)


CROSS_BORDER = {"en": ("| China, cross-border (bonded warehouse or direct mail) | {no_fault} "
                       "days from delivery, and no later than {customs} days after customs "
                       "clearance | {customs} days from customs clearance |",
                       "must arrive back in the bonded zone within {arrival} days of customs "
                       "clearance"),
                "zh-CN": ("| 中国跨境电商\uff08保税仓发货或海外直邮\uff09 | 签收后{no_fault}天内"
                          "\uff0c且不晚于海关放行后{customs}天 | 海关放行后{customs}天内 |",
                          "退回商品须在海关放行之日起{arrival}天内运抵原保税区")}


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
@pytest.mark.parametrize("changes", [
    {},  # CN's own entry
    {"returns.markets.CN": DELETE},  # the default's windows, the built-in clocks
    {"returns.markets.CN": DELETE, "returns.default.cross_border": "20 days",
     "returns.default.bonded_return": "40 days"},
    {"returns.markets.CN.cross_border": DELETE, "returns.markets.CN.bonded_return": DELETE,
     "returns.default.cross_border": "20 days"},  # CN's entry: the built-in clocks
], ids=["cn-entry", "no-cn-entry", "default-clocks", "cn-entry-without-clocks"])
def test_chinas_cross_border_clocks_are_published_as_the_engine_applies_them(
        lang: str, changes: dict[str, object]) -> None:
    """The clocks apply to every book's CN cross-border orders: they were published only when
    the book had a CN entry, though the engine enforced them (from the default) without one."""
    published = book(**changes)
    windows = eligibility_v3(published).windows("CN")
    text = publish(published, lang, "md", SOURCE)
    row, bonded = CROSS_BORDER[lang]
    assert row.format(no_fault=windows.no_fault.days,
                      customs=windows.cross_border.days) in text
    assert bonded.format(arrival=windows.bonded_return.days) in text


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_an_entry_no_order_can_take_is_not_published(lang: str) -> None:
    """A version stored when a book could hold ``UK`` or ``XX`` loads as it was, but the
    boundary takes no order with such a market: a row for it would promise what never
    applies."""
    stored = validate(document(**{
        "returns.markets.UK": {"no_fault": "99 days", "fault": "99 days"},
        "refunds.markets.XX": {"days": 3},
        "return_shipping.markets.UK": "merchant",
        "complaints.clock": "business",
        "calendars.markets.XX": {"hours": "07:00-08:00"}}), stored=True)
    text = publish(stored, lang, "md", SOURCE)
    assert "99" not in text and "| UK |" not in text and "| XX |" not in text
    assert "07:00" not in text
    assert text == publish(book(**{"complaints.clock": "business"}), lang, "md", SOURCE)


WITHDRAWAL_ROWS = {"en": ("| EU member states | 10 days of your withdrawal notice",
                          "| United Kingdom | 10 days of your withdrawal notice",
                          "| All other markets | 10 days of receiving the returned goods |"),
                   "zh-CN": ("| 欧盟成员国 | 自收到您的撤回通知之日起10天内",
                             "| 英国 | 自收到您的撤回通知之日起10天内",
                             "| 其他市场 | 自收到退回商品之日起10天内 |")}


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_an_eu_or_uk_refund_from_the_default_is_published_from_the_withdrawal_notice(
        lang: str) -> None:
    """A book without an EU or a GB refund entry: their withdrawals take the default's term,
    which the engine counts from the withdrawal notice (deadlines, eligibility); the policy
    published only the default's row, "of receiving the returned goods", for them too."""
    published = book(**{"refunds.markets.EU": DELETE, "refunds.markets.GB": DELETE,
                        "refunds.default": {"days": 10}})
    for market in ("DE", "GB"):
        assert eligibility_v3(published).refund_term(market).counted_from("request").days == 10
    text = publish(published, lang, "md", SOURCE)
    for row in WITHDRAWAL_ROWS[lang]:
        assert row in text


RETURNLESS = {"en": "When we pay the return shipping, we refund you without asking for the goods "
                    "back if returning them would cost more than 50% of the item's value, or if "
                    "the item is worth less than GBP 5 or EUR 8.",
              "zh-CN": "由我们承担退货运费时\uff0c如退货运费超过商品价值的 50%\uff0c"
                       "或商品价值低于 GBP 5或EUR 8\uff0c我们直接退款\uff0c无需您寄回商品。"}


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_the_returnless_sentence_says_the_condition_the_engine_applies(lang: str) -> None:
    """return.shipping refunds without a return when the merchant pays the return shipping and
    either it costs more than the share of the item's value or the item is under its own
    currency's floor: either alternative alone, each currency against its own floor. The
    sentence joined the floors with "and" (under all of them)."""
    published = book(**{"currencies": ["GBP", "EUR"], "returnless.share": "0.50",
                        "returnless.value_floors": {"GBP": "5", "EUR": "8"}})
    rules = Rulebook(published, PLATFORM_BOOK, 1).for_merchant(None)

    def returnless(currency: str, value: str, shipping: str, reason: str = "defective") -> bool:
        decided = rules.evaluate("return.shipping", {
            "market": "US", "fulfilment": "domestic", "currency": currency, "reason": reason,
            "regime": None, "item_value": value, "return_shipping_estimate": shipping,
            "buyer_informed_of_return_cost": True, "wanted_outcome": "refund"})
        return bool(decided.details["returnless"])

    assert returnless("EUR", "20.00", "10.01")  # shipping over the share, value over floors
    assert returnless("EUR", "7.99", "0.50")  # under EUR's floor alone, though over GBP's 5
    assert returnless("GBP", "4.99", "0.50")  # under GBP's floor alone
    assert not returnless("EUR", "8.00", "4.00")  # neither
    assert not returnless("GBP", "4.99", "0.50", "changed_mind")  # the buyer pays in the US
    assert not returnless("EUR", "7.99", "9.00", "changed_mind")  # then never returnless
    assert RETURNLESS[lang] in publish(published, lang, "md", SOURCE)


APPROVAL = {"en": "A refund is checked by a supervisor when, added to the order's other refunds, "
                   "it comes to more than GBP 100 for the order",
            "zh-CN": "一笔退款与同一订单的其他退款合计超过 GBP 100 的\uff0c须经主管审核"}


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_the_approval_sentence_says_the_threshold_is_on_the_orders_refunds(lang: str) -> None:
    """refund.approval (v3 on) counts the refund with the order's other refunds: a GBP 10
    refund of an order refunded GBP 160 already goes to a supervisor. The sentence said only
    refunds "above GBP 100" were checked."""
    published = book(**{"currencies": ["GBP"], "approval.thresholds": {"GBP": "100"}})
    rules = Rulebook(published, PLATFORM_BOOK, 1).for_merchant(None)
    decided = rules.evaluate("refund.approval", {
        "currency": "GBP", "amount": "10.00", "order_refunded": "160.00",
        "requested_by": "agent-1", "approver": None, "approver_role": None, "review": None})
    assert decided.details["requires_supervisor"] is True
    assert APPROVAL[lang] in publish(published, lang, "md", SOURCE)


OPEN_DAYS = {"en": ("| China | the usual working week of the market; also 2026-10-03 and "
                    "2026-10-04 | public holidays |",
                    "| All other markets | Monday to Friday; also 2026-12-26 | public holidays |",
                    "and include the extra days we open, as listed here."),
             "zh-CN": ("| 中国 | 该市场通常的工作日\uff1b另有2026-10-03和2026-10-04 | 法定节假日 |",
                       "| 其他市场 | 周一至周五\uff1b另有2026-12-26 | 法定节假日 |",
                       "但包括上表所列的额外工作日。")}


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_the_days_a_merchant_opens_are_published_as_the_working_days_the_engine_counts(
        lang: str) -> None:
    """``calendars.*.open``: days the desk works though they are a public holiday or a weekend
    (the engine counts them as working days); the calendar table listed only the closed ones."""
    published = book(**{
        "calendars.markets.CN": {"open": ["2026-10-04", "2026-10-03"]},
        "calendars.default.working_days": ["mon", "tue", "wed", "thu", "fri"],
        "calendars.default.open": ["2026-12-26"]})
    levels = service_levels(published)
    for market, day in (("CN", date(2026, 10, 3)), ("CN", date(2026, 10, 4)),
                        ("US", date(2026, 12, 26))):  # a national holiday; a Saturday
        assert levels.calendar_for(market).is_working_day(day, market)
        assert not service_levels(book()).calendar_for(market).is_working_day(day, market)
    text = publish(published, lang, "md", SOURCE)
    for words in OPEN_DAYS[lang]:
        assert words in text, text


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_escalation_is_asked_for_in_a_message_and_done_by_staff(lang: str) -> None:
    """A customer may not escalate a complaint themselves (the access matrix denies their
    EscalateComplaint): the policy says they ask for it in a message and staff escalate it."""
    text = publish(book(), lang, "md", SOURCE)
    if lang == "en":
        assert "ask for this at any time" not in text
        assert "say so in a message about your complaint, and our team will move it up" in text
    else:
        assert "随时要求升级" not in text
        assert "在投诉留言中要求升级" in text and "由我们的工作人员为您升级" in text
