"""An order's whole life past its promised date, in the served shop on a test clock (issue 11, "Done when").

Confirmation with the order record attached; a first parcel shipped (the email with its invoice and tracking, the
status page showing it); then the shop's clock moves (storefront/adapters/clock.py, which the payment sandbox
reads too): to the 20th business day past the ship-by date, when the shop's own background job sends the delay
notice and lists the order for customer service (GTC-5.4); to the 52nd day, when it offers a new date or
cancellation. Customer service proposes the date; the client, on a phone, declines it through the emailed link
and confirms the cancellation of what has not shipped.

What the cancellation settles: the unshipped watch's hold is released. Nothing was charged for it, since a watch
is charged when it ships (PAY-5), so nothing is refunded and no credit note is issued: the page says so line by
line. A cancellation after something was charged for the unshipped units refunds it with its credit note
(tests/integration/test_delays.py).
"""

from __future__ import annotations

import email
import re
import time
from datetime import date, datetime, time as clock_time, timedelta, timezone
from email import policy
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy
from playwright.sync_api import expect

from storefront.domain.delays import notice_due
from storefront.services.calendar import merchant_calendar
from tests.e2e.conftest import shopper_context
from tests.e2e.staff_sessions import forget, forget_all
from tests.e2e.test_admin_e2e import assert_no_layout_shift, mail_with, order_status, staff_page
from tests.e2e.test_documents_e2e import attachment, pdf_text
from tests.e2e.test_order_tracking_e2e import bought_and_partly_shipped
from tests.e2e.test_phone_layout_e2e import COLLECT_TARGETS, offenders

pytestmark = pytest.mark.e2e


def latest_mail_with(mail_dir, subject_part: str, count: int, timeout: float = 60.0):
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


