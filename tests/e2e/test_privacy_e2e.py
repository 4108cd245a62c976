"""What a stranger's browser can and cannot see (PAY-6, CARD-3)."""

import gzip
import hashlib
import hmac
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from tests.e2e.catalogue_data import product
from tests.e2e.checkout_flow import add_to_cart, fill_info, purchase, start_checkout

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def _fetch(url: str, method: str = "GET", headers: dict | None = None, data: bytes | None = None):
    """(status, headers, body) of one request, error statuses included."""
    request = urllib.request.Request(url, method=method, headers=headers or {}, data=data)
    try:
        with urllib.request.urlopen(request) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


def _directives(csp: str) -> dict[str, list[str]]:
    return {d.split()[0]: d.split()[1:] for d in (part.strip() for part in csp.split(";")) if d}


@pytest.mark.clause("PAY-6")
def test_security_headers_on_pages_api_and_webhook_refusals(shop_url, shop_env):
    sandbox = f"http://127.0.0.1:{shop_env['STOREFRONT_LOCALSTRIPE_PORT']}"
    watch = product(active=True)["slug"]
    responses = {path: _fetch(shop_url + path) for path in ["/", f"/watch/{watch}", "/checkout", "/api/health"]}
    responses["webhook 400"] = _fetch(shop_url + "/api/stripe/webhook", "POST", {"Stripe-Signature": "t=1,v1=forged"},
                                      b'{"id": "evt_forged"}')
    assert responses["webhook 400"][0] == 400
    for name, (_status, headers, _body) in responses.items():
        assert headers["X-Content-Type-Options"] == "nosniff", name
        assert headers["Referrer-Policy"] == "same-origin", name  # order links carry a token
        assert headers["X-Frame-Options"] == "DENY", name
        csp = _directives(headers["Content-Security-Policy"])
        assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"], name
        assert csp["base-uri"] == ["'self'"] and csp["form-action"] == ["'self'"], name
        assert "'unsafe-inline'" not in csp["script-src"] and "*" not in csp["script-src"], name
        # Scripts from the shop and the payment provider (here its sandbox) only, frames from nowhere.
        assert {s for s in csp["script-src"] if not s.startswith("'sha256-")} == {"'self'", "'unsafe-eval'", sandbox}, name
        assert csp["frame-src"] == ["'none'"], name
        assert headers.get("Access-Control-Allow-Origin") is None, name


@pytest.mark.clause("PAY-6")
def test_each_page_runs_exactly_its_own_inline_scripts(shop_url):
    from storefront.http_headers import inline_script_hashes

    for path in ["/", f"/watch/{product(active=True)['slug']}", "/checkout", "/order/VX-NOSUCHORDER?t=x"]:
        for encoding in ("identity", "gzip"):  # browsers get the precompressed page
            _status, headers, body = _fetch(shop_url + path, headers={"Accept-Encoding": encoding})
            if headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            allowed = {s for s in _directives(headers["Content-Security-Policy"])["script-src"]
                       if s.startswith("'sha256-")}
            scripts = inline_script_hashes(body.decode())
            assert scripts, path  # the prerendered pages do carry inline scripts, so the hashes are needed
            assert allowed == {f"'sha256-{h}'" for h in scripts}, (path, encoding)


@pytest.mark.clause("PAY-6")
def test_foreign_origins_get_no_cross_origin_grant(shop_url):
    evil = {"Origin": "https://evil.example"}
    preflight = {**evil, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    for method, path, headers in [("GET", "/api/health", evil), ("OPTIONS", "/api/health", preflight),
                                  ("OPTIONS", "/api/stripe/webhook", preflight), ("GET", "/", evil),
                                  ("OPTIONS", "/_event/", preflight)]:
        _status, answer, _body = _fetch(shop_url + path, method, headers)
        assert answer.get("Access-Control-Allow-Origin") is None, (method, path)
    # The shop's own pages keep their access: the check is a list of origins, not a switched-off feature.
    _status, answer, _body = _fetch(shop_url + "/api/health", headers={"Origin": shop_url})
    assert answer.get("Access-Control-Allow-Origin") == shop_url


@pytest.mark.clause("PAY-6")
def test_the_event_socket_refuses_a_foreign_origin(shop_url):
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    import socketio

    async def connects(origin: str) -> bool:
        client = socketio.AsyncClient(reconnection=False)
        try:
            await client.connect(shop_url, socketio_path="/_event", transports=["websocket"],
                                 headers={"Origin": origin}, wait_timeout=10)
        except socketio.exceptions.ConnectionError:
            return False
        await client.disconnect()
        return True

    def attempt(origin: str) -> bool:  # in a thread of its own: Playwright's loop may run in this one
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, connects(origin)).result()

    assert attempt(shop_url)
    assert not attempt("https://evil.example")


