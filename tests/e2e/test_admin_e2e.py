"""The management page in Chromium: staff sign in, find an order in the queues, approve or cancel it.

Orders are bought through the shop itself (sandbox card, real SMTP capture), then handled by the demo
staff accounts; the audit log and the order's history are read from the shop's database.
"""

from __future__ import annotations

import asyncio
import re

import pytest
import socketio
import sqlalchemy
from playwright.sync_api import expect

from storefront.services.staff_cookies import SESSION_COOKIE
from tests.async_runner import run_async
from tests.e2e import staff_sessions
from tests.e2e.checkout_flow import fill_card, purchase
from tests.e2e.conftest import shopper_context
from tests.e2e.staff_sessions import ACCOUNTS, otp_for, session_cookie
from tests.e2e.test_phone_layout_e2e import COLLECT_TARGETS, offenders


def assert_phone_targets(page) -> None:
    bad = offenders(page.evaluate(COLLECT_TARGETS))
    assert not bad, f"tap targets too small or too close at 390x844: {bad}"


def assert_no_layout_shift(browser, url: str, ready: str) -> None:
    """A page opened from an emailed link paints its final layout at once, on a phone and a desktop (issue 8 § 2)."""
    from tests.e2e.test_layout_shift_e2e import MAX_CLS, settled_shift

    for viewport in ("phone", "desktop"):
        shift = settled_shift(browser, url, viewport, False, ready)
        assert shift["cls"] <= MAX_CLS, f"{url} on {viewport}: CLS {shift['cls']:.3f}; {shift['shifts']}"

pytestmark = pytest.mark.e2e
SIGN_IN = re.compile(r"/admin/login/?(\?.*)?$")


def placed_order(browser, shop_url) -> str:
    """A paid order awaiting approval, bought by a shopper in a browser of their own."""
    ctx = shopper_context(browser)
    page = ctx.new_page()
    page.base = shop_url
    try:
        purchase(page, "VX-2002")
        expect(page.locator("#order-status")).to_contain_text("Awaiting approval", timeout=30000)
        return page.locator("#order-heading").inner_text().split()[-1]
    finally:
        ctx.close()


def staff_page(browser, shop_url, role: str, viewport: str = "desktop"):
    ctx = shopper_context(browser, viewport)
    host = shop_url.split("//", 1)[1].split(":", 1)[0]
    ctx.add_cookies([{"name": SESSION_COOKIE, "value": session_cookie(shop_url, role), "domain": host, "path": "/",
                      "httpOnly": True, "sameSite": "Strict"}])
    page = ctx.new_page()
    return ctx, page


def approved_by_finance(browser, shop_url, reference: str) -> None:
    ctx, page = staff_page(browser, shop_url, "finance")
    try:
        page.goto(shop_url + f"/admin/orders/{reference}")
        page.click("#approve")
        expect(page.locator("#order-status")).to_have_text("approved")
    finally:
        ctx.close()


def audit_actions(db, reference: str) -> list[tuple[str, str, str]]:
    with db.connect() as conn:
        return [tuple(r) for r in conn.execute(sqlalchemy.text(
            "SELECT a.action, a.outcome, a.role FROM staff_audit a JOIN shop_order o ON o.id = a.order_id "
            "WHERE o.reference = :ref ORDER BY a.id"), {"ref": reference})]


def order_status(db, reference: str) -> str:
    with db.connect() as conn:
        return conn.execute(sqlalchemy.text("SELECT status FROM shop_order WHERE reference = :ref"),
                            {"ref": reference}).scalar_one()


