"""A delivery delay beyond 51 days (GTC-5.4), in the served shop with its own job runner and a phone.

The clock: the served shop runs on today's date, so the order is moved back in time instead, its ship-by date
set 60 days ago, as if it had been placed three months ago; the shop's own background job then sends the notice
(20 business days late) and the offer (beyond 51 days) within a few rounds. Customer service proposes the new
date on the order page; the client, on a phone, declines it through the emailed link and confirms the
cancellation: the order is cancelled and its hold released, nothing having been charged.
"""

from __future__ import annotations

import email
import re
import time
from datetime import date, datetime, timedelta, timezone
from email import policy

import pytest
import sqlalchemy
from playwright.sync_api import expect

from storefront.services.calendar import merchant_calendar
from tests.e2e.conftest import shopper_context
from tests.e2e.test_admin_e2e import approved_by_finance, mail_with, order_status, placed_order, staff_page

pytestmark = pytest.mark.e2e


def latest_mail_with(mail_dir, subject_part: str, count: int, timeout: float = 40.0):
    """The newest of at least `count` emails whose subject contains `subject_part`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = sorted((path for path in mail_dir.glob("*.eml")
                        if subject_part in str(email.message_from_bytes(path.read_bytes(),
                                                                        policy=policy.default)["subject"])),
                       key=lambda path: path.stat().st_mtime)
        if len(found) >= count:
            return email.message_from_bytes(found[-1].read_bytes(), policy=policy.default)
        time.sleep(0.5)
    raise AssertionError(f"fewer than {count} emails with {subject_part!r}")


def tap_size(page, selector: str) -> tuple[float, float]:
    box = page.locator(selector).bounding_box()
    return box["width"], box["height"]


@pytest.mark.clause("GTC-5.4")
def test_a_client_on_a_phone_declines_the_new_date_and_confirms_the_cancellation(browser, shop_url, db, mail_dir):
    reference = placed_order(browser, shop_url)
    approved_by_finance(browser, shop_url, reference)
    with db.begin() as conn:  # as if placed three months ago: 60 days past its ship-by date
        conn.execute(sqlalchemy.text("UPDATE shop_order SET ship_by = :day WHERE reference = :ref"),
                     {"day": date.today() - timedelta(days=60), "ref": reference})

    notice = mail_with(mail_dir, f"Your order {reference} is delayed")
    assert "compensation" not in notice.get_body(preferencelist=("plain",)).get_content().lower()
    mail_with(mail_dir, f"Your order {reference}: a new delivery date, or cancellation")

    # customer service proposes the date: a business day ahead; a weekend day is refused beside the field
    calendar = merchant_calendar()
    saturday = date.today() + timedelta(days=(5 - date.today().weekday()) % 7 or 7)
    proposed = calendar.add_business_days(datetime.now(timezone.utc), 10)
    ctx, page = staff_page(browser, shop_url, "customer_service")
    try:
        page.goto(shop_url + f"/admin/orders/{reference}")
        expect(page.locator("#delay-form")).to_be_visible()
        page.fill("#delay-date", saturday.isoformat())
        page.click("#propose-delay-date")
        expect(page.locator("#action-notice")).to_have_attribute("data-code", "delay_date_invalid")
        page.fill("#delay-date", proposed.isoformat())
        page.click("#propose-delay-date")
        expect(page.locator("#action-notice")).to_have_attribute("data-code", "done")
        expect(page.locator("#delay-status")).to_contain_text(proposed.isoformat())
    finally:
        ctx.close()

    offer = latest_mail_with(mail_dir, f"Your order {reference}: a new delivery date, or cancellation", 2)
    body = offer.get_body(preferencelist=("plain",)).get_content()
    assert "Nothing is cancelled without your confirmation" in body and "compensation" not in body.lower()
    link = re.search(r"https?://\S+delay=\S+", body).group(0).rstrip(".")
    ctx = shopper_context(browser, "phone")
    page = ctx.new_page()
    try:
        page.goto(link.replace(link.split("/order/")[0], shop_url))
        expect(page.locator("#delay-offer")).to_be_visible()
        for button in ("#delay-accept", "#delay-decline"):
            width, height = tap_size(page, button)
            assert width >= 44 and height >= 44, (button, width, height)
        page.click("#delay-decline")
        expect(page.locator("#delay-answer")).to_contain_text("declined")
        expect(page.locator("#delay-cancel")).to_be_visible()
        assert order_status(db, reference) == "approved"  # declining cancels nothing
        width, height = tap_size(page, "#delay-cancel")
        assert width >= 44 and height >= 44
        page.click("#delay-cancel")
        expect(page.locator("#delay-answer")).to_contain_text("cancellation is confirmed")
        expect(page.locator("#delay-offer")).to_have_count(0)
        page.reload()  # the link is spent: nothing is offered again
        expect(page.locator("#order-heading")).to_be_visible()
        expect(page.locator("#delay-offer")).to_have_count(0)
    finally:
        ctx.close()
    assert order_status(db, reference) == "cancelled"
    with db.connect() as conn:
        holds = {r[0] for r in conn.execute(sqlalchemy.text(
            "SELECT p.status FROM payment_authorization p JOIN shop_order o ON o.id = p.order_id "
            "WHERE o.reference = :ref"), {"ref": reference})}
        choice = conn.execute(sqlalchemy.text(
            "SELECT d.choice, d.refused_link, d.decided_link FROM order_delay d JOIN shop_order o ON o.id = d.order_id "
            "WHERE o.reference = :ref"), {"ref": reference}).one()
    assert holds == {"released"}
    assert choice[0] == "cancel" and choice[1] and choice[2]
    mail_with(mail_dir, f"Your order {reference}: cancellation confirmed")
