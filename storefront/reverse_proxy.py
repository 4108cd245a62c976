"""Production mode's HTTPS front (scripts/production.sh): Caddy's configuration, and the self-signed
certificate of a shop served on loopback (PAY-6: TLS on every page that collects personal data).

Caddy answers on 443 and 80. Port 443 is not a choice: the built frontend opens its event socket at the page's
host, with the port blanked under https (Reflex's getBackendURL), so the pages and the socket must both be on
the default HTTPS port. Plain http is redirected to the public URL. HSTS is set by Caddy on every HTTPS
response, replacing the copy the shop sends (one header, one policy: http_headers.HSTS). Caddy sets
X-Forwarded-For to the address it sees, discarding whatever a client sent, and dials the shop on 127.0.0.1,
the only proxy the shop believes (STOREFRONT_TRUSTED_PROXIES): rate limits count each client, and a client
cannot pose as another address.
"""

from __future__ import annotations

import ipaddress
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

from storefront.http_headers import HSTS

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
CERTIFICATE_DAYS = 365
RENEW_BEFORE = timedelta(days=30)


def is_loopback(public_url: str) -> bool:
    return urlsplit(public_url).hostname in LOOPBACK_NAMES


def site_addresses(public_url: str) -> list[str]:
    """The names the HTTPS site answers to: on loopback each of its names, since a developer may open either."""
    parts = urlsplit(public_url)
    if parts.scheme != "https" or parts.port not in (None, 443):
        raise ValueError(f"production mode serves https on port 443; the public URL {public_url!r} is not such a URL")
    names = LOOPBACK_NAMES if is_loopback(public_url) else (parts.hostname,)
    return [f"https://[{n}]" if ":" in n else f"https://{n}" for n in names]


def caddyfile(public_url: str, upstream_port: int, storage: Path, cert: Path | None, key: Path | None) -> str:
    """Without a certificate Caddy obtains one for the public host itself (ACME, Let's Encrypt)."""
    public = public_url.rstrip("/")
    tls = f"\ttls {cert} {key}\n" if cert and key else ""
    return (
        "{\n"
        "\tadmin off\n"
        "\tskip_install_trust\n"  # never touch the system's trust store
        "\tauto_https disable_redirects\n"  # the http:// site below redirects, to the public URL only
        f"\tstorage file_system {storage}\n"
        "}\n"
        "http:// {\n"
        f"\tredir {public}{{uri}} 308\n"
        "}\n"
        f"{', '.join(site_addresses(public_url))} {{\n"
        f"{tls}"
        "\theader {\n"
        f'\t\tStrict-Transport-Security "{HSTS}"\n'
        "\t\tdefer\n"  # after the shop's response: replaces its copy rather than adding a second
        "\t}\n"
        f"\treverse_proxy 127.0.0.1:{upstream_port}\n"
        "}\n"
    )


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for localhost, 127.0.0.1 and ::1, made once and again when it nears its end; the key is
    readable by its owner only. Browsers warn about it: it is for trying production mode on one machine."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    cert_path, key_path = directory / "localhost.crt", directory / "localhost.key"
    now = datetime.now(timezone.utc)
    if cert_path.exists() and key_path.exists():
        existing = x509.load_pem_x509_certificate(cert_path.read_bytes())
        if existing.not_valid_after_utc - now > RENEW_BEFORE:
            return cert_path, key_path
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    san = x509.SubjectAlternativeName(
        [x509.DNSName("localhost"), *(x509.IPAddress(ipaddress.ip_address(a)) for a in ("127.0.0.1", "::1"))])
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=CERTIFICATE_DAYS))
        .add_extension(san, critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(key_path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    _write_private(cert_path, certificate.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".new")
    tmp.unlink(missing_ok=True)
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as handle:
        handle.write(data)
    tmp.replace(path)


def write_config(directory: Path, upstream_port: int) -> Path:
    """The Caddyfile for this deployment's settings (public URL, certificate), in `directory`."""
    from storefront.settings import get_settings

    s = get_settings()
    cert, key = s.tls_cert, s.tls_key
    if cert is None and is_loopback(s.public_url):
        cert, key = self_signed_certificate(directory / "tls")
    path = directory / "Caddyfile"
    _write_private(path, caddyfile(s.public_url, upstream_port, directory / "caddy", cert, key).encode())
    return path
