"""Staff management (issue 10 § 6) through the real database: an administrator creates and disables accounts,
changes roles and resets second factors, each audited with before/after; a disabled account's sessions end at
once; nobody disables themselves or the last active administrator; bad input is refused and nothing saved.
And the order export: the CSV of the list's filter, through a link that expires in minutes, bound to the
session, audited as a personal-data export, refused to a role without the right."""

from __future__ import annotations

import csv
import io
import secrets
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from sqlalchemy import update
from sqlmodel import Session, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from storefront import http_admin
from storefront.adapters.db import get_engine
from storefront.adapters.tables import StaffAuditEntry, StaffRecoveryCode, StaffUser
from storefront.domain.errors import ErrorCode
from storefront.domain.staff import Role
from storefront.services import order_export, staff, staff_admin
from storefront.services.admin_orders import OrderFilters
from storefront.services.staff import StaffError, StaffIdentity
from storefront.services.staff_cookies import SESSION_COOKIE
from storefront.services.unit_of_work import UnitOfWork
from tests.integration.shop_fixtures import *  # noqa: F403 - fixtures and helpers
from tests.integration.shop_fixtures import buyer

pytestmark = pytest.mark.usefixtures("database")

PASSWORD = "correct horse battery staple"


def new_email() -> str:
    return f"managed-{secrets.token_hex(4)}@vireux.example"


def signed_in(role: Role = Role.ADMIN) -> tuple[StaffIdentity, str]:
    """A new account of `role` with an open session (its second factor enrolled where the role needs one)."""
    email = new_email()
    staff_id = staff.create_staff(UnitOfWork(), email=email, password=PASSWORD, role=role)
    return session_of(staff_id, email)


def session_of(staff_id: int, email: str) -> tuple[StaffIdentity, str]:
    result = staff.sign_in(UnitOfWork(), email=email, password=PASSWORD, ip=f"2001:db8::{secrets.token_hex(2)}")
    if result.enrolment_token:
        secret = staff.begin_enrolment(UnitOfWork(), result.enrolment_token).secret
        token, _codes = staff.complete_enrolment(UnitOfWork(), result.enrolment_token, pyotp.TOTP(secret).now(),
                                                 ip="2001:db8::1")
    else:
        token = result.token
    identity = staff.session_for(UnitOfWork(), token)
    assert identity is not None and identity.staff_id == staff_id
    return identity, token


def account(staff_id: int) -> StaffUser:
    with Session(get_engine()) as s:
        return s.get(StaffUser, staff_id)


def audit_of(action: str, subject: str = "") -> list[StaffAuditEntry]:
    with Session(get_engine()) as s:
        query = select(StaffAuditEntry).where(StaffAuditEntry.action == action)
        if subject:
            query = query.where(StaffAuditEntry.subject == subject)
        return list(s.exec(query.order_by(StaffAuditEntry.id)).all())


def accounts_count() -> int:
    with Session(get_engine()) as s:
        return len(s.exec(select(StaffUser.id)).all())


@contextmanager
def only_admin(staff_id: int):
    """Every other administrator disabled for the test, and enabled again afterwards."""
    with Session(get_engine()) as s:
        others = s.exec(select(StaffUser.id).where(StaffUser.role == "admin", StaffUser.active.is_(True),
                                                   StaffUser.id != staff_id)).all()
        s.exec(update(StaffUser).where(StaffUser.id.in_(others)).values(active=False))
        s.commit()
    try:
        yield
    finally:
        with Session(get_engine()) as s:
            s.exec(update(StaffUser).where(StaffUser.id.in_(others)).values(active=True))
            s.commit()


# --- accounts ---------------------------------------------------------------------------------------------------

