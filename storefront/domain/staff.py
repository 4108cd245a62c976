"""Roles of the back office and what each may do (rules/staff.toml), checked once when loaded.

The permission names are fixed here in code because code asks for them by name; the table of who
holds which lives in the rules file. Loading refuses a file that names an unknown permission or
role, or leaves a permission out, so a typo stops the shop at start rather than silently granting
or withholding a right.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from storefront.rules import load


class Role(StrEnum):
    VIEWER = "viewer"
    CUSTOMER_SERVICE = "customer_service"
    FULFILMENT = "fulfilment"
    FINANCE = "finance"
    COMPLIANCE = "compliance"
    ADMIN = "admin"


class Outcome(StrEnum):
    """What became of an attempt recorded in the audit log."""

    DONE = "done"
    REFUSED = "refused"  # not allowed: missing permission, throttled, locked
    FAILED = "failed"  # tried and wrong: bad password, bad code


PERMISSIONS: frozenset[str] = frozenset({
    "orders.view",
    "customers.view_personal_data",
    "customers.erase",
    "orders.approve",
    "orders.ship",
    "orders.cancel",
    "orders.refund",
    "refunds.approve_large",
    "orders.mark_unavailable",
    "compliance.review",
    "sanctions.import",
    "sanctions.destinations",
    "audit.view",
    "staff.manage",
    "terms.manage",
    "jobs.view",
    "jobs.run",
    "telephone_orders.create",
    "orders.follow_up_delay",
    "emails.view",
    "emails.resend",
    "catalogue.manage",
    "stock.adjust",
})


def _grants(table: dict[str, list[str]]) -> dict[str, frozenset[Role]]:
    names = set(table)
    if names != PERMISSIONS:
        raise KeyError(f"rules/staff.toml [permissions]: unknown {sorted(names - PERMISSIONS)}, "
                       f"missing {sorted(PERMISSIONS - names)}")
    return {permission: frozenset(Role(role) for role in roles) for permission, roles in table.items()}


@dataclass(frozen=True)
class StaffRules:
    totp_roles: frozenset[Role]
    password_min_length: int
    recovery_codes: int
    enrolment_token_age: timedelta
    totp_valid_window: int
    time_cost: int
    memory_cost_kib: int
    parallelism: int
    idle_timeout: timedelta
    absolute_timeout: timedelta
    touch_every: timedelta
    backoff_after_failures: int
    backoff_first_seconds: int
    lock_after_failures: int
    lock_duration: timedelta
    sign_ins_per_ip: str


def _rules(data: dict) -> StaffRules:
    auth, hashing, sessions, throttle = (data["authentication"], data["password_hashing"], data["sessions"],
                                         data["throttle"])
    return StaffRules(
        totp_roles=frozenset(Role(r) for r in auth["totp_roles"]),
        password_min_length=auth["password_min_length"],
        recovery_codes=auth["recovery_codes"],
        enrolment_token_age=timedelta(minutes=auth["enrolment_token_minutes"]),
        totp_valid_window=auth["totp_valid_window"],
        time_cost=hashing["time_cost"],
        memory_cost_kib=hashing["memory_cost_kib"],
        parallelism=hashing["parallelism"],
        idle_timeout=timedelta(minutes=sessions["idle_minutes"]),
        absolute_timeout=timedelta(hours=sessions["absolute_hours"]),
        touch_every=timedelta(seconds=sessions["touch_every_seconds"]),
        backoff_after_failures=throttle["backoff_after_failures"],
        backoff_first_seconds=throttle["backoff_first_seconds"],
        lock_after_failures=throttle["lock_after_failures"],
        lock_duration=timedelta(minutes=throttle["lock_minutes"]),
        sign_ins_per_ip=throttle["sign_ins_per_ip"],
    )


GRANTS: dict[str, frozenset[Role]] = _grants(load("staff")["permissions"])
RULES: StaffRules = _rules(load("staff"))


def allowed(role: Role | str, permission: str) -> bool:
    """Whether `role` holds `permission`; an unknown permission raises KeyError (a typo in code, never a "no")."""
    return Role(role) in GRANTS[permission]


def permissions_of(role: Role | str) -> frozenset[str]:
    return frozenset(p for p, roles in GRANTS.items() if Role(role) in roles)


def requires_totp(role: Role | str) -> bool:
    return Role(role) in RULES.totp_roles


def backoff_seconds(failures: int) -> int:
    """The wait before the next attempt after `failures` consecutive failures: none for the first few
    (typos), then the first wait doubling with each further failure."""
    over = failures - RULES.backoff_after_failures
    return 0 if over < 0 else RULES.backoff_first_seconds * 2 ** over


def locks(failures: int) -> bool:
    """Whether this many consecutive failures lock the account (for RULES.lock_duration)."""
    return failures >= RULES.lock_after_failures
