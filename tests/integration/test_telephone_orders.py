"""Orders taken by telephone (PAY-2), on the real database and the real payment sandbox.

Staff enter the order under the shop's own rules; the client gets a purpose-bound link, checks the
details, accepts the terms in force, confirms and pays with a card token as Stripe.js makes them.
"""

from __future__ import annotations

import re
import secrets
from datetime import date, datetime, timedelta, timezone
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import stripe
from sqlalchemy import update
from sqlmodel import Session, func, select

from storefront.adapters import sandbox
from storefront.adapters.db import get_engine
from storefront.adapters.stripe_gateway import StripeGateway
from storefront.adapters.tables import Order, ProductPrice, Product, StaffAuditEntry
from storefront.domain.errors import ErrorCode, Refusal
from storefront.domain.order_status import OrderStatus
from storefront.domain.staff import Role
from storefront.services import admin_orders, checkout, links, order_admin, payment, telephone_orders
from storefront.services import terms as terms_service
from storefront.services.checkout import CheckoutError
from storefront.services.markets import deliverable
from storefront.services.telephone_orders import ClientConfirmation, TelephoneOrderRefused
from storefront.services.unit_of_work import UnitOfWork
from tests.integration.shop_fixtures import *  # noqa: F403 - fixtures and helpers
from tests.integration.stripe_fixtures import SANDBOX_WEBHOOK_SECRET
from tests.integration.shop_fixtures import (
    ADDRESSES,
    PHONES,
    aware,
    events_of,
    new_browser,
    order_row,
    outbox_of,
    staff_member,
    stock_of,
)

pytestmark = [pytest.mark.usefixtures("database"), pytest.mark.clause("PAY-2")]

VISA_OK = "4242424242424242"


def client_form(country: str = "CH", **overrides) -> dict:
    street, city, postal, area = ADDRESSES[country]
    form = {"email": f"caller-{secrets.token_hex(4)}@example.com", "phone": PHONES[country],
            "full_name": "Anna Keller", "birth_date": "1985-04-12", "ship_name": "Anna Keller",
            "ship_street": street, "ship_city": city, "ship_postal_code": postal, "ship_area": area,
            "ship_country": country, "billing_same": True}
    form.update(overrides)
    return form


def enter(lines: dict, form: dict | None = None, *, staff=None, personal_use=True, at=None):
    return telephone_orders.enter(UnitOfWork(), form=form or client_form(), lines=lines, personal_use=personal_use,
                                  staff=staff or staff_member(Role.CUSTOMER_SERVICE), ip="2001:db8::30", at=at)


def link_of(reference: str) -> tuple[str, str]:
    """The (reference, token) of the link in the email the client received."""
    [email] = [e for e in outbox_of(reference) if e.kind == "telephone_order"]
    url = re.search(r"https?://\S+phone_order=\S+", email.text_body).group(0)
    query = parse_qs(urlsplit(url).query)
    return query["phone_order"][0], query["t"][0]


def confirm(reference: str, token: str, browser: str, **overrides):
    current = terms_service.current(UnitOfWork())
    fields = dict(reference=reference, token=token, browser=browser, terms_version_id=current.id,
                  details_confirmed=True, terms_accepted=True, personal_use=True, ip="2001:db8::31",
                  user_agent="Mozilla/5.0 TestBrowser/1.0")
    fields.update(overrides)
    return telephone_orders.confirm_by_client(UnitOfWork(), ClientConfirmation(**fields))


def orders_count() -> int:
    with Session(get_engine()) as s:
        return s.exec(select(func.count(Order.id))).one()


def audit_entries(action: str, order_id: int | None = None) -> list[StaffAuditEntry]:
    with Session(get_engine()) as s:
        query = select(StaffAuditEntry).where(StaffAuditEntry.action == action)
        if order_id is not None:
            query = query.where(StaffAuditEntry.order_id == order_id)
        return list(s.exec(query.order_by(StaffAuditEntry.id)).all())


# -- staff enter the order ---------------------------------------------------------------------------------------

