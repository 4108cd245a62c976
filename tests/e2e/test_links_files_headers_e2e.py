"""A purchase with 3-D Secure under the Content-Security-Policy, the order links it yields, and the files
and socket the served shop leaves behind (PAY-6, CARD-3).

One purchase (module fixture) is walked in Chromium while every `securitypolicyviolation` event and every
console message is recorded; the tests then read what it left.
"""

from __future__ import annotations

import stat
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from playwright.sync_api import expect

from storefront.adapters.private_files import sqlite_files
from storefront.services import links
from tests.e2e.catalogue_data import product
from tests.e2e.checkout_flow import add_to_cart, fill_info, pay, start_checkout, through_terms
from tests.e2e.conftest import DESKTOP

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]

REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => window.__reportCsp(
  `${e.effectiveDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`));
"""


@dataclass
class Walk:
    violations: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)
    reference: str = ""
    view_link: str = ""
    started: float = field(default_factory=time.time)


@pytest.fixture(scope="module")
def purchase(browser, shop_url) -> Walk:
    """Home, the collection, the terms, a product, the cart, the six checkout steps with the sandbox's card form and a 3-D Secure
    challenge, and the order page."""
    walk = Walk()
    context = browser.new_context(viewport=DESKTOP, locale="de-CH")
    context.set_default_timeout(15000)
    context.expose_binding("__reportCsp", lambda _source, text: walk.violations.append(text))
    context.add_init_script(REPORT_VIOLATIONS)
    page = context.new_page()
    page.base = shop_url  # type: ignore[attr-defined]
    page.on("console", lambda m: walk.console.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("framenavigated", lambda f: walk.pages.append(f.url) if f == page.main_frame else None)
    try:
        for path in ("/", "/watches", "/terms"):
            page.goto(shop_url + path)
            expect(page.locator("#cart-count")).to_be_attached()
        add_to_cart(page, product(reference="VX-2002")["slug"])
        page.goto(shop_url + "/cart")
        expect(page.get_by_text(product(reference="VX-2002")["name"]).first).to_be_visible()
        start_checkout(page)
        fill_info(page, "CH")
        through_terms(page)
        pay(page, "4000002500003155")
        page.get_by_text("Complete authentication").click(timeout=20000)
        expect(page.locator("#thank-you")).to_be_visible(timeout=30000)
        walk.reference = page.locator("#order-heading").inner_text().split()[-1]
        walk.view_link = page.url.replace("&placed=1", "")
        page.reload()
        expect(page.locator("#order-status")).to_be_visible()
    finally:
        context.close()
    return walk


@pytest.mark.clause("PAY-6")
def test_no_content_security_violation_through_a_purchase_with_3d_secure(purchase):
    assert "/order/" in purchase.pages[-1] and any("/checkout" in url for url in purchase.pages)
    assert purchase.violations == []
    assert [line for line in purchase.console if "Content Security Policy" in line or "Refused to" in line] == []


def _not_found_text(browser, url: str) -> str:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(url)
        expect(page.get_by_role("heading", name="Order not found")).to_be_visible()
        return page.locator("body").inner_text()
    finally:
        context.close()


@pytest.mark.clause("CARD-3")
@pytest.mark.clause("PAY-6")
def test_every_wrong_order_link_says_order_not_found_and_nothing_more(purchase, browser, shop_url):
    ref = purchase.reference
    token = purchase.view_link.split("?t=")[1]
    long_ago = datetime.now(timezone.utc) - links.lifetimes()["view"] - timedelta(days=1)
    wrong = {
        "tampered": f"/order/{ref}?t={token[:-1]}{'A' if token[-1] != 'A' else 'B'}",
        "expired view link": f"/order/{ref}?t={links.issue(ref, links.Purpose.VIEW, long_ago)}",
        "pay link": f"/order/{ref}?t={links.issue(ref, links.Purpose.PAY)}",
        "unknown order, genuine token": f"/order/VX-ABCDEFGHJK?t={links.issue('VX-ABCDEFGHJK', links.Purpose.VIEW)}",
        "another order's token": f"/order/{ref}?t={links.issue('VX-ABCDEFGHJK', links.Purpose.VIEW)}",
        "no token": f"/order/{ref}",
    }
    texts = {name: _not_found_text(browser, shop_url + path) for name, path in wrong.items()}

    assert len(set(texts.values())) == 1, texts  # the same page whatever is wrong with the link
    assert ref not in next(iter(texts.values()))


@pytest.mark.clause("PAY-6")
def test_the_served_shop_keeps_its_files_to_its_owner(purchase, shop_env, mail_dir):
    mode = lambda path: stat.S_IMODE(path.stat().st_mode)  # noqa: E731
    database = [p for p in sqlite_files(shop_env["REFLEX_DB_URL"]) if p.exists()]
    assert database and all(mode(p) == 0o600 for p in database), {str(p): oct(mode(p)) for p in database}
    deadline = time.monotonic() + 20
    while not any(purchase.reference in p.read_text(errors="ignore") for p in mail_dir.glob("*.eml")):
        assert time.monotonic() < deadline, "no confirmation email"
        time.sleep(0.5)
    assert mode(mail_dir) == 0o700 and all(mode(p) == 0o600 for p in mail_dir.iterdir())
    # The tabs' states (what the shopper typed) stay in the server's memory (rxconfig.py): none reaches the disk.
    states = ROOT / ".states"
    saved = [p for p in states.iterdir() if p.stat().st_mtime >= purchase.started] if states.exists() else []
    assert saved == []


def _listening(port: int) -> list[str]:
    """Local addresses (hex, as the kernel lists them) of the TCP sockets listening on `port`."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                found.append(local.rsplit(":", 1)[0])
    return found


LOOPBACK_HEX = {"0100007F", "00000000000000000000000001000000"}  # 127.0.0.1, ::1


@pytest.mark.clause("PAY-6")
def test_the_shop_listens_on_loopback_only_unless_told_otherwise(shop_url, shop_env):
    addresses = _listening(int(shop_env["SHOP_PORT"]))
    assert addresses and set(addresses) <= LOOPBACK_HEX, addresses
