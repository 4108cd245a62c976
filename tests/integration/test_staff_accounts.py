"""Staff accounts through the real database: creation, sign-in, throttling, second factor, sessions, audit."""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from datetime import datetime, timedelta, timezone

import pyotp
import pytest
from sqlmodel import select

from storefront.adapters.tables import StaffRecoveryCode, StaffSession, StaffUser
from storefront.domain.errors import ErrorCode
from storefront.domain.staff import RULES, Role
from storefront.services import audit, staff
from storefront.services.staff import StaffError, StaffIdentity
from storefront.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.usefixtures("database")

PASSWORD = "correct horse battery"
# The moment every test starts from; each service is given its clock, so the tests do not depend on when they run.
T0 = datetime.now(timezone.utc).replace(microsecond=0)


def new_email() -> str:
    return f"staff-{secrets.token_hex(4)}@Vireux.example"


def new_ip() -> str:
    return f"2001:db8::{secrets.token_hex(2)}:{secrets.token_hex(2)}"


def make_staff(role: Role = Role.VIEWER, password: str = PASSWORD) -> tuple[int, str]:
    email = new_email()
    return staff.create_staff(UnitOfWork(), email=email, password=password, role=role), email


def sign_in(email: str, password: str = PASSWORD, *, otp: str = "", ip: str = "", at: datetime | None = None):
    return staff.sign_in(UnitOfWork(), email=email, password=password, otp=otp, ip=ip or new_ip(), at=at or T0)


def user(staff_id: int) -> StaffUser:
    with UnitOfWork().reading() as s:
        return s.get(StaffUser, staff_id)


def logins(staff_id: int) -> list[tuple[str, str]]:
    return [(e.outcome, e.detail) for e in reversed(audit.entries(UnitOfWork(), staff_id=staff_id, action="login"))]


def enrolled(role: Role = Role.FINANCE) -> tuple[int, str, pyotp.TOTP, list[str]]:
    """An account of a TOTP role through the whole enrolment flow."""
    staff_id, email = make_staff(role)
    first = sign_in(email)
    enrolment = staff.begin_enrolment(UnitOfWork(), first.enrolment_token, at=T0)
    totp = pyotp.TOTP(enrolment.secret)
    _token, codes = staff.complete_enrolment(UnitOfWork(), first.enrolment_token, totp.at(T0), ip=new_ip(), at=T0)
    return staff_id, email, totp, codes


# creation

def test_an_account_is_created_with_a_lower_cased_address_and_a_hashed_password():
    staff_id, email = make_staff(Role.FULFILMENT)
    row = user(staff_id)
    assert row.email == email.lower() and row.role == "fulfilment" and row.active
    assert row.password_hash.startswith("$argon2id$") and PASSWORD not in row.password_hash
    entry = audit.entries(UnitOfWork(), action="staff.create", limit=1)[0]
    assert entry.subject == f"staff:{staff_id}" and entry.outcome == "done" and entry.after == {"role": "fulfilment"}
    assert email.lower() not in repr(entry)


@pytest.mark.parametrize("email, password, role, code", [
    ("not-an-address", PASSWORD, "viewer", ErrorCode.STAFF_EMAIL_INVALID),
    ("ok@vireux.example", "short", "viewer", ErrorCode.STAFF_PASSWORD_TOO_SHORT),
    ("ok@vireux.example", PASSWORD, "superuser", ErrorCode.STAFF_ROLE_UNKNOWN),
])
def test_an_account_needs_an_address_a_known_role_and_a_long_password(email, password, role, code):
    with pytest.raises(StaffError) as caught:
        staff.create_staff(UnitOfWork(), email=email, password=password, role=role)
    assert caught.value.code is code


def test_an_address_has_one_account_whatever_its_case():
    _, email = make_staff()
    with pytest.raises(StaffError) as caught:
        staff.create_staff(UnitOfWork(), email=email.upper(), password=PASSWORD, role="viewer")
    assert caught.value.code is ErrorCode.STAFF_EMAIL_TAKEN


