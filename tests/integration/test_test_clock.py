"""The test clock (adapters/clock.py): what moves it, that services read it, and that a real shop refuses it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from storefront.adapters import clock
from storefront.adapters.tables import utcnow
from storefront.settings import Settings, get_settings
from tests.integration.test_payment_configuration import REAL_KEYS, stripe_env  # noqa: F401 (fixture)


def test_without_a_test_clock_the_shop_reads_the_real_time(monkeypatch):
    monkeypatch.delenv(clock.ENV, raising=False)
    before = datetime.now(timezone.utc)
    assert before <= clock.now() <= datetime.now(timezone.utc)


def test_the_file_moves_the_clock_of_services_and_new_rows_and_time_keeps_flowing(monkeypatch, tmp_path):
    path = tmp_path / "clock"
    monkeypatch.setenv(clock.ENV, str(path))
    assert clock.offset() == timedelta(0)  # no file yet: real time

    clock.set_offset(path, timedelta(days=93))
    moved = clock.now() - datetime.now(timezone.utc)
    assert timedelta(days=93) - timedelta(seconds=1) < moved <= timedelta(days=93)
    assert utcnow() - datetime.now(timezone.utc) > timedelta(days=92)

    clock.set_offset(path, timedelta(0))
    assert abs(clock.now() - datetime.now(timezone.utc)) < timedelta(seconds=1)


@pytest.mark.parametrize("real", ["stripe", "smtp"])
def test_a_shop_with_real_keys_or_a_real_mail_server_refuses_a_test_clock(stripe_env, monkeypatch, tmp_path, real):  # noqa: F811
    stripe_env(**(REAL_KEYS if real == "stripe" else {}))
    if real == "smtp":
        monkeypatch.setenv("STOREFRONT_SMTP_HOST", "smtp.example.com")
    monkeypatch.setenv(clock.ENV, str(tmp_path / "clock"))

    with pytest.raises(ValidationError, match="TEST_CLOCK"):
        Settings(_env_file=None)

    monkeypatch.delenv(clock.ENV)
    Settings(_env_file=None)  # the same shop without the test clock starts
    get_settings.cache_clear()
