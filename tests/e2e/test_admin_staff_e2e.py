"""Staff accounts on the management page in Chromium (issue 10 section 6): the admin creates an account (bad
input refused beside its field, nothing saved), the new account signs in, and the admin disables it: its open
session ends at once. A role without `staff.manage` is refused and audited."""

from __future__ import annotations

import secrets

import pytest
from playwright.sync_api import expect

from storefront.services.staff_cookies import SESSION_COOKIE
from tests.e2e.staff_sessions import post_form
from tests.e2e.test_admin_e2e import staff_page
from tests.e2e.shop_db import rows

pytestmark = pytest.mark.e2e
PASSWORD = f"initial-{secrets.token_hex(6)}"


def signed_in_cookie(shop_url: str, email: str) -> str:
    status, headers = post_form(shop_url, "/api/admin/session", {"email": email, "password": PASSWORD},
                                origin=shop_url)
    assert status == 303, status
    return next(c.split(";", 1)[0].split("=", 1)[1] for c in headers["set-cookie"]
                if c.startswith(SESSION_COOKIE + "="))


def test_the_admin_creates_an_account_then_disables_it_and_its_session_ends_at_once(browser, shop_url, db):
    email = f"new-{secrets.token_hex(4)}@vireux.example"
    accounts_before = rows(db, "SELECT COUNT(*) FROM staff_user")[0][0]
    ctx, page = staff_page(browser, shop_url, "admin")
    try:
        page.goto(shop_url + "/admin/staff")
        expect(page.get_by_role("link", name="Staff", exact=True)).to_be_visible()
        expect(page.locator(".staff-row[data-email='admin@vireux.example']")).to_have_count(1)

        # bad input: each refusal beside its field, nothing saved
        page.fill("#new-staff-email", email)
        page.fill("#new-staff-password", "too short")
        page.click("#create-staff")
        expect(page.locator("#error-password")).to_contain_text("at least 12 characters")
        assert rows(db, "SELECT COUNT(*) FROM staff_user")[0][0] == accounts_before

        page.fill("#new-staff-password", PASSWORD)
        page.select_option("#new-staff-role", "customer_service")
        page.click("#create-staff")
        row = page.locator(f".staff-row[data-email='{email}']")
        expect(row).to_have_attribute("data-active", "true")
        expect(row).to_contain_text("customer service")
        expect(page.locator("#error-password")).to_have_count(0)
        expect(page.locator("#new-staff-password")).to_have_value("")  # the password is not kept on the page
        assert PASSWORD not in page.content()

        # the new account signs in and works
        cookie = signed_in_cookie(shop_url, email)
        host = shop_url.split("//", 1)[1].split(":", 1)[0]
        theirs = browser.new_context()
        theirs.add_cookies([{"name": SESSION_COOKIE, "value": cookie, "domain": host, "path": "/",
                             "httpOnly": True, "sameSite": "Strict"}])
        their_page = theirs.new_page()
        their_page.goto(shop_url + "/admin/orders")
        expect(their_page.locator("#staff-identity")).to_contain_text(email)

        # the admin disables it: the open session ends at the next click
        page.reload()
        row = page.locator(f".staff-row[data-email='{email}']")
        expect(row).to_contain_text("1")  # one open session
        row.locator(".disable-staff").click()
        expect(row).to_have_attribute("data-active", "false")
        expect(row.locator(".row-notice")).to_have_attribute("data-code", "done")
        their_page.click("#apply-filters")
        expect(their_page).to_have_url(shop_url + "/admin/login", timeout=10_000)
        theirs.close()

        # the admin cannot disable their own account
        mine = page.locator(".staff-row[data-email='admin@vireux.example']")
        mine.locator(".disable-staff").click()
        expect(mine.locator(".row-notice")).to_have_attribute("data-code", "staff_self_disable")
        expect(mine).to_have_attribute("data-active", "true")
    finally:
        ctx.close()
    staff_id = rows(db, "SELECT id FROM staff_user WHERE email = :e", e=email)[0][0]
    assert [r[0] for r in rows(db, "SELECT action FROM staff_audit WHERE subject = :s AND outcome = 'done' "
                                   "AND action LIKE 'staff.%' ORDER BY id", s=f"staff:{staff_id}")] == [
        "staff.create", "staff.disable"]


def test_a_role_without_the_permission_is_refused_and_audited(browser, shop_url, db):
    refused = ("SELECT COUNT(*) FROM staff_audit WHERE action = 'staff.manage' AND outcome = 'refused' "
               "AND role = 'finance'")
    before = rows(db, refused)[0][0]
    ctx, page = staff_page(browser, shop_url, "finance")
    try:
        page.goto(shop_url + "/admin")
        expect(page.locator("#staff-identity")).to_contain_text("finance")
        expect(page.get_by_role("link", name="Staff", exact=True)).to_have_count(0)  # not in the menu
        page.goto(shop_url + "/admin/staff")
        expect(page.locator("[data-sonner-toast]")).to_contain_text("Your role does not allow this action.")
        expect(page.locator(".staff-row")).to_have_count(0)
    finally:
        ctx.close()
    assert rows(db, refused)[0][0] == before + 1


def test_the_order_list_exports_its_filter_as_csv_through_a_short_lived_link(browser, shop_url, db):
    exports = "SELECT COUNT(*) FROM staff_audit WHERE action = 'orders.export' AND detail = 'personal_data'"
    before = rows(db, exports)[0][0]
    ctx, page = staff_page(browser, shop_url, "customer_service")
    try:
        page.goto(shop_url + "/admin/orders")
        # The page is live (its state has come): a filter sent before would be the browser's own form submission.
        expect(page.locator("#staff-identity")).to_contain_text("customer_service")
        page.select_option("#filter-status", "cancelled")
        page.click("#apply-filters")
        # The export is of the filter the list shows: wait for the filtered list before asking for it.
        expect(page.locator(".order-row").filter(has_not_text="ancelled")).to_have_count(0)
        page.click("#export-orders")
        link = page.locator("#export-download")
        expect(link).to_contain_text("valid 5 minutes")
        href = link.get_attribute("href")
        assert href.startswith("/api/admin/orders.csv?")
        # fetched from the page, as the link is followed: same origin, the staff cookie sent
        status, content = page.evaluate("async (h) => { const r = await fetch(h); return [r.status, await r.text()]; }",
                                        href)
        assert status == 200, (status, content[:200])
    finally:
        ctx.close()
    header, *lines = content.splitlines()
    assert header == "reference,placed_at_utc,status,country,total,channel,full_name,email,phone"
    assert all(",cancelled," in line for line in lines)
    assert rows(db, exports)[0][0] == before + 1
