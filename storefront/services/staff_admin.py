"""Staff accounts managed on the management page (issue 10 § 6): create, disable, enable, change a role, reset
a second factor. Only the admin role (`staff.manage`) does any of it; every action is audited with before/after.

Design choices:
- A new account gets an initial password the administrator sets (at least `password_min_length`, rules/staff.toml)
  and hands over out of band; it is hashed at once and never stored, shown again or logged. A role that needs a
  second factor enrols it at the first sign-in (the existing enrolment path of services/staff.py), so the password
  alone never opens such an account for long.
- Disabling an account, changing its role or resetting its second factor revokes every open session of it in the
  same transaction: the next click of that person, wherever, finds no session (`staff.session_for`). A new role or
  a reset factor thus applies at once, never to a session opened under the old one.
- An administrator cannot disable their own account, and the last active administrator can be neither disabled nor
  moved to another role (the shop would have no one left to manage accounts). The check reads the active
  administrators under a row lock (PostgreSQL; SQLite serialises writers), so two administrators disabling each
  other at once cannot both succeed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, update
from sqlmodel import select

from storefront.adapters import clock
from storefront.adapters.tables import StaffRecoveryCode, StaffSession, StaffUser
from storefront.domain.card_numbers import contains_card_number
from storefront.domain.errors import ErrorCode
from storefront.domain.staff import RULES, Outcome, Role, allowed, requires_totp
from storefront.services import audit
from storefront.services import staff as accounts
from storefront.services.row_ids import is_row_id
from storefront.services.staff import StaffError, StaffIdentity
from storefront.services.unit_of_work import UnitOfWork

MANAGE = "staff.manage"
PASSWORD_MAX_LENGTH = 200  # longer is no stronger; a bound keeps the hashing work bounded
# Which form field each refusal belongs beside.
FIELD_OF = {
    ErrorCode.STAFF_EMAIL_INVALID: "email",
    ErrorCode.STAFF_EMAIL_TAKEN: "email",
    ErrorCode.STAFF_ROLE_UNKNOWN: "role",
    ErrorCode.STAFF_ROLE_UNCHANGED: "role",
    ErrorCode.STAFF_PASSWORD_TOO_SHORT: "password",
    ErrorCode.STAFF_PASSWORD_TOO_LONG: "password",
    ErrorCode.CARD_NUMBER_IN_TEXT: "full_name",
}


def _now(at: datetime | None) -> datetime:
    return at or clock.now()


@dataclass(frozen=True)
class StaffRow:
    id: int
    email: str
    full_name: str
    role: str
    active: bool
    second_factor: str  # "on", "not set up", "not required"
    open_sessions: int


def _second_factor(user: StaffUser) -> str:
    if user.totp_enabled:
        return "on"
    return "not set up" if requires_totp(user.role) else "not required"


def staff_list(uow: UnitOfWork, at: datetime | None = None) -> list[StaffRow]:
    """Every account, active first, then by email, with its count of sessions still open."""
    at = _now(at)
    with uow.reading() as s:
        users = s.exec(select(StaffUser).order_by(StaffUser.active.desc(), StaffUser.email)).all()
        counts = dict(s.exec(select(StaffSession.staff_id, func.count(StaffSession.id))
                             .where(StaffSession.revoked_at.is_(None), StaffSession.expires_at > at)
                             .group_by(StaffSession.staff_id)).all())
    return [StaffRow(u.id, u.email, u.full_name, u.role, u.active, _second_factor(u), int(counts.get(u.id, 0)))
            for u in users]


def _check_actor(uow: UnitOfWork, actor: StaffIdentity, action: str, subject: str, ip: str) -> None:
    if not allowed(actor.role, MANAGE):
        audit.record_now(uow, staff=actor, action=action, outcome=Outcome.REFUSED, subject=subject, ip=ip,
                         detail="forbidden")
        raise StaffError(ErrorCode.STAFF_FORBIDDEN)


def _staff_id(value: object) -> int:
    if not is_row_id(value):  # beyond the INTEGER range no row has it (and PostgreSQL refuses the comparison)
        raise StaffError(ErrorCode.STAFF_NOT_FOUND)
    return value


def _target(uow: UnitOfWork, staff_id: int) -> StaffUser:
    user = uow.session.exec(select(StaffUser).where(StaffUser.id == staff_id).with_for_update()).first()
    if user is None:
        raise StaffError(ErrorCode.STAFF_NOT_FOUND)
    return user


def _other_active_admins(uow: UnitOfWork, staff_id: int) -> int:
    ids = uow.session.exec(select(StaffUser.id).where(StaffUser.role == Role.ADMIN.value, StaffUser.active.is_(True),
                                                      StaffUser.id != staff_id).with_for_update()).all()
    return len(ids)


def _revoke_sessions(uow: UnitOfWork, staff_id: int, at: datetime) -> int:
    return uow.session.exec(update(StaffSession).where(StaffSession.staff_id == staff_id,
                                                       StaffSession.revoked_at.is_(None))
                            .values(revoked_at=at)).rowcount


def create(uow: UnitOfWork, *, email: object, password: object, role: object, full_name: object = "",
           staff: StaffIdentity, ip: str = "") -> int:
    """A new account with the initial password given; audited (`staff.create`, the role, never the password)."""
    _check_actor(uow, staff, "staff.create", "", ip)
    email = email if isinstance(email, str) else ""
    role = role if isinstance(role, str) else ""
    password = password if isinstance(password, str) else ""
    full_name = full_name if isinstance(full_name, str) else ""
    if len(email) > 320:
        raise StaffError(ErrorCode.STAFF_EMAIL_INVALID)
    if role not in set(Role):
        raise StaffError(ErrorCode.STAFF_ROLE_UNKNOWN)
    if len(password) > PASSWORD_MAX_LENGTH:
        raise StaffError(ErrorCode.STAFF_PASSWORD_TOO_LONG, length=PASSWORD_MAX_LENGTH)
    if len(password) < RULES.password_min_length:  # before the email check's work: every refusal is cheap
        raise StaffError(ErrorCode.STAFF_PASSWORD_TOO_SHORT, length=RULES.password_min_length)
    if contains_card_number(full_name):  # staff free text never carries a card number (PAY-2)
        raise StaffError(ErrorCode.CARD_NUMBER_IN_TEXT)
    return accounts.create_staff(uow, email=email, password=password, role=role, full_name=full_name, actor=staff,
                              ip=ip)


def disable(uow: UnitOfWork, staff_id: object, *, staff: StaffIdentity, ip: str = "",
            at: datetime | None = None) -> int:
    """Deactivate an account and end its sessions at once; returns how many sessions were revoked."""
    at = _now(at)
    target = _staff_id(staff_id)
    subject = f"staff:{target}"
    _check_actor(uow, staff, "staff.disable", subject, ip)
    if target == staff.staff_id:
        audit.record_now(uow, staff=staff, action="staff.disable", outcome=Outcome.REFUSED, subject=subject, ip=ip,
                         detail="self")
        raise StaffError(ErrorCode.STAFF_SELF_DISABLE)
    with uow:
        user = _target(uow, target)
        if not user.active:
            raise StaffError(ErrorCode.STAFF_ALREADY_DISABLED)
        if user.role == Role.ADMIN.value and _other_active_admins(uow, target) == 0:
            raise StaffError(ErrorCode.STAFF_LAST_ADMIN)
        user.active, user.updated_at = False, at
        uow.session.add(user)
        revoked = _revoke_sessions(uow, target, at)
        audit.record(uow, staff=staff, action="staff.disable", outcome=Outcome.DONE, subject=subject,
                     before={"active": True}, after={"active": False, "sessions_revoked": revoked}, ip=ip, at=at)
        uow.commit()
    return revoked


def enable(uow: UnitOfWork, staff_id: object, *, staff: StaffIdentity, ip: str = "",
           at: datetime | None = None) -> None:
    """Reactivate a disabled account (its password and second factor as they were; a new sign-in is needed)."""
    at = _now(at)
    target = _staff_id(staff_id)
    subject = f"staff:{target}"
    _check_actor(uow, staff, "staff.enable", subject, ip)
    with uow:
        user = _target(uow, target)
        if user.active:
            return
        user.active, user.failed_logins, user.locked_until, user.updated_at = True, 0, None, at
        uow.session.add(user)
        audit.record(uow, staff=staff, action="staff.enable", outcome=Outcome.DONE, subject=subject,
                     before={"active": False}, after={"active": True}, ip=ip, at=at)
        uow.commit()


def change_role(uow: UnitOfWork, staff_id: object, role: object, *, staff: StaffIdentity, ip: str = "",
                at: datetime | None = None) -> int:
    """Give an account another role; its sessions end, so the next sign-in applies the new role (and asks for the
    second factor the new role may need). Returns how many sessions were revoked."""
    at = _now(at)
    target = _staff_id(staff_id)
    subject = f"staff:{target}"
    _check_actor(uow, staff, "staff.change_role", subject, ip)
    if not isinstance(role, str) or role not in set(Role):
        raise StaffError(ErrorCode.STAFF_ROLE_UNKNOWN)
    with uow:
        user = _target(uow, target)
        if user.role == role:
            raise StaffError(ErrorCode.STAFF_ROLE_UNCHANGED)
        if user.role == Role.ADMIN.value and user.active and _other_active_admins(uow, target) == 0:
            raise StaffError(ErrorCode.STAFF_LAST_ADMIN)
        before = user.role
        user.role, user.updated_at = Role(role).value, at
        uow.session.add(user)
        revoked = _revoke_sessions(uow, target, at)
        audit.record(uow, staff=staff, action="staff.change_role", outcome=Outcome.DONE, subject=subject,
                     before={"role": before}, after={"role": user.role, "sessions_revoked": revoked}, ip=ip, at=at)
        uow.commit()
    return revoked


def reset_second_factor(uow: UnitOfWork, staff_id: object, *, staff: StaffIdentity, ip: str = "",
                        at: datetime | None = None) -> int:
    """Forget an account's authenticator and recovery codes (a lost phone) and end its sessions: the next sign-in
    with the password enrols a new authenticator. Returns how many sessions were revoked."""
    at = _now(at)
    target = _staff_id(staff_id)
    subject = f"staff:{target}"
    _check_actor(uow, staff, "staff.reset_second_factor", subject, ip)
    with uow:
        user = _target(uow, target)
        if not user.totp_enabled and user.totp_secret is None:
            raise StaffError(ErrorCode.STAFF_NO_SECOND_FACTOR)
        before = {"totp_enabled": user.totp_enabled}
        user.totp_enabled, user.totp_secret, user.totp_last_step, user.updated_at = False, None, None, at
        uow.session.add(user)
        codes = uow.session.exec(delete(StaffRecoveryCode).where(StaffRecoveryCode.staff_id == target)).rowcount
        revoked = _revoke_sessions(uow, target, at)
        audit.record(uow, staff=staff, action="staff.reset_second_factor", outcome=Outcome.DONE, subject=subject,
                     before=before, after={"totp_enabled": False, "recovery_codes_deleted": codes,
                                           "sessions_revoked": revoked}, ip=ip, at=at)
        uow.commit()
    return revoked
