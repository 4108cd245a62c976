"""The retention policy of rules/retention.toml as pure rules (PAY-6: least data kept)."""

from __future__ import annotations

import copy
from datetime import date, datetime, timedelta, timezone

import pytest

from storefront.domain import retention
from storefront.domain.retention import PERIOD_KEYS, POLICY, duties, parse
from storefront.rules import load



@pytest.mark.clause("PAY-6")
def test_every_period_has_a_length_and_its_ground():
    assert set(POLICY.periods) == set(PERIOD_KEYS)
    for period in POLICY.periods.values():
        assert period.ground.strip() and period.what.strip() and period.label
    assert POLICY["cancelled_unpaid"].days == 30
    assert POLICY["commercial_records"].years == 10  # OR art. 958f, the longer of the Swiss and German periods
    assert POLICY["sanctions_screening"].years == 5  # 31 CFR 501.601
    assert POLICY.run_every == timedelta(days=1)


@pytest.mark.clause("PAY-6")
@pytest.mark.parametrize("change", [
    lambda d: d["periods"].pop("cancelled_unpaid"),
    lambda d: d["periods"].__setitem__("forever", {"days": 1, "what": "x", "ground": "y"}),
    lambda d: d["periods"]["email_contents"].__setitem__("days", 0),
    lambda d: d["periods"]["email_contents"].__setitem__("days", -5),
    lambda d: d["periods"]["email_contents"].__setitem__("years", 1),  # two lengths
    lambda d: d["periods"]["staff_sessions"].__setitem__("ground", " "),
    lambda d: d["job"].__setitem__("every_hours", 48),
], ids=["missing", "unknown", "zero", "negative", "two-lengths", "no-ground", "not-daily"])
def test_a_faulty_policy_is_refused_at_start(change):
    data = copy.deepcopy(load("retention"))
    change(data)
    with pytest.raises((KeyError, ValueError)):
        parse(data)


@pytest.mark.clause("PAY-6")
def test_statutory_periods_run_from_the_end_of_the_orders_year():
    placed = datetime(2026, 3, 5, 10, 0, tzinfo=timezone.utc)
    assert retention.after_year_end(placed, 10) == date(2037, 1, 1)
    charged = duties(placed, charged=True, screening_verdict="clear")
    assert charged.until == date(2037, 1, 1)
    assert charged.in_force(date(2036, 12, 31)) and not charged.in_force(date(2037, 1, 1))


@pytest.mark.clause("PAY-6")
def test_a_sanctions_match_keeps_the_record_five_years_even_unpaid_and_clear_unpaid_keeps_nothing():
    placed = datetime(2026, 3, 5, tzinfo=timezone.utc)
    assert duties(placed, charged=False, screening_verdict="possible").until == date(2032, 1, 1)
    assert duties(placed, charged=True, screening_verdict="match").until == date(2037, 1, 1)  # the longer
    assert duties(placed, charged=False, screening_verdict="clear").until is None


@pytest.mark.clause("PAY-6")
def test_an_unpaid_order_is_due_thirty_days_after_it_ended():
    ended = datetime(2026, 3, 5, tzinfo=timezone.utc)
    assert not retention.unpaid_erasable(ended, ended + timedelta(days=29, hours=23))
    assert retention.unpaid_erasable(ended, ended + timedelta(days=30))


@pytest.mark.clause("PAY-6")
def test_open_orders_are_never_erasable():
    assert {s for s in ("awaiting_client", "pending_payment", "compliance_review", "awaiting_approval", "approved",
                        "partially_shipped") if retention.is_open(s)} == set(retention.OPEN)
    assert not retention.is_open("cancelled") and not retention.is_open("shipped")


@pytest.mark.clause("PAY-6")
def test_reflex_drops_an_abandoned_checkouts_state_after_the_policys_period():
    from pathlib import Path

    from reflex.config import get_config

    # nothing of an unfinished checkout is in the database; its state expires with the tab's Reflex state
    assert get_config().redis_token_expiration == POLICY.abandoned_checkout_seconds == 3600
    source = (Path(__file__).resolve().parents[2] / "rxconfig.py").read_text()
    assert "redis_token_expiration=RETENTION.abandoned_checkout_seconds" in source  # not Reflex's default by chance
