"""Staff accounts of the back office: creation, sign-in with a second factor, sessions.

Sign-in answers the same code for an unknown address, a wrong password and a deactivated account,
and spends the same Argon2 work on each, so the form tells no one which addresses exist. Failures
are counted per account (back-off, then a lock the audit log records) and attempts per address
(the shared rate limiter). Roles that move money enrol a TOTP authenticator on their first sign-in,
through a short-lived signed token that proves the password was right.

Secrets are never stored as given: passwords as Argon2id, TOTP secrets encrypted with a key derived
from the application secret (rotating that secret means re-enrolling authenticators), session
tokens and recovery codes as SHA-256 (they are random, so a fast hash suffices).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache

import pyotp
import segno
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from storefront.adapters import clock
from storefront.adapters import rate_limiter, signing
from storefront.adapters.tables import StaffRecoveryCode, StaffSession, StaffUser
from storefront.domain.errors import ErrorCode, Refusal
from storefront.domain.staff import RULES, Outcome, Role, allowed, backoff_seconds, locks, requires_totp
from storefront.services import audit
from storefront.services.unit_of_work import UnitOfWork
from storefront.settings import get_settings

ENROLMENT_SALT = "staff-totp-enrolment"
RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read from paper
LOGIN = "login"


class StaffError(Exception):
    """An account action refused by a rule; carries the code and its message fields."""

    def __init__(self, code: ErrorCode, **params: object) -> None:
        self.refusal = Refusal(code, params)
        super().__init__(code.value)

    @property
    def code(self) -> ErrorCode:
        return self.refusal.code


@dataclass(frozen=True)
class StaffIdentity:
    """Who acts. `session_id` is 0 for an account not (yet) signed in, e.g. in a sign-in's audit entry."""

    staff_id: int
    email: str
    role: Role
    session_id: int


@dataclass(frozen=True)
class SignIn:
    token: str | None
    refusal: ErrorCode | None
    retry_after: int = 0
    enrolment_token: str | None = None


@dataclass(frozen=True)
class Enrolment:
    secret: str
    provisioning_uri: str
    qr_svg: str


def _now(at: datetime | None) -> datetime:
    return at or clock.now()


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=timezone.utc) if moment and moment.tzinfo is None else moment


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@lru_cache
def _hasher() -> PasswordHasher:
    return PasswordHasher(time_cost=RULES.time_cost, memory_cost=RULES.memory_cost_kib, parallelism=RULES.parallelism)


@lru_cache
def _dummy_hash() -> str:
    """A hash no password matches, verified for unknown addresses so they cost what a real check costs."""
    return _hasher().hash(secrets.token_urlsafe(32))


