"""Photographs put into a page's first HTML: in order, in the placeholders' boxes, and only plain image paths."""

import gzip

from storefront.first_html_images import send_html, with_images
from storefront.http_listing_images import _PLACEHOLDER
from tests.async_runner import run_async

CARD = '<span aria-hidden="true" class="rt-Skeleton css-1 card-image-placeholder" inert="">'
LISTING = f"<html><head><title>Watches</title></head><body>{CARD}{CARD}{CARD}<span class=\"rt-Skeleton\"></span></body></html>"


def test_the_first_cards_draw_the_listing_photographs_in_order():
    html = with_images(LISTING, _PLACEHOLDER, ["/watches/a.svg", "/api/media/products/b-1a2b-480.webp"])
    assert html.count("background:url(") == 2
    assert html.index("url(/watches/a.svg)") < html.index("url(/api/media/products/b-1a2b-480.webp)")
    assert html.count(CARD) == 1  # the third placeholder is left as built
    assert '<link rel="preload" as="image" href="/watches/a.svg" fetchpriority="high"/></head>' in html


def test_nothing_is_put_in_unless_every_path_is_a_plain_image_path():
    for images in ([], ["/watches/a.svg", "/x.svg) ; background:red"], ['/a.svg" onerror="x'], ["//evil/a.svg"],
                   ["/watches/../a.svg"], [None]):
        assert with_images(LISTING, _PLACEHOLDER, images) == LISTING, images
    styled = LISTING.replace('inert=""', 'inert="" style="color:red"')
    assert with_images(styled, _PLACEHOLDER, ["/watches/a.svg"]) == styled  # never a second style attribute


def test_the_page_is_gzipped_only_for_a_browser_that_takes_it():
    sent = []

    async def send(message):
        sent.append(message)

    for headers in ([(b"accept-encoding", b"gzip, deflate, br")], []):
        run_async(send_html({"type": "http", "method": "GET", "headers": headers}, send, b"<html>page</html>"))
    zipped, plain = sent[1]["body"], sent[3]["body"]
    assert gzip.decompress(zipped) == b"<html>page</html>" and plain == b"<html>page</html>"
    assert (b"content-encoding", b"gzip") in sent[0]["headers"]
    assert (b"content-encoding", b"gzip") not in sent[2]["headers"]
