"""Files with personal data or secrets are created readable by their owner only (PAY-6).

Each file is made by the code that makes it in production (the migrate command, the secret-key
default, the mail catcher, the payment sandbox), with a permissive umask in force, so the modes
checked are the code's doing and not the environment's.
"""

from __future__ import annotations

import os
import smtplib
import stat
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import pytest
import stripe

from storefront import settings
from storefront.adapters import localstripe_server, mail_capture, private_files

ROOT = Path(__file__).resolve().parents[2]

def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def permissive_umask():
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.mark.clause("PAY-6")
def test_the_database_created_by_migrate_is_the_owners_alone(tmp_path, permissive_umask):
    database = tmp_path / "shop.db"
    env = {**os.environ, "REFLEX_DB_URL": f"sqlite:///{database}"}

    subprocess.run([sys.executable, "-m", "storefront", "migrate"], cwd=ROOT, env=env, check=True,
                   capture_output=True)

    assert mode(database) == 0o600
    for companion in private_files.sqlite_files(env["REFLEX_DB_URL"])[1:]:
        assert not companion.exists() or mode(companion) == 0o600, companion


@pytest.mark.clause("PAY-6")
def test_the_generated_secret_key_is_the_owners_alone(tmp_path, monkeypatch, permissive_umask):
    monkeypatch.setattr(settings, "VAR_DIR", tmp_path / "var")

    secret = settings._dev_secret()

    assert secret and mode(tmp_path / "var") == 0o700 and mode(tmp_path / "var" / "secret.key") == 0o600
    # A key left world-readable by an earlier version is narrowed on the next start.
    (tmp_path / "var" / "secret.key").chmod(0o644)
    assert settings._dev_secret() == secret and mode(tmp_path / "var" / "secret.key") == 0o600


@pytest.mark.clause("PAY-6")
def test_captured_mail_is_the_owners_alone(tmp_path, permissive_umask):
    folder = tmp_path / "mail"
    controller = mail_capture.start_capture(localstripe_server.free_port(), folder)
    try:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "shop@example.com", "anna@example.com", "Your order"
        message.set_content("Anna Keller, Bahnhofstrasse 12, 8001 Zürich")
        with smtplib.SMTP(controller.hostname, controller.port, timeout=10) as smtp:
            smtp.send_message(message)
    finally:
        mail_capture.stop_capture(controller)

    [mail] = list(folder.glob("*.eml"))
    assert mode(folder) == 0o700
    assert mode(mail) == 0o600
    assert mode(folder / mail_capture.INDEX_NAME) == 0o600


@pytest.mark.clause("PAY-6")
def test_the_payment_sandbox_store_is_the_owners_alone(tmp_path, permissive_umask):
    store = tmp_path / "localstripe.pickle"
    with localstripe_server.start(localstripe_server.free_port(), state_file=store) as sandbox_server:
        client = stripe.StripeClient("sk_test_any", base_addresses={"api": sandbox_server.url},
                                     max_network_retries=0)
        client.v1.customers.create(params={"email": "anna@example.com", "name": "Anna Keller"})

    assert store.exists() and mode(store) == 0o600


@pytest.mark.clause("PAY-6")
def test_files_left_readable_by_an_earlier_run_are_narrowed(tmp_path, permissive_umask):
    states = tmp_path / ".states"
    (states / "inner").mkdir(parents=True)
    (states / "abc.pkl").write_bytes(b"state")
    (states / "inner" / "def.pkl").write_bytes(b"state")
    database = tmp_path / "shop.db"
    database.write_bytes(b"")
    (tmp_path / "shop.db-wal").write_bytes(b"")

    private_files.secure_existing([states, *private_files.sqlite_files(f"sqlite:///{database}")])

    assert [mode(p) for p in (states, states / "inner")] == [0o700, 0o700]
    assert [mode(p) for p in (states / "abc.pkl", states / "inner" / "def.pkl", database, tmp_path / "shop.db-wal")] \
        == [0o600] * 4