@pytest.mark.clause("GTC-4.1")
def test_staff_enter_an_order_at_the_shops_prices_reserving_stock_and_the_client_is_emailed_a_link(make_product):
    watch = make_product(stock=4, max_per_order=3)
    agent = staff_member(Role.CUSTOMER_SERVICE)

    entered = enter({watch: 2}, staff=agent)

    order = order_row(entered.reference)
    quoted = checkout.quote_for(UnitOfWork(), {watch: 2}, deliverable("CH"))
    assert (order.status, order.channel, order.entered_by) == ("awaiting_client", "telephone", agent.staff_id)
    assert (order.total_minor, order.vat_minor, order.shipping_minor) == (
        quoted.total.minor, quoted.vat.amount.minor, quoted.shipping.minor)  # same prices, shipping, VAT as the shop
    assert order.terms_version_id is None and order.terms_accepted_at is None  # the client has accepted nothing yet
    assert order.browser_hash is None and order.personal_use_declared
    shown = admin_orders.order_detail(UnitOfWork(), entered.reference, with_personal_data=False)
    assert (shown.status, shown.channel, shown.entered_by) == ("awaiting_client", "telephone",
                                                               f"staff:{agent.staff_id}")
    assert stock_of(watch) == 2  # reserved like a web order's
    placed = [e for e in events_of(entered.reference) if e.type == "order_placed"]
    assert [(e.actor, e.data["channel"], e.data["entered_by"]) for e in placed] == [
        (f"staff:{agent.staff_id}", "telephone", agent.staff_id)]
    [entry] = audit_entries("telephone_orders.create", order.id)
    assert (entry.staff_id, entry.outcome, entry.after["channel"]) == (agent.staff_id, "done", "telephone")
    assert order.email not in str(entry.after) + entry.detail  # ids and codes only in the audit
    [email] = outbox_of(entered.reference)
    assert email.recipient == order.email and "check and confirm" in email.subject
    reference, token = link_of(entered.reference)
    assert reference == entered.reference
    assert links.check(reference, token, links.Purpose.TELEPHONE_ORDER) is links.LinkCheck.VALID
    assert "no card details are taken by telephone" in email.text_body


@pytest.mark.parametrize(("overrides", "field", "code"), [
    ({"ship_street": "Bahnhofstrasse 12 4242 4242 4242 4242"}, "ship_street", ErrorCode.CARD_NUMBER_IN_TEXT),
    ({"full_name": "Anna 4000-0000-0000-0341 Keller"}, "full_name", ErrorCode.CARD_NUMBER_IN_TEXT),
    ({"ship_name": "5555555555554444"}, "ship_name", ErrorCode.CARD_NUMBER_IN_TEXT),
    ({"billing_same": False, "bill_name": "A K", "bill_street": "378282246310005", "bill_city": "Zürich",
      "bill_postal_code": "8001", "bill_country": "CH"}, "bill_street", ErrorCode.CARD_NUMBER_IN_TEXT),
    ({"email": "not an address"}, "email", ErrorCode.FIELDS_INVALID),
    ({"phone": "12"}, "phone", ErrorCode.FIELDS_INVALID),
    ({"ship_postal_code": "ABC"}, "ship_postal_code", ErrorCode.FIELDS_INVALID),
    ({"full_name": "Keller Holding AG"}, "full_name", ErrorCode.FIELDS_INVALID),
    ({"birth_date": (date.today() - timedelta(days=365 * 16)).isoformat()}, "birth_date", ErrorCode.UNDER_AGE),
])
def test_a_wrong_field_is_refused_beside_it_and_nothing_is_saved(make_product, overrides, field, code):
    watch = make_product(stock=3)
    before = orders_count()

    with pytest.raises(TelephoneOrderRefused) as refused:
        enter({watch: 1}, client_form(**overrides))

    assert refused.value.code == code
    assert field in refused.value.fields and refused.value.fields[field]
    assert orders_count() == before and stock_of(watch) == 3


@pytest.mark.clause("GTC-2.4")
def test_the_personal_use_declaration_given_on_the_phone_is_required(make_product):
    watch = make_product()
    with pytest.raises(TelephoneOrderRefused) as refused:
        enter({watch: 1}, personal_use=False)
    assert (refused.value.code, refused.value.refusal.field) == (ErrorCode.PHONE_ORDER_PERSONAL_USE, "personal_use")


@pytest.mark.clause("GTC-3.1")
@pytest.mark.clause("GTC-3.3")
@pytest.mark.parametrize(("product", "quantity", "code"), [
    ({"stock": 5, "max_per_order": 2}, 3, ErrorCode.OVER_ORDER_LIMIT),
    ({"stock": 1, "max_per_order": 3}, 2, ErrorCode.OVER_STOCK),
    ({"stock": 5, "active": False}, 1, ErrorCode.PRODUCT_NOT_OFFERED),
    (None, 1, ErrorCode.CART_CHANGED),
    ({"stock": 5}, 0, ErrorCode.INVALID_QUANTITY),
    ({"stock": 5}, "1", ErrorCode.INVALID_QUANTITY),
])
def test_the_catalogue_limits_and_stock_of_the_shop_apply(make_product, product, quantity, code):
    watch = make_product(**product) if product else "VX-NOSUCHWATCH"
    before = orders_count()
    with pytest.raises(TelephoneOrderRefused) as refused:
        enter({watch: quantity})
    assert refused.value.code == code
    assert orders_count() == before


