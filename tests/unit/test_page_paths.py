"""A page answers at its own path (no redirect to the trailing slash); nothing else is touched."""

from storefront import http_page_paths
from tests.async_runner import run_async


def test_page_folders_are_served_in_place(tmp_path, monkeypatch):
    for folder in ("cart", "admin/orders"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "index.html").write_text("<html></html>")
    (tmp_path / "index.html").write_text("<html></html>")
    pages = http_page_paths.built_pages(tmp_path)
    assert pages == {"/cart", "/admin/orders"}
    monkeypatch.setattr(http_page_paths, "built_pages", lambda: pages)
    seen = []

    async def app(scope, receive, send):
        seen.append((scope["method"], scope["path"], scope.get("raw_path")))

    wrapped = http_page_paths.page_paths(app)
    for method, path in [("GET", "/cart"), ("HEAD", "/admin/orders"), ("GET", "/cart/"), ("POST", "/cart"),
                         ("GET", "/cartx"), ("GET", "/"), ("GET", "/watch/x")]:
        run_async(wrapped({"type": "http", "method": method, "path": path, "raw_path": path.encode()}, None, None))
    assert seen == [("GET", "/cart/", b"/cart/"), ("HEAD", "/admin/orders/", b"/admin/orders/"),
                    ("GET", "/cart/", b"/cart/"), ("POST", "/cart", b"/cart"), ("GET", "/cartx", b"/cartx"),
                    ("GET", "/", b"/"), ("GET", "/watch/x", b"/watch/x")]