@pytest.mark.clause("CARD-6")
@pytest.mark.clause("GTC-3.6")
def test_finance_signs_in_with_a_second_factor_and_approves_an_order(browser, shop_url, db):
    reference = placed_order(browser, shop_url)
    ctx = shopper_context(browser)
    page = ctx.new_page()
    try:
        page.goto(shop_url + "/admin")
        expect(page).to_have_url(SIGN_IN)
        account = ACCOUNTS["finance"]
        page.fill("#email", account["email"])
        page.fill("#password", account["password"])
        page.click("#sign-in")
        expect(page.locator("#form-error")).to_contain_text("authenticator")  # finance needs the second factor
        page.fill("#email", account["email"])
        page.fill("#password", account["password"])
        page.fill("#otp", otp_for("finance"))
        page.click("#sign-in")
        expect(page.locator("#staff-identity")).to_contain_text("finance")
        staff_sessions._cookies[(shop_url, "finance")] = next(
            c["value"] for c in ctx.cookies() if c["name"] == SESSION_COOKIE)
        cookie = next(c for c in ctx.cookies() if c["name"] == SESSION_COOKIE)
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"

        # finance sees the background jobs' last runs (the shop's worker runs them every two seconds)
        expect(page.locator(".job-row").filter(has_text="email_outbox")).to_contain_text("ok")
        queue = page.locator(".queue[data-queue=awaiting_approval]")
        expect(queue.get_by_role("link", name=reference)).to_be_visible()
        queue.get_by_role("link", name=reference).click()
        expect(page.locator("#order-status")).to_have_text("awaiting_approval")
        expect(page.locator("#customer")).to_contain_text("anna.keller@example.com")
        expect(page.locator(".hold-row")).to_contain_text("held")
        page.click("#approve")
        expect(page.locator("#action-notice")).to_have_attribute("data-code", "done")
        expect(page.locator("#order-status")).to_have_text("approved")
        expect(page.locator("#approve")).to_have_count(0)
    finally:
        ctx.close()
    assert order_status(db, reference) == "approved"
    assert ("customers.view_personal_data", "done", "finance") in audit_actions(db, reference)
    assert ("orders.approve", "done", "finance") in audit_actions(db, reference)


@pytest.mark.clause("GTC-3.5")
@pytest.mark.clause("CARD-6")
def test_client_service_cancels_an_order_with_a_reason(browser, shop_url, db, mail_dir):
    reference = placed_order(browser, shop_url)
    ctx, page = staff_page(browser, shop_url, "customer_service")
    try:
        page.goto(shop_url + f"/admin/orders/{reference}")
        expect(page.locator("#order-status")).to_have_text("awaiting_approval")
        expect(page.locator("#approve")).to_have_count(0)  # approval is finance's
        page.click("#cancel")
        expect(page.locator("#action-notice")).to_have_attribute("data-code", "cancel_reason_unknown")
        page.select_option("#cancel-reason", "undeliverable_address")
        page.click("#cancel")
        expect(page.locator("#order-status")).to_have_text("cancelled")
        expect(page.locator(".hold-row")).to_contain_text("released")
        expect(page.locator(".order-event").filter(has_text="payment_released")).to_have_count(1)
    finally:
        ctx.close()
    assert ("orders.cancel", "done", "customer_service") in audit_actions(db, reference)


