"""Terms versions on the management page in Chromium (issue 10 section 2, GTC-1.4): the admin drafts a
version, is told what is wrong next to each field, edits it, publishes it to take effect in a month, and the
shop does not show it before then; a role without the permission is refused and audited.

A version made to take effect now would stay in force for every later test of the session (a published
version can never be deleted), so the checkout's answer to a version taking effect mid-checkout is proven in
tests/integration/test_terms_admin.py, on a clock the test moves.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import shopper_context
from tests.e2e.test_admin_e2e import staff_page
from tests.e2e.shop_db import rows

pytestmark = pytest.mark.e2e
ZONE = ZoneInfo("Europe/Zurich")  # the merchant's time zone in the tests' environment (settings default)
BODY = ("## 1. Scope\n1.1 These terms govern every sale made from their effective date.\n\n"
        "## 2. Orders\n2.1 An order is concluded when the client confirms it.")


def audit_of(db, subject_like: str) -> list[tuple[str, str, str]]:
    return rows(db, "SELECT action, outcome, role FROM staff_audit WHERE subject LIKE :s ORDER BY id", s=subject_like)


@pytest.mark.clause("GTC-1.4")
@pytest.mark.clause("CARD-6")
def test_the_admin_drafts_and_publishes_a_version_that_is_not_public_before_its_time(browser, shop_url, db):
    label = f"E2E-{secrets.token_hex(3)}"
    drafts_before = rows(db, "SELECT COUNT(*) FROM terms_draft")[0][0]
    ctx, page = staff_page(browser, shop_url, "admin")
    try:
        page.goto(shop_url + "/admin/terms")
        in_force = page.locator(".terms-row[data-status='in force']")
        expect(in_force).to_have_count(1)
        expect(in_force).to_contain_text("2026-01")
        expect(page.get_by_role("link", name="Terms", exact=True)).to_be_visible()  # the admin's menu names the page

        # A new draft starts from the text in force; bad input is refused next to each field, nothing saved.
        expect(page.locator("#terms-body")).to_have_value(
            rows(db, "SELECT body FROM terms_version WHERE version = '2026-01'")[0][0])
        page.fill("#terms-label", "not a label!")
        page.fill("#terms-title", "")
        page.fill("#terms-body", "A paragraph without any heading.")
        page.click("#save-draft")
        expect(page.locator("#error-version")).to_contain_text("version label")
        expect(page.locator("#error-title")).to_be_visible()
        expect(page.locator("#error-body")).to_contain_text("headings")
        expect(page.locator("#terms-notice")).to_have_attribute("data-code", "fields_invalid")
        assert rows(db, "SELECT COUNT(*) FROM terms_draft")[0][0] == drafts_before

        page.fill("#terms-label", label)
        page.fill("#terms-title", "General Terms and Conditions of Sale")
        page.fill("#terms-body", "## 1. Scope\n1.1 A first wording.")
        page.click("#save-draft")
        expect(page.locator("#terms-notice")).to_have_attribute("data-code", "done")
        expect(page.locator("#error-version")).to_have_count(0)
        expect(page.locator(f".terms-row[data-version='{label}']")).to_have_attribute("data-status", "draft")
        expect(page.locator("#terms-preview")).to_contain_text("A first wording.")

        # edited: the preview and the publish form follow the saved text
        page.fill("#terms-body", BODY)
        page.click("#save-draft")
        expect(page.locator("#terms-preview")).to_contain_text("An order is concluded when the client confirms it.")
        expect(page.locator("#publish-form")).to_contain_text("revision 2")

        # publishing: a time that has passed is refused next to the field
        page.fill("#terms-effective", "2020-01-01T09:00")
        page.click("#publish-terms")
        expect(page.locator("#error-effective_at")).to_contain_text("passed")
        effective = (datetime.now(ZONE) + timedelta(days=30)).replace(hour=9, minute=0, second=0, microsecond=0)
        page.fill("#terms-effective", effective.strftime("%Y-%m-%dT%H:%M"))
        page.click("#publish-terms")
        expect(page.locator("#terms-notice")).to_have_attribute("data-code", "done")
        row = page.locator(f".terms-row[data-version='{label}']")
        expect(row).to_have_attribute("data-status", "scheduled")
        expect(row).to_contain_text(effective.strftime("%Y-%m-%d 09:00"))
        expect(row.locator(".orders-count")).to_have_text("0")
        expect(row.locator(".public-version")).to_have_count(0)  # no public page before it takes effect
        expect(in_force).to_contain_text("2026-01")
        row.locator(".read-version").click()  # staff read it before clients can
        expect(page.locator("#terms-preview")).to_contain_text("An order is concluded")
    finally:
        ctx.close()

    [(published_at, body)] = rows(db, "SELECT published_at, body FROM terms_version WHERE version = :v", v=label)
    published_at = published_at if isinstance(published_at, datetime) else datetime.fromisoformat(str(published_at))
    assert published_at.replace(tzinfo=timezone.utc) == effective.astimezone(timezone.utc) and body == BODY
    assert rows(db, "SELECT COUNT(*) FROM terms_draft WHERE version = :v", v=label)[0][0] == 0
    actions = audit_of(db, "terms_draft:%") + audit_of(db, f"terms:{label}")
    for action in ("terms.create_draft", "terms.edit_draft", "terms.publish"):
        assert (action, "done", "admin") in actions, actions

    # The shop: not readable at its address, not in the archive, and the checkout still shows 2026-01.
    shopper = shopper_context(browser)
    try:
        page = shopper.new_page()
        page.goto(shop_url + f"/terms?version={label}")
        expect(page.get_by_text("These terms are not available.")).to_be_visible()
        expect(page.get_by_role("link", name="Version 2026-01", exact=False)).to_be_visible()
        expect(page.get_by_text(label)).to_have_count(0)
        page.goto(shop_url + "/terms")
        expect(page.locator(".terms-version")).to_contain_text("2026-01")
        expect(page.get_by_text(label)).to_have_count(0)
    finally:
        shopper.close()


@pytest.mark.clause("CARD-6")
def test_a_role_without_the_permission_is_refused_and_audited(browser, shop_url, db):
    refused = ("SELECT COUNT(*) FROM staff_audit WHERE action = 'terms.manage' AND outcome = 'refused' "
               "AND role = 'compliance'")
    before = rows(db, refused)[0][0]
    ctx, page = staff_page(browser, shop_url, "compliance")
    try:
        page.goto(shop_url + "/admin")
        expect(page.locator("#staff-identity")).to_contain_text("compliance")
        expect(page.get_by_role("link", name="Terms", exact=True)).to_have_count(0)  # not in the menu
        page.goto(shop_url + "/admin/terms")
        expect(page.locator("[data-sonner-toast]")).to_contain_text("Your role does not allow this action.")
        expect(page.locator(".terms-row")).to_have_count(0)
        expect(page.locator("#draft-form")).to_have_count(0)
    finally:
        ctx.close()
    assert rows(db, refused)[0][0] == before + 1
