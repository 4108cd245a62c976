"""Compliance keeps the sanctioned destinations (issue 10 § 3, PAY-7): a change applies to the next checkout at
once, screens the open orders' addresses again (a newly barred one stops its order in compliance review), is
validated field by field with nothing half-saved, is audited, and is refused to any other role."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from storefront.adapters.db import get_engine
from storefront.adapters.tables import SanctionedDestination, StaffAuditEntry
from storefront.domain.errors import ErrorCode
from storefront.domain.order_status import OrderEvent as E, OrderStatus
from storefront.domain.staff import Role
from storefront.services import destinations_admin, order_admin, payment
from storefront.services.checkout import CheckoutError
from storefront.services.order_admin import ActionRefused
from storefront.services.unit_of_work import UnitOfWork
from tests.integration.shop_fixtures import *  # noqa: F403 - fixtures and helpers
from tests.integration.shop_fixtures import buyer, events_of, order_row, staff_member

pytestmark = [pytest.mark.usefixtures("database"), pytest.mark.clause("PAY-7")]

NEW_YORK = dict(country="us", region="US-NY", name="New York (test)", programme="Test programme, not a real one",
                postal_prefixes="", places="")


def rows() -> list[SanctionedDestination]:
    with Session(get_engine()) as s:
        return list(s.exec(select(SanctionedDestination).order_by(SanctionedDestination.id)).all())


def audit_of(action: str) -> list[StaffAuditEntry]:
    with Session(get_engine()) as s:
        return list(s.exec(select(StaffAuditEntry).where(StaffAuditEntry.action == action)
                           .order_by(StaffAuditEntry.id)).all())


@pytest.fixture
def added():
    """Rows a test adds are removed when it ends: the session's database keeps the seeded list."""
    ids: list[int] = []
    yield ids
    officer = staff_member(Role.COMPLIANCE)
    for row_id in ids:
        try:
            destinations_admin.remove(UnitOfWork(), row_id, staff=officer)
        except ActionRefused:
            pass


def test_a_new_destination_bars_the_next_checkout_and_stops_open_orders_delivered_there(
        added, place, make_product, card_token, stripe_gateway):
    def held_order(country: str, approve: bool) -> str:
        reference = place({make_product(): 1}, buyer(country)).reference
        assert payment.authorize(UnitOfWork(), reference, card_token(), gw=stripe_gateway, browser=None).status \
            == "held"
        if approve:
            order_admin.approve(UnitOfWork(), reference, staff=staff_member(Role.FINANCE))
        return reference

    awaiting, approved, elsewhere = held_order("US", False), held_order("US", True), held_order("CH", True)
    officer = staff_member(Role.COMPLIANCE)

    saved = destinations_admin.save(UnitOfWork(), staff=officer, ip="203.0.113.7", **NEW_YORK)
    added.append(saved.id)

    assert {awaiting, approved} <= set(saved.flagged) and elsewhere not in saved.flagged
    for reference, then in ((awaiting, OrderStatus.AWAITING_APPROVAL), (approved, OrderStatus.APPROVED)):
        order = order_row(reference)
        assert (order.status, order.screening["status_then"], order.screening["destination"]) == (
            OrderStatus.COMPLIANCE_REVIEW, then, "US-NY")
        assert [e.data["found_by"] for e in events_of(reference) if e.type == E.COMPLIANCE_HOLD] == ["destination"]
    assert order_row(elsewhere).status == OrderStatus.APPROVED
    entry = audit_of("sanctions.destinations")[-1]
    assert (entry.staff_id, entry.outcome, entry.subject, entry.ip) == (
        officer.staff_id, "done", f"destination:{saved.id}", "203.0.113.7")
    assert entry.before is None and entry.after["region"] == "US-NY" and entry.after["flagged"] >= 2
    # the next checkout to New York is refused at once, beside the region field
    with pytest.raises(CheckoutError) as caught:
        place({make_product(): 1}, buyer("US"))
    assert caught.value.code is ErrorCode.DESTINATION_SANCTIONED

    # saving the same row again finds nothing new; removing it lets the next checkout through
    assert destinations_admin.save(UnitOfWork(), saved.id, staff=officer, **NEW_YORK).flagged == []
    destinations_admin.remove(UnitOfWork(), saved.id, staff=officer)
    assert place({make_product(): 1}, buyer("US")).reference
    assert audit_of("sanctions.destinations")[-1].after == {"removed": True}
    # orders it stopped stay for compliance to decide
    assert order_row(approved).status == OrderStatus.COMPLIANCE_REVIEW