def test_an_administrator_creates_an_account_audited_without_its_password():
    admin, _ = signed_in()
    email = new_email()

    new_id = staff_admin.create(UnitOfWork(), email=email.upper(), password=PASSWORD, role="fulfilment",
                                full_name="Léa Martin", staff=admin, ip="2001:db8::7")

    created = account(new_id)
    assert (created.email, created.role, created.active, created.full_name) == (email, "fulfilment", True, "Léa Martin")
    assert PASSWORD not in created.password_hash
    [entry] = audit_of("staff.create", f"staff:{new_id}")
    assert (entry.staff_id, entry.outcome, entry.after, entry.ip) == (admin.staff_id, "done", {"role": "fulfilment"},
                                                                      "2001:db8::7")
    assert PASSWORD not in str(entry.before) + str(entry.after) + entry.detail
    assert staff.sign_in(UnitOfWork(), email=email, password=PASSWORD, ip="2001:db8::8").token
    assert [r.email for r in staff_admin.staff_list(UnitOfWork()) if r.id == new_id] == [email]


@pytest.mark.parametrize(("email", "password", "role", "code"), [
    ("not an address", PASSWORD, "viewer", ErrorCode.STAFF_EMAIL_INVALID),
    ("x" * 321, PASSWORD, "viewer", ErrorCode.STAFF_EMAIL_INVALID),
    (None, PASSWORD, "viewer", ErrorCode.STAFF_EMAIL_INVALID),
    ("ok-{}@vireux.example", "short", "viewer", ErrorCode.STAFF_PASSWORD_TOO_SHORT),
    ("ok-{}@vireux.example", "p" * 201, "viewer", ErrorCode.STAFF_PASSWORD_TOO_LONG),
    ("ok-{}@vireux.example", ["a list"], "viewer", ErrorCode.STAFF_PASSWORD_TOO_SHORT),
    ("ok-{}@vireux.example", PASSWORD, "owner", ErrorCode.STAFF_ROLE_UNKNOWN),
    ("ok-{}@vireux.example", PASSWORD, 3, ErrorCode.STAFF_ROLE_UNKNOWN),
])
def test_bad_input_is_refused_with_its_field_and_nothing_is_saved(email, password, role, code):
    admin, _ = signed_in()
    before = accounts_count()
    email = email.format(secrets.token_hex(3)) if isinstance(email, str) else email

    with pytest.raises(StaffError) as refused:
        staff_admin.create(UnitOfWork(), email=email, password=password, role=role, staff=admin)

    assert refused.value.code == code
    assert staff_admin.FIELD_OF[code] in ("email", "password", "role")
    assert accounts_count() == before


def test_an_address_taken_is_refused_beside_the_email():
    admin, _ = signed_in()
    email = new_email()
    staff_admin.create(UnitOfWork(), email=email, password=PASSWORD, role="viewer", staff=admin)
    with pytest.raises(StaffError) as refused:
        staff_admin.create(UnitOfWork(), email=email, password=PASSWORD, role="finance", staff=admin)
    assert staff_admin.FIELD_OF[refused.value.code] == "email"


@pytest.mark.parametrize("role", [r for r in Role if r != Role.ADMIN])
def test_no_other_role_manages_accounts_and_the_refusal_is_audited(role):
    actor, _ = signed_in(role)
    target, _ = signed_in(Role.VIEWER)
    subject = f"staff:{target.staff_id}"
    actions = [
        lambda: staff_admin.create(UnitOfWork(), email=new_email(), password=PASSWORD, role="admin", staff=actor),
        lambda: staff_admin.disable(UnitOfWork(), target.staff_id, staff=actor),
        lambda: staff_admin.change_role(UnitOfWork(), target.staff_id, "admin", staff=actor),
        lambda: staff_admin.reset_second_factor(UnitOfWork(), target.staff_id, staff=actor),
        lambda: staff_admin.enable(UnitOfWork(), target.staff_id, staff=actor),
    ]
    for action in actions:
        with pytest.raises(StaffError) as refused:
            action()
        assert refused.value.code == ErrorCode.STAFF_FORBIDDEN
    assert (account(target.staff_id).role, account(target.staff_id).active) == ("viewer", True)
    refusals = [e for e in audit_of("staff.disable", subject) + audit_of("staff.change_role", subject)
                if e.staff_id == actor.staff_id]
    assert [e.outcome for e in refusals] == ["refused", "refused"]