def test_only_an_administrator_creates_accounts():
    viewer_id, viewer_email = make_staff()
    actor = StaffIdentity(viewer_id, viewer_email, Role.VIEWER, 0)
    with pytest.raises(StaffError) as caught:
        staff.create_staff(UnitOfWork(), email=new_email(), password=PASSWORD, role="admin", actor=actor)
    assert caught.value.code is ErrorCode.STAFF_FORBIDDEN
    refused = audit.entries(UnitOfWork(), staff_id=viewer_id, action="staff.create")[0]
    assert refused.outcome == "refused"


# sign-in

def test_the_right_password_opens_a_session_stored_only_as_a_hash():
    staff_id, email = make_staff()
    result = sign_in(email.upper())
    assert result.refusal is None and result.token
    identity = staff.session_for(UnitOfWork(), result.token, at=T0)
    assert identity.staff_id == staff_id and identity.role is Role.VIEWER
    with UnitOfWork().reading() as s:
        rows = s.exec(select(StaffSession).where(StaffSession.staff_id == staff_id)).all()
    assert [r.token_hash for r in rows] == [hashlib.sha256(result.token.encode()).hexdigest()]
    assert logins(staff_id) == [("done", "password")]


def test_a_wrong_password_an_unknown_address_and_a_deactivated_account_get_the_same_answer():
    staff_id, email = make_staff()
    gone_id, gone_email = make_staff()
    with UnitOfWork() as uow:
        uow.session.get(StaffUser, gone_id).active = False
        uow.commit()
    answers = {sign_in(email, "wrong password!").refusal, sign_in(new_email()).refusal, sign_in(gone_email).refusal}
    assert answers == {ErrorCode.STAFF_BAD_CREDENTIALS}
    assert logins(staff_id) == [("failed", "bad_password")]
    assert logins(gone_id) == [("failed", "inactive")]
    anonymous = audit.entries(UnitOfWork(), action="login", outcome="failed", limit=5)
    assert any(e.staff_id is None and e.detail == "unknown_email" for e in anonymous)


def test_failures_beyond_the_first_few_make_the_next_attempt_wait_doubling():
    staff_id, email = make_staff()
    free = RULES.backoff_after_failures
    for _ in range(free):
        assert sign_in(email, "wrong password!").refusal is ErrorCode.STAFF_BAD_CREDENTIALS
    waiting = sign_in(email, at=T0 + timedelta(milliseconds=500))
    assert waiting.refusal is ErrorCode.STAFF_THROTTLED and waiting.retry_after == 1
    assert user(staff_id).failed_logins == free  # a refused attempt is not checked, nor counted
    later = T0 + timedelta(seconds=1)
    assert sign_in(email, "wrong again!!", at=later).refusal is ErrorCode.STAFF_BAD_CREDENTIALS
    assert sign_in(email, at=later + timedelta(seconds=1)).retry_after == 1  # 2 s after `later`
    assert sign_in(email, at=later + timedelta(seconds=2)).token  # the right password, once the wait is over
    assert user(staff_id).failed_logins == 0


def test_ten_failures_lock_the_account_for_half_an_hour_and_the_audit_says_so():
    staff_id, email = make_staff()
    at, answers = T0, []
    for _ in range(RULES.lock_after_failures):
        answers.append(sign_in(email, "wrong password!", at=at))
        at += timedelta(hours=1)  # past any back-off
    assert answers[-1].refusal is ErrorCode.STAFF_LOCKED and answers[-1].retry_after == 30 * 60
    locked_at = at - timedelta(hours=1)
    assert ("refused", "locked") in logins(staff_id)
    during = sign_in(email, at=locked_at + timedelta(minutes=29))
    assert during.refusal is ErrorCode.STAFF_LOCKED and during.retry_after == 60
    assert logins(staff_id)[-1] == ("refused", "while_locked")
    assert sign_in(email, at=locked_at + timedelta(minutes=30)).token


