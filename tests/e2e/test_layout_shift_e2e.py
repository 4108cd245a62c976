"""No layout shift on a first visit: what a page paints first is already its final layout.

Each page is opened in a fresh browser (no cookies, no storage: the shopper's first visit) on a phone
and a desktop. A PerformanceObserver installed before any page script (tests/e2e/layout_shift.js)
sums Chromium's layout-shift entries without recent input, the figure Lighthouse reports as CLS;
once the page has its final content (the page's data in the DOM, the network idle, two frames
painted) the sum must be at most 0.1 (issue 8, section 2). Geometry, not timing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.catalogue_data import product
from tests.e2e.conftest import shopper_context

OBSERVER = Path(__file__).with_name("layout_shift.js")
MAX_CLS = 0.1
WATCH = product(active=True, featured=True, stock=lambda p: p["stock"] > 0)

# Page, whether the shopper has a watch in the cart, and what is on the page once its data arrived.
PAGES = {
    "home": ("/", False, ".product-card .price:not(:empty)"),
    "watches": ("/watches", False, ".product-card .price:not(:empty)"),
    "product": (f"/watch/{WATCH['slug']}", False, "#add-to-cart:enabled"),
    "cart": ("/cart", True, ".cart-line .line-total:not(:empty)"),
    "checkout": ("/checkout", True, "#next:enabled"),
    "find-order": ("/find-order", False, "#find-submit"),
}


def settled_shift(browser, url: str, viewport: str, with_cart: bool, ready: str) -> dict:
    ctx = shopper_context(browser, viewport)
    try:
        ctx.add_init_script(path=str(OBSERVER))
        if with_cart:  # a returning shopper's cart, nothing else remembered
            ctx.add_init_script(
                "localStorage.getItem('vx_cart') || localStorage.setItem('vx_cart', %s)"
                % json.dumps(json.dumps({WATCH["reference"]: 1})))
        page = ctx.new_page()
        page.goto(url)
        expect(page.locator(ready).first).to_be_visible()
        expect(page.locator("#country-select option").first).to_be_attached()
        page.wait_for_load_state("networkidle")
        page.evaluate("document.fonts.ready")
        page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        return page.evaluate("window.__layoutShift")
    finally:
        ctx.close()


@pytest.mark.parametrize("name", list(PAGES))
def test_first_visit_does_not_shift_the_page(browser, shop_url, viewport, name):
    path, with_cart, ready = PAGES[name]
    shift = settled_shift(browser, shop_url + path, viewport, with_cart, ready)
    print(f"CLS {name} {viewport}: {shift['cls']:.4f}")
    assert shift["cls"] <= MAX_CLS, f"{name} on {viewport}: CLS {shift['cls']:.3f}; shifts: {shift['shifts']}"


def test_product_page_first_html_has_the_sized_image_box_and_hydrates_as_its_route(browser, shop_url):
    """The one dynamic product route answers with the prerendered product shell (image box at its final
    size, text placeholders), which the browser hydrates as the dynamic route: no React hydration error,
    and the watch the URL names replaces the placeholders."""
    import urllib.request

    html = urllib.request.urlopen(shop_url + f"/watch/{WATCH['slug']}").read().decode()
    assert 'id="product-image-placeholder"' in html
    assert "aspect-ratio:1/1" in html.replace(" ", "")
    assert '"routes/[watch].$[slug]._index"' in html and "[__shell]" not in html
    ctx = shopper_context(browser, "phone")
    try:
        page = ctx.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(shop_url + f"/watch/{WATCH['slug']}")
        expect(page.locator("h1")).to_have_text(WATCH["name"])
        expect(page.locator("#add-to-cart")).to_be_enabled()
        page.wait_for_load_state("networkidle")
        assert not [e for e in errors if "418" in e or "423" in e or "ydrat" in e], errors
    finally:
        ctx.close()


# Page, the image placeholder of its first HTML, and the image that takes its place once the data arrived.
IMAGE_BOXES = {
    "product": (f"/watch/{WATCH['slug']}", "#product-image-placeholder", f"main img[alt='{WATCH['name']}']"),
    "watches": ("/watches", ".card-image-placeholder", ".product-card img"),
    "home": ("/", ".card-image-placeholder", ".product-card img"),
}


def boxes(page, selector: str) -> list[list[float]]:
    return page.locator(selector).evaluate_all(
        "els => els.map(e => { const r = e.getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; })")


@pytest.mark.parametrize("name", list(IMAGE_BOXES))
def test_the_first_html_holds_each_image_box_at_the_size_of_its_image(browser, shop_url, viewport, name):
    """What a phone paints before any script ran (scripts refused here): every image box is already the
    image's square, where the image will be; the product page draws its watch in it from the first HTML."""
    path, placeholder, image = IMAGE_BOXES[name]
    first = shopper_context(browser, viewport)
    final = shopper_context(browser, viewport)
    try:
        first.route("**/*.js", lambda route: route.abort())
        page = first.new_page()
        page.goto(shop_url + path)
        before = boxes(page, placeholder)
        drawn = page.locator(placeholder).evaluate_all("els => els.map(e => getComputedStyle(e).backgroundImage)")
        shown = final.new_page()
        shown.goto(shop_url + path)
        expect(shown.locator(image).first).to_be_visible()
        if name != "home":  # the product page and the listing draw their photographs from the first HTML
            sources = shown.locator(image).evaluate_all("els => els.map(e => e.getAttribute('src'))")
            assert [d.split("/", 3)[-1] for d in drawn] == [f'{s.lstrip("/")}")' for s in sources[: len(drawn)]], \
                (drawn, sources)
        after = boxes(shown, image)[: len(before)]
        assert before and len(after) == len(before)
        for (x0, y0, w0, h0), (x1, y1, w1, h1) in zip(before, after):
            assert w0 >= 96 and abs(w0 - h0) <= 1, f"{name} {viewport}: placeholder {w0}x{h0} is not the image's square"
            assert abs(w0 - w1) <= 1 and abs(h0 - h1) <= 1 and abs(x0 - x1) <= 1, \
                f"{name} {viewport}: placeholder {w0}x{h0} at x={x0}, image {w1}x{h1} at x={x1}"
        if name != "home":
            # The first photograph drawn is where its image will be, to the pixel: a box 2 px lower showed less of
            # itself above the fold than the image replacing it, which became the largest paint, 0.6 s later.
            assert abs(before[0][1] - after[0][1]) <= 1, f"{name} {viewport}: first box at y={before[0][1]}, image at {after[0][1]}"
    finally:
        first.close()
        final.close()


@pytest.mark.parametrize("name", ["home", "watches", "product", "cart"])  # the pages with placeholders
def test_the_first_paint_starts_no_animation(browser, shop_url, name):
    """The placeholders a page paints first hold still: an animation started at the first paint (Radix's pulsing
    skeleton) cost a slow phone up to 290 ms of blocked main thread right after it (assets/placeholders.css)."""
    path, _, _ = PAGES[name]
    ctx = shopper_context(browser, "phone")
    try:
        ctx.route("**/*.js", lambda route: route.abort())  # the first HTML, as painted before any script
        page = ctx.new_page()
        page.goto(shop_url + path)
        assert page.locator(".rt-Skeleton").count() > 0, f"{name}: the first HTML has no placeholder"
        running = page.evaluate("document.getAnimations().map(a => a.animationName || a.constructor.name)")
        assert running == [], f"{name}: the first paint starts {running}"
    finally:
        ctx.close()
