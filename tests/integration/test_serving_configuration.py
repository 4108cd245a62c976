"""How `python -m storefront serve` is told to run several workers, and what it refuses.

A tab's events may reach any worker, so with more than one its state must live in Redis: several workers
without Redis would lose a shopper's checkout between two clicks. The shop refuses to start that way.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from storefront.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_several_workers_without_redis_are_refused(monkeypatch):
    monkeypatch.delenv("REFLEX_REDIS_URL", raising=False)
    monkeypatch.delenv("STOREFRONT_REDIS_URL", raising=False)
    monkeypatch.setenv("STOREFRONT_WORKERS", "2")

    with pytest.raises(ValidationError, match="REFLEX_REDIS_URL"):
        Settings(_env_file=None)


def test_several_workers_with_redis_are_accepted(monkeypatch):
    monkeypatch.setenv("REFLEX_REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("STOREFRONT_WORKERS", "3")

    assert Settings(_env_file=None).workers == 3


def test_serve_says_why_it_will_not_start_and_starts_nothing(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("REFLEX_REDIS_URL", "STOREFRONT_REDIS_URL")}
    env.update(STOREFRONT_WORKERS="2", REFLEX_DB_URL=f"sqlite:///{tmp_path / 'shop.db'}",
               STOREFRONT_MAIL_DIR=str(tmp_path / "mail"))

    done = subprocess.run([sys.executable, "-m", "storefront", "serve", "--port", "1"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)

    assert done.returncode == 2
    assert "STOREFRONT_WORKERS=2 needs REFLEX_REDIS_URL" in done.stderr
    assert not (tmp_path / "mail").exists()  # no sidecar (mail catcher, payment sandbox) was started