def test_many_attempts_from_one_address_are_throttled(monkeypatch):
    monkeypatch.setattr(staff, "RULES", dataclasses.replace(RULES, sign_ins_per_ip="3 per 10 minutes"))
    ip = new_ip()
    for _ in range(3):
        assert sign_in(new_email(), ip=ip).refusal is ErrorCode.STAFF_BAD_CREDENTIALS
    refused = sign_in(new_email(), ip=ip)
    assert refused.refusal is ErrorCode.STAFF_THROTTLED and refused.retry_after > 0
    assert audit.entries(UnitOfWork(), action="login", limit=1)[0].detail == "ip_throttled"


# second factor

@pytest.mark.parametrize("role", [Role.FINANCE, Role.ADMIN])
def test_roles_that_move_money_enrol_an_authenticator_before_their_first_session(role):
    staff_id, email = make_staff(role)
    first = sign_in(email)
    assert first.token is None and first.refusal is ErrorCode.STAFF_ENROLMENT_REQUIRED and first.enrolment_token
    assert sign_in(email, "wrong password!", at=T0 + timedelta(hours=1)).enrolment_token is None

    enrolment = staff.begin_enrolment(UnitOfWork(), first.enrolment_token, at=T0)
    assert enrolment.provisioning_uri.startswith("otpauth://totp/") and enrolment.qr_svg.startswith("<svg")
    assert staff.begin_enrolment(UnitOfWork(), first.enrolment_token, at=T0).secret == enrolment.secret
    assert enrolment.secret not in (user(staff_id).totp_secret or "")  # stored encrypted

    totp = pyotp.TOTP(enrolment.secret)
    with pytest.raises(StaffError) as caught:
        staff.complete_enrolment(UnitOfWork(), first.enrolment_token, "000000" if totp.at(T0) != "000000" else "111111",
                                 ip=new_ip(), at=T0)
    assert caught.value.code is ErrorCode.STAFF_OTP_INVALID
    token, codes = staff.complete_enrolment(UnitOfWork(), first.enrolment_token, totp.at(T0), ip=new_ip(), at=T0)
    assert staff.session_for(UnitOfWork(), token, at=T0).staff_id == staff_id
    assert len(codes) == RULES.recovery_codes == len(set(codes))
    with UnitOfWork().reading() as s:
        hashes = {r.code_hash for r in s.exec(select(StaffRecoveryCode).where(StaffRecoveryCode.staff_id == staff_id))}
    assert not hashes & set(codes) and len(hashes) == len(codes)
    with pytest.raises(StaffError) as again:  # the token served its purpose
        staff.begin_enrolment(UnitOfWork(), first.enrolment_token, at=T0)
    assert again.value.code is ErrorCode.STAFF_ENROLMENT_INVALID


def test_an_enrolment_token_expires_after_ten_minutes_and_cannot_be_forged():
    staff_id, email = make_staff(Role.ADMIN)
    first = sign_in(email)
    for token, at in ((first.enrolment_token, T0 + timedelta(minutes=11)),
                      (f"{staff_id + 1}.{first.enrolment_token.partition('.')[2]}", None), ("", None)):
        with pytest.raises(StaffError) as caught:
            staff.complete_enrolment(UnitOfWork(), token, "123456", ip=new_ip(), at=at)
        assert caught.value.code is ErrorCode.STAFF_ENROLMENT_INVALID


def test_an_enrolled_account_needs_a_current_code_and_a_wrong_one_counts_as_a_failure():
    staff_id, email, totp, _codes = enrolled()
    later = T0 + timedelta(minutes=5)
    assert sign_in(email, at=later).refusal is ErrorCode.STAFF_OTP_REQUIRED
    assert user(staff_id).failed_logins == 0
    wrong = "000000" if totp.at(later) != "000000" else "111111"
    assert sign_in(email, otp=wrong, at=later).refusal is ErrorCode.STAFF_OTP_REQUIRED
    assert user(staff_id).failed_logins == 1 and logins(staff_id)[-1] == ("failed", "otp_invalid")
    result = sign_in(email, otp=totp.at(later), at=later)
    assert result.token and logins(staff_id)[-1] == ("done", "totp")
    replayed = sign_in(email, otp=totp.at(later), at=later + timedelta(seconds=5))
    assert replayed.refusal is ErrorCode.STAFF_OTP_REQUIRED  # a code works once


