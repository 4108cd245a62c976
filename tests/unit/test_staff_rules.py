"""The permission table of rules/staff.toml and the sign-in throttle figures, as pure rules."""

from __future__ import annotations

import pytest

from storefront.domain import staff
from storefront.domain.staff import PERMISSIONS, RULES, Role, allowed, backoff_seconds, locks, permissions_of, requires_totp
from storefront.rules import load


def test_the_table_names_only_known_permissions_and_roles():
    table = load("staff")["permissions"]
    assert set(table) == PERMISSIONS
    for roles in table.values():
        assert {Role(r) for r in roles} <= set(Role)


def test_a_table_with_an_unknown_or_missing_permission_is_refused():
    table = {p: ["admin"] for p in PERMISSIONS}
    with pytest.raises(KeyError):
        staff._grants({**table, "orders.delete": ["admin"]})
    del table["orders.view"]
    with pytest.raises(KeyError):
        staff._grants(table)


def test_an_unknown_role_in_the_table_is_refused():
    with pytest.raises(ValueError):
        staff._grants({p: ["superuser"] for p in PERMISSIONS})


def test_asking_for_an_unknown_permission_is_an_error_not_a_no():
    with pytest.raises(KeyError):
        allowed(Role.ADMIN, "orders.delete")


def test_admin_holds_every_permission():
    assert permissions_of(Role.ADMIN) == PERMISSIONS


@pytest.mark.parametrize("permission", ["orders.approve", "orders.refund", "orders.cancel", "staff.manage",
                                        "customers.view_personal_data", "jobs.run"])
def test_a_viewer_only_looks(permission):
    assert not allowed(Role.VIEWER, permission)
    assert allowed("viewer", "orders.view")


def test_duties_are_separated():
    assert allowed(Role.FULFILMENT, "orders.ship") and not allowed(Role.FULFILMENT, "orders.refund")
    assert allowed(Role.FINANCE, "refunds.approve_large") and not allowed(Role.FINANCE, "orders.ship")
    assert allowed(Role.COMPLIANCE, "audit.view") and not allowed(Role.FINANCE, "audit.view")
    assert allowed(Role.CUSTOMER_SERVICE, "telephone_orders.create")
    assert [r for r in Role if allowed(r, "staff.manage")] == [Role.ADMIN]


def test_roles_that_move_money_or_manage_accounts_need_a_second_factor():
    assert {r for r in Role if requires_totp(r)} == {Role.FINANCE, Role.ADMIN}


def test_the_first_failures_cost_nothing_then_the_wait_doubles():
    assert [backoff_seconds(n) for n in range(4)] == [0, 0, 0, 0]
    assert [backoff_seconds(n) for n in range(4, 10)] == [0, 1, 2, 4, 8, 16]


def test_ten_consecutive_failures_lock_the_account_for_half_an_hour():
    assert not locks(9) and locks(10)
    assert RULES.lock_duration.total_seconds() == 30 * 60


def test_sessions_end_after_half_an_hour_idle_or_twelve_hours():
    assert RULES.idle_timeout.total_seconds() == 30 * 60
    assert RULES.absolute_timeout.total_seconds() == 12 * 3600
