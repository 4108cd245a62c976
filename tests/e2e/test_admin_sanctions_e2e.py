"""The sanctions list import over Reflex's HTTP upload endpoint (issue 10 § 3, PAY-7).

The upload handler is reachable by any HTTP client holding a state token, outside the event guard of the
socket: these tests post the files there as such a client would. A token whose socket had no staff session is
sent to sign in (audited, nothing imported); a viewer's is refused; a compliance officer's imports the list, and a
truncated file is refused with its line while the list in force stays.
"""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy

from storefront.adapters.sanctions_csv import sample_dir
from storefront.services.staff_cookies import SESSION_COOKIE
from storefront.state.admin_sanctions import AdminSanctionsState
from tests.async_runner import run_async
from tests.e2e.raw_client import Tab, handler_name
from tests.e2e.staff_sessions import session_cookie

pytestmark = [pytest.mark.e2e, pytest.mark.clause("PAY-7")]

PAGE = "/admin/sanctions"
ENTRY = (b'91991,"ORLANSK, Vitold","individual","CYBER2","-0- ","-0- ","-0- ","-0- ","-0- ","-0- ","-0- ",'
         b'"FICTIONAL TEST ENTRY."\r\n')


def _sample(name: str) -> bytes:
    return (sample_dir() / name).read_bytes().rstrip(b"\x1a").rstrip(b"\r\n") + b"\r\n"


def files(end: bytes = b"\x1a") -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("files", ("sdn.csv", _sample("sdn.csv") + ENTRY + end, "text/csv")),
            ("files", ("alt.csv", _sample("alt.csv") + b"\x1a", "text/csv")),
            ("files", ("add.csv", b'91991,9391,"2 Nowhere Lane","Port Nowhere","Fictonia","-0- "\r\n\x1a', "text/csv"))]


def versions(db) -> int:
    with db.connect() as conn:
        return conn.execute(sqlalchemy.text("SELECT COUNT(*) FROM sanctions_list_version")).scalar_one()


def audited(db, outcome: str) -> int:
    with db.connect() as conn:
        return conn.execute(sqlalchemy.text(
            "SELECT COUNT(*) FROM staff_audit WHERE action = 'sanctions.import' AND outcome = :o"),
            {"o": outcome}).scalar_one()


def upload(shop_url: str, role: str | None, parts) -> tuple[int, str]:
    """Open the page's socket as `role` (None: no staff session), then post the files to the upload endpoint with
    that tab's token, as any HTTP client holding it could."""
    headers = {"Origin": shop_url, "User-Agent": "StaffProbe/1.0"}
    if role:
        headers["Cookie"] = f"{SESSION_COOKIE}={session_cookie(shop_url, role)}"

    async def run():
        tab = await Tab(shop_url, headers, path=PAGE).open(PAGE)
        try:
            async with httpx.AsyncClient(timeout=60) as client:
                response = await client.post(
                    f"{shop_url}/_upload", files=parts,
                    headers={"Reflex-Client-Token": tab.token,
                             "Reflex-Event-Handler": handler_name(AdminSanctionsState, "import_files")})
            return response.status_code, response.text
        finally:
            await tab.close()

    return run_async(run())


def test_an_upload_without_a_staff_session_or_permission_imports_nothing(shop_url, db):
    before, refused = versions(db), audited(db, "refused")

    # the answers (sign in; "not allowed") go to the tab's socket; the upload's own reply carries no change
    status, body = upload(shop_url, None, files())
    assert status == 200 and "Imported" not in body, body[:500]
    status, body = upload(shop_url, "viewer", files())
    assert status == 200 and "Imported" not in body, body[:500]

    assert versions(db) == before
    with db.connect() as conn:
        anonymous = conn.execute(sqlalchemy.text(
            "SELECT COUNT(*) FROM staff_audit WHERE action = 'sanctions.import' AND outcome = 'refused' "
            "AND role IN ('', 'viewer')")).scalar_one()
    assert anonymous >= 2 and audited(db, "refused") == refused + 2


def test_compliance_imports_the_files_and_a_truncated_one_is_refused_with_its_line(shop_url, db):
    before, failed = versions(db), audited(db, "failed")

    status, body = upload(shop_url, "compliance", files(end=b""))
    assert status == 200 and "sanctions_file_truncated" in body and "line 17" in body, body[:800]
    assert versions(db) == before and audited(db, "failed") == failed + 1

    status, body = upload(shop_url, "compliance", files())
    assert status == 200 and "Imported 17 entries" in body, body[:800]
    assert versions(db) == before + 1
    with db.connect() as conn:
        row = conn.execute(sqlalchemy.text(
            "SELECT addresses FROM sdn_entry WHERE uid = '91991'")).scalar_one()
    assert "Port Nowhere" in str(row)