def test_a_recovery_code_replaces_the_authenticator_once():
    staff_id, email, _totp, codes = enrolled(Role.ADMIN)
    later = T0 + timedelta(hours=1)
    result = sign_in(email, otp=codes[3].lower().replace("-", " "), at=later)
    assert result.token and logins(staff_id)[-1] == ("done", "recovery_code")
    assert sign_in(email, otp=codes[3], at=later).refusal is ErrorCode.STAFF_OTP_REQUIRED
    assert sign_in(email, otp=codes[4], at=later).token


# sessions

def test_a_session_ends_after_thirty_idle_minutes():
    _, email = make_staff()
    token = sign_in(email).token
    at = T0
    for _ in range(3):  # activity keeps it alive
        at += timedelta(minutes=29)
        assert staff.session_for(UnitOfWork(), token, at=at) is not None
    assert staff.session_for(UnitOfWork(), token, at=at + timedelta(minutes=30)) is None


def test_looking_without_touching_does_not_extend_a_session():
    _, email = make_staff()
    token = sign_in(email).token
    assert staff.session_for(UnitOfWork(), token, at=T0 + timedelta(minutes=20), touch=False)
    assert staff.session_for(UnitOfWork(), token, at=T0 + timedelta(minutes=31)) is None


def test_activity_is_written_at_most_once_a_minute():
    staff_id, email = make_staff()
    sign_in(email)
    token = sign_in(email, at=T0 + timedelta(seconds=1)).token
    staff.session_for(UnitOfWork(), token, at=T0 + timedelta(seconds=30))
    with UnitOfWork().reading() as s:
        seen = s.exec(select(StaffSession.last_seen_at).where(StaffSession.token_hash == hashlib.sha256(
            token.encode()).hexdigest())).one()
    assert seen.replace(tzinfo=timezone.utc) == T0 + timedelta(seconds=1)


def test_a_session_ends_after_twelve_hours_whatever_the_activity():
    _, email = make_staff()
    token = sign_in(email).token
    at = T0
    while at < T0 + timedelta(hours=11, minutes=45):
        at += timedelta(minutes=15)
        assert staff.session_for(UnitOfWork(), token, at=at) is not None
    assert staff.session_for(UnitOfWork(), token, at=T0 + timedelta(hours=12)) is None


def test_unknown_tokens_and_deactivated_accounts_have_no_session():
    staff_id, email = make_staff()
    token = sign_in(email).token
    assert staff.session_for(UnitOfWork(), "forged", at=T0) is None
    assert staff.session_for(UnitOfWork(), "", at=T0) is None
    with UnitOfWork() as uow:
        uow.session.get(StaffUser, staff_id).active = False
        uow.commit()
    assert staff.session_for(UnitOfWork(), token, at=T0) is None


def test_signing_out_ends_that_session_only():
    _, email = make_staff()
    one, two = sign_in(email).token, sign_in(email).token
    staff.sign_out(UnitOfWork(), one)
    staff.sign_out(UnitOfWork(), one)  # twice is harmless
    assert staff.session_for(UnitOfWork(), one, at=T0) is None
    assert staff.session_for(UnitOfWork(), two, at=T0) is not None


def test_signing_out_everywhere_ends_every_session_and_is_audited():
    staff_id, email = make_staff()
    tokens = [sign_in(email).token for _ in range(3)]
    me = staff.session_for(UnitOfWork(), tokens[0], at=T0)
    assert staff.sign_out_everywhere(UnitOfWork(), staff_id, actor=me, ip="2001:db8::1") == 3
    assert all(staff.session_for(UnitOfWork(), t, at=T0) is None for t in tokens)
    entry = audit.entries(UnitOfWork(), staff_id=staff_id, action="staff.sign_out_everywhere")[0]
    assert entry.after == {"sessions_revoked": 3} and entry.ip == "2001:db8::1"