@pytest.mark.clause("PAY-7")
def test_a_sanctioned_destination_is_refused_as_in_the_shop(make_product):
    watch = make_product()
    before = orders_count()
    with pytest.raises(TelephoneOrderRefused) as refused:
        enter({watch: 1}, client_form("CU"))
    assert refused.value.code in (ErrorCode.DESTINATION_NOT_DELIVERABLE, ErrorCode.DESTINATION_SANCTIONED)
    assert orders_count() == before


@pytest.mark.parametrize("role", [Role.VIEWER, Role.FULFILMENT, Role.FINANCE, Role.COMPLIANCE])
def test_no_other_role_may_enter_an_order_and_the_attempt_is_audited(make_product, role):
    watch = make_product()
    before = orders_count()
    other = staff_member(role)
    with pytest.raises(TelephoneOrderRefused) as refused:
        enter({watch: 1}, staff=other)
    assert refused.value.code == ErrorCode.STAFF_FORBIDDEN
    assert orders_count() == before
    assert [e.outcome for e in audit_entries("telephone_orders.create") if e.staff_id == other.staff_id] == ["refused"]


# -- the client, through the link -------------------------------------------------------------------------------

@pytest.mark.clause("GTC-3.4")
@pytest.mark.clause("GTC-2.3")
def test_the_client_checks_accepts_confirms_and_pays_through_the_link(make_product, card_token, stripe_gateway):
    watch = make_product(stock=3)
    agent = staff_member(Role.CUSTOMER_SERVICE)
    entered = enter({watch: 1}, staff=agent)
    reference, token = link_of(entered.reference)
    browser = new_browser()

    shown = telephone_orders.open_for_client(UnitOfWork(), reference, token, browser)

    assert not isinstance(shown, Refusal)
    assert (shown.status, shown.form["full_name"], shown.form["ship_city"]) == ("awaiting_client", "Anna Keller",
                                                                             "Zürich")
    assert shown.totals.total == entered.total
    assert order_row(reference).browser_hash == browser  # bound to the browser that opened the link
    with pytest.raises(CheckoutError) as early:
        confirm(reference, token, browser, terms_accepted=False)
    assert early.value.code == ErrorCode.TERMS_NOT_ACCEPTED
    with pytest.raises(CheckoutError) as unchecked:
        confirm(reference, token, browser, details_confirmed=False)
    assert unchecked.value.code == ErrorCode.DETAILS_NOT_CONFIRMED

    placed = confirm(reference, token, browser)

    order = order_row(reference)
    current = terms_service.current(UnitOfWork())
    assert (placed.status, order.status) == ("pending_payment", "pending_payment")
    assert (order.terms_version_id, order.terms_content_hash, order.accepted_ip) == (
        current.id, current.content_hash, "2001:db8::31")
    assert [e.actor for e in events_of(reference) if e.type in ("confirmed_by_client", "terms_accepted")] == [
        "client", "client"]
    assert confirm(reference, token, browser).created is False  # a repeated click changes nothing

    outcome = payment.authorize(UnitOfWork(), reference, card_token(VISA_OK), gw=stripe_gateway, browser=browser)

    order = order_row(reference)
    assert (outcome.status, order.status) == ("held", OrderStatus.AWAITING_APPROVAL.value)
    assert (order.channel, order.entered_by) == ("telephone", agent.staff_id)


def test_before_confirmation_the_link_moves_to_the_browser_that_opens_it_after_only_the_confirming_one(
        make_product):
    watch = make_product()
    reference, token = link_of(enter({watch: 1}).reference)
    phone, laptop = new_browser(), new_browser()
    assert not isinstance(telephone_orders.open_for_client(UnitOfWork(), reference, token, phone), Refusal)
    assert not isinstance(telephone_orders.open_for_client(UnitOfWork(), reference, token, laptop), Refusal)
    with pytest.raises(CheckoutError):
        confirm(reference, token, phone)  # the link was opened elsewhere since
    confirm(reference, token, laptop)

    again = telephone_orders.open_for_client(UnitOfWork(), reference, token, phone)

    assert again == Refusal(ErrorCode.PHONE_ORDER_NOT_AWAITING_CLIENT)
    assert telephone_orders.open_for_client(UnitOfWork(), reference, token, laptop).status == "pending_payment"


