"""All configuration, read from the environment once (pydantic-settings).

Rules that are business data (rates, ages, brands, thresholds) live in `storefront/rules/`;
this module only holds identity, infrastructure and secrets, which differ per deployment.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = ROOT / "var"


def _dev_secret() -> str:
    """A per-checkout random secret, kept in var/, so signed links survive restarts without setup."""
    VAR_DIR.mkdir(mode=0o700, exist_ok=True)
    path = VAR_DIR / "secret.key"
    if not path.exists():
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:  # owner only
            handle.write(secrets.token_urlsafe(48))
    path.chmod(0o600)
    return path.read_text().strip()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STOREFRONT_", env_file=".env", extra="ignore")

    # Merchant identity (fictional demo house; every field is configuration).
    merchant_name: str = "Vireux Genève SA"
    merchant_brand: str = "Vireux"
    merchant_street: str = "Rue du Rhône 48"
    merchant_postcode: str = "1204"
    merchant_city: str = "Genève"
    merchant_country: str = "CH"
    merchant_email: str = "clients@vireux.example"
    merchant_phone: str = "+41 22 555 01 48"
    merchant_vat_id: str = "CHE-123.456.789 MWST"
    # The German VAT number (USt-IdNr.) under which German VAT is charged on deliveries to Germany: § 14 UStG
    # wants it on those invoices. Swiss invoices carry merchant_vat_id (MWSTG art. 26).
    merchant_vat_id_de: str = "DE123456789"
    merchant_timezone: str = "Europe/Zurich"
    merchant_holiday_subdivision: str = "GE"

    default_country: str = "CH"
    public_url: str = "http://localhost:3000"
    # Where `make run` listens: loopback unless told otherwise (e.g. 0.0.0.0 behind a reverse proxy).
    bind_host: str = "127.0.0.1"

    database_url: str = Field(
        default=f"sqlite:///{VAR_DIR / 'storefront.db'}",
        validation_alias=AliasChoices("REFLEX_DB_URL", "STOREFRONT_DATABASE_URL"),
    )
    secret_key: str = Field(default_factory=_dev_secret)
    # Shared counters for the abuse limits when several workers run (the Redis of Reflex's state).
    redis_url: str = Field(default="", validation_alias=AliasChoices("REFLEX_REDIS_URL", "STOREFRONT_REDIS_URL"))
    # Backend worker processes of `serve`. More than one needs redis_url: a tab's events may reach any worker,
    # so its state must live in Redis, not in one process's memory or disk folder.
    workers: int = Field(default=1, ge=1, le=32)
    # Reverse proxies whose X-Forwarded-For is believed (addresses or networks, comma-separated).
    trusted_proxies: str = ""
    # Production mode's HTTPS certificate and key (PEM files). Unset: a self-signed one for a loopback public URL,
    # else the reverse proxy obtains one from Let's Encrypt (storefront/reverse_proxy.py).
    tls_cert: Path | None = None
    tls_key: Path | None = None
    # Deployment tuning of rules/limits.toml without a code change, as JSON of the same shape, e.g.
    # '{"rates": {"order_confirmations_per_ip": "30 per minute"}}' for a shop behind a shared office proxy.
    limits_overrides: dict = Field(default_factory=dict)

    # Payments: without keys the local sandbox (localstripe) is started on loopback.
    stripe_secret_key: str = Field(default="", validation_alias=AliasChoices("STRIPE_SECRET_KEY", "STOREFRONT_STRIPE_SECRET_KEY"))
    stripe_publishable_key: str = Field(
        default="", validation_alias=AliasChoices("STRIPE_PUBLISHABLE_KEY", "STOREFRONT_STRIPE_PUBLISHABLE_KEY")
    )
    # Required with real keys; the sandbox gets one derived from this installation's secret key.
    stripe_webhook_secret: str = Field(
        default="", validation_alias=AliasChoices("STRIPE_WEBHOOK_SECRET", "STOREFRONT_STRIPE_WEBHOOK_SECRET")
    )
    localstripe_port: int = 8420
    # Stripe account capabilities, off unless the account has them (rules/payments.toml
    # [provider_capabilities]): one hold captured per shipment; holds of up to 30 days.
    stripe_multicapture: bool = False
    stripe_extended_authorization: bool = False
    # Telephone orders (PAY-2): staff may enter the client's card in the provider's form on the management
    # page, flagged MOTO. Only where Stripe enabled MOTO on the account (rules/payments.toml
    # [provider_capabilities]); off by default, when the client always pays through the emailed link.
    stripe_moto: bool = False

    # Mail: without an SMTP host, mail is captured locally (var/mail/ and a loopback SMTP server).
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True
    mail_capture_port: int = 8025
    mail_dir: Path = VAR_DIR / "mail"
    # Photographs staff upload for the catalogue, served by GET /api/media/products/<name> (storefront/api.py):
    # outside assets/, which the build copies once, so a new photograph shows without a rebuild.
    media_dir: Path = VAR_DIR / "media"
    mail_from: str = "Vireux Genève <orders@vireux.example>"
    # Tests only: a file holding how many seconds the shop's clock runs ahead (adapters/clock.py reads it).
    test_clock_file: str = ""

    @model_validator(mode="after")
    def _payment_provider_is_complete(self) -> Settings:
        """Real Stripe keys without the webhook's signing secret would leave the webhook either refusing every
        event or, with a shared default, accepting events anyone can sign: refuse to start instead. A test clock
        beside real keys or a real mail server would move a real shop's calendar: refused too."""
        if self.stripe_secret_key:
            missing = [name for name, value in (("STRIPE_WEBHOOK_SECRET", self.stripe_webhook_secret),
                                                ("STRIPE_PUBLISHABLE_KEY", self.stripe_publishable_key)) if not value]
            if missing:
                raise ValueError(
                    f"STRIPE_SECRET_KEY is set, so payments go to Stripe, but {' and '.join(missing)} "
                    f"{'is' if len(missing) == 1 else 'are'} not. Refusing to start: copy the webhook endpoint's "
                    "signing secret (whsec_...) and the publishable key (pk_...) from the Stripe dashboard, "
                    "or unset STRIPE_SECRET_KEY to use the local payment sandbox."
                )
        if self.workers > 1 and not self.redis_url:
            raise ValueError(f"STOREFRONT_WORKERS={self.workers} needs REFLEX_REDIS_URL: with several workers each "
                             "tab's state must be shared through Redis. Set it, or serve with one worker.")
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("STOREFRONT_TLS_CERT and STOREFRONT_TLS_KEY go together: set both (the certificate "
                             "chain and its private key, PEM) or neither.")
        if self.test_clock_file and (self.stripe_secret_key or self.smtp_host):
            raise ValueError("STOREFRONT_TEST_CLOCK_FILE moves the shop's clock for tests; it is refused with real "
                             "Stripe keys or a real mail server. Unset it.")
        if not self.stripe_secret_key and not self.stripe_webhook_secret:
            self.stripe_webhook_secret = "whsec_" + hmac.new(
                self.secret_key.encode(), b"local payment sandbox webhook", hashlib.sha256).hexdigest()
        return self

    @property
    def uses_local_stripe(self) -> bool:
        return not self.stripe_secret_key

    @property
    def uses_mail_capture(self) -> bool:
        return not self.smtp_host


@lru_cache
def get_settings() -> Settings:
    return Settings()
