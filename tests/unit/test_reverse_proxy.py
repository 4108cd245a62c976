"""Production mode's HTTPS front (storefront/reverse_proxy.py); the whole of it is driven in
tests/e2e/test_production_e2e.py."""

from __future__ import annotations

import stat
from ipaddress import ip_address

import pytest
from cryptography import x509

from storefront.reverse_proxy import caddyfile, self_signed_certificate, site_addresses


@pytest.mark.clause("PAY-6")
@pytest.mark.parametrize("url", ["http://localhost", "https://localhost:8443", "https://shop.example:3000"])
def test_a_public_url_off_the_default_https_port_is_refused(url):
    """The built frontend opens its event socket on the page's host at the default HTTPS port: a shop announced
    elsewhere, or over plain http, would load its pages and never connect."""
    with pytest.raises(ValueError, match="port 443"):
        site_addresses(url)


def test_plain_http_is_sent_to_the_public_url_whatever_host_was_asked(tmp_path):
    config = caddyfile("https://shop.example", 3001, tmp_path, None, None)
    assert "redir https://shop.example{uri} 308" in config
    assert "https://shop.example {" in config and "\ttls " not in config  # Caddy obtains the certificate


@pytest.mark.clause("PAY-6")
def test_the_local_certificate_names_every_loopback_address_and_its_key_is_the_owners_alone(tmp_path):
    cert_path, key_path = self_signed_certificate(tmp_path / "tls")
    names = x509.load_pem_x509_certificate(cert_path.read_bytes()).extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert set(names.get_values_for_type(x509.IPAddress)) == {ip_address("127.0.0.1"), ip_address("::1")}
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    first = cert_path.read_bytes()
    self_signed_certificate(tmp_path / "tls")
    assert cert_path.read_bytes() == first  # kept for the next run, not made again
