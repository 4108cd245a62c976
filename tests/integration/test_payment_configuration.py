"""How the shop is configured for its payment provider: what it refuses, and what it loads.

With real Stripe keys the webhook's signing secret must be configured (there is no default anyone could
know), and nothing of the local sandbox's launcher is imported. Without keys the sandbox gets a webhook
secret of its own per installation.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from storefront.services.payment import browser_config
from storefront.settings import Settings, get_settings

ROOT = Path(__file__).resolve().parents[2]
STRIPE_VARIABLES = ("STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET",
                    "STOREFRONT_STRIPE_SECRET_KEY", "STOREFRONT_STRIPE_PUBLISHABLE_KEY",
                    "STOREFRONT_STRIPE_WEBHOOK_SECRET")
REAL_KEYS = {"STRIPE_SECRET_KEY": "sk_live_51Realistic", "STRIPE_PUBLISHABLE_KEY": "pk_live_51Realistic",
             "STRIPE_WEBHOOK_SECRET": "whsec_configured_in_the_dashboard"}


@pytest.fixture
def stripe_env(monkeypatch):
    """Set exactly the given Stripe variables (none of the developer's), with fresh settings."""

    def set_only(**values: str) -> None:
        for name in STRIPE_VARIABLES:
            monkeypatch.delenv(name, raising=False)
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()

    yield set_only
    monkeypatch.undo()
    get_settings.cache_clear()


def _env_without_stripe(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in STRIPE_VARIABLES}
    return {**env, **values}


@pytest.mark.parametrize("missing", ["STRIPE_WEBHOOK_SECRET", "STRIPE_PUBLISHABLE_KEY"])
def test_real_keys_without_the_webhook_secret_or_publishable_key_are_refused(stripe_env, missing):
    stripe_env(**{k: v for k, v in REAL_KEYS.items() if k != missing})

    with pytest.raises(ValidationError, match=missing):
        Settings(_env_file=None)


def test_real_keys_with_their_webhook_secret_are_used_as_given(stripe_env):
    stripe_env(**REAL_KEYS)

    settings = Settings(_env_file=None)

    assert not settings.uses_local_stripe
    assert settings.stripe_webhook_secret == REAL_KEYS["STRIPE_WEBHOOK_SECRET"]


def test_the_sandbox_webhook_secret_is_its_installations_own(stripe_env, monkeypatch):
    """No constant shared by every copy of the shop: derived from the installation's own secret key."""
    stripe_env()
    secrets = {}
    for installation in ("one-installation-secret", "another-installation-secret"):
        monkeypatch.setenv("STOREFRONT_SECRET_KEY", installation)
        secrets[installation] = Settings(_env_file=None).stripe_webhook_secret
        assert Settings(_env_file=None).stripe_webhook_secret == secrets[installation]  # stable across restarts

    assert len(set(secrets.values())) == 2
    assert all(s.startswith("whsec_") and len(s) > 40 for s in secrets.values())
    assert "whsec_local_sandbox" not in secrets.values()


def test_serve_with_real_keys_and_no_webhook_secret_stops_with_a_clear_message():
    env = _env_without_stripe(STRIPE_SECRET_KEY="sk_test_x", STRIPE_PUBLISHABLE_KEY="pk_test_x")

    result = subprocess.run([sys.executable, "-m", "storefront", "serve", "--port", "9"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)

    assert result.returncode != 0
    assert "STRIPE_WEBHOOK_SECRET" in result.stderr and "Refusing to start" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_a_shop_with_real_keys_does_not_load_the_sandbox_launcher():
    """The app, its webhook route and its payment service, configured as in production."""
    probe = (
        "import sys\n"
        "import storefront.storefront\n"
        "from storefront.services.payment import browser_config, gateway\n"
        "assert not gateway().sandbox\n"
        "print(browser_config())\n"
        "print(sorted(m for m in sys.modules if 'localstripe' in m))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=_env_without_stripe(**REAL_KEYS),
                            capture_output=True, text=True, timeout=300)

    assert result.returncode == 0, result.stderr
    config, loaded = result.stdout.strip().splitlines()[-2:]
    assert config == "('https://js.stripe.com/v3/', 'pk_live_51Realistic')"
    assert loaded == "[]"


@pytest.mark.clause("PAY-6")
def test_the_browser_gets_the_publishable_key_and_never_a_secret(stripe_env, monkeypatch):
    stripe_env(**REAL_KEYS)
    real = browser_config()
    stripe_env(STRIPE_PUBLISHABLE_KEY="pk_live_51Stray")  # a publishable key alone does not leave the sandbox
    monkeypatch.setenv("STOREFRONT_LOCALSTRIPE_PORT", "8477")
    get_settings.cache_clear()
    sandboxed = browser_config()

    assert real == ("https://js.stripe.com/v3/", REAL_KEYS["STRIPE_PUBLISHABLE_KEY"])
    assert sandboxed == ("http://127.0.0.1:8477/js.stripe.com/v3/", "pk_test_local")
    sent = " ".join(real + sandboxed)
    assert REAL_KEYS["STRIPE_SECRET_KEY"] not in sent and REAL_KEYS["STRIPE_WEBHOOK_SECRET"] not in sent
    assert "sk_" not in sent and "whsec_" not in sent