def test_a_changed_row_screens_by_postcode_prefix(added, place, make_product):
    reference = place({make_product(): 1}, buyer("DE")).reference  # Berlin 10117, not yet paid
    officer = staff_member(Role.COMPLIANCE)
    saved = destinations_admin.save(UnitOfWork(), staff=officer, **{**NEW_YORK, "postal_prefixes": "99999"})
    added.append(saved.id)
    assert reference not in saved.flagged

    changed = destinations_admin.save(UnitOfWork(), saved.id, staff=officer,
                                      **{**NEW_YORK, "country": "DE", "region": "DE-BE", "name": "Berlin (test)",
                                         "postal_prefixes": "101, 102"})

    assert reference in changed.flagged
    order = order_row(reference)
    # not paid yet: the status stays; the payment will send it to compliance review
    assert (order.status, order.screening["verdict"], order.screening["field"]) == (
        OrderStatus.PENDING_PAYMENT, "possible", "postal_code")
    assert audit_of("sanctions.destinations")[-1].before["region"] == "US-NY"


@pytest.mark.parametrize(("change", "code", "field"), [
    ({"country": "XX"}, ErrorCode.DESTINATION_COUNTRY_UNKNOWN, "country"),
    ({"country": "ZZ"}, ErrorCode.DESTINATION_COUNTRY_UNKNOWN, "country"),  # CLDR's "unknown region"
    ({"country": "EU"}, ErrorCode.DESTINATION_COUNTRY_UNKNOWN, "country"),  # a grouping, not an address's country
    ({"country": "Cuba"}, ErrorCode.DESTINATION_COUNTRY_UNKNOWN, "country"),
    ({"country": 7}, ErrorCode.DESTINATION_COUNTRY_UNKNOWN, "country"),
    ({"region": "New York"}, ErrorCode.DESTINATION_REGION_INVALID, "region"),
    ({"country": "RU", "region": "UA-44"}, ErrorCode.DESTINATION_REGION_UNMATCHABLE, "region"),
    ({"name": " "}, ErrorCode.DESTINATION_NAME_INVALID, "name"),
    ({"name": "x" * 121}, ErrorCode.DESTINATION_NAME_INVALID, "name"),
    ({"programme": ""}, ErrorCode.DESTINATION_PROGRAMME_INVALID, "programme"),
    ({"postal_prefixes": "95, 9a"}, ErrorCode.DESTINATION_PREFIX_INVALID, "postal_prefixes"),
    ({"postal_prefixes": "９５"}, ErrorCode.DESTINATION_PREFIX_INVALID, "postal_prefixes"),
    ({"places": "Yalta, " + "y" * 81}, ErrorCode.DESTINATION_PLACES_INVALID, "places"),
    ({"country": "CU", "region": ""}, ErrorCode.DESTINATION_EXISTS, "region"),  # Cuba is barred whole already
    pytest.param({"programme": "Client paid with 4242 4242 4242 4242"}, ErrorCode.CARD_NUMBER_IN_TEXT, "programme",
                 marks=pytest.mark.clause("PAY-2")),
    pytest.param({"places": "Yalta, 4000-0566-5566-5556"}, ErrorCode.CARD_NUMBER_IN_TEXT, "places",
                 marks=pytest.mark.clause("PAY-2")),
])
def test_bad_input_is_refused_beside_its_field_and_nothing_is_saved(change, code, field):
    before = [(r.id, r.country, r.region, r.name) for r in rows()]

    with pytest.raises(ActionRefused) as caught:
        destinations_admin.save(UnitOfWork(), staff=staff_member(Role.COMPLIANCE), **{**NEW_YORK, **change})

    assert caught.value.refusal.code is code
    assert destinations_admin.field_of(caught.value.refusal) == field
    assert [(r.id, r.country, r.region, r.name) for r in rows()] == before


@pytest.mark.parametrize("role", [Role.FINANCE, Role.CUSTOMER_SERVICE, Role.FULFILMENT, Role.VIEWER])
def test_only_compliance_and_admin_change_the_destinations(role):
    before = len(rows())
    clerk = staff_member(role)
    with pytest.raises(ActionRefused) as caught:
        destinations_admin.save(UnitOfWork(), staff=clerk, **NEW_YORK)
    assert caught.value.refusal.code is ErrorCode.STAFF_FORBIDDEN
    with pytest.raises(ActionRefused):
        destinations_admin.remove(UnitOfWork(), rows()[0].id, staff=clerk)
    assert len(rows()) == before
    refusals = [e for e in audit_of("sanctions.destinations") if e.staff_id == clerk.staff_id]
    assert [e.outcome for e in refusals] == ["refused", "refused"]


def test_an_unknown_or_out_of_range_row_names_nothing():
    officer = staff_member(Role.COMPLIANCE)
    for row_id in (2**31, -1, "1", 10**9):
        with pytest.raises(ActionRefused) as caught:
            destinations_admin.remove(UnitOfWork(), row_id, staff=officer)
        assert caught.value.refusal.code is ErrorCode.DESTINATION_NOT_FOUND
