"""The desk's pure parts: every word in both languages with the same placeholders, times in
the viewer's zone, amounts in their currency, forms derived from the wire models, queue
filters checked before they reach SQL, and where a sign-in may send the browser."""

from __future__ import annotations

import re
import string
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup, escape

from aftersales_core.decisions import PolicyDecision
from aftersales_core.errors import InvalidCommandError, InvalidFieldError, InvalidMoneyError
from aftersales_core.money import MINOR_UNITS
from aftersales_core.policies.return_eligibility_v2 import SEAL_NOTE
from desk.actions import MODELS, WHEN, body_of, field_errors, fits, form_for, form_of
from desk.case_view import flatten
from desk.catalog import WORDS
from desk.i18n import Reader, negotiate, zone_of
from desk.queue import Query
from desk.routes_session import safe_next
from desk.terms import TERMS
from desk.web import templates
from schemas.commands import Channel


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("key", sorted({**WORDS, **TERMS}))
def test_every_word_has_english_and_chinese_with_the_same_placeholders(key: str) -> None:
    english, chinese = {**WORDS, **TERMS}[key]
    assert english.strip() and chinese.strip()
    assert placeholders(english) == placeholders(chinese)


def test_every_action_and_option_the_desk_shows_has_words_in_both_languages() -> None:
    for kind in WHEN.values():
        for command in kind:
            assert f"cmd.{command}" in TERMS
            for field in form_of(command).fields:
                assert f"field.{field.name}" in TERMS, (command, field.name)
                for option in field.options:
                    assert f"opt.{option}" in TERMS or re.fullmatch(r"[A-D]", option), option
    for channel in Channel.__args__:  # type: ignore[attr-defined]
        assert f"opt.{channel}" in TERMS


def test_times_are_shown_in_the_viewers_zone_and_amounts_in_the_case_currency() -> None:
    moment = "2026-03-07T09:00:00+00:00"
    assert Reader("zh", "Asia/Shanghai").when(moment) == "2026-03-07 17:00"
    assert Reader("en", "America/New_York").when(moment) == "2026-03-07 04:00"
    assert Reader("en", "Europe/Berlin").money("300.00", "EUR") == "€300.00"
    assert Reader("en", "UTC").money("2000", "JPY") == "¥2,000"
    assert Reader("zh", "UTC").money("1999.5", "CNY") == "¥1,999.50"
    assert Reader("en", "UTC").money(None, "EUR") == "—"


def test_time_left_reads_to_the_minute_on_both_sides_of_the_deadline() -> None:
    now = datetime(2026, 3, 7, 12, 0, tzinfo=UTC)
    r = Reader("en", "UTC")
    assert r.left(now + timedelta(days=2, hours=4), now) == "2 d 4 h left"
    assert r.left(now + timedelta(minutes=59, seconds=59), now) == "59 min left"
    assert r.left(now, now) == "0 min left"
    assert r.left(now - timedelta(minutes=1), now) == "overdue by 1 min"
    assert Reader("zh", "UTC").left(now - timedelta(hours=3, minutes=5), now) == \
        "已超期 3 小时 5 分钟"


def test_languages_and_zones_are_chosen_only_among_real_ones() -> None:
    assert negotiate("zh-CN,zh;q=0.9,en;q=0.8") == "zh"
    assert negotiate("fr-FR,en;q=0.5") == "en"
    assert negotiate("de, fr") == "en"
    assert negotiate(None) == "en"
    assert zone_of("Asia/Shanghai") is not None
    for bad in ("Mars/Olympus", "../../etc/passwd", "UTC\x00", "", "A" * 70):
        assert zone_of(bad) is None


@pytest.mark.parametrize("command", sorted({c for kind in WHEN.values() for c in kind}))
def test_each_action_is_a_command_of_the_wire_schema_without_the_fields_the_desk_fills(
        command: str) -> None:
    assert command in MODELS
    names = {f.name for f in form_of(command).fields}
    assert not names & {"case_id", "order_id", "source", "source_case_id", "direction", "at",
                        "by", "requested_by", "approver"}


def test_a_reply_is_always_outbound_and_a_refund_names_the_case_it_comes_from() -> None:
    case = SimpleNamespace(id=uuid4(), KIND="complaint", order_id="o-1")
    reply = body_of("AddComplaintMessage", {"text": "hi", "channel": "", "direction": "in",
                                             "case_id": "someone-else"}, case)
    assert reply == {"command": "AddComplaintMessage", "text": "hi", "case_id": str(case.id),
                     "direction": "out"}
    refund = body_of("RequestRefund", {"amount": "300.00", "reason": "cracked",
                                       "order_id": "o-9"}, case)
    assert refund["order_id"] == "o-1" and refund["source_case_id"] == str(case.id)
    assert refund["source"] == "complaint"
    answer = body_of("RespondToProposal", {"accepted": "false"}, case)
    assert answer["accepted"] is False