def test_only_its_owner_or_an_administrator_signs_an_account_out_everywhere():
    target_id, target_email = make_staff()
    token = sign_in(target_email).token
    other_id, other_email = make_staff(Role.COMPLIANCE)
    other = StaffIdentity(other_id, other_email, Role.COMPLIANCE, 0)
    with pytest.raises(StaffError) as caught:
        staff.sign_out_everywhere(UnitOfWork(), target_id, actor=other)
    assert caught.value.code is ErrorCode.STAFF_FORBIDDEN
    assert staff.session_for(UnitOfWork(), token, at=T0) is not None
    admin = StaffIdentity(other_id, other_email, Role.ADMIN, 0)
    assert staff.sign_out_everywhere(UnitOfWork(), target_id, actor=admin) == 1


# audit log

def test_the_audit_log_pages_newest_first_and_filters():
    staff_id, email = make_staff()
    day = T0 + timedelta(days=1)
    for _ in range(5):
        sign_in(email, at=day)
    first = audit.entries(UnitOfWork(), staff_id=staff_id, action="login", limit=2)
    second = audit.entries(UnitOfWork(), staff_id=staff_id, action="login", limit=2, before_id=first[-1].id)
    ids = [e.id for e in first + second]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 4
    assert audit.entries(UnitOfWork(), staff_id=staff_id, outcome="failed") == []
    assert len(audit.entries(UnitOfWork(), staff_id=staff_id, since=day, until=day + timedelta(seconds=1))) == 5
    assert audit.entries(UnitOfWork(), staff_id=staff_id, since=day + timedelta(seconds=1)) == []


def test_the_audit_log_refuses_an_email_address_as_subject():
    with pytest.raises(ValueError):
        audit.record_now(UnitOfWork(), staff=None, action="login", outcome="failed", subject="someone@example.com")


def test_the_demo_accounts_sign_in_with_their_published_secrets():
    import json
    from importlib import resources

    accounts = json.loads((resources.files("storefront") / "seed" / "staff_demo.json").read_text())["accounts"]
    assert {a["role"] for a in accounts} == set(Role)
    for account in accounts:
        otp = pyotp.TOTP(account["totp_secret"]).at(T0) if "totp_secret" in account else ""
        with UnitOfWork() as uow:  # other tests may have used this code at T0 already
            uow.session.exec(select(StaffUser).where(StaffUser.email == account["email"])).one().totp_last_step = None
            uow.commit()
        assert sign_in(account["email"], account["password"], otp=otp).token, account["role"]


@pytest.fixture
def real_provider(monkeypatch):
    """The settings of a shop that takes real payments (Stripe keys configured)."""
    from storefront.settings import get_settings

    for name, value in {"STRIPE_SECRET_KEY": "sk_live_example", "STRIPE_PUBLISHABLE_KEY": "pk_live_example",
                        "STRIPE_WEBHOOK_SECRET": "whsec_example"}.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


def test_with_a_real_payment_provider_the_demo_staff_are_not_seeded_and_the_shop_refuses_to_serve_with_them(
        real_provider, monkeypatch):
    from storefront import __main__ as cli
    from storefront.services import seed

    def must_not_run() -> int:
        raise AssertionError("demo staff seeded into a shop with a real payment provider")

    monkeypatch.setattr(seed, "seed_staff", must_not_run)
    assert seed.seed_all()["staff"] == 0
    present = seed.demo_staff_present(UnitOfWork())  # the test database was seeded as a demo shop
    assert "admin@vireux.example" in present
    refused = cli._demo_staff_refused()
    assert refused is not None and "admin@vireux.example" in refused and "demo-admin" not in refused


def test_the_demo_shop_serves_with_its_demo_staff():
    from storefront import __main__ as cli

    assert cli._demo_staff_refused() is None