@pytest.mark.parametrize("forge", ["view_link", "tampered", "other_order", "no_browser"])
def test_only_the_telephone_order_link_of_this_order_opens_it(make_product, forge):
    watch = make_product(stock=5)
    reference, token = link_of(enter({watch: 1}).reference)
    other, _ = link_of(enter({watch: 1}).reference)
    browser = new_browser()
    args = {"view_link": (reference, links.issue(reference, links.Purpose.VIEW), browser),
            "tampered": (reference, token[:-2] + ("AA" if not token.endswith("AA") else "BB"), browser),
            "other_order": (other, token, browser),
            "no_browser": (reference, token, "")}[forge]

    shown = telephone_orders.open_for_client(UnitOfWork(), *args)

    assert isinstance(shown, Refusal)
    assert shown.code in (ErrorCode.PHONE_ORDER_LINK_INVALID, ErrorCode.COOKIES_REQUIRED)
    assert order_row(reference).browser_hash is None


@pytest.mark.clause("GTC-1.4")
def test_the_client_must_accept_the_version_in_force_when_confirming(make_product):
    watch = make_product()
    reference, token = link_of(enter({watch: 1}).reference)
    browser = new_browser()
    telephone_orders.open_for_client(UnitOfWork(), reference, token, browser)
    with pytest.raises(CheckoutError) as refused:
        confirm(reference, token, browser, terms_version_id=terms_service.current(UnitOfWork()).id + 1000)
    assert refused.value.code == ErrorCode.TERMS_CHANGED
    assert order_row(reference).status == "awaiting_client"


@pytest.mark.clause("GTC-4.2")
def test_the_prices_entered_hold_when_the_price_list_changes_before_the_client_confirms(make_product):
    watch = make_product()
    entered = enter({watch: 1})
    total = order_row(entered.reference).total_minor
    with Session(get_engine()) as s:
        product_id = s.exec(select(Product.id).where(Product.reference == watch)).one()
        s.exec(update(ProductPrice).where(ProductPrice.product_id == product_id, ProductPrice.currency == "CHF")
               .values(amount_minor=ProductPrice.amount_minor * 2))
        s.commit()
    reference, token = link_of(entered.reference)
    browser = new_browser()
    telephone_orders.open_for_client(UnitOfWork(), reference, token, browser)

    confirm(reference, token, browser)

    assert order_row(reference).total_minor == total


def test_an_unconfirmed_order_lapses_with_its_link_releasing_the_stock_and_telling_the_client(make_product):
    watch = make_product(stock=2)
    at = datetime.now(timezone.utc)
    entered = enter({watch: 2}, at=at)
    reference, token = link_of(entered.reference)
    assert stock_of(watch) == 0
    later = at + telephone_orders.link_lifetime() + timedelta(minutes=1)

    assert telephone_orders.open_for_client(UnitOfWork(), reference, token, new_browser(), at=later) == \
        Refusal(ErrorCode.PHONE_ORDER_LINK_EXPIRED)
    assert reference in telephone_orders.expire_unconfirmed(UnitOfWork(), at=later)
    assert reference not in telephone_orders.expire_unconfirmed(UnitOfWork(), at=later)  # once only

    order = order_row(reference)
    assert order.status == "cancelled" and stock_of(watch) == 2
    assert [e.data["reason"] for e in events_of(reference) if e.type == "cancelled"] == ["not_confirmed_by_client"]
    assert any(e.kind == "order_cancelled" for e in outbox_of(reference))


def test_the_expiry_job_cancels_unconfirmed_orders_once_their_link_lapsed(make_product):
    watch = make_product(stock=1)
    at = datetime.now(timezone.utc)
    reference = enter({watch: 1}, at=at).reference
    assert reference not in telephone_orders.expire_unconfirmed(UnitOfWork(), at=at + timedelta(days=1))

    expired = telephone_orders.expire_unconfirmed(UnitOfWork(), at=at + telephone_orders.link_lifetime()
                                                  + timedelta(seconds=1))

    assert reference in expired
    assert order_row(reference).status == "cancelled" and stock_of(watch) == 1
    assert aware(order_row(reference).updated_at) > at


