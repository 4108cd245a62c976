"""Production mode, started as the README says (`make production`), driven through a whole checkout over HTTPS.

PAY-6 asks for encryption on every page that collects personal data: the shop is reached through Caddy on
https://localhost only (plain http is redirected, HSTS tells the browser never to come back without TLS), its
cookies are Secure and its event socket, which carries every typed detail, is wss://. Behind the proxy the
order lands in PostgreSQL, the shoppers' state in Redis, and several backend workers serve.

Production mode builds the frontend for its own port: it runs after every test of the shop served once for the
session (tests/e2e/conftest.py orders it last), so that build replaces the session's only when nothing needs it.
"""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.request
from ipaddress import ip_address
from pathlib import Path

import pytest
import redis
from playwright.sync_api import expect
from sqlalchemy import create_engine, text

from storefront.http_headers import HSTS
from tests.e2e.catalogue_data import product
from tests.e2e.checkout_flow import add_to_cart, fill_card, fill_info, start_checkout, through_terms
from tests.e2e.conftest import ROOT, free_port, shopper_context

pytestmark = pytest.mark.e2e

PUBLIC = "https://localhost"
SPOOFED = "203.0.113.7"  # what a shopper claims in X-Forwarded-For; the shop must see the address Caddy saw
UNVERIFIED = ssl._create_unverified_context()  # the local run's certificate is self-signed


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _wait_ready(proc: subprocess.Popen, log: Path) -> None:
    """Until the shop answers through the proxy; the first run installs packages and builds the frontend."""
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"make production exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(PUBLIC + "/api/health", timeout=5, context=UNVERIFIED) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1)
    raise TimeoutError(f"production mode did not answer on {PUBLIC}:\n{log.read_text()[-3000:]}")


def _env_file(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def _socket_holders(port: int) -> set[int]:
    """The processes holding the listening socket of 127.0.0.1:port (they accept its connections)."""
    wanted = f"0100007F:{port:04X}"
    inodes = {fields[9] for fields in (line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:])
              if fields[1] == wanted and fields[3] == "0A"}  # 0A: LISTEN
    holders = set()
    for proc_dir in Path("/proc").iterdir():
        if not proc_dir.name.isdigit():
            continue
        try:
            links = {os.readlink(fd) for fd in (proc_dir / "fd").iterdir()}
        except OSError:
            continue
        if any(f"socket:[{inode}]" in links for inode in inodes):
            holders.add(int(proc_dir.name))
    return holders


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


@pytest.fixture(scope="module")
def production():
    taken = [port for port in (80, 443) if _listening(port)]
    if taken:
        pytest.skip(f"port(s) {', '.join(map(str, taken))} already in use by another program: production mode "
                    "serves on 80 and 443")
    data = Path(tempfile.mkdtemp(prefix="storefront-production-"))
    env = {k: v for k, v in os.environ.items()
           if k not in ("REFLEX_DB_URL", "REFLEX_REDIS_URL", "STOREFRONT_PUBLIC_URL", "STOREFRONT_TEST_CLOCK_FILE",
                        "STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STOREFRONT_SMTP_HOST")}
    env.update(STOREFRONT_PRODUCTION_DIR=str(data), STOREFRONT_APP_PORT=str(free_port()),
               STOREFRONT_LOCALSTRIPE_PORT=str(free_port()), STOREFRONT_MAIL_CAPTURE_PORT=str(free_port()))
    log = data.with_suffix(".log")
    with open(log, "w") as out:
        proc = subprocess.Popen(["make", "production"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        _wait_ready(proc, log)
        yield {"proc": proc, "data": data, "app_port": int(env["STOREFRONT_APP_PORT"])}
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(data, ignore_errors=True)
        log.unlink(missing_ok=True)


@pytest.mark.clause("PAY-6")
def test_checkout_over_https_in_production_mode(production, browser):
    # Plain http is sent to the https address of the same page, permanently.
    plain = http.client.HTTPConnection("localhost", 80, timeout=10)
    plain.request("GET", "/checkout")
    redirect = plain.getresponse()
    assert (redirect.status, redirect.getheader("Location")) == (308, PUBLIC + "/checkout")
    plain.close()
    # One HSTS header (Caddy's replaces the shop's own copy rather than adding a second).
    with urllib.request.urlopen(PUBLIC + "/", context=UNVERIFIED, timeout=10) as resp:
        assert resp.headers.get_all("Strict-Transport-Security") == [HSTS]

    ctx = shopper_context(browser, ignore_https_errors=True)
    try:
        page = ctx.new_page()
        page.base = PUBLIC  # type: ignore[attr-defined]
        sockets: list[str] = []
        page.on("websocket", lambda ws: sockets.append(ws.url))
        page.set_extra_http_headers({"X-Forwarded-For": SPOOFED})  # on the pages and the event socket's handshake
        add_to_cart(page, product(reference="VX-2002")["slug"])
        start_checkout(page)
        fill_info(page, "CH")
        through_terms(page)
        page.click("#confirm-order")  # the order, and the address it was accepted from, are recorded
        expect(page.locator("#order-reference")).to_be_visible()
        reference = page.locator("#order-reference").inner_text().strip()
        # Not on the card form's calls to the payment sandbox, which refuses a request with a header it does not know.
        page.set_extra_http_headers({})
        fill_card(page, "4242424242424242")
        page.click("#pay")
        expect(page.locator("#thank-you")).to_be_visible(timeout=30000)
        token = page.evaluate("window.sessionStorage.getItem('token')")
        cookies = [c for c in ctx.cookies(PUBLIC) if c["name"].startswith("vx_")]
    finally:
        ctx.close()

    assert sockets and all(url.startswith("wss://localhost/_event") for url in sockets), sockets
    assert cookies and all(c["secure"] for c in cookies), cookies

    settings = _env_file(production["data"] / "production.env")
    assert settings["REFLEX_DB_URL"].startswith("postgresql+psycopg://")
    engine = create_engine(settings["REFLEX_DB_URL"])
    try:
        with engine.connect() as conn:
            accepted_ip = conn.execute(text("SELECT accepted_ip FROM shop_order WHERE reference = :r"),
                                       {"r": reference}).scalar_one()
    finally:
        engine.dispose()
    # The address Caddy saw (loopback here), never what the shopper wrote in X-Forwarded-For.
    assert accepted_ip != SPOOFED and ip_address(accepted_ip).is_loopback

    assert redis.Redis.from_url(settings["REFLEX_REDIS_URL"]).keys(f"{token}*"), "no state of the shopper in Redis"

    # Two worker processes accept the shop's connections: children of one server, holding its listening socket.
    holders = _socket_holders(production["app_port"])
    parents = {pid: _parent(pid) for pid in holders}
    workers = holders - set(parents.values())  # not the server, should it keep the socket to start a worker again
    assert len(workers) == 2 and len({parents[pid] for pid in workers}) == 1, parents

    # Ctrl-C stops everything production mode started.
    proc = production["proc"]
    os.killpg(proc.pid, signal.SIGINT)
    proc.wait(timeout=120)
    assert [p for p in (80, 443, production["app_port"]) if _listening(p)] == []
    assert not (production["data"] / "postgres" / "data" / "postmaster.pid").exists()
    assert not any(Path(f"/proc/{pid}").exists() for pid in holders)