def _password_matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _fernet() -> Fernet:
    key = hashlib.sha256(f"{get_settings().secret_key}|staff-totp".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def _seal(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode("ascii")


def _unseal(sealed: str) -> str:
    return _fernet().decrypt(sealed.encode("ascii")).decode()


def _who(user: StaffUser, session_id: int = 0) -> StaffIdentity:
    return StaffIdentity(staff_id=user.id, email=user.email, role=Role(user.role), session_id=session_id)


def _normal_email(email: str) -> str | None:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


def create_staff(uow: UnitOfWork, *, email: str, password: str, role: Role | str, full_name: str = "",
                 actor: StaffIdentity | None = None, ip: str = "") -> int:
    """A new account; `actor` None is the operator at the console (CLI, demo seed), else an administrator."""
    if actor is not None and not allowed(actor.role, "staff.manage"):
        audit.record_now(uow, staff=actor, action="staff.create", outcome=Outcome.REFUSED, ip=ip, detail="forbidden")
        raise StaffError(ErrorCode.STAFF_FORBIDDEN)
    address = _normal_email(email)
    if address is None:
        raise StaffError(ErrorCode.STAFF_EMAIL_INVALID)
    if role not in set(Role):
        raise StaffError(ErrorCode.STAFF_ROLE_UNKNOWN)
    if len(password) < RULES.password_min_length:
        raise StaffError(ErrorCode.STAFF_PASSWORD_TOO_SHORT, length=RULES.password_min_length)
    user = StaffUser(email=address, full_name=full_name.strip()[:200], role=Role(role).value,
                     password_hash=_hasher().hash(password))
    with uow:
        if uow.session.exec(select(StaffUser.id).where(StaffUser.email == address)).first() is not None:
            raise StaffError(ErrorCode.STAFF_EMAIL_TAKEN)
        uow.session.add(user)
        try:
            uow.session.flush()
        except IntegrityError as exc:  # created meanwhile by another request
            raise StaffError(ErrorCode.STAFF_EMAIL_TAKEN) from exc
        audit.record(uow, staff=actor, action="staff.create", outcome=Outcome.DONE, subject=f"staff:{user.id}",
                     after={"role": user.role}, ip=ip)
        uow.commit()
    return user.id


def _new_session(s: Session, user: StaffUser, at: datetime, ip: str, user_agent: str) -> tuple[str, StaffSession]:
    token = secrets.token_urlsafe(32)
    row = StaffSession(staff_id=user.id, token_hash=_sha256(token), created_at=at, last_seen_at=at,
                       expires_at=at + RULES.absolute_timeout, ip=ip[:64], user_agent=user_agent[:200])
    s.add(row)
    s.flush()
    return token, row


def _enrolment_token(staff_id: int, at: datetime) -> str:
    value = str(staff_id)
    return f"{value}.{signing.sign(value, secret=get_settings().secret_key, salt=ENROLMENT_SALT, at=at)}"


def _enrolling_staff_id(token: str, at: datetime) -> int:
    value, _, signature = (token or "").partition(".")
    try:
        genuine = value.isdigit() and signing.check(value, signature, secret=get_settings().secret_key,
                                                    salt=ENROLMENT_SALT, max_age=RULES.enrolment_token_age, at=at)
    except signing.Expired:
        genuine = False
    if not genuine:
        raise StaffError(ErrorCode.STAFF_ENROLMENT_INVALID)
    return int(value)


def _totp_step(user: StaffUser, code: str, at: datetime) -> int | None:
    """The time step of a right, not yet used TOTP code (None otherwise): a code works once."""
    totp = pyotp.TOTP(_unseal(user.totp_secret))
    at = at - clock.offset()  # the staff member's phone keeps the real time, whatever a test clock says
    now_step = totp.timecode(at)
    for offset in range(-RULES.totp_valid_window, RULES.totp_valid_window + 1):
        step = now_step + offset
        if (user.totp_last_step is None or step > user.totp_last_step) and \
                hmac.compare_digest(totp.at(at, counter_offset=offset), code):
            return step
    return None


def _normal_code(code: str) -> str:
    return "".join(code.split()).replace("-", "").upper()


def _second_factor(s: Session, user: StaffUser, otp: str, at: datetime) -> str | None:
    """How the code given proves the second factor ("totp", "recovery_code"), recording its use; None if it does not."""
    code = _normal_code(otp)
    if len(code) == 6 and code.isdigit():
        step = _totp_step(user, code, at)
        if step is None:
            return None
        user.totp_last_step = step
        return "totp"
    recovery = s.exec(select(StaffRecoveryCode).where(
        StaffRecoveryCode.staff_id == user.id, StaffRecoveryCode.code_hash == _sha256(code),
        StaffRecoveryCode.used_at.is_(None))).first()
    if recovery is None:
        return None
    recovery.used_at = at
    s.add(recovery)
    return "recovery_code"


def _seconds_until(moment: datetime, at: datetime) -> int:
    return max(1, int((moment - at).total_seconds() + 0.999))


def _failure(uow: UnitOfWork, user: StaffUser, at: datetime, ip: str, detail: str, refusal: ErrorCode) -> SignIn:
    """Count one more consecutive failure: a back-off wait, or the lock the audit log announces."""
    user.failed_logins += 1
    user.updated_at = at
    who = _who(user)
    audit.record(uow, staff=who, action=LOGIN, outcome=Outcome.FAILED, subject=f"staff:{user.id}", ip=ip,
                 detail=detail, at=at)
    if locks(user.failed_logins):
        user.locked_until = at + RULES.lock_duration
        audit.record(uow, staff=who, action=LOGIN, outcome=Outcome.REFUSED, subject=f"staff:{user.id}", ip=ip,
                     detail="locked", at=at)
        result = SignIn(None, ErrorCode.STAFF_LOCKED, _seconds_until(user.locked_until, at))
    else:
        wait = backoff_seconds(user.failed_logins)
        if wait:
            user.locked_until = at + timedelta(seconds=wait)
        result = SignIn(None, refusal)
    uow.session.add(user)
    uow.commit()
    return result


def sign_in(uow: UnitOfWork, *, email: str, password: str, otp: str = "", ip: str, user_agent: str = "",
            at: datetime | None = None) -> SignIn:
    """One sign-in attempt, audited whatever its outcome; a session token when it succeeds."""
    at = _now(at)
    address = (email or "").strip().lower()

    def refused(staff: StaffIdentity | None, code: ErrorCode, detail: str, retry_after: int = 0,
                outcome: Outcome = Outcome.REFUSED) -> SignIn:
        audit.record_now(uow, staff=staff, action=LOGIN, outcome=outcome,
                         subject=f"staff:{staff.staff_id}" if staff else "", ip=ip, detail=detail, at=at)
        return SignIn(None, code, retry_after)

    with uow.reading() as s:
        user = s.exec(select(StaffUser).where(StaffUser.email == address)).first() if address else None
    who = _who(user) if user is not None else None
    if not rate_limiter.hit(RULES.sign_ins_per_ip, "staff-sign-in", ip or "-"):
        return refused(who, ErrorCode.STAFF_THROTTLED, "ip_throttled",
                       rate_limiter.retry_after(RULES.sign_ins_per_ip, "staff-sign-in", ip or "-"))
    if user is None or not user.active:
        _password_matches(_dummy_hash(), password)
        return refused(who, ErrorCode.STAFF_BAD_CREDENTIALS, "unknown_email" if user is None else "inactive",
                       outcome=Outcome.FAILED)
    locked_until = _aware(user.locked_until)
    if locked_until and locked_until > at:
        if locks(user.failed_logins):
            return refused(who, ErrorCode.STAFF_LOCKED, "while_locked", _seconds_until(locked_until, at))
        return refused(who, ErrorCode.STAFF_THROTTLED, "throttled", _seconds_until(locked_until, at))
    password_right = _password_matches(user.password_hash, password)

    with uow:
        s = uow.session
        user = s.exec(select(StaffUser).where(StaffUser.id == user.id).with_for_update()).one()
        if not password_right:
            return _failure(uow, user, at, ip, "bad_password", ErrorCode.STAFF_BAD_CREDENTIALS)
        how = "password"
        if requires_totp(user.role):
            if not user.totp_enabled:
                audit.record(uow, staff=who, action=LOGIN, outcome=Outcome.REFUSED, subject=f"staff:{user.id}",
                             ip=ip, detail="enrolment_required", at=at)
                uow.commit()
                return SignIn(None, ErrorCode.STAFF_ENROLMENT_REQUIRED, enrolment_token=_enrolment_token(user.id, at))
            if not otp.strip():
                audit.record(uow, staff=who, action=LOGIN, outcome=Outcome.REFUSED, subject=f"staff:{user.id}",
                             ip=ip, detail="otp_required", at=at)
                uow.commit()
                return SignIn(None, ErrorCode.STAFF_OTP_REQUIRED)
            how = _second_factor(s, user, otp, at)
            if how is None:
                return _failure(uow, user, at, ip, "otp_invalid", ErrorCode.STAFF_OTP_REQUIRED)
        if _hasher().check_needs_rehash(user.password_hash):
            user.password_hash = _hasher().hash(password)
        user.failed_logins, user.locked_until, user.updated_at = 0, None, at
        s.add(user)
        token, session = _new_session(s, user, at, ip, user_agent)
        audit.record(uow, staff=_who(user, session.id), action=LOGIN, outcome=Outcome.DONE,
                     subject=f"staff:{user.id}", ip=ip, detail=how, at=at)
        uow.commit()
    return SignIn(token, None)


def _enrolling(s: Session, token: str, at: datetime) -> StaffUser:
    user = s.get(StaffUser, _enrolling_staff_id(token, at))
    if user is None or not user.active or user.totp_enabled:
        raise StaffError(ErrorCode.STAFF_ENROLMENT_INVALID)
    return user


def begin_enrolment(uow: UnitOfWork, enrolment_token: str, *, at: datetime | None = None) -> Enrolment:
    """The secret to scan; the same one until enrolment completes, so reloading the page keeps the QR code valid."""
    at = _now(at)
    with uow:
        user = _enrolling(uow.session, enrolment_token, at)
        if user.totp_secret is None:
            user.totp_secret = _seal(pyotp.random_base32())
            user.updated_at = at
            uow.session.add(user)
        secret, email = _unseal(user.totp_secret), user.email
        uow.commit()
    uri = pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=f"{get_settings().merchant_brand} back office")
    return Enrolment(secret=secret, provisioning_uri=uri, qr_svg=segno.make(uri, error="m").svg_inline(scale=4))


def _new_recovery_codes(s: Session, staff_id: int, at: datetime) -> list[str]:
    for old in s.exec(select(StaffRecoveryCode).where(StaffRecoveryCode.staff_id == staff_id)).all():
        s.delete(old)
    codes = []
    for _ in range(RULES.recovery_codes):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))
        s.add(StaffRecoveryCode(staff_id=staff_id, code_hash=_sha256(raw), created_at=at))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def complete_enrolment(uow: UnitOfWork, enrolment_token: str, otp: str, *, ip: str, user_agent: str = "",
                       at: datetime | None = None) -> tuple[str, list[str]]:
    """Enable TOTP once a code from the new authenticator proves it works; returns a session token and the
    recovery codes in clear, which exist nowhere else afterwards."""
    at = _now(at)
    with uow:
        s = uow.session
        user = _enrolling(s, enrolment_token, at)
        step = _totp_step(user, _normal_code(otp), at) if user.totp_secret else None
        who = _who(user)
        if step is None:
            audit.record(uow, staff=who, action="staff.enrol_totp", outcome=Outcome.FAILED,
                         subject=f"staff:{who.staff_id}", ip=ip, detail="otp_invalid", at=at)
            uow.commit()
            raise StaffError(ErrorCode.STAFF_OTP_INVALID)
        user.totp_enabled, user.totp_last_step = True, step
        user.failed_logins, user.locked_until, user.updated_at = 0, None, at
        s.add(user)
        codes = _new_recovery_codes(s, user.id, at)
        token, session = _new_session(s, user, at, ip, user_agent)
        audit.record(uow, staff=_who(user, session.id), action="staff.enrol_totp", outcome=Outcome.DONE,
                     subject=f"staff:{user.id}", ip=ip, at=at)
        uow.commit()
    return token, codes