def test_staff_may_cancel_an_order_still_awaiting_the_client(make_product):
    watch = make_product(stock=1)
    reference = enter({watch: 1}).reference
    order_admin.cancel(UnitOfWork(), reference, "client_request", staff=staff_member(Role.CUSTOMER_SERVICE))
    assert order_row(reference).status == "cancelled" and stock_of(watch) == 1


# -- MOTO: the card taken on the phone, where the account allows it ----------------------------------------------

class RecordingClient(stripe.RequestsClient):
    """The Stripe SDK's own HTTP client, keeping what the shop sent: the sandbox ignores the MOTO flag, so the
    request itself is the proof that it was sent."""

    def __init__(self) -> None:
        super().__init__(timeout=30)
        self.sent: list[tuple[str, str, str]] = []

    def request(self, method, url, headers, post_data=None):
        body = post_data.decode() if isinstance(post_data, bytes) else (post_data or "")
        self.sent.append((method, urlsplit(url).path, unquote(body)))
        return super().request(method, url, headers, post_data)


@pytest.fixture
def recording_gateway(localstripe):
    client = RecordingClient()
    gw = StripeGateway(sandbox.SECRET_KEY, SANDBOX_WEBHOOK_SECRET, api_base=localstripe.url, sandbox=True,
                       http_client=client)
    return gw, client


@pytest.fixture
def moto_on(monkeypatch):
    monkeypatch.setattr(telephone_orders, "moto_enabled", lambda: True)


def pay_by_phone(reference: str, token: str, gw, staff, **overrides):
    fields = dict(terms_accepted=True, terms_version_id=terms_service.current(UnitOfWork()).id, staff=staff,
                  ip="2001:db8::32", gw=gw)
    fields.update(overrides)
    return telephone_orders.pay_by_phone(UnitOfWork(), reference, token, **fields)


def test_moto_is_off_by_default_and_nothing_moves(make_product, card_token, recording_gateway):
    from storefront.settings import Settings

    gw, client = recording_gateway
    assert Settings().stripe_moto is False and telephone_orders.moto_enabled() is False
    reference = enter({make_product(): 1}).reference
    with pytest.raises(TelephoneOrderRefused) as refused:
        pay_by_phone(reference, card_token(VISA_OK), gw, staff_member(Role.CUSTOMER_SERVICE))
    assert refused.value.code == ErrorCode.PHONE_ORDER_MOTO_OFF
    assert order_row(reference).status == "awaiting_client" and client.sent == []


@pytest.mark.clause("PAY-5")
def test_a_card_taken_by_phone_is_held_flagged_moto_with_the_acceptance_recorded_by_phone(
        make_product, card_token, recording_gateway, moto_on):
    gw, client = recording_gateway
    agent = staff_member(Role.CUSTOMER_SERVICE)
    entered = enter({make_product(): 1}, staff=agent)

    paid = pay_by_phone(entered.reference, card_token(VISA_OK), gw, agent)

    order = order_row(entered.reference)
    assert paid.status == "held"
    assert order.status == OrderStatus.AWAITING_APPROVAL.value and order.entered_by == agent.staff_id
    intents = [body for method, path, body in client.sent if method == "post" and path == "/v1/payment_intents"]
    assert len(intents) == 1 and "payment_method_options[card][moto]=true" in intents[0]
    assert "4242424242424242" not in " ".join(body for _m, _p, body in client.sent)  # only the token travelled
    [accepted] = [e for e in events_of(entered.reference) if e.type == "terms_accepted"]
    assert (accepted.actor, accepted.data["via"]) == (f"staff:{agent.staff_id}", "telephone")  # ids only
    # the staff member's name (the email when unnamed) stands on the order row, where an erasure reaches it
    assert order.accepted_user_agent == f"telephone ({agent.email})" and agent.email not in str(accepted.data)
    assert order.terms_version_id == terms_service.current(UnitOfWork()).id
    kinds = [e.kind for e in outbox_of(entered.reference)]
    assert "telephone_terms" in kinds  # the client still receives the terms by email
    [terms_email] = [e for e in outbox_of(entered.reference) if e.kind == "telephone_terms"]
    assert "accepted our terms and conditions" in terms_email.text_body
    assert terms_service.current(UnitOfWork()).body.split("\n")[0].lstrip("# ").strip() in terms_email.text_body
    assert [e.outcome for e in audit_entries("telephone_orders.moto", order.id)] == ["done"]