@given(st.dictionaries(st.sampled_from(["case_type", "status", "market", "priority",
                                        "channel", "escalated", "assignee", "view", "scope",
                                        "from", "to", "reason", "shown", "currency",
                                        "other"]),
                       st.text(max_size=30)))
def test_queue_filters_keep_only_values_their_rules_accept(params: dict[str, str]) -> None:
    query = Query.parse(params)
    assert query.view in ("all", "overdue", "escalated", "mine", "unassigned", "approval")
    assert query.scope in ("open", "all")
    assert 0 < query.shown <= 2000
    for name, value in query.filters.items():
        assert not any(ord(c) < 32 or ord(c) == 127 for c in value)
        if name == "market":
            assert re.fullmatch(r"[A-Z]{2}", value)
        if name == "currency":
            assert value in MINOR_UNITS


def test_queue_filters_take_a_market_and_a_status_as_people_type_them() -> None:
    """What the queue shows ("pending review") and a market in small letters select the
    cases they name, instead of being dropped (which showed every case)."""
    query = Query.parse({"market": " de ", "status": "Pending  review"})
    assert query.filters == {"market": "DE", "status": "pending_review"}
    assert query.errors == []
    assert Query.parse({"market": "d1", "status": "待审核"}).errors == ["market", "status"]


def test_the_queue_filters_by_a_known_iso_4217_currency_and_names_an_unknown_one() -> None:
    assert Query.parse({"currency": " gbp "}).filters == {"currency": "GBP"}
    for bad in ("XYZ", "EURO", "€", "G1P"):
        query = Query.parse({"currency": bad})
        assert query.filters == {} and query.errors == ["currency"], bad


def test_after_sign_in_the_browser_goes_only_to_a_desk_page_of_this_site() -> None:
    assert safe_next("/desk/cases/1?as_of=x") == "/desk/cases/1?as_of=x"
    for bad in ("https://evil.example/desk/", "//evil.example", "/desk\\..", "/v1/cases",
                "/desk/\r\nSet-Cookie: x", None, ""):
        assert safe_next(bad) == "/desk/queue"


def test_decision_inputs_read_as_flat_rows_and_personal_data_stays_hidden() -> None:
    rows = flatten({"order": {"market": "DE", "lines": [{"sku": "A", "qty": 1}]},
                    "note": {"personal_data": "redacted", "subject": "c-1"}, "tags": []})
    assert ("order.market", "DE") in rows
    assert ("order.lines.1.sku", "A") in rows
    assert ("note", {"personal_data": "redacted", "subject": "c-1"}) in rows
    assert ("tags", "—") in rows


AS_WRITTEN = [
    "two\r\nlines\tand a tab",  # as a browser sends them
    "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 \u200f",  # Persian: ZWNJ, RLM
    "family \U0001f468\u200d\U0001f469\u200d\U0001f467",  # an emoji sequence: ZWJ
    "plain, \u4e2d\u6587, \u05e2\u05d1\u05e8\u05d9\u05ea",
]


@pytest.mark.parametrize("written, shown", [
    ("refund \u202eoslo\u202c ok", "refund \\u202eoslo\\u202c ok"),  # right-to-left override
    ("a\u2066b\u2069 \u202ac\u202c", "a\\u2066b\\u2069 \\u202ac\\u202c"),  # isolates, embeddings
    ("bell\x07 and escape \x1b[31m", "bell\\x07 and escape \\x1b[31m"),
    ("ok\U000e0070\U000e0061\U000e0079", "ok\\U000e0070\\U000e0061\\U000e0079"),  # tag letters
    *((text, text) for text in AS_WRITTEN),
])
def test_pages_show_what_could_reorder_text_as_escapes_and_joiners_as_written(
        written: str, shown: str) -> None:
    page = templates().from_string('<p title="{{ v }}">{{ v }}</p>{{ m }}').render(
        v=written, m=Markup("<b>\u202ekept</b>"))
    assert page == f'<p title="{escape(shown)}">{escape(shown)}</p><b>\u202ekept</b>'