def enrol_known_secret(uow: UnitOfWork, staff_id: int, secret: str) -> None:
    """Enable TOTP with a given secret, for the demo accounts only: a tester signs in with the published secret."""
    with uow:
        user = uow.session.get(StaffUser, staff_id)
        user.totp_secret, user.totp_enabled = _seal(secret), True
        uow.session.add(user)
        uow.commit()


def session_for(uow: UnitOfWork, token: str, *, at: datetime | None = None, touch: bool = True) -> StaffIdentity | None:
    """The staff member signed in with `token`, or None once it is revoked, idle or past its end, or the account
    deactivated. Activity is written at most once a minute, not at every event."""
    if not token:
        return None
    at = _now(at)
    with uow.reading() as s:
        found = s.exec(select(StaffSession, StaffUser).join(StaffUser, StaffUser.id == StaffSession.staff_id)
                       .where(StaffSession.token_hash == _sha256(token))).first()
    if found is None:
        return None
    session, user = found
    last_seen = _aware(session.last_seen_at)
    if session.revoked_at is not None or not user.active or at >= _aware(session.expires_at) or \
            at - last_seen >= RULES.idle_timeout:
        return None
    if touch and at - last_seen >= RULES.touch_every:
        with uow:
            uow.session.exec(update(StaffSession).where(StaffSession.id == session.id).values(last_seen_at=at))
            uow.commit()
    return _who(user, session.id)


