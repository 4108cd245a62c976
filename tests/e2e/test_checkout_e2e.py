"""Full purchases in Chromium against the production build, the payment sandbox and the mail catcher."""

import email
import re
import time
from decimal import ROUND_HALF_UP, Decimal
from email import policy

import pytest
from playwright.sync_api import expect

from tests.e2e.catalogue_data import product
from tests.e2e.checkout_flow import add_to_cart, fill_info, pay, purchase, start_checkout, through_terms

pytestmark = pytest.mark.e2e


def amount(text: str) -> Decimal:
    """'CHF 7’507.55' / '13.200,00 €' / '¥2,150,000' -> Decimal, from the visible digits and separator."""
    digits = re.sub(r"[^\d.,]", "", text)
    if re.search(r"[.,]\d{2}$", digits):
        return Decimal(re.sub(r"[.,]", "", digits[:-3]) + "." + digits[-2:])
    return Decimal(re.sub(r"[.,]", "", digits))


def wait_for_mail(mail_dir, reference: str, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in mail_dir.glob("*.eml") if mail_dir.exists() else []:
            msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
            if reference in str(msg["subject"]):
                return msg
        time.sleep(0.5)
    raise AssertionError(f"no email for {reference}")


PURCHASES = [
    # country, watch, VAT label or None, the total as an English page shows it (\s: Babel's non-breaking space)
    ("CH", dict(reference="VX-2001"), "VAT 8.1%", r"CHF\s\d{1,3}(’\d{3})*\.\d\d"),
    ("DE", dict(reference="VX-2005"), "VAT 19%", r"\d{1,3}(\.\d{3})*,\d\d\s€"),
    ("US", dict(reference="VX-4002"), None, r"\$\d{1,3}(,\d{3})*\.\d\d"),
    ("JP", dict(reference="VX-1001"), None, r"\u00a5\d{1,3}(,\d{3})*"),  # half-width yen, no decimals
]
ENGLISH_DATE = re.compile(r"(Monday|Tuesday|Wednesday|Thursday|Friday), ")  # never "Mittwoch", "水曜日"


@pytest.mark.clause("GTC-3.4")
@pytest.mark.clause("GTC-4.1")
@pytest.mark.clause("CARD-2")
@pytest.mark.clause("CARD-4")
@pytest.mark.clause("PAY-5")
@pytest.mark.clause("GTC-3.6")
@pytest.mark.clause("GTC-3.7")
@pytest.mark.parametrize("country,watch,vat,total_format", PURCHASES, ids=[p[0] for p in PURCHASES])
def test_full_purchase(page, mail_dir, country, watch, vat, total_format):
    item = product(**watch)
    add_to_cart(page, item["slug"])
    start_checkout(page)
    fill_info(page, country)
    expect(page.locator("#sum-total p").last).to_have_text(re.compile(f"^{total_format}$"))
    expect(page.locator("#ship-by")).to_contain_text(ENGLISH_DATE)
    subtotal = amount(page.locator("#sum-subtotal p").last.inner_text())
    shipping = amount(page.locator("#sum-shipping p").last.inner_text())
    total = amount(page.locator("#sum-total p").last.inner_text())
    if vat:
        expect(page.locator("#sum-vat")).to_contain_text(vat)
        vat_amount = amount(page.locator("#sum-vat p").last.inner_text())
        rate = Decimal(vat.split()[1].rstrip("%")) / 100
        assert vat_amount == ((subtotal + shipping) * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)  # documented rule
        assert total == subtotal + shipping + vat_amount
        expect(page.locator("#duties-notice")).to_have_count(0)
    else:
        expect(page.locator("#sum-vat")).to_have_count(0)
        expect(page.locator("#duties-notice")).to_contain_text("payable by you")
        assert total == subtotal + shipping
    expect(page.locator("#ship-by")).to_contain_text("We will ship by")
    through_terms(page)
    pay(page, "4242424242424242")
    expect(page.locator("#thank-you")).to_be_visible(timeout=30000)
    expect(page.locator("#order-status")).to_contain_text("Awaiting approval")
    expect(page.locator("#not-final")).to_be_visible()
    reference = page.locator("#order-heading").inner_text().split()[-1]
    assert amount(page.locator("#sum-total p").last.inner_text()) == total
    msg = wait_for_mail(mail_dir, reference)
    body = msg.get_body(preferencelist=("plain",)).get_content()
    assert item["name"] in body and item["reference"] in body
    assert page.locator("#sum-total p").last.inner_text().strip() in body
    assert "2026-01" in body  # terms version accepted
    assert re.search("We will ship by " + ENGLISH_DATE.pattern, body)


@pytest.mark.clause("GTC-3.4")
@pytest.mark.clause("GTC-1.3")
@pytest.mark.parametrize("viewport", ["phone"], indirect=False)
def test_terms_checkbox_blocks_progress_until_ticked(page):
    add_to_cart(page, product(reference="VX-2002")["slug"])
    start_checkout(page)
    fill_info(page, "CH")
    page.click("#details_confirmed")
    page.click("#next")
    expect(page.locator("#terms-label")).to_have_text("I have read and accept the terms and conditions of the site")
    expect(page.locator("#terms_accepted")).not_to_be_checked()
    expect(page.locator(".terms-version")).to_contain_text("2026-01")
    page.click("#personal_use")
    expect(page.locator("#next")).to_be_disabled()
    page.click("#terms_accepted")
    expect(page.locator("#next")).to_be_enabled()
    page.reload()  # a reload resumes at the same step with the ticks kept
    expect(page.locator("#terms_accepted")).to_be_checked()
    page.click("#next")
    expect(page.locator("#confirm-order")).to_be_visible()


@pytest.mark.clause("PAY-7")
@pytest.mark.parametrize("viewport", ["desktop"], indirect=False)
def test_sanctioned_region_and_listed_name_are_refused(page):
    add_to_cart(page, product(reference="VX-2004")["slug"])
    start_checkout(page)
    fill_info(page, "UA")  # region Crimea, postal code 95000
    expect(page.locator("#ship_area-error")).to_contain_text("We cannot deliver to Crimea")
    expect(page.locator("#details_confirmed")).to_have_count(0)
    fill_info(page, "CH", name="Milan Drakovic")  # on the (sample) SDN list
    expect(page.locator("#checkout-message")).to_contain_text("unable to accept this order")
    expect(page.locator("#details_confirmed")).to_have_count(0)


@pytest.mark.clause("PAY-3")
@pytest.mark.clause("GTC-3.5")
@pytest.mark.parametrize("viewport", ["desktop", "phone"], indirect=False)
def test_declined_card_tells_to_contact_issuer_then_another_card_works(page):
    add_to_cart(page, product(reference="VX-2004")["slug"])
    start_checkout(page)
    fill_info(page, "CH")
    through_terms(page)
    pay(page, "4000000000000341")
    expect(page.locator("#pay-message")).to_contain_text("contact your card issuer", timeout=20000)
    frame = page.locator("#card-element")
    frame.locator("input[placeholder=number]").fill("4242424242424242")
    page.click("#pay")
    expect(page.locator("#thank-you")).to_be_visible(timeout=30000)


@pytest.mark.clause("PAY-4")
@pytest.mark.parametrize("viewport", ["desktop"], indirect=False)
def test_three_d_secure_challenge(page):
    purchase(page, "VX-2004", card="4000002500003155")
    page.get_by_text("Complete authentication").click(timeout=20000)
    expect(page.locator("#thank-you")).to_be_visible(timeout=30000)


@pytest.mark.clause("GTC-2.2")
@pytest.mark.parametrize("viewport", ["desktop"], indirect=False)
def test_minor_is_told_a_parent_must_order(page):
    add_to_cart(page, product(reference="VX-2004")["slug"])
    start_checkout(page)
    fill_info(page, "CH", birth="2012-05-05")
    expect(page.locator("#birth_date-error")).to_contain_text("parent or guardian")


@pytest.mark.clause("GTC-3.4")
@pytest.mark.parametrize("viewport", ["desktop"], indirect=False)
def test_second_purchase_in_the_same_tab_is_a_new_order(page):
    references = []
    for watch in ("VX-2002", "VX-2004"):
        add_to_cart(page, product(reference=watch)["slug"])
        start_checkout(page)
        fill_info(page, "CH")
        through_terms(page)
        pay(page, "4242424242424242")
        expect(page.locator("#thank-you")).to_be_visible(timeout=30000)
        expect(page.locator(".summary-line")).to_contain_text(product(reference=watch)["name"])
        references.append(page.locator("#order-heading").inner_text().split()[-1])
        assert f"/order/{references[-1]}?" in page.url
    assert references[0] != references[1]


@pytest.mark.clause("PAY-2")
@pytest.mark.parametrize("viewport", ["desktop"], indirect=False)
def test_unreadable_card_details_get_a_clear_message_and_nothing_moves(page):
    add_to_cart(page, product(reference="VX-2004")["slug"])
    start_checkout(page)
    fill_info(page, "CH")
    through_terms(page)
    page.click("#confirm-order")
    frame = page.locator("#card-element")
    expect(frame.locator("input[placeholder=number]")).to_be_visible()
    frame.locator("input[placeholder=number]").fill("4242424242424242")
    frame.locator("input[placeholder=exp_month]").fill("12")
    frame.locator("input[placeholder=exp_year]").fill("2030")  # four digits: the sandbox cannot read it
    frame.locator("input[placeholder=cvc]").fill("123")
    page.click("#pay")
    expect(page.locator("#pay-message")).to_contain_text("Please check your card number")
    expect(page.locator("#thank-you")).to_have_count(0)