def _served_secrets(shop_env) -> dict[str, str]:
    """The secrets the served shop holds, read as it reads them: its environment, its directory, its settings."""
    code = ("import json\n"
            "from storefront.adapters import sandbox\n"
            "from storefront.settings import get_settings\n"
            "s = get_settings()\n"
            "print(json.dumps({'link and cookie signing key': s.secret_key,\n"
            "                  'Stripe secret key': s.stripe_secret_key or sandbox.SECRET_KEY,\n"
            "                  'webhook signing secret': s.stripe_webhook_secret}))")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=shop_env, capture_output=True, text=True, check=True)
    return json.loads(run.stdout)


def _signed_event(secret: str) -> tuple[bytes, str]:
    body = json.dumps({"id": f"evt_probe_{int(time.time() * 1000)}", "object": "event", "type": "customer.created",
                       "data": {"object": {"id": "cus_probe", "object": "customer"}}}).encode()
    stamp = int(time.time())
    mac = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return body, f"t={stamp},v1={mac}"


def _built_files() -> dict[str, str]:
    found = {}
    for path in (ROOT / ".web" / "build" / "client").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found[str(path.relative_to(ROOT))] = (gzip.decompress(data) if path.suffix == ".gz" else data).decode(
                "utf-8", "ignore")
    return found


@pytest.mark.clause("PAY-6")
@pytest.mark.parametrize("viewport", ["desktop"], indirect=False)
def test_no_secret_reaches_the_browser_bundle(page, shop_url, shop_env):
    secrets = _served_secrets(shop_env)
    assert all(len(value) >= 12 for value in secrets.values()), "each secret is long enough to be searched for"
    # These are the served shop's secrets indeed: its webhook accepts an event signed with that one.
    body, signature = _signed_event(secrets["webhook signing secret"])
    probe = urllib.request.Request(shop_url + "/api/stripe/webhook", data=body, method="POST",
                                   headers={"Stripe-Signature": signature, "Content-Type": "application/json"})
    with urllib.request.urlopen(probe) as answer:  # a wrong secret gets 400 (HTTPError)
        assert answer.status == 200

    seen = _built_files()
    assert any(name.endswith(".js") for name in seen) and any(name.endswith(".html") for name in seen), "no build"
    frames, responses = [], []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(payload)))
    page.on("response", lambda response: responses.append(response))
    purchase(page, "VX-2002")
    expect(page.locator("#thank-you")).to_be_visible(timeout=30000)
    seen["the page's HTML"] = page.content()
    for response in responses:
        try:
            seen[f"response {response.url}"] = response.body().decode("utf-8", "ignore")
        except PlaywrightError:  # redirects carry no body
            continue
    state = [f if isinstance(f, str) else f.decode("utf-8", "ignore") for f in frames]
    assert any('"delta"' in f for f in state), "the state the server sent was observed"
    seen.update((f"websocket frame {i}", f) for i, f in enumerate(state))

    leaks = [(name, where) for name, secret in secrets.items() for where, text in seen.items() if secret in text]
    assert not leaks


@pytest.mark.clause("CARD-3")
@pytest.mark.clause("PAY-6")
@pytest.mark.parametrize("viewport", ["phone"], indirect=False)
def test_order_page_needs_its_signed_link(page, browser):
    purchase(page, "VX-2002")
    expect(page.locator("#thank-you")).to_be_visible(timeout=30000)
    reference = page.locator("#order-heading").inner_text().split()[-1]
    link = page.url.replace("&placed=1", "")
    stranger = browser.new_context()
    try:
        other = stranger.new_page()
        other.goto(link)
        expect(other.locator("#order-status")).to_contain_text("Awaiting approval")
        other.goto(page.base + f"/order/{reference}?t=0123456789abcdef0123456789abcdef")
        expect(other.get_by_text("Order not found")).to_be_visible()
        other.goto(page.base + f"/order/{reference}")
        expect(other.get_by_text("Order not found")).to_be_visible()
    finally:
        stranger.close()


@pytest.mark.clause("GTC-3.4")
@pytest.mark.parametrize("viewport", ["desktop"], indirect=False)
def test_back_and_forward_keep_what_was_typed(page):
    add_to_cart(page, product(reference="VX-2002")["slug"])
    start_checkout(page)
    fill_info(page, "DE")
    expect(page.locator("#details_confirmed")).to_be_visible()
    page.click("#back")
    expect(page.locator("#ship_street")).to_have_value("Unter den Linden 1")
    expect(page.locator("#email")).to_have_value("anna.keller@example.com")
    page.locator("#steps .step").nth(0).click()
    expect(page.locator("#next")).to_be_visible()
    page.click("#next")
    expect(page.locator("#full_name")).to_have_value("Anna Keller")
    page.reload()
    expect(page.locator("#full_name")).to_have_value("Anna Keller")
    expect(page.locator("#ship_country")).to_have_value("DE")
