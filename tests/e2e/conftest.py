"""Session-scoped app harness: the production build served once, driven by Debian Chromium."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from tests import throwaway_db

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError(url)


def pytest_collection_modifyitems(items):
    """Production mode (test_production_e2e.py) builds the frontend again, for its own port, over the build the
    session's shop serves: it runs last, when no other test needs that shop."""
    items.sort(key=lambda item: item.path.name == "test_production_e2e.py")


@pytest.fixture(scope="session")
def shop_env():
    """Environment of the served shop: a database of its own (E2E_DB_URL names the PostgreSQL server to
    create it on), dropped at the end, so tests never touch a developer's data."""
    tmp = tempfile.mkdtemp(prefix="storefront-e2e-")
    env = dict(os.environ)
    given = os.environ.get("E2E_DB_URL", "")
    env["REFLEX_DB_URL"] = throwaway_db.own_database(given, Path(tmp))
    env["STOREFRONT_MAIL_DIR"] = f"{tmp}/mail"
    env["STOREFRONT_MEDIA_DIR"] = f"{tmp}/media"  # photographs uploaded by the catalogue tests
    env["STOREFRONT_LOCALSTRIPE_PORT"] = str(free_port())
    env["STOREFRONT_MAIL_CAPTURE_PORT"] = str(free_port())
    env["SHOP_PORT"] = str(free_port())
    env["STOREFRONT_PUBLIC_URL"] = f"http://127.0.0.1:{env['SHOP_PORT']}"
    # Every test browser reaches the shop from 127.0.0.1 and types the same email (checkout_flow.fill_info), so
    # the per-address and per-email figures would count the whole suite as one client leaving orders unpaid; the
    # limits themselves are proven in tests/integration/test_abuse_limits.py.
    env["STOREFRONT_LIMITS_OVERRIDES"] = json.dumps({
        "open_unpaid_orders": {"per_ip": 10_000, "per_email": 10_000},
        "rates": {"order_confirmations_per_ip": "10000 per minute", "payment_attempts_per_ip": "10000 per minute"},
        "find_order": {"per_ip": "10000 per minute", "per_reference": "10000 per minute"}})
    # Card payments taken by telephone (MOTO, PAY-2) are off by default; the served test shop has them on so the
    # management page's card form can be driven (tests/e2e/test_admin_telephone_order_e2e.py). Off, the client
    # pays through the emailed link, which works the same either way (tests/integration/test_telephone_orders.py).
    env["STOREFRONT_STRIPE_MOTO"] = "1"
    # The test clock (storefront/adapters/clock.py): the `shop_clock` fixture moves the served shop's calendar
    # and its payment sandbox's, e.g. to the day a delivery delay is owed a notice; without the file, real time.
    env["STOREFRONT_TEST_CLOCK_FILE"] = f"{tmp}/clock"
    for key in ("STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STOREFRONT_SMTP_HOST"):
        env.pop(key, None)  # always the local sandbox and mail capture in tests
    yield env
    throwaway_db.drop(env["REFLEX_DB_URL"], given)  # after shop_url stopped the server using it


@pytest.fixture(scope="session")
def mail_dir(shop_env):
    return Path(shop_env["STOREFRONT_MAIL_DIR"])


@pytest.fixture(scope="session")
def shop_url(shop_env):
    port = int(shop_env["SHOP_PORT"])
    env = dict(shop_env)
    for cmd in ("migrate", "seed"):
        subprocess.run([sys.executable, "-m", "storefront", cmd], cwd=ROOT, env=env, check=True)
    log = open(Path(tempfile.gettempdir()) / f"storefront-e2e-{port}.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "storefront", "serve", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url + "/api/health", timeout=240, proc=proc)
        wait_http(url + "/", timeout=60, proc=proc)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


@pytest.fixture
def shop_clock(shop_env):
    """Moves the served shop's clock (and its payment sandbox's) to a moment, from where it keeps flowing; back
    to the real time after the test. The shop's background jobs act on every order at the moved time."""
    from datetime import datetime, timedelta, timezone

    from storefront.adapters import clock

    path = Path(shop_env["STOREFRONT_TEST_CLOCK_FILE"])

    def move_to(moment: datetime) -> None:
        clock.set_offset(path, moment - datetime.now(timezone.utc))

    try:
        yield move_to
    finally:
        clock.set_offset(path, timedelta(0))


@pytest.fixture(scope="module")
def db(shop_env):
    """The served shop's database (tests/e2e/shop_db.rows reads it)."""
    from sqlalchemy import create_engine

    engine = create_engine(shop_env["REFLEX_DB_URL"])
    yield engine
    engine.dispose()


@pytest.fixture(autouse=True)
def seed_stock(request):
    """Every e2e test starts from the demo catalogue's stock: the suite buys (and leaves unpaid) more
    watches than the demo house holds, and a test must not fail because an earlier one sold out."""
    if "shop_url" not in request.fixturenames and "page" not in request.fixturenames:
        yield
        return
    from sqlalchemy import create_engine, text

    from tests.e2e.catalogue_data import SEED

    request.getfixturevalue("shop_url")  # the served shop has migrated and seeded its database
    engine = create_engine(request.getfixturevalue("shop_env")["REFLEX_DB_URL"])
    try:
        with engine.begin() as conn:
            for p in SEED["products"]:
                conn.execute(text("UPDATE product SET stock = :stock WHERE reference = :ref"),
                             {"stock": p["stock"], "ref": p["reference"]})
    finally:
        engine.dispose()
    yield


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(params=["desktop", "phone"])
def viewport(request):
    return request.param


def shopper_context(browser, viewport: str = "desktop", **options):
    """A new browser of its own: its own cookies and storage, as a second device would be."""
    size = DESKTOP if viewport == "desktop" else PHONE
    options.setdefault("locale", "de-CH")
    ctx = browser.new_context(viewport=size, is_mobile=viewport == "phone", has_touch=viewport == "phone", **options)
    ctx.set_default_timeout(15000)
    return ctx


@pytest.fixture
def context(browser, viewport):
    ctx = shopper_context(browser, viewport)
    yield ctx
    ctx.close()


FAILURES = ROOT / "var" / "screenshots" / "failures"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if call.when == "call":
        item.e2e_failed = outcome.get_result().failed


@pytest.fixture
def page(request, context, shop_url):
    pg = context.new_page()
    pg.base = shop_url  # type: ignore[attr-defined]
    yield pg
    if getattr(request.node, "e2e_failed", False) and not pg.is_closed():
        # What the shopper saw when the test failed: CI keeps no browser, so the picture and the
        # notifications are the evidence.
        FAILURES.mkdir(parents=True, exist_ok=True)
        name = "".join(c if c.isalnum() or c in "-_." else "_" for c in request.node.nodeid)
        pg.screenshot(path=str(FAILURES / f"{name}.png"), full_page=True)
        toasts = pg.locator("[data-sonner-toast]").all_inner_texts()
        print(f"failure screenshot: var/screenshots/failures/{name}.png; notifications: {toasts}")
