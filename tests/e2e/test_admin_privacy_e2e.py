"""Privacy on the management page in Chromium (issue 10 § 7, PAY-6): the compliance officer sees the retention
policy, finds a client's orders by email, is told an open order is kept, erases the client's data once the order
is closed (the order page then shows the marker), and a second request changes nothing; client service, who
receives requests but does not erase, is refused."""

from __future__ import annotations

import secrets

import pytest
import sqlalchemy
from playwright.sync_api import expect

from tests.e2e.test_admin_e2e import placed_order, staff_page

pytestmark = pytest.mark.e2e


def give_address(db, reference: str) -> str:  # noqa: F811 - db is the fixture
    """The demo shopper always types the same address; this order gets one of its own."""
    email = f"privacy-{secrets.token_hex(4)}@example.com"
    with db.begin() as conn:
        conn.execute(sqlalchemy.text("UPDATE shop_order SET email = :email WHERE reference = :ref"),
                     {"email": email, "ref": reference})
    return email


def cancel(db, reference: str) -> None:  # noqa: F811
    """As if the client had cancelled before anything was charged."""
    with db.begin() as conn:
        conn.execute(sqlalchemy.text("UPDATE shop_order SET status = 'cancelled' WHERE reference = :ref"),
                     {"ref": reference})


def order(db, reference: str) -> dict:  # noqa: F811
    with db.connect() as conn:
        row = conn.execute(sqlalchemy.text(
            "SELECT id, full_name, email, phone, accepted_ip, erasure FROM shop_order WHERE reference = :ref"),
            {"ref": reference}).mappings().one()
    return dict(row)


def erase_audit(db, reference: str) -> list[tuple]:  # noqa: F811
    with db.connect() as conn:
        return [tuple(r) for r in conn.execute(sqlalchemy.text(
            "SELECT a.action, a.outcome, a.role, a.detail FROM staff_audit a JOIN shop_order o ON o.id = a.order_id "
            "WHERE o.reference = :ref AND a.action = 'customers.erase' ORDER BY a.id"), {"ref": reference})]


@pytest.mark.clause("PAY-6")
@pytest.mark.clause("CARD-6")
def test_compliance_erases_a_clients_data_once_the_order_is_closed(browser, shop_url, db):  # noqa: F811
    reference = placed_order(browser, shop_url)
    email = give_address(db, reference)
    ctx, page = staff_page(browser, shop_url, "compliance")
    try:
        page.goto(shop_url + "/admin")
        page.get_by_role("link", name="Privacy", exact=True).click()
        expect(page.locator(".retention-period")).to_have_count(7)
        expect(page.locator(".retention-period[data-key='commercial_records']")).to_contain_text("OR art. 958f")
        expect(page.locator("#retention-last-run")).to_be_visible()

        page.fill("#privacy-email", email.upper())
        page.click("#privacy-search")
        row = page.locator(f".privacy-order[data-reference='{reference}']")
        expect(row).to_contain_text("Kept: the order is awaiting approval")
        # no reason: refused, nothing erased
        page.click("#privacy-erase")
        expect(page.locator("#privacy-notice")).to_have_attribute("data-code", "erasure_reason_required")
        page.select_option("#privacy-reason", "client_request")
        page.click("#privacy-erase")
        expect(page.locator("#privacy-notice")).to_contain_text("Not erased, still being performed")
        assert order(db, reference)["email"] == email and order(db, reference)["erasure"] == ""

        cancel(db, reference)
        page.fill("#privacy-email", email)
        page.click("#privacy-search")
        expect(row).to_contain_text("Erased in full")
        page.select_option("#privacy-reason", "client_request")
        page.click("#privacy-erase")
        expect(page.locator("#privacy-notice")).to_contain_text(f"Erased in full: {reference}")
        expect(page.locator(f".privacy-order[data-reference='{reference}']")).to_have_attribute("data-erasure", "full")

        erased = order(db, reference)
        assert (erased["full_name"], erased["email"], erased["phone"], erased["accepted_ip"], erased["erasure"]) == (
            "erased", f"erased+{erased['id']}@invalid", "", "", "full")

        # the order page shows the marker
        page.goto(shop_url + f"/admin/orders/{reference}")
        expect(page.locator("#customer")).to_contain_text("erased")
        expect(page.locator("#customer")).not_to_contain_text(email)

        # a second request: the address is on no order any more; nothing changes
        page.goto(shop_url + "/admin/privacy")
        page.fill("#privacy-email", email)
        page.click("#privacy-search")
        expect(page.locator("#privacy-none")).to_be_visible()
    finally:
        ctx.close()
    assert erase_audit(db, reference) == [("customers.erase", "done", "compliance", "client_request")]
    with db.connect() as conn:
        logged = conn.execute(sqlalchemy.text("SELECT COUNT(*) FROM staff_audit WHERE subject LIKE :e OR detail LIKE :e "
                                              "OR CAST(after AS TEXT) LIKE :e"), {"e": f"%{email}%"}).scalar_one()
    assert logged == 0  # the address searched never reaches the audit log


@pytest.mark.clause("PAY-6")
@pytest.mark.clause("CARD-6")
def test_client_service_cannot_search_or_erase(browser, shop_url, db):  # noqa: F811
    refused = ("SELECT COUNT(*) FROM staff_audit WHERE action = 'customers.erase' AND outcome = 'refused' "
               "AND role = 'customer_service'")
    with db.connect() as conn:
        before = conn.execute(sqlalchemy.text(refused)).scalar_one()
    ctx, page = staff_page(browser, shop_url, "customer_service")
    try:
        page.goto(shop_url + "/admin")
        expect(page.locator("#staff-identity")).to_contain_text("customer_service")
        expect(page.get_by_role("link", name="Privacy", exact=True)).to_have_count(0)  # not in the menu
        page.goto(shop_url + "/admin/privacy")
        expect(page.locator("[data-sonner-toast]")).to_contain_text("Your role does not allow this action.")
        expect(page.locator("#privacy-not-allowed")).to_be_visible()
        expect(page.locator("#privacy-email")).to_have_count(0)
    finally:
        ctx.close()
    with db.connect() as conn:
        assert conn.execute(sqlalchemy.text(refused)).scalar_one() == before + 1
