"""Built pages start their scripts after the first paint, with the very modules React Router's boot script named,
and a page in any other form is left as it was built."""

import gzip
import json
import re

from storefront import page_boot
from storefront.http_headers import inline_script_hashes

BOOT = ('<script type="module" async="">import "/assets/manifest-1.js";\n'
        'import * as route0 from "/assets/root-2.js";\nimport * as route1 from "/assets/_cart_._index-3.js";\n  \n'
        '  window.__reactRouterRouteModules = {"root":route0,"routes/[cart]._index":route1};\n\n'
        'import("/assets/entry.client-4.js");</script>')
PAGE = ('<html><head><link rel="modulepreload" href="/assets/manifest-1.js"/>'
        '<link rel="modulepreload" fetchpriority="low" href="/assets/root-2.js"/><title>Cart</title></head>'
        '<body><main id="cart">Your cart</main><script>window.__reactRouterContext = {};</script>' + BOOT +
        '</body></html>')


def modules_of(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="page-modules">(.*?)</script>', html)
    return json.loads(found.group(1))


def test_the_page_loads_the_same_modules_after_paint_and_nothing_before():
    html = page_boot.hydrate_after_paint(PAGE)
    assert "modulepreload" not in html and "import " not in html  # nothing fetched or run before the paint
    assert f'<script type="module" src="{page_boot.BOOT_SCRIPT}"></script>' in html
    assert modules_of(html) == {
        "first": ["/assets/manifest-1.js"],
        "routes": [["root", "/assets/root-2.js"], ["routes/[cart]._index", "/assets/_cart_._index-3.js"]],
        "entry": "/assets/entry.client-4.js",
        "preload": ["/assets/manifest-1.js", "/assets/root-2.js"],
        "steps": ["/assets/manifest-1.js", "/assets/root-2.js", "/assets/_cart_._index-3.js"],
        "paints": True,
    }
    # The page itself is untouched: its content and its other inline scripts (allowed by their hashes).
    assert '<main id="cart">Your cart</main>' in html and "<title>Cart</title>" in html
    assert inline_script_hashes(html)[0] == inline_script_hashes(PAGE)[0]


def test_a_boot_script_in_another_form_is_left_alone():
    extra = PAGE.replace('import("/assets/entry.client-4.js");', 'import("/assets/entry.client-4.js"); alert(1);')
    unknown_route = PAGE.replace('"root":route0,', '"root":route7,')
    for page in (extra, unknown_route, "<html><body>no scripts</body></html>"):
        assert page_boot.hydrate_after_paint(page) is None


def test_closing_tags_in_a_route_name_are_escaped_in_the_json_element():
    html = page_boot.hydrate_after_paint(PAGE.replace('"routes/[cart]._index"', '"routes/[</b>]._index"'))
    assert "[</b>]" not in html and modules_of(html)["routes"][1][0] == "routes/[</b>]._index"


def test_the_build_is_rewritten_in_place_with_its_compressed_copy(tmp_path):
    (tmp_path / "cart").mkdir()
    (tmp_path / "cart" / "index.html").write_text(PAGE)
    (tmp_path / "cart" / "index.html.gz").write_bytes(gzip.compress(PAGE.encode()))
    (tmp_path / "plain.html").write_text("<html>plain</html>")
    changed, unchanged = page_boot.rewrite_built_pages(tmp_path)
    assert (changed, unchanged) == (1, ["plain.html"])
    rewritten = (tmp_path / "cart" / "index.html").read_text()
    assert "page-modules" in rewritten
    assert gzip.decompress((tmp_path / "cart" / "index.html.gz").read_bytes()).decode() == rewritten


def test_the_modules_are_evaluated_one_at_a_time_after_those_they_import_and_the_entry_last():
    imports = {
        "/assets/root-2.js": ["/assets/components-5.js", "/assets/link-6.js"],
        "/assets/link-6.js": ["/assets/components-5.js"],
        "/assets/_cart_._index-3.js": ["/assets/link-6.js", "/assets/layout-7.js"],
        "/assets/layout-7.js": ["/assets/link-6.js"],
        "/assets/entry.client-4.js": ["/assets/components-5.js", "/assets/errors-8.js"],
    }
    steps = modules_of(page_boot.hydrate_after_paint(PAGE, imports))["steps"]
    assert steps == ["/assets/manifest-1.js", "/assets/components-5.js", "/assets/errors-8.js", "/assets/link-6.js",
                     "/assets/root-2.js", "/assets/layout-7.js", "/assets/_cart_._index-3.js"]
    assert "/assets/entry.client-4.js" not in steps  # evaluating the entry hydrates: it comes after the route table


def test_a_chunk_s_static_imports_are_read_from_the_built_script(tmp_path):
    (tmp_path / "root-2.js").write_text('import{a as e}from"./link-6.js";import"./side-9.js";'
                                        'const l=()=>import("./lazy-10.js");')
    (tmp_path / "link-6.js").write_text("export const a=1;")
    assert page_boot.chunk_imports(tmp_path) == {
        "/assets/link-6.js": [],
        "/assets/root-2.js": ["/assets/link-6.js", "/assets/side-9.js"],  # not the lazy import: it runs on demand
    }


def test_a_page_with_nothing_to_paint_starts_its_scripts_at_once():
    """A dynamic route's shell (the order pages) paints no content before its scripts, so the browser reports no
    first contentful paint: waiting for one would hold the page for the boot script's whole wait."""
    shell = PAGE.replace('<main id="cart">Your cart</main>',
                         '<section aria-label="Notifications"></section><div data-is-root-theme="true"> </div>'
                         '<template id="B:0"></template><style>p{color:red}</style>')
    assert modules_of(page_boot.hydrate_after_paint(shell))["paints"] is False
    with_attributes = shell.replace("<body>", '<body class="theme" data-x="1">')
    assert modules_of(page_boot.hydrate_after_paint(with_attributes))["paints"] is False
    drawn = PAGE.replace('<main id="cart">Your cart</main>', '<div><img src="/logo.svg" alt=""></div>')
    assert modules_of(page_boot.hydrate_after_paint(drawn))["paints"] is True
