"""The email outbox on the management page in Chromium (issue 10 § 4): client service finds an order's
emails, reads one, retries a failed one and resends a confirmation; a viewer has no access."""

from __future__ import annotations

import pytest
import sqlalchemy
from playwright.sync_api import expect

from tests.e2e.test_admin_e2e import audit_actions, placed_order, staff_page

pytestmark = pytest.mark.e2e


def emails_of(db, reference: str) -> list[tuple[int, str, str]]:  # noqa: F811 - db is the fixture
    with db.connect() as conn:
        return [tuple(r) for r in conn.execute(sqlalchemy.text(
            "SELECT m.id, m.kind, m.status FROM outbox_email m JOIN shop_order o ON o.id = m.order_id "
            "WHERE o.reference = :ref ORDER BY m.id"), {"ref": reference})]


def fail(db, email_id: int) -> None:  # noqa: F811
    """As if the mail server had refused it at every attempt."""
    with db.begin() as conn:
        conn.execute(sqlalchemy.text("UPDATE outbox_email SET status = 'failed', attempts = 8, "
                                     "last_error = 'SMTPRecipientsRefused: 550 mailbox unavailable' WHERE id = :id"),
                     {"id": email_id})


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_client_service_reads_retries_and_resends_an_orders_emails(browser, shop_url, db, viewport):  # noqa: F811
    reference = placed_order(browser, shop_url)
    [(confirmation, kind, _status)] = [e for e in emails_of(db, reference) if e[1] == "order_confirmation"]
    fail(db, confirmation)
    ctx, page = staff_page(browser, shop_url, "customer_service", viewport)
    try:
        page.goto(shop_url + "/admin/emails")
        page.fill("#email-reference", reference)
        page.click("#apply-email-filters")
        row = page.locator(".email-row", has_text=reference).filter(has_text="order_confirmation")
        expect(row).to_have_count(1)
        expect(row).to_contain_text("mailbox unavailable")
        row.locator(".read-email").click()
        expect(page.locator("#email-body")).to_contain_text(reference)
        page.click("#close-email")
        expect(page.locator("#opened-email")).to_have_count(0)

        row.locator(".retry-email").click()
        expect(page.locator("#outbox-notice")).to_have_attribute("data-code", "done")

        page.fill("#resend-reference", reference)
        page.click("#resend-confirmation")
        expect(page.locator("#outbox-notice")).to_contain_text("A new confirmation")
        page.fill("#resend-reference", "VX-NOPE")
        page.click("#resend-confirmation")
        expect(page.locator("#outbox-notice")).to_have_attribute("data-code", "order_not_found")
    finally:
        ctx.close()
    confirmations = [e for e in emails_of(db, reference) if e[1] == "order_confirmation"]
    assert len(confirmations) == 2 and confirmations[0][2] in ("pending", "sent")  # retried; sent by the outbox
    actions = audit_actions(db, reference)
    for action in ("emails.read", "emails.retry", "emails.resend_confirmation"):
        assert (action, "done", "customer_service") in actions


def test_a_viewer_has_no_outbox(browser, shop_url):
    ctx, page = staff_page(browser, shop_url, "viewer")
    try:
        page.goto(shop_url + "/admin")
        expect(page.get_by_role("link", name="Orders")).to_be_visible()
        expect(page.get_by_role("link", name="Emails")).to_have_count(0)
        page.goto(shop_url + "/admin/emails")
        expect(page.locator(".email-row")).to_have_count(0)
        expect(page.locator("#resend-confirmation")).to_have_count(0)
    finally:
        ctx.close()
