"""The browser identity the server issues, and the draft sealed for one browser (ASVS 8.2.2)."""

import pytest

from storefront.domain.client_ip import client_ip, parse_networks
from storefront.services import browser


def cookie(value: str) -> str:
    return f"theme=light; {browser.COOKIE}={value}; other=1"


def test_an_issued_id_verifies_and_has_a_stable_fingerprint():
    value = browser.issue()
    assert browser.verified_id(value)
    assert browser.fingerprint(cookie(value)) == browser.fingerprint(cookie(value)) != ""
    assert browser.fingerprint(cookie(browser.issue())) != browser.fingerprint(cookie(value))


@pytest.mark.parametrize("forged", [
    "", "x" * 60, "my-own-chosen-checkout-key-0123456789abcdef.signature",
])
def test_a_value_the_client_chose_is_no_identity(forged):
    assert browser.fingerprint(cookie(forged)) == ""


def test_a_tampered_id_is_no_identity():
    value = browser.issue()
    raw, signature = value.rsplit(".", 1)
    assert browser.fingerprint(cookie(raw[:-1] + ("A" if raw[-1] != "A" else "B") + "." + signature)) == ""


def test_no_cookie_or_a_broken_header_is_no_identity():
    assert browser.fingerprint(None) == ""
    assert browser.fingerprint("") == ""
    assert browser.fingerprint('vx_sid="unterminated; ; ;=') == ""


def test_a_sealed_draft_opens_only_for_its_own_browser():
    mine, theirs = browser.fingerprint(cookie(browser.issue())), browser.fingerprint(cookie(browser.issue()))
    sealed = browser.seal({"form": {"email": "anna@example.com"}}, mine)
    assert "anna" not in sealed
    assert browser.unseal(sealed, mine) == {"form": {"email": "anna@example.com"}}
    assert browser.unseal(sealed, theirs) == {}
    assert browser.unseal(sealed, "") == {}
    assert browser.unseal(sealed[:-4] + "AAAA", mine) == {}
    assert browser.unseal('{"form": {"email": "x@example.com"}}', mine) == {}


TRUSTED = parse_networks("10.0.0.0/8, 127.0.0.1")


@pytest.mark.parametrize("peer, forwarded, expected", [
    ("203.0.113.9", "", "203.0.113.9"),
    ("203.0.113.9", "1.2.3.4", "203.0.113.9"),  # an untrusted client cannot name another address
    ("10.0.0.5", "198.51.100.7", "198.51.100.7"),
    ("10.0.0.5", "1.2.3.4, 198.51.100.7, 10.0.0.9", "198.51.100.7"),  # spoofed left entries are ignored
    ("10.0.0.5", "not-an-ip", "10.0.0.5"),
    ("127.0.0.1", "", "127.0.0.1"),
])
def test_forwarded_addresses_count_only_from_trusted_proxies(peer, forwarded, expected):
    assert client_ip(peer, forwarded, TRUSTED) == expected


def test_without_configured_proxies_the_peer_is_the_client():
    assert client_ip("10.0.0.5", "198.51.100.7", parse_networks("")) == "10.0.0.5"
