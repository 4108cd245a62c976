"""The product shell's HTML is rewritten to hydrate as the dynamic product route, or not used at all."""

from storefront import http_product_shell as shell
from storefront import routes
from tests.async_runner import run_async

SHELL_ID, PAGE_ID = "routes/[watch].[__shell]._index", "routes/[watch].$[slug]._index"
MANIFEST = ('window.__reactRouterManifest={"routes":{"%s":{"id":"%s","module":"/assets/shell-A.js","imports":[]},'
            '"%s":{"id":"%s","module":"/assets/slug-B.js","imports":[]}}};' % (SHELL_ID, SHELL_ID, PAGE_ID, PAGE_ID))
HTML = ('<html><link rel="modulepreload" href="/assets/shell-A.js"/><script type="module">import "/assets/manifest-1.js";'
        'import * as route1 from "/assets/shell-A.js"; window.__reactRouterRouteModules = {"%s":route1};</script>'
        '<span id="product-image-placeholder"></span></html>' % SHELL_ID)


def build(tmp_path, html=HTML, manifest=MANIFEST):
    (tmp_path / "watch").mkdir()
    (tmp_path / "assets").mkdir()
    (tmp_path / "watch" / "__shell.html").write_text(html)
    (tmp_path / "assets" / "manifest-1.js").write_text(manifest)
    return tmp_path


def test_route_ids_follow_reflex_route_files():
    assert shell._route_id(routes.WATCH) == PAGE_ID
    assert shell._route_id(routes.WATCH_SHELL) == SHELL_ID


def test_the_shell_hydrates_as_the_dynamic_route(tmp_path):
    body = shell.shell_html(build(tmp_path)).decode()
    assert "shell-A.js" not in body and SHELL_ID not in body
    assert body.count("/assets/slug-B.js") == 2 and f'"{PAGE_ID}":route1' in body
    assert 'id="product-image-placeholder"' in body


def test_no_shell_without_a_build_or_when_the_names_are_not_found(tmp_path):
    assert shell.shell_html(tmp_path) is None
    assert shell.shell_html(build(tmp_path, manifest="window.__reactRouterManifest={}")) is None


def test_only_product_pages_get_the_shell(tmp_path, monkeypatch):
    monkeypatch.setattr(shell, "shell_html", lambda: b"<html>shell</html>")
    monkeypatch.setattr(shell.catalogue, "lead_image", lambda uow, slug: None)
    passed, sent = [], []

    async def app(scope, receive, send):
        passed.append(scope["path"])

    async def send(message):
        sent.append(message)

    wrapped = shell.product_shell(app)
    for path in ["/watch/meridienne-38", "/watch/x/"]:
        run_async(wrapped({"type": "http", "method": "GET", "path": path}, None, send))
    for path in ["/watch/__shell", "/watch/a/b", "/watches", "/watch/x.js", "/"]:
        run_async(wrapped({"type": "http", "method": "GET", "path": path}, None, send))
    run_async(wrapped({"type": "http", "method": "POST", "path": "/watch/x"}, None, send))
    assert passed == ["/watch/__shell", "/watch/a/b", "/watches", "/watch/x.js", "/", "/watch/x"]
    assert [m["body"] for m in sent if m["type"] == "http.response.body"] == [b"<html>shell</html>"] * 2


SHELL = (b'<html><head><title>Watch</title></head><body><span class="rt-Skeleton" id="product-image-placeholder">'
         b'</span></body></html>')


def test_the_watch_photograph_is_in_the_first_html():
    body = shell.with_lead_image(SHELL, "/watches/vx-1001.svg").decode()
    assert '<link rel="preload" as="image" href="/watches/vx-1001.svg" fetchpriority="high"/></head>' in body
    assert ('id="product-image-placeholder" style="background:url(/watches/vx-1001.svg) center/contain no-repeat '
            '!important;animation:none !important"') in body
    uploaded = shell.with_lead_image(SHELL, "/api/media/products/meridienne-38-a1b2-960.webp").decode()
    assert "url(/api/media/products/meridienne-38-a1b2-960.webp)" in uploaded


def test_no_photograph_or_an_unexpected_path_leaves_the_shell_as_it_is():
    for image in (None, "", "watches/x.svg", "/watches/x.svg) ; color:red", '/x.svg" onload="alert(1)',
                  "//evil.example/x.svg", "/watches/../x.svg", "/watches/x.svg?a=1", "javascript:x.svg"):
        assert shell.with_lead_image(SHELL, image) == SHELL, image
    assert shell.with_lead_image(b"<html><head></head><body></body></html>", "/w/x.svg") == \
        b"<html><head></head><body></body></html>"