def test_a_form_shown_again_holds_exactly_what_was_typed() -> None:
    """After a refusal the desk shows the form again with the values sent: escapes there
    would be sent back and stored as backslashes."""
    typed = "line\r\nwith \u202eoverride\u202c & <b>"
    action = SimpleNamespace(command="AddNote")
    fields = [SimpleNamespace(name="text", widget="textarea", required=True, default=""),
              SimpleNamespace(name="subject", widget="text", required=False, default="")]
    field = templates().get_template("_macros.html").module.field  # type: ignore[attr-defined]
    reader = SimpleNamespace(term=lambda *_: "word", t=lambda *_: "optional")
    page = "".join(str(field(reader, action, f, {"text": typed, "subject": typed}, {}))
                   for f in fields)
    assert f">{escape(typed)}</textarea>" in page
    assert f'value="{escape(typed)}"' in page


def test_the_timeline_shows_what_people_typed_as_recorded() -> None:
    """Found cold: the timeline humanised free text ("Customer declined the 50 EUR offer" read
    "... 50 eur offer", "ZD_1234 from DHL" read "zd 1234 from dhl"), so an auditor saw other
    words than the store holds. Codes are still put in words; typed text is shown as typed."""
    reader = Reader("en", "UTC")
    for typed in ("Customer declined the 50 EUR offer", "Per ticket ZD_1234 from DHL",
                  "OK", "Seal broken", "x_Y"):
        assert reader.fact(typed) == typed
    assert reader.fact("customer_declined") == "customer declined"
    assert reader.fact("DeadlineScheduled") == "Deadline scheduled"
    assert reader.fact(None) == "—"


def _return(status: str, **state: object) -> SimpleNamespace:
    return SimpleNamespace(**{"KIND": "return", "status": status, "returnless": False,
                              "resolution": None, **state})


def test_actions_are_offered_only_when_the_returns_state_lets_the_domain_take_them() -> None:
    """Found cold: "Send to the repairer" was offered on a return resolved by refund and
    "Record the goods received" on a returnless one (WHEN checks the status only), and both
    were then refused. The desk asks the state the domain asks."""
    by_refund = _return("resolved", resolution={"kind": "refund"})
    by_repair = _return("resolved", resolution={"kind": "repair"})
    assert not fits("SendToRepair", by_refund) and fits("CloseReturn", by_refund)
    assert fits("SendToRepair", by_repair) and not fits("CloseReturn", by_repair)
    returnless = _return("approved", returnless=True)
    assert not fits("ReceiveReturn", returnless) and not fits("IssueReturnLabel", returnless)
    assert fits("ResolveReturn", returnless)
    sent_back = _return("approved")
    assert fits("ReceiveReturn", sent_back) and not fits("ResolveReturn", sent_back)
    failed = _return("repair_failed", remedies=lambda: ["replacement", "refund"])
    assert not fits("SendToRepair", failed) and fits("ResolveReturn", failed)
    assert fits("SendToRepair", _return("repair_failed", remedies=lambda: ["repair"]))


def test_the_seal_is_required_where_the_returns_eligibility_depends_on_it() -> None:
    """Found cold: the inspection form said "(optional)" of the seal on a return whose
    eligibility made it depend on the seal, which the inspection then refused without it."""
    sealed = PolicyDecision("return.eligibility", 2, {}, "approve",
                            (f"line 2 (GAME-9) is sealed audio (x): {SEAL_NOTE}",))
    case = SimpleNamespace(lines=[{"line_id": "1"}, {"line_id": "2"}],
                           latest=lambda policy: sealed)
    seal = {f.name: f for f in form_for("InspectReturn", case).fields}["seal_intact"]
    assert seal.required
    case.latest = lambda policy: None
    seal = {f.name: f for f in form_for("InspectReturn", case).fields}["seal_intact"]
    assert not seal.required


def test_a_domain_refusal_naming_a_field_is_shown_beside_it() -> None:
    """Found cold: "amount: 12.345 has more decimals than EUR allows (2)" and the missing
    seal answer were only in the banner, not beside the field they name."""
    assert field_errors("ProposeResolution", InvalidMoneyError(
        "amount: 12.345 has more decimals than EUR allows (2)")) == {
        "amount": "12.345 has more decimals than EUR allows (2)"}
    assert field_errors("InspectReturn", InvalidFieldError("seal_intact", "state it")) == {
        "seal_intact": "state it"}
    assert field_errors("CloseReturn", InvalidCommandError("return x: cannot close")) == {}
    assert field_errors("ProposeResolution", InvalidCommandError("nothing: here")) == {}