def test_a_viewer_sees_neither_actions_nor_personal_data(browser, shop_url, db):
    reference = placed_order(browser, shop_url)
    ctx, page = staff_page(browser, shop_url, "viewer")
    try:
        page.goto(shop_url + f"/admin/orders/{reference}")
        expect(page.locator("#order-status")).to_have_text("awaiting_approval")
        expect(page.locator("#approve")).to_have_count(0)
        expect(page.locator("#cancel")).to_have_count(0)
        expect(page.locator("#customer")).to_have_count(0)
        expect(page.get_by_text("anna.keller@example.com")).to_have_count(0)
    finally:
        ctx.close()
    assert audit_actions(db, reference) == []  # nothing personal was shown, so nothing to record


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_order_list_filters_and_pages_on_desktop_and_phone(browser, shop_url, viewport):
    reference = placed_order(browser, shop_url)
    ctx, page = staff_page(browser, shop_url, "fulfilment", viewport)
    try:
        page.goto(shop_url + "/admin/orders")
        expect(page.locator(".order-row").first).to_be_visible()
        page.fill("#filter-reference", reference.lower())
        page.click("#apply-filters")
        expect(page.locator(".order-row")).to_have_count(1)
        expect(page.locator(".order-row")).to_contain_text(reference)
        page.fill("#filter-reference", "")
        page.select_option("#filter-status", "shipped")
        page.click("#apply-filters")
        expect(page.locator("#no-orders")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1")
        page.goto(shop_url + f"/admin/orders/{reference}")
        expect(page.locator("#order-status")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1")
    finally:
        ctx.close()


def test_without_a_session_every_admin_page_sends_to_sign_in(browser, shop_url):
    ctx = shopper_context(browser)
    page = ctx.new_page()
    try:
        for path in ("/admin", "/admin/orders", "/admin/orders/VX-0000"):
            page.goto(shop_url + path)
            expect(page).to_have_url(SIGN_IN)
        ctx.add_cookies([{"name": SESSION_COOKIE, "value": "forged-token", "url": shop_url}])
        page.goto(shop_url + "/admin/orders")
        expect(page).to_have_url(SIGN_IN)
    finally:
        ctx.close()


def test_signing_out_ends_the_session_on_the_server(browser, shop_url):
    ctx = shopper_context(browser)
    page = ctx.new_page()
    try:
        account = ACCOUNTS["compliance"]
        page.goto(shop_url + "/admin/login")
        page.fill("#email", account["email"])
        page.fill("#password", account["password"])
        page.click("#sign-in")
        expect(page.locator("#staff-identity")).to_contain_text("compliance")
        stolen = next(c for c in ctx.cookies() if c["name"] == SESSION_COOKIE)
        page.click("#sign-out")
        expect(page).to_have_url(SIGN_IN)
        ctx.add_cookies([stolen])  # a copy of the cookie kept from before: the server has revoked it
        page.goto(shop_url + "/admin")
        expect(page).to_have_url(SIGN_IN)
    finally:
        ctx.close()


def test_a_page_on_another_site_can_neither_post_nor_open_the_socket_with_a_staff_cookie(shop_url):
    """Cross-site request forgery and cross-site WebSocket hijacking, with a valid staff cookie."""
    cookie = f"{SESSION_COOKIE}={session_cookie(shop_url, 'customer_service')}"
    status, _ = staff_sessions.post_form(shop_url, "/api/admin/sign-out", {"everywhere": "1"},
                                         origin="https://evil.example", cookie=cookie)
    assert status == 403

    async def connect(origin: str) -> bool:
        client = socketio.AsyncClient(reconnection=False)
        try:
            await client.connect(f"{shop_url}?token=probe", namespaces=["/_event"], socketio_path="/_event",
                                 transports=["websocket"], headers={"Origin": origin, "Cookie": cookie},
                                 wait_timeout=20)
            return True
        except socketio.exceptions.ConnectionError:
            return False
        finally:
            await client.disconnect()
            await asyncio.sleep(0)

    assert run_async(connect("https://evil.example")) is False
    assert run_async(connect(shop_url)) is True  # the same cookie from the shop's own page connects


@pytest.mark.clause("CARD-6")
def test_compliance_browses_the_audit_log_and_a_viewer_may_not(browser, shop_url):
    ctx, page = staff_page(browser, shop_url, "compliance")
    try:
        page.goto(shop_url + "/admin/audit")
        expect(page.locator(".audit-row").first).to_be_visible()
        page.fill("#audit-action", "login")
        page.select_option("#audit-outcome", "done")
        page.click("#apply-audit-filters")
        expect(page.locator(".audit-row").filter(has_not_text="login")).to_have_count(0)
        expect(page.locator(".audit-row").first).to_contain_text("login")
        rows = page.locator(".audit-row").all_inner_texts()
        assert rows and all("login" in r and "done" in r for r in rows)
        assert not any("@" in r for r in rows)  # ids and codes, never an email address
    finally:
        ctx.close()
    ctx, page = staff_page(browser, shop_url, "viewer")
    try:
        page.goto(shop_url + "/admin/audit")
        expect(page.get_by_text("Your role does not allow this action.")).to_be_visible()
        expect(page.locator(".audit-row")).to_have_count(0)
    finally:
        ctx.close()


def last_working_moment() -> str:
    """The latest 10:00 in the merchant's time zone on a business day that is not in the future, as a
    `datetime-local` value: a handover the rules accept whenever the test runs."""
    from datetime import datetime, timedelta, timezone

    from storefront.services.calendar import merchant_calendar

    calendar = merchant_calendar()
    now = calendar.local(datetime.now(timezone.utc))
    day = now.date() if now.hour >= 10 else now.date() - timedelta(days=1)
    while not calendar.is_business_day(day):
        day -= timedelta(days=1)
    return f"{day.isoformat()}T10:00"


def last_saturday() -> str:
    from datetime import date, timedelta

    today = date.today()
    return f"{(today - timedelta(days=(today.weekday() - 5) % 7 or 7)).isoformat()}T10:00"


def captures(db, reference: str) -> tuple[int, int]:
    with db.connect() as conn:
        total = conn.execute(sqlalchemy.text("SELECT total_minor FROM shop_order WHERE reference = :r"),
                             {"r": reference}).scalar_one()
        captured = conn.execute(sqlalchemy.text(
            "SELECT COALESCE(SUM(p.captured_minor), 0) FROM payment_authorization p JOIN shop_order o "
            "ON o.id = p.order_id WHERE o.reference = :r"), {"r": reference}).scalar_one()
    return total, captured


@pytest.mark.clause("PAY-5")
@pytest.mark.clause("GTC-5.5")
@pytest.mark.clause("GTC-5.2")
def test_an_order_ships_in_two_shipments_is_charged_for_each_and_a_line_is_refunded(browser, shop_url, db, mail_dir):
    from tests.e2e.checkout_flow import add_to_cart, pay, start_checkout, through_terms, fill_info
    from tests.e2e.catalogue_data import product

    ctx = shopper_context(browser)
    page = ctx.new_page()
    page.base = shop_url
    try:
        add_to_cart(page, product(reference="VX-2002")["slug"])
        add_to_cart(page, product(reference="VX-2004")["slug"])
        start_checkout(page)
        fill_info(page, "CH")
        through_terms(page)
        pay(page, "4242424242424242")
        expect(page.locator("#order-status")).to_contain_text("Awaiting approval", timeout=30000)
        reference = page.locator("#order-heading").inner_text().split()[-1]
    finally:
        ctx.close()

    approved_by_finance(browser, shop_url, reference)

    ctx, page = staff_page(browser, shop_url, "fulfilment")
    try:
        page.goto(shop_url + f"/admin/orders/{reference}")
        expect(page.locator("#ship-form")).to_be_visible()
        page.fill("input[name=qty_VX-2004]", "0")  # the first parcel holds VX-2002 only
        page.select_option("#ship-carrier", "DHL Express")
        page.fill("#ship-tracking", "jd014600006281230001")
        page.fill("#ship-handover", last_saturday())  # not a shipping day: refused, with the next slot named
        page.click("#ship")
        expect(page.locator("#action-notice")).to_have_attribute("data-code", "handover_outside_hours")
        page.fill("#ship-handover", last_working_moment())
        page.click("#ship")
        expect(page.locator("#action-notice")).to_have_attribute("data-code", "done")
        expect(page.locator("#order-status")).to_have_text("partially_shipped")
        total, captured_first = captures(db, reference)
        assert 0 < captured_first < total
        expect(page.locator(".hold-row").filter(has_text="held")).to_have_count(1)  # the remainder, held anew
        page.select_option("#ship-carrier", "Swiss Post")
        page.fill("#ship-tracking", "99.00.123456.78901234".replace(".", ""))
        page.fill("#ship-handover", last_working_moment())
        page.click("#ship")
        expect(page.locator("#order-status")).to_have_text("shipped")
    finally:
        ctx.close()
    assert captures(db, reference)[1] == total  # the two captures add up to the total exactly

    # The client returns one watch: finance refunds its line; above the threshold, an admin approves.
    ctx, page = staff_page(browser, shop_url, "finance")
    try:
        page.goto(shop_url + f"/admin/orders/{reference}")
        page.fill("input[name=refund_qty_VX-2002]", "1")
        page.select_option("#refund-reason", "item_returned")
        page.click("#refund")
        expect(page.locator("#action-notice")).to_contain_text("second approver")
        expect(page.locator(".refund-row")).to_contain_text("requested")
        expect(page.locator(".approve-refund")).to_have_count(1)
        page.locator(".approve-refund").click()  # the same person cannot be the second pair of eyes
        expect(page.locator("#action-notice")).to_have_attribute("data-code", "refund_same_approver")
    finally:
        ctx.close()
    ctx, page = staff_page(browser, shop_url, "admin")
    try:
        page.goto(shop_url + f"/admin/orders/{reference}")
        page.locator(".approve-refund").click()
        expect(page.locator("#action-notice")).to_have_attribute("data-code", "done")
        expect(page.locator(".refund-row")).to_contain_text("succeeded")
    finally:
        ctx.close()
    with db.connect() as conn:
        refunded = conn.execute(sqlalchemy.text(
            "SELECT COALESCE(SUM(p.refunded_minor), 0) FROM payment_authorization p JOIN shop_order o "
            "ON o.id = p.order_id WHERE o.reference = :r"), {"r": reference}).scalar_one()
    assert 0 < refunded < total
    actions = [a for a, outcome, _ in audit_actions(db, reference) if outcome == "done"]
    assert actions.count("orders.ship") == 2 and "orders.approve" in actions and "orders.refund" in actions


@pytest.mark.clause("PAY-7")
@pytest.mark.clause("CARD-6")
def test_compliance_clears_a_possible_match_from_the_order_page(browser, shop_url, db):
    from tests.e2e.checkout_flow import add_to_cart, fill_info, pay, start_checkout, through_terms
    from tests.e2e.catalogue_data import product

    ctx = shopper_context(browser)
    page = ctx.new_page()
    page.base = shop_url
    try:
        add_to_cart(page, product(reference="VX-2002")["slug"])
        start_checkout(page)
        fill_info(page, "CH", name="Arkady Beltramov")  # close to an entry of the demo sanctions sample
        through_terms(page)
        pay(page, "4242424242424242")
        expect(page.locator("#order-status")).to_contain_text("Being reviewed", timeout=30000)
        reference = page.locator("#order-heading").inner_text().split()[-1]
    finally:
        ctx.close()
    ctx, page = staff_page(browser, shop_url, "compliance")
    try:
        page.goto(shop_url + "/admin")
        page.locator(".queue[data-queue=compliance_review]").get_by_role("link", name=reference).click()
        expect(page.locator("#compliance-review")).to_be_visible()
        page.click("#clear-compliance")
        expect(page.locator("#action-notice")).to_have_attribute("data-code", "clear_reason_unknown")
        page.select_option("#clear-reason", "different_birth_date")
        page.click("#clear-compliance")
        expect(page.locator("#order-status")).to_have_text("awaiting_approval")
        expect(page.locator("#approve")).to_have_count(0)  # approval stays finance's
    finally:
        ctx.close()
    assert ("compliance.review", "done", "compliance") in audit_actions(db, reference)


def mail_with(mail_dir, subject_part: str, timeout: float = 40.0):
    import email
    import time
    from email import policy

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in mail_dir.glob("*.eml") if mail_dir.exists() else []:
            msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
            if subject_part in str(msg["subject"]):
                return msg
        time.sleep(0.5)
    raise AssertionError(f"no email with {subject_part!r}")


@pytest.mark.clause("GTC-3.2")
def test_an_unavailable_piece_the_client_chooses_its_refund_through_the_emailed_link(browser, shop_url, db,
                                                                                      mail_dir):
    from datetime import date, timedelta

    reference = placed_order(browser, shop_url)
    approved_by_finance(browser, shop_url, reference)
    ctx, page = staff_page(browser, shop_url, "fulfilment")
    try:
        page.goto(shop_url + f"/admin/orders/{reference}")
        page.fill("#proposed-date", (date.today() + timedelta(days=45)).isoformat())
        page.click("#mark-unavailable")
        expect(page.locator("#action-notice")).to_have_attribute("data-code", "done")
    finally:
        ctx.close()

    message = mail_with(mail_dir, f"Your order {reference}: a piece is unavailable")
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "compensation" not in body.lower()
    link = re.search(r"https?://\S+unavailable=\S+", body).group(0).rstrip(".")
    link = link.replace(link.split("/order/")[0], shop_url)
    assert_no_layout_shift(browser, link, "#unavailable-choice")
    ctx = shopper_context(browser, "phone")
    page = ctx.new_page()
    try:
        page.goto(link)
        expect(page.locator("#unavailable-choice")).to_be_visible()
        assert_phone_targets(page)  # a choice page: thumb-sized targets on the phone (issue 11 § 2)
        page.click("#choose-refund")
        expect(page.locator("#choice-answer")).to_contain_text("cancelled")
        expect(page.locator("#unavailable-choice")).to_have_count(0)
        page.reload()  # the link is spent: no choice is offered again
        expect(page.locator("#order-heading")).to_be_visible()
        expect(page.locator("#unavailable-choice")).to_have_count(0)
    finally:
        ctx.close()
    assert order_status(db, reference) == "cancelled"  # its only piece: nothing left to ship, nothing charged


def refuse_next_renewal(db, shop_env, reference: str) -> None:
    """As if the hold were placed six days ago and the card has since run out of funds: the next job round
    tries to renew it, and the bank refuses (the sandbox's stand-in for a card that changed)."""
    import subprocess
    import sys
    from datetime import datetime, timedelta, timezone

    from storefront.adapters.localstripe_server import decline_card

    with db.begin() as conn:
        hold_id, card_id = conn.execute(sqlalchemy.text(
            "SELECT p.id, p.card_id FROM payment_authorization p JOIN shop_order o ON o.id = p.order_id "
            "WHERE o.reference = :ref AND p.status = 'held'"), {"ref": reference}).one()
        conn.execute(sqlalchemy.text("UPDATE payment_authorization SET capture_before = :at WHERE id = :id"),
                     {"at": datetime.now(timezone.utc) + timedelta(hours=23), "id": hold_id})
    decline_card(f"http://127.0.0.1:{shop_env['STOREFRONT_LOCALSTRIPE_PORT']}", card_id, "do_not_honor")
    for _ in range(2):  # the renewal, then the outbox sends its email (whatever the jobs' order)
        subprocess.run([sys.executable, "-m", "storefront", "jobs", "run"], env=shop_env, check=True,
                       capture_output=True)


def holds_of(db, reference: str) -> list[tuple[str, int, str]]:
    with db.connect() as conn:
        return [tuple(r) for r in conn.execute(sqlalchemy.text(
            "SELECT p.status, p.amount_minor, p.last4 FROM payment_authorization p JOIN shop_order o "
            "ON o.id = p.order_id WHERE o.reference = :ref AND p.intent_id IS NOT NULL ORDER BY p.id"),
            {"ref": reference})]


@pytest.mark.clause("PAY-5")
def test_a_refused_hold_renewal_the_client_authorises_again_with_3d_secure_on_a_phone(browser, shop_url, db,
                                                                                      shop_env, mail_dir):
    reference = placed_order(browser, shop_url)
    approved_by_finance(browser, shop_url, reference)
    refuse_next_renewal(db, shop_env, reference)
    ctx, page = staff_page(browser, shop_url, "finance")
    try:  # the admin home lists the order among the failed renewals
        page.goto(shop_url + "/admin")
        expect(page.locator("[data-queue=failed_renewals]")).to_contain_text(reference)
    finally:
        ctx.close()

    message = mail_with(mail_dir, f"Your order {reference}: please authorise your card again")
    body = message.get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"https?://\S+reauthorize=\S+", body).group(0).rstrip(".")
    ctx = shopper_context(browser, "phone")  # another device than the one that ordered: the link is enough
    page = ctx.new_page()
    try:
        page.goto(link.replace(link.split("/order/")[0], shop_url))
        expect(page.locator("#reauthorize-card")).to_be_visible()
        assert_phone_targets(page)  # a choice page: thumb-sized targets on the phone (issue 11 § 2)
        total = holds_of(db, reference)[0][1]
        fill_card(page, "4000002500003155")  # this card's bank asks for 3-D Secure on the spot
        page.click("#reauthorize")
        page.get_by_text("Complete authentication").click(timeout=20000)
        expect(page.locator("#reauth-message")).to_contain_text("your card is authorised", timeout=30000)
        expect(page.locator("#reauthorize-card")).to_have_count(0)
        page.reload()  # nothing left to authorise
        expect(page.locator("#reauth-message")).to_contain_text("nothing more to do")
        expect(page.locator("#reauthorize-card")).to_have_count(0)
    finally:
        ctx.close()
    held = holds_of(db, reference)
    assert held[0][0] == "released" and held[-1] == ("held", total, "3155")
    assert order_status(db, reference) == "approved"
    ctx, page = staff_page(browser, shop_url, "finance")
    try:
        page.goto(shop_url + "/admin")
        expect(page.locator("[data-queue=failed_renewals]")).not_to_contain_text(reference)
    finally:
        ctx.close()