def test_compliance_imports_in_the_browser_and_reviews_a_match_beside_the_listed_entry(browser, shop_url, db,
                                                                                        tmp_path):
    from playwright.sync_api import expect

    from tests.e2e.catalogue_data import product
    from tests.e2e.checkout_flow import add_to_cart, fill_info, pay, start_checkout, through_terms
    from tests.e2e.conftest import shopper_context
    from tests.e2e.test_admin_e2e import staff_page

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

    paths = []
    for _field, (name, raw, _type) in files():
        (tmp_path / name).write_bytes(raw)
        paths.append(str(tmp_path / name))
    before = versions(db)
    ctx, page = staff_page(browser, shop_url, "compliance")
    try:
        page.goto(shop_url + PAGE)
        expect(page.locator("#sanctions-version")).to_be_visible()
        page.locator("#sanctions-files input[type=file]").set_input_files(paths)
        page.fill("#sanctions-published", "2026-11-20")
        page.locator("#sanctions-published").blur()
        page.click("#sanctions-import")
        expect(page.locator("#sanctions-notice")).to_have_attribute("data-code", "done", timeout=30000)
        expect(page.locator("#sanctions-version")).to_contain_text("2026-11-20")
        expect(page.locator("#sanctions-imported")).to_contain_text("compliance@vireux.example")

        page.goto(shop_url + f"/admin/orders/{reference}")
        comparison = page.locator("#sdn-comparison")
        expect(comparison).to_be_visible()
        expect(page.locator("#sdn-client-name")).to_have_text("Arkady Beltramov")
        expect(page.locator("#sdn-entry-name")).to_have_text("BELTRAMOV, Arkady Sergeyevich")
        expect(page.locator("#sdn-entry-aliases")).to_contain_text("BELTRAMOFF, Arkadi")
        expect(page.locator("#sdn-entry-programme")).to_contain_text("RUSSIA-EO14024")
        expect(page.locator("#compliance-review")).to_be_visible()
    finally:
        ctx.close()
    assert versions(db) == before + 1


def test_compliance_bars_a_destination_and_declines_an_open_order_delivered_there(browser, shop_url, db):
    from playwright.sync_api import expect

    from tests.e2e.catalogue_data import product
    from tests.e2e.checkout_flow import add_to_cart, fill_info, pay, start_checkout, through_terms
    from tests.e2e.conftest import shopper_context
    from tests.e2e.test_admin_e2e import staff_page

    ctx = shopper_context(browser)
    page = ctx.new_page()
    page.base = shop_url
    try:
        add_to_cart(page, product(reference="VX-3003")["slug"])
        start_checkout(page)
        fill_info(page, "US")  # New York, NY
        through_terms(page)
        pay(page, "4242424242424242")
        expect(page.locator("#order-status")).to_contain_text("Awaiting approval", timeout=30000)
        reference = page.locator("#order-heading").inner_text().split()[-1]
    finally:
        ctx.close()

    ctx, page = staff_page(browser, shop_url, "finance")  # neither reviews nor edits destinations
    try:
        page.goto(shop_url + PAGE)
        expect(page.locator("[data-sonner-toast]").first).to_contain_text("Your role does not allow this action.")
        expect(page.locator(".destination-row")).to_have_count(0)
    finally:
        ctx.close()

    ctx, page = staff_page(browser, shop_url, "compliance")
    try:
        page.goto(shop_url + PAGE)
        expect(page.locator(".destination-row[data-country=CU]")).to_be_visible()
        page.fill("#destination-country", "ZZ")
        page.fill("#destination-region", "US-NY")
        page.fill("#destination-name", "New York (drill)")
        page.fill("#destination-programme", "Compliance drill, not a real programme")
        page.click("#destination-save")
        expect(page.locator("#destination-error-country")).to_be_visible()
        expect(page.locator(".destination-row[data-region=US-NY]")).to_have_count(0)  # nothing half-saved
        page.fill("#destination-country", "US")
        page.click("#destination-save")
        expect(page.locator("#destinations-notice")).to_have_attribute("data-code", "done", timeout=30000)
        expect(page.locator("#destinations-notice")).to_contain_text("newly stopped")
        expect(page.locator(".destination-row[data-region=US-NY]")).to_be_visible()
        expect(page.locator(".flagged-row", has_text=reference)).to_be_visible()

        page.goto(shop_url + f"/admin/orders/{reference}")
        expect(page.locator("#order-status")).to_have_text("compliance_review")
        page.click("#decline-compliance")  # a decline says why
        expect(page.locator("#action-notice")).to_have_attribute("data-code", "decline_reason_unknown")
        page.select_option("#decline-reason", "sanctioned_destination")
        page.click("#decline-compliance")
        expect(page.locator("#order-status")).to_have_text("cancelled")

        page.goto(shop_url + PAGE)
        page.locator(".destination-row[data-region=US-NY] .remove-destination").click()
        expect(page.locator(".destination-row[data-region=US-NY]")).to_have_count(0)
    finally:
        ctx.close()
    with db.connect() as conn:
        done = conn.execute(sqlalchemy.text(
            "SELECT COUNT(*) FROM staff_audit WHERE action = 'sanctions.destinations' AND outcome = 'done'")
        ).scalar_one()
    assert done == 2  # added, removed
    with db.connect() as conn:
        declined = conn.execute(sqlalchemy.text(
            "SELECT data FROM order_event JOIN shop_order ON shop_order.id = order_event.order_id "
            "WHERE shop_order.reference = :r AND order_event.type = 'cancelled'"), {"r": reference}).scalar_one()
    assert '"sanctioned_destination"' in str(declined).replace("'", '"')