def test_disabling_an_account_ends_its_sessions_at_once_and_is_audited():
    admin, _ = signed_in()
    target, token = signed_in(Role.CUSTOMER_SERVICE)
    _again, second_token = session_of(target.staff_id, target.email)

    revoked = staff_admin.disable(UnitOfWork(), target.staff_id, staff=admin, ip="2001:db8::9")

    assert revoked == 2
    assert staff.session_for(UnitOfWork(), token) is None
    assert staff.session_for(UnitOfWork(), second_token) is None
    assert account(target.staff_id).active is False
    [entry] = audit_of("staff.disable", f"staff:{target.staff_id}")
    assert (entry.outcome, entry.before, entry.after) == ("done", {"active": True},
                                                          {"active": False, "sessions_revoked": 2})
    assert staff.sign_in(UnitOfWork(), email=target.email, password=PASSWORD, ip="2001:db8::a").token is None
    [row] = [r for r in staff_admin.staff_list(UnitOfWork()) if r.id == target.staff_id]
    assert (row.active, row.open_sessions) == (False, 0)
    with pytest.raises(StaffError) as again:
        staff_admin.disable(UnitOfWork(), target.staff_id, staff=admin)
    assert again.value.code == ErrorCode.STAFF_ALREADY_DISABLED

    staff_admin.enable(UnitOfWork(), target.staff_id, staff=admin)
    assert account(target.staff_id).active is True
    assert staff.session_for(UnitOfWork(), token) is None  # enabling opens no old session again
    [enabled] = audit_of("staff.enable", f"staff:{target.staff_id}")
    assert (enabled.before, enabled.after) == ({"active": False}, {"active": True})


def test_an_administrator_cannot_disable_themselves():
    admin, token = signed_in()
    with pytest.raises(StaffError) as refused:
        staff_admin.disable(UnitOfWork(), admin.staff_id, staff=admin)
    assert refused.value.code == ErrorCode.STAFF_SELF_DISABLE
    assert account(admin.staff_id).active is True
    assert staff.session_for(UnitOfWork(), token) is not None
    assert [e.detail for e in audit_of("staff.disable", f"staff:{admin.staff_id}")] == ["self"]


def test_the_last_active_administrator_can_be_neither_disabled_nor_given_another_role():
    admin, _ = signed_in()
    other, other_token = signed_in()
    with only_admin(other.staff_id):
        # `admin` disabled too: `other` is the only active administrator, and `admin` acts through the service
        for attempt in (lambda: staff_admin.disable(UnitOfWork(), other.staff_id, staff=admin),
                        lambda: staff_admin.change_role(UnitOfWork(), other.staff_id, "viewer", staff=admin)):
            with pytest.raises(StaffError) as refused:
                attempt()
            assert refused.value.code == ErrorCode.STAFF_LAST_ADMIN
        assert (account(other.staff_id).role, account(other.staff_id).active) == ("admin", True)
        assert staff.session_for(UnitOfWork(), other_token) is not None
    # with a second active administrator, the same change is allowed
    staff_admin.change_role(UnitOfWork(), other.staff_id, "viewer", staff=admin)
    assert account(other.staff_id).role == "viewer"


def test_a_role_change_is_audited_and_ends_the_sessions_opened_under_the_old_role():
    admin, _ = signed_in()
    target, token = signed_in(Role.VIEWER)

    staff_admin.change_role(UnitOfWork(), target.staff_id, "finance", staff=admin)

    assert account(target.staff_id).role == "finance"
    assert staff.session_for(UnitOfWork(), token) is None
    [entry] = audit_of("staff.change_role", f"staff:{target.staff_id}")
    assert (entry.before, entry.after) == ({"role": "viewer"}, {"role": "finance", "sessions_revoked": 1})
    # finance needs a second factor: the next sign-in with the password asks for its enrolment
    assert staff.sign_in(UnitOfWork(), email=target.email, password=PASSWORD, ip="2001:db8::b").enrolment_token
    for role, code in (("finance", ErrorCode.STAFF_ROLE_UNCHANGED), ("boss", ErrorCode.STAFF_ROLE_UNKNOWN),
                       (None, ErrorCode.STAFF_ROLE_UNKNOWN)):
        with pytest.raises(StaffError) as refused:
            staff_admin.change_role(UnitOfWork(), target.staff_id, role, staff=admin)
        assert refused.value.code == code
    assert len(audit_of("staff.change_role", f"staff:{target.staff_id}")) == 1