def sign_out(uow: UnitOfWork, token: str) -> None:
    at = _now(None)
    with uow:
        row = uow.session.exec(select(StaffSession).where(StaffSession.token_hash == _sha256(token or ""))).first()
        if row is None or row.revoked_at is not None:
            return
        row.revoked_at = at
        uow.session.add(row)
        user = uow.session.get(StaffUser, row.staff_id)
        audit.record(uow, staff=_who(user, row.id), action="logout", outcome=Outcome.DONE,
                     subject=f"staff:{user.id}", at=at)
        uow.commit()


def sign_out_everywhere(uow: UnitOfWork, staff_id: int, *, actor: StaffIdentity, ip: str = "") -> int:
    """Revoke every open session of an account (a lost laptop, a departure); by its owner or an administrator."""
    subject = f"staff:{staff_id}"
    if actor.staff_id != staff_id and not allowed(actor.role, "staff.manage"):
        audit.record_now(uow, staff=actor, action="staff.sign_out_everywhere", outcome=Outcome.REFUSED,
                         subject=subject, ip=ip, detail="forbidden")
        raise StaffError(ErrorCode.STAFF_FORBIDDEN)
    at = _now(None)
    with uow:
        revoked = uow.session.exec(update(StaffSession).where(
            StaffSession.staff_id == staff_id, StaffSession.revoked_at.is_(None)).values(revoked_at=at)).rowcount
        audit.record(uow, staff=actor, action="staff.sign_out_everywhere", outcome=Outcome.DONE, subject=subject,
                     after={"sessions_revoked": revoked}, ip=ip, at=at)
        uow.commit()
    return revoked