@pytest.mark.clause("PAY-3")
def test_a_card_refused_on_the_phone_falls_back_to_the_pay_link(make_product, card_token, recording_gateway,
                                                              moto_on):
    gw, _client = recording_gateway
    agent = staff_member(Role.CUSTOMER_SERVICE)
    entered = enter({make_product(): 1}, staff=agent)

    paid = pay_by_phone(entered.reference, card_token("4000000000000341"), gw, agent)

    assert (paid.status, paid.code) == ("fallback", ErrorCode.ISSUER_DECLINED)
    assert order_row(entered.reference).status == "pending_payment"  # concluded, not yet paid
    [pay_email] = [e for e in outbox_of(entered.reference) if e.kind == "telephone_pay_link"]
    url = re.search(r"https?://\S+phone_order=\S+", pay_email.text_body).group(0)
    query = parse_qs(urlsplit(url).query)
    client_browser = new_browser()
    shown = telephone_orders.open_for_client(UnitOfWork(), query["phone_order"][0], query["t"][0], client_browser)
    assert shown.status == "pending_payment"  # the checkout opens it at the payment step

    outcome = payment.authorize(UnitOfWork(), entered.reference, card_token(VISA_OK), gw=gw, browser=client_browser)

    assert outcome.status == "held"
    assert order_row(entered.reference).status == OrderStatus.AWAITING_APPROVAL.value
    assert [(e.outcome, e.detail) for e in audit_entries("telephone_orders.moto", order_row(entered.reference).id)] \
        == [("done", ""), ("failed", "fallback_to_pay_link:issuer_declined")]


def test_the_card_is_not_taken_before_the_client_accepted_the_terms_on_the_phone(make_product, card_token,
                                                                                recording_gateway, moto_on):
    gw, client = recording_gateway
    reference = enter({make_product(): 1}).reference
    for overrides, code in (({"terms_accepted": False}, ErrorCode.PHONE_ORDER_TERMS_NOT_READ),
                            ({"terms_version_id": 10**9}, ErrorCode.TERMS_CHANGED)):
        with pytest.raises(TelephoneOrderRefused) as refused:
            pay_by_phone(reference, card_token(VISA_OK), gw, staff_member(Role.CUSTOMER_SERVICE), **overrides)
        assert refused.value.code == code
    with pytest.raises(TelephoneOrderRefused) as raw_number:
        pay_by_phone(reference, VISA_OK, gw, staff_member(Role.CUSTOMER_SERVICE))  # a card number, not a token
    assert raw_number.value.code == ErrorCode.CARD_UNREADABLE
    with pytest.raises(TelephoneOrderRefused) as forbidden:
        pay_by_phone(reference, card_token(VISA_OK), gw, staff_member(Role.FINANCE))
    assert forbidden.value.code == ErrorCode.STAFF_FORBIDDEN
    assert order_row(reference).status == "awaiting_client"
    assert not [p for m, p, _b in client.sent if p == "/v1/payment_intents"]


def test_a_repeated_submission_of_the_same_form_enters_one_order(make_product):
    watch = make_product(stock=3)
    agent = staff_member(Role.CUSTOMER_SERVICE)
    form, key = client_form(), secrets.token_urlsafe(24)
    first = telephone_orders.enter(UnitOfWork(), form=form, lines={watch: 1}, personal_use=True, staff=agent,
                                   entry_key=key)
    again = telephone_orders.enter(UnitOfWork(), form=form, lines={watch: 1}, personal_use=True, staff=agent,
                                   entry_key=key)
    assert (again.reference, again.created, first.created) == (first.reference, False, True)
    assert stock_of(watch) == 2 and len(outbox_of(first.reference)) == 1


@pytest.mark.clause("PAY-7")
def test_a_possible_sdn_match_entered_by_phone_goes_to_compliance_review_once_paid(make_product, card_token,
                                                                                  stripe_gateway):
    entered = enter({make_product(): 1}, client_form(full_name="Arkady Beltramov", ship_name="Arkady Beltramov"))
    reference, token = link_of(entered.reference)
    browser = new_browser()
    assert order_row(reference).screening["verdict"] == "possible"
    telephone_orders.open_for_client(UnitOfWork(), reference, token, browser)
    confirm(reference, token, browser)

    outcome = payment.authorize(UnitOfWork(), reference, card_token(VISA_OK), gw=stripe_gateway, browser=browser)

    assert outcome.status == "held"
    assert order_row(reference).status == OrderStatus.COMPLIANCE_REVIEW.value
    assert [e.type for e in events_of(reference)].count("compliance_hold") == 1