def test_resetting_a_second_factor_forgets_the_authenticator_and_codes_and_asks_to_enrol_again():
    admin, _ = signed_in()
    target, token = signed_in(Role.FINANCE)
    assert account(target.staff_id).totp_enabled

    staff_admin.reset_second_factor(UnitOfWork(), target.staff_id, staff=admin)

    reset = account(target.staff_id)
    assert (reset.totp_enabled, reset.totp_secret, reset.totp_last_step) == (False, None, None)
    with Session(get_engine()) as s:
        assert s.exec(select(StaffRecoveryCode).where(StaffRecoveryCode.staff_id == target.staff_id)).all() == []
    assert staff.session_for(UnitOfWork(), token) is None
    [entry] = audit_of("staff.reset_second_factor", f"staff:{target.staff_id}")
    assert entry.before == {"totp_enabled": True}
    assert entry.after == {"totp_enabled": False, "recovery_codes_deleted": 10, "sessions_revoked": 1}
    assert staff.sign_in(UnitOfWork(), email=target.email, password=PASSWORD, ip="2001:db8::c").enrolment_token
    with pytest.raises(StaffError) as refused:
        staff_admin.reset_second_factor(UnitOfWork(), target.staff_id, staff=admin)
    assert refused.value.code == ErrorCode.STAFF_NO_SECOND_FACTOR


@pytest.mark.parametrize("staff_id", [0, -1, True, "1", None, 2**31, 2**63, 10**12])
def test_an_unknown_or_malformed_account_id_is_refused(staff_id):
    admin, _ = signed_in()
    for action in (staff_admin.disable, staff_admin.enable, staff_admin.reset_second_factor):
        with pytest.raises(StaffError) as refused:
            action(UnitOfWork(), staff_id, staff=admin)
        assert refused.value.code == ErrorCode.STAFF_NOT_FOUND


# --- order export -----------------------------------------------------------------------------------------------

@pytest.fixture
def client() -> TestClient:
    return TestClient(Starlette(routes=http_admin.ROUTES), base_url="http://localhost:3000")


def download(client: TestClient, url: str, token: str):
    return client.get(url, headers={"cookie": f"{SESSION_COOKIE}={token}", "sec-fetch-site": "same-origin"},
                      follow_redirects=False)


@pytest.fixture
def two_orders(make_product, place):
    country = "CH"
    first = place({make_product(): 1}, buyer(country, name="=HYPERLINK(1)"))
    second = place({make_product(): 1}, buyer(country))
    return first.reference, second.reference


def test_the_export_is_the_filtered_list_with_personal_columns_audited_as_a_personal_data_export(client, two_orders):
    first, _second = two_orders
    service, token = signed_in(Role.CUSTOMER_SERVICE)
    url = order_export.export_link(OrderFilters(reference=first), staff=service)

    response = download(client, url, token)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith("attachment; filename=\"orders-")
    assert response.headers["cache-control"] == "no-store"
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == list(order_export.COLUMNS + order_export.PERSONAL_COLUMNS)
    assert [r[0] for r in rows[1:]] == [first]
    assert rows[1][6] == "'=HYPERLINK(1)"  # a formula is quoted, never run by a spreadsheet
    assert "@example.com" in rows[1][7]
    [entry] = [e for e in audit_of("orders.export") if e.staff_id == service.staff_id]
    assert (entry.outcome, entry.detail) == ("done", "personal_data")
    assert entry.after["rows"] == 1 and entry.after["personal_data"] is True
    assert entry.after["filter"]["reference"] == first