def body(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def noon(day: date) -> datetime:
    """Midday of a day in the merchant's time zone, as a moment."""
    return datetime.combine(day, clock_time(12), ZoneInfo(merchant_calendar().timezone)).astimezone(timezone.utc)


def tap_size(page, selector: str) -> tuple[float, float]:
    box = page.locator(selector).bounding_box()
    return box["width"], box["height"]


def ship_by(db, reference: str) -> date:
    with db.connect() as conn:
        value = conn.execute(sqlalchemy.text("SELECT ship_by FROM shop_order WHERE reference = :ref"),
                             {"ref": reference}).scalar_one()
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def customer_service(browser, shop_url):
    """A fresh sign-in on the moved clock: a session opened weeks earlier (by the shop's calendar) has ended."""
    forget(shop_url, "customer_service")
    return staff_page(browser, shop_url, "customer_service")


def on_a_phone(browser):
    ctx = shopper_context(browser, "phone")
    return ctx, ctx.new_page()


@pytest.mark.clause("GTC-5.4")
@pytest.mark.clause("GTC-5.1")
def test_an_order_goes_from_confirmation_through_a_parcel_and_a_long_delay_to_the_clients_cancellation_on_a_phone(
        browser, shop_url, db, mail_dir, shop_clock):
    try:
        walk(browser, shop_url, db, mail_dir, shop_clock)
    finally:
        forget_all(shop_url)  # sessions opened or idled on the moved clock; later tests sign in afresh


def walk(browser, shop_url, db, mail_dir, shop_clock) -> None:
    # 1. Confirmation: the order record comes with the email; a first parcel leaves with its invoice and tracking
    reference, _handover = bought_and_partly_shipped(browser, shop_url)
    confirmation = mail_with(mail_dir, f"Your order {reference} with")
    name, data = attachment(confirmation)
    assert name.startswith("order-confirmation-OC-") and reference in pdf_text(data)
    assert "The order confirmation is attached to this email as a PDF" in body(confirmation)
    shipped = mail_with(mail_dir, f"Your order {reference} has shipped")
    assert "JD014600006281239999" in body(shipped)
    name, data = attachment(shipped)
    assert name.startswith("invoice-INV-") and reference in pdf_text(data)
    view_link = re.search(r"https?://\S+/order/\S+\?t=\S+", body(shipped)).group(0).rstrip(".")
    view_link = shop_url + "/order/" + view_link.split("/order/", 1)[1]

    promised = ship_by(db, reference)
    calendar = merchant_calendar()

    # 2. The 20th business day past the ship-by date: the shop's job sends one notice, customer service sees it
    notice_day = promised + timedelta(days=1)
    while not notice_due(calendar, promised, notice_day):
        notice_day += timedelta(days=1)
    assert not notice_due(calendar, promised, notice_day - timedelta(days=1))
    shop_clock(noon(notice_day))
    notice = mail_with(mail_dir, f"Your order {reference} is delayed")
    assert "compensation" not in body(notice).lower()
    ctx, staff = customer_service(browser, shop_url)
    try:
        staff.goto(shop_url + f"/admin/orders/{reference}")
        expect(staff.locator("#delay-status")).to_be_visible()
        staff.goto(shop_url + "/admin")
        expect(staff.locator("[data-queue=delays]")).to_be_visible()
        assert int(staff.locator("[data-queue=delays] .rt-Badge").first.inner_text()) >= 1
    finally:
        ctx.close()
    ctx, page = on_a_phone(browser)
    try:
        page.goto(view_link)
        expect(page.locator("#order-heading")).to_contain_text(reference)
        expect(page.get_by_text("We told you your order is delayed")).to_be_visible()
        expect(page.locator("#delay-offer")).to_have_count(0)  # no offer before the 52nd day
    finally:
        ctx.close()

    # 3. The delay exceeds 51 days: the offer of a new date or cancellation; customer service proposes the date
    offer_day = promised + timedelta(days=52)
    shop_clock(noon(offer_day))
    mail_with(mail_dir, f"Your order {reference}: a new delivery date, or cancellation")
    saturday = offer_day + timedelta(days=(5 - offer_day.weekday()) % 7 or 7)
    proposed = calendar.add_business_days(noon(offer_day), 10)
    ctx, staff = customer_service(browser, shop_url)
    try:
        staff.goto(shop_url + f"/admin/orders/{reference}")
        expect(staff.locator("#delay-form")).to_be_visible()
        staff.fill("#delay-date", saturday.isoformat())
        staff.click("#propose-delay-date")
        expect(staff.locator("#action-notice")).to_have_attribute("data-code", "delay_date_invalid")
        staff.fill("#delay-date", proposed.isoformat())
        staff.click("#propose-delay-date")
        expect(staff.locator("#action-notice")).to_have_attribute("data-code", "done")
        expect(staff.locator("#delay-status")).to_contain_text(proposed.isoformat())
    finally:
        ctx.close()
    offer = latest_mail_with(mail_dir, f"Your order {reference}: a new delivery date, or cancellation", 2)
    text = body(offer)
    assert "Nothing is cancelled without your confirmation" in text and "compensation" not in text.lower()
    choice_link = re.search(r"https?://\S+delay=\S+", text).group(0).rstrip(".")
    choice_link = shop_url + "/order/" + choice_link.split("/order/", 1)[1]
    assert_no_layout_shift(browser, choice_link, "#delay-offer")

    # 4. The client, on a phone, declines the new date, then confirms the cancellation of what has not shipped
    ctx, page = on_a_phone(browser)
    try:
        page.goto(choice_link)
        expect(page.locator("#delay-offer")).to_be_visible()
        assert offenders(page.evaluate(COLLECT_TARGETS)) == []
        page.click("#delay-decline")
        expect(page.locator("#delay-answer")).to_contain_text("declined")
        expect(page.locator("#delay-cancel")).to_be_visible()
        assert order_status(db, reference) == "partially_shipped"  # declining cancels nothing
        width, height = tap_size(page, "#delay-cancel")
        assert width >= 44 and height >= 44
        page.click("#delay-cancel")
        expect(page.locator("#delay-answer")).to_contain_text("cancellation is confirmed")
        expect(page.locator("#delay-offer")).to_have_count(0)

        # 5. All of it on the status page: the parcel, the cancelled watch (never charged), the money, the papers
        page.goto(view_link)
        expect(page.locator("#order-heading")).to_contain_text(reference)
        expect(page.locator(".order-line-state[data-state=shipped][data-reference=VX-2002]")).to_be_visible()
        expect(page.locator(".order-line-state[data-state=cancelled][data-reference=VX-2004]")) \
            .to_contain_text("not charged")
        expect(page.locator(".order-line-state[data-state=awaiting]")).to_have_count(0)
        expect(page.locator(".shipment")).to_have_count(1)
        expect(page.locator("#money-charged")).to_be_visible()
        expect(page.locator("#money-refunded")).to_have_count(0)
        expect(page.locator("#order-documents a.document-link")).to_have_count(2)  # order record and invoice
        expect(page.locator("#delay-offer")).to_have_count(0)
        assert offenders(page.evaluate(COLLECT_TARGETS)) == []
    finally:
        ctx.close()

    assert order_status(db, reference) == "shipped"  # what shipped is the whole order now
    with db.connect() as conn:
        holds = [r[0] for r in conn.execute(sqlalchemy.text(
            "SELECT p.status FROM payment_authorization p JOIN shop_order o ON o.id = p.order_id "
            "WHERE o.reference = :ref ORDER BY p.id"), {"ref": reference})]
        choice = conn.execute(sqlalchemy.text(
            "SELECT d.choice, d.refused_link, d.decided_link FROM order_delay d JOIN shop_order o ON o.id = d.order_id "
            "WHERE o.reference = :ref"), {"ref": reference}).one()
        credit_notes = conn.execute(sqlalchemy.text(
            "SELECT count(*) FROM issued_document d JOIN shop_order o ON o.id = d.order_id "
            "WHERE o.reference = :ref AND d.kind = 'credit_note'"), {"ref": reference}).scalar_one()
    assert "held" not in holds and "released" in holds and {"captured", "partially_captured"} & set(holds)
    assert choice[0] == "cancel" and choice[1] and choice[2]
    assert credit_notes == 0
    cancelled = mail_with(mail_dir, f"Your order {reference}: cancellation confirmed")
    assert "nothing had been charged for it" in body(cancelled)
