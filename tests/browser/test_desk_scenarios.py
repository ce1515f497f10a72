"""The issue's five scenarios in a real browser, one server for the module, each page checked
with axe-core: an agent finds an overdue complaint and replies; the agent requests a refund
above the threshold and cannot approve it (no button, and a forged post is refused); a
supervisor approves it; a customer cannot open the desk; an auditor sees a case as of an
earlier moment. And what a customer or agent writes cannot turn a page's text around."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Browser, expect

from tests.api_server import ApiServer
from tests.browser.conftest import AUDITED_REPLY, DeskWorld, axe, context, shot, sign_in

REPLY = "We are sorry: a replacement television leaves our warehouse today."


def test_an_agent_finds_the_overdue_complaint_assigns_it_and_replies(
        browser: Browser, desk: ApiServer, world: DeskWorld) -> None:
    with context(browser, desk) as ctx:
        page = ctx.new_page()
        sign_in(page, desk.keys["agent-1"])
        expect(page.get_by_role("heading", name="Queue")).to_be_visible()
        assert axe(page) == []
        page.get_by_role("link", name=re.compile("^Overdue")).click()
        overdue = page.locator(f"tr[data-case='{world.overdue_complaint}']")
        expect(overdue).to_contain_text("overdue")
        expect(page.locator(f"tr[data-case='{world.fresh_complaint}']")).to_have_count(0)
        # assign to me: the rows come back without a full reload
        page.evaluate("window.__same_page = true")
        overdue.get_by_role("button", name=re.compile("Assign to me")).click()
        expect(page.locator(f"tr[data-case='{world.overdue_complaint}']")).to_contain_text("me")
        assert page.evaluate("window.__same_page") is True
        expect(page.locator("[data-count='mine']")).to_have_text("1")
        shot(page, "agent-queue")
        page.get_by_role("link", name=re.compile(f"Complaint {world.overdue_complaint[:8]}")
                         ).click()
        expect(page.get_by_text("The television arrived with a cracked screen.")).to_be_visible()
        assert axe(page) == []
        reply = page.locator("form[data-action='AddComplaintMessage']")
        reply.get_by_label("Message").fill(REPLY)
        reply.get_by_label(re.compile("^Channel")).select_option("email")
        reply.get_by_role("button", name="Reply").click()
        expect(page.get_by_role("status").first).to_contain_text("Reply: done")
        expect(page.locator(".conversation")).to_contain_text(REPLY)
        expect(page.locator(".conversation")).to_contain_text("agent-1")
        expect(page.locator(".timeline")).to_contain_text("by agent-1 as agent")
        shot(page, "agent-replied")


def test_an_agent_requests_a_refund_above_the_threshold_and_cannot_approve_it(
        browser: Browser, desk: ApiServer, world: DeskWorld) -> None:
    with context(browser, desk) as ctx:
        page = ctx.new_page()
        sign_in(page, desk.keys["agent-1"])
        page.goto(f"/desk/cases/{world.overdue_complaint}")
        refund = page.locator("form[data-action='RequestRefund']")
        refund.get_by_label(re.compile("^Amount")).fill("300.00")
        refund.get_by_label("Reason").fill("screen cracked in transit")
        refund.get_by_role("button", name="Request a refund").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("awaiting approval")
        expect(page.locator("#refund-h + table")).to_contain_text("€300.00")
        expect(page.get_by_text("Above the threshold: a supervisor approves.")).to_be_visible()
        expect(page.locator("form[data-action='ApproveRefund']")).to_have_count(0)
        refund_url = page.url.split("?")[0]
        shot(page, "agent-refund-awaiting")
        # a forged post with the agent's own session and CSRF token: refused and logged
        csrf = page.locator("input[name=csrf]").first.get_attribute("value")
        forged = page.request.post(refund_url + "/act", form={
            "csrf": csrf or "", "command": "ApproveRefund"})
        assert forged.status == 403
        assert "above the approval threshold only a supervisor approves" in forged.text()
        desk.refresh_projections()  # what the projection runner does in a running system
        page.goto("/desk/approvals")
        expect(page.get_by_text("Your own request: someone else approves it.")).to_be_visible()
        expect(page.get_by_role("button", name=re.compile("^Approve"))).to_have_count(0)
        page.goto(refund_url)
        expect(page.get_by_role("heading", level=1)).to_contain_text("awaiting approval")
    with desk.client("auditor-1") as auditor:
        denials = auditor.get("/v1/audit/denials", params={"operation": "ApproveRefund"})
    assert any(d["via"] == "desk" and d["principal"] == "agent-1"
               for d in denials.json()["items"])


def test_a_supervisor_approves_the_refund_the_agent_requested(
        browser: Browser, desk: ApiServer, world: DeskWorld) -> None:
    with context(browser, desk) as ctx:
        page = ctx.new_page()
        sign_in(page, desk.keys["sup-1"])
        page.get_by_role("link", name="Approvals").click()
        row = page.locator("table.approvals tbody tr").first
        expect(row).to_contain_text("€300.00")
        expect(row).to_contain_text("€250.00")
        expect(row).to_contain_text("€50.00 over the threshold")
        expect(row).to_contain_text("agent-1")
        assert axe(page) == []
        shot(page, "supervisor-approvals")
        row.get_by_role("button", name=re.compile("^Approve")).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("approved")
        expect(page.locator(".timeline")).to_contain_text("by sup-1 as supervisor")
        shot(page, "supervisor-approved")


def test_a_customer_cannot_open_the_desk(browser: Browser, desk: ApiServer,
                                          world: DeskWorld) -> None:
    with context(browser, desk) as ctx:
        page = ctx.new_page()
        sign_in(page, desk.keys["customer-c-1"])
        expect(page.get_by_role("alert")).to_contain_text("customer-c-1 may not use the desk")
        assert [c for c in ctx.cookies() if c["name"] == "desk_session"] == []
        assert axe(page) == []
        shot(page, "customer-refused")
        page.goto(f"/desk/cases/{world.overdue_complaint}")
        expect(page).to_have_url(re.compile("/desk/sign-in"))


def test_an_auditor_sees_a_case_as_of_an_earlier_moment_in_chinese_and_their_zone(
        browser: Browser, desk: ApiServer, world: DeskWorld) -> None:
    with context(browser, desk, zone="Asia/Shanghai", locale="zh-CN") as ctx:
        page = ctx.new_page()
        sign_in(page, desk.keys["auditor-1"], language="zh")
        expect(page.get_by_role("heading", name="工单队列")).to_be_visible()
        page.goto(f"/desk/cases/{world.audited_complaint}")
        conversation = page.locator(".conversation")
        expect(conversation).to_contain_text(AUDITED_REPLY)
        expect(page.locator("form.action")).to_have_count(0)  # auditors change nothing
        # filed at 09:00 UTC on 7 March, answered at 15:00 UTC: 17:00 and 23:00 in Shanghai
        expect(conversation.locator("time").first).to_have_text("2026-03-07 17:00")
        expect(conversation.locator("time").nth(1)).to_have_text("2026-03-07 23:00")
        page.get_by_label("查看历史时刻的工单").fill("2026-03-07T20:00:00")
        page.get_by_role("button", name="查看", exact=True).click()
        expect(page.locator(".asof")).to_contain_text("2026-03-07 20:00:00")
        expect(conversation).to_contain_text("Customs asks me for an invoice.")
        expect(conversation).not_to_contain_text(AUDITED_REPLY)
        expect(page.get_by_role("heading", level=1)).to_contain_text("待处理")
        assert axe(page) == []
        shot(page, "auditor-as-of")
        page.get_by_role("link", name="回到现在").click()
        expect(conversation).to_contain_text(AUDITED_REPLY)


def test_sessions_are_httponly_samesite_strict_and_every_form_needs_its_token(
        desk: ApiServer, world: DeskWorld) -> None:
    with httpx.Client(base_url=desk.url, follow_redirects=False) as client:
        form = client.get("/desk/sign-in")
        assert "default-src 'none'" in form.headers["content-security-policy"]
        token = client.cookies["desk_signin"]
        signed = client.post("/desk/sign-in", data={"csrf": token,
                                                    "credential": desk.keys["agent-2"]})
        assert signed.status_code == 303
        cookie = signed.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/desk" in cookie
        assert client.get("/desk/queue").status_code == 200
        page = client.get(f"/desk/cases/{world.fresh_complaint}").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert csrf is not None
        body = {"command": "AcknowledgeComplaint", "message": "on it"}
        assert client.post(f"/desk/cases/{world.fresh_complaint}/act", data=body
                           ).status_code == 403
        assert client.post(f"/desk/cases/{world.fresh_complaint}/act",
                           data={**body, "csrf": csrf.group(1)},
                           headers={"Origin": "https://evil.example"}).status_code == 403
        assert client.post("/desk/sign-out", data={"csrf": csrf.group(1)}).status_code == 303
        assert client.get("/desk/queue").status_code == 303  # the session ended


def test_an_analyst_reads_figures_by_market_and_opens_the_cases_behind_a_number(
        browser: Browser, desk: ApiServer, world: DeskWorld) -> None:
    with context(browser, desk) as ctx:
        page = ctx.new_page()
        sign_in(page, desk.keys["analyst-1"])
        page.get_by_role("link", name="Analysis").click()
        page.get_by_label("Market").fill("DE")
        page.get_by_role("button", name="Show").click()
        section = page.locator("section", has=page.get_by_role(
            "heading", name="Complaints by category"))
        expect(section.locator("svg[role=img]")).to_have_count(1)
        expect(section.locator("tbody tr")).to_have_count(3)  # damaged, delay, customs
        assert axe(page) == []
        shot(page, "analyst-figures")
        section.locator("tbody tr", has_text="customs").get_by_role("link").click()
        expect(page).to_have_url(re.compile("reason=customs"))
        rows = page.locator("table.queue tbody tr[data-case]")
        expect(rows).to_have_count(1)
        expect(rows.first).to_have_attribute("data-case", world.audited_complaint)
        expect(page.locator("form[data-assign]")).to_have_count(0)  # analysts assign nothing


def test_a_reply_with_a_right_to_left_override_shows_it_as_an_escape_and_keeps_its_lines(
        browser: Browser, desk: ApiServer, world: DeskWorld) -> None:
    """What a browser sends (line breaks as CR LF) and what a page shows: the override as the
    text \\u202e, so it can neither turn the reply around nor the words after it, and the
    reply's lines as lines (no \\x0d)."""
    written = "Line one\nSee \u202eevil\u202c here\nLine three"
    with context(browser, desk) as ctx:
        page = ctx.new_page()
        sign_in(page, desk.keys["agent-1"])
        page.goto(f"/desk/cases/{world.fresh_complaint}")
        reply = page.locator("form[data-action='AddComplaintMessage']")
        reply.get_by_label("Message").fill(written)
        reply.get_by_label(re.compile("^Channel")).select_option("email")
        reply.get_by_role("button", name="Reply").click()
        expect(page.get_by_role("status").first).to_contain_text("Reply: done")
        conversation = page.locator(".conversation")
        expect(conversation).to_contain_text("See \\u202eevil\\u202c here")
        shown = conversation.inner_text()
        assert "\u202e" not in shown and "\\x0d" not in shown
        assert "Line one\nSee" in shown and "here\nLine three" in shown
        assert axe(page) == []