def test_a_role_without_personal_data_gets_no_personal_columns_and_its_email_filter_is_dropped(client, two_orders):
    first, _second = two_orders
    viewer, token = signed_in(Role.VIEWER)
    url = order_export.export_link(OrderFilters(reference=first, email="someone@example.com"), staff=viewer)

    response = download(client, url, token)

    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == list(order_export.COLUMNS)
    assert [r[0] for r in rows[1:]] == [first]
    assert "@" not in response.text
    [entry] = [e for e in audit_of("orders.export") if e.staff_id == viewer.staff_id]
    assert (entry.detail, entry.after["personal_data"], entry.after["filter"]["by_email"]) == (
        "no_personal_data", False, False)


def test_the_link_expires_within_minutes(client, two_orders):
    service, token = signed_in(Role.CUSTOMER_SERVICE)
    issued = datetime.now(timezone.utc) - order_export.LINK_AGE - timedelta(seconds=2)
    url = order_export.export_link(OrderFilters(reference=two_orders[0]), staff=service, at=issued)

    response = download(client, url, token)

    assert response.status_code == 410
    assert "expired" in response.text
    assert order_export.LINK_AGE <= timedelta(minutes=10)
    assert [e for e in audit_of("orders.export") if e.staff_id == service.staff_id] == []


def test_the_link_works_only_for_the_session_it_was_issued_to_and_unaltered(client, two_orders):
    service, token = signed_in(Role.CUSTOMER_SERVICE)
    other, other_token = signed_in(Role.CUSTOMER_SERVICE)
    url = order_export.export_link(OrderFilters(reference=two_orders[0]), staff=service)

    assert download(client, url, other_token).status_code == 410  # another session, even of the same role
    query = parse_qs(urlsplit(url).query)
    forged = order_export.export_link(OrderFilters(), staff=service)
    tampered = f"{order_export.PATH}?v={parse_qs(urlsplit(forged).query)['v'][0]}&t={query['t'][0]}"
    assert download(client, tampered, token).status_code == 410
    assert download(client, f"{order_export.PATH}?v=x", token).status_code == 410
    # without a session: back to the sign-in page; from another site: refused
    anonymous = client.get(url, headers={"sec-fetch-site": "same-origin"}, follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/admin/login")
    cross = client.get(url, headers={"cookie": f"{SESSION_COOKIE}={token}", "origin": "https://evil.example"},
                       follow_redirects=False)
    assert cross.status_code == 403
    # signed out: the link dies with its session
    staff.sign_out(UnitOfWork(), token)
    assert download(client, url, token).status_code == 303
    assert [e for e in audit_of("orders.export") if e.staff_id in (service.staff_id, other.staff_id)] == []


def test_a_role_without_orders_view_is_refused_and_audited(monkeypatch, client, two_orders):
    viewer, token = signed_in(Role.VIEWER)
    url = order_export.export_link(OrderFilters(reference=two_orders[0]), staff=viewer)
    # every role holds orders.view today: take it from the viewer for this test, as a rules change would
    monkeypatch.setattr(order_export, "allowed", lambda role, permission: permission != "orders.view")

    response = download(client, url, token)

    assert response.status_code == 403
    [entry] = [e for e in audit_of("orders.export") if e.staff_id == viewer.staff_id]
    assert (entry.outcome, entry.detail) == ("refused", "forbidden")


@pytest.mark.clause("PAY-2")
def test_a_card_number_typed_as_the_name_is_refused_beside_the_name_and_nothing_is_saved():
    admin, _ = signed_in()
    before = accounts_count()

    with pytest.raises(StaffError) as refused:
        staff_admin.create(UnitOfWork(), email=new_email(), password=PASSWORD, role="viewer",
                           full_name="Léa 4242 4242 4242 4242", staff=admin)

    assert refused.value.code == ErrorCode.CARD_NUMBER_IN_TEXT
    assert staff_admin.FIELD_OF[refused.value.code] == "full_name"
    assert accounts_count() == before
    assert not audit_of("staff.create", "") or all("4242" not in str(e.after) for e in audit_of("staff.create"))
