"""Checkout use cases: quote a cart for a destination, and conclude the contract (GTC-3.4 step 5).

`place_order` re-checks everything the earlier steps checked (terms version, personal use, age,
destination, names, limits, stock, prices) because the browser may skip or replay any step.
It is idempotent on the checkout key: a double click or a resent event returns the same order.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from storefront.adapters.db import get_engine
from storefront.adapters.tables import Order, OrderEvent, OrderLine, Product, ProductPrice, TermsVersion
from storefront.domain.catalogue import quantity_refusal
from storefront.domain.majority import check_majority
from storefront.domain.markets import Country, display_locale, page_language
from storefront.domain.money import Money
from storefront.domain.order_info import OrderInfo
from storefront.domain.order_status import OrderEvent as EventType
from storefront.domain.order_status import OrderStatus
from storefront.domain.policy import policy
from storefront.domain.quote import Quote, QuoteLine, quote
from storefront.domain.screening import Verdict
from storefront.domain.shipping import default_table
from storefront.services import links
from storefront.services import terms as terms_service
from storefront.services.calendar import merchant_calendar
from storefront.services.markets import deliverable
from storefront.services.screening import refuse_destination, screen_names
from storefront.services.unit_of_work import UnitOfWork

NEUTRAL_DECLINE = "We are unable to accept this order. Please contact our client service for assistance."
REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class CheckoutError(Exception):
    """A rule refuses the order; `field` names the form field the message belongs to, if any."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class PlacedOrder:
    reference: str
    access_token: str
    status: str
    created: bool


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def new_reference() -> str:
    """VX- and 10 characters from a 32-letter alphabet: 50 bits of randomness, not guessable, easy to read out."""
    return "VX-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(10))


def valid_status_token(reference: str, token: str) -> bool:
    """Whether `token` is the one handed to the browser that placed the order (`PlacedOrder.access_token`):
    a pay link, so it lets that browser back to the payment step only until the payment window closes."""
    return links.valid(reference, token, links.Purpose.PAY)


def quote_cart(cart: dict[str, int], country: Country, at: datetime | None = None, session: Session | None = None) -> Quote:
    """Re-price the cart from the price list for the delivery country; refuse what cannot be ordered."""
    if not cart:
        raise CheckoutError("Your cart is empty.")
    own = session is None
    session = session or Session(get_engine())
    try:
        products = {p.reference: p for p in session.exec(select(Product).where(Product.reference.in_(list(cart)))).all()}
        prices = {
            pp.product_id: pp.amount_minor
            for pp in session.exec(select(ProductPrice).where(
                ProductPrice.currency == country.currency,
                ProductPrice.product_id.in_([p.id for p in products.values()]))).all()
        }
    finally:
        if own:
            session.close()
    lines = []
    for reference, quantity in cart.items():
        product = products.get(reference)
        if product is None or product.id not in prices:
            raise CheckoutError("A watch in your cart is no longer offered. Please review your cart.")
        refusal = quantity_refusal(product.name, quantity, product.stock, product.max_per_order, product.active)
        if refusal:
            raise CheckoutError(refusal)
        lines.append(QuoteLine(reference, product.name, quantity, Money(prices[product.id], country.currency)))
    return quote(lines, country, default_table(), merchant_calendar(), at or now_utc())


def check_buyer(info: OrderInfo, today=None) -> None:
    """Gates of step 2, run again at confirmation: destination, age, sanctions (strong matches only)."""
    country = deliverable(info.shipping.country)
    if country is None:
        raise CheckoutError("We cannot deliver to this country.", "ship_country")
    refusal = refuse_destination(info.shipping.country, info.shipping.area, info.shipping.postal_code)
    if refusal:
        raise CheckoutError(refusal, "ship_postal_code")
    minor = check_majority(info.birth_date, country, today or merchant_calendar().local(now_utc()).date())
    if minor:
        raise CheckoutError(minor, "birth_date")
    if screen_names([info.full_name, info.shipping.name, info.billing.name]).verdict is Verdict.MATCH:
        raise CheckoutError(NEUTRAL_DECLINE)


@dataclass(frozen=True)
class PlaceOrder:
    checkout_key: str
    cart: dict[str, int]
    info: OrderInfo
    terms_version_id: int
    details_confirmed: bool
    terms_accepted: bool
    personal_use: bool
    ip: str = ""
    user_agent: str = ""
    channel: str = "web"


def _existing(session: Session, checkout_key: str) -> PlacedOrder | None:
    order = session.exec(select(Order).where(Order.checkout_key == checkout_key)).first()
    return PlacedOrder(order.reference, order.access_token, order.status, False) if order else None


def _placed_already(checkout_key: str) -> PlacedOrder | None:
    with Session(get_engine()) as session:
        return _existing(session, checkout_key)


def place_order(cmd: PlaceOrder, at: datetime | None = None) -> PlacedOrder:
    at = at or now_utc()
    if not isinstance(cmd.checkout_key, str) or not 16 <= len(cmd.checkout_key) <= 64:
        raise CheckoutError("Your checkout session has expired. Please start again.")
    found = _placed_already(cmd.checkout_key)
    if found:
        return found
    if not cmd.details_confirmed:
        raise CheckoutError("Please confirm that your details are accurate.")
    if not cmd.terms_accepted:
        raise CheckoutError("Please read and accept the terms and conditions of the site.")
    if not cmd.personal_use:
        raise CheckoutError("Please declare that the purchase is for your own or a relative's personal use.")
    current = terms_service.current(at)
    if current is None or current.id != cmd.terms_version_id:
        raise CheckoutError("Our terms have been updated. Please read and accept the current version.")
    check_buyer(cmd.info, merchant_calendar().local(at).date())
    country = deliverable(cmd.info.shipping.country)
    screening = screen_names([cmd.info.full_name, cmd.info.shipping.name, cmd.info.billing.name])

    try:
        with UnitOfWork() as uow:
            s = uow.session
            q = quote_cart(cmd.cart, country, at, session=s)
            products = {p.reference: p for p in s.exec(select(Product).where(Product.reference.in_(list(cmd.cart)))).all()}
            for line in q.lines:
                reserved = s.exec(
                    update(Product)
                    .where(Product.id == products[line.reference].id, Product.active == True,  # noqa: E712
                           Product.stock >= line.quantity)
                    .values(stock=Product.stock - line.quantity, updated_at=at)
                ).rowcount
                if reserved != 1:
                    raise CheckoutError(f"Sorry, {line.name} has just sold out. Please review your cart.")
            reference = new_reference()
            order = Order(
                reference=reference, access_token=links.issue(reference, links.Purpose.PAY, at), checkout_key=cmd.checkout_key,
                status=OrderStatus.PENDING_PAYMENT.value, channel=cmd.channel, country=country.code,
                currency=country.currency, locale=display_locale(page_language(), country.code), email=cmd.info.email, phone=cmd.info.phone,
                full_name=cmd.info.full_name, birth_date=cmd.info.birth_date,
                shipping_address=vars(cmd.info.shipping), billing_address=vars(cmd.info.billing),
                subtotal_minor=q.subtotal.minor, shipping_minor=q.shipping.minor,
                vat_rate=str(q.vat.rate) if q.vat else None, vat_minor=q.vat.amount.minor if q.vat else 0,
                total_minor=q.total.minor, ship_by=q.ship_by, terms_version_id=current.id,
                terms_content_hash=current.content_hash, terms_accepted_at=at, accepted_ip=cmd.ip[:64],
                accepted_user_agent=cmd.user_agent[:400], personal_use_declared=True,
                screening={"verdict": screening.verdict.value, "score": round(screening.score, 1),
                           "entry": screening.entry.uid if screening.entry else None,
                           "matched_name": screening.matched_name},
                payment_deadline=at + timedelta(minutes=policy().payment_retry_minutes),
                placed_at=at, updated_at=at,
            )
            s.add(order)
            s.flush()
            for line in q.lines:
                s.add(OrderLine(order_id=order.id, product_id=products[line.reference].id, reference=line.reference,
                                name=line.name, quantity=line.quantity, unit_price_minor=line.unit_price.minor))
            s.add(OrderEvent(order_id=order.id, type=EventType.ORDER_PLACED.value, at=at, actor="client",
                             data={"total_minor": q.total.minor, "currency": q.total.currency, "channel": cmd.channel}))
            s.add(OrderEvent(order_id=order.id, type=EventType.TERMS_ACCEPTED.value, at=at, actor="client",
                             data={"terms_version": current.version, "terms_version_id": current.id,
                                   "content_hash": current.content_hash, "ip": cmd.ip[:64],
                                   "user_agent": cmd.user_agent[:400]}))
            if screening.verdict is Verdict.POSSIBLE:
                s.add(OrderEvent(order_id=order.id, type=EventType.COMPLIANCE_HOLD.value, at=at,
                                 data=dict(order.screening)))
            uow.commit()
            return PlacedOrder(reference, order.access_token, order.status, True)
    except (IntegrityError, CheckoutError):
        # A concurrent replay of the same checkout lost the race: for the last piece in stock it sees
        # "sold out" (or the unique checkout key), yet its order exists. Return that order.
        found = _placed_already(cmd.checkout_key)
        if found:
            return found
        raise


def terms_version_row(version_id: int) -> TermsVersion | None:
    with Session(get_engine()) as session:
        return session.get(TermsVersion, version_id)


def awaiting_payment(reference: str) -> bool:
    """Whether the checkout may resume at the payment step for this order (not yet held, not cancelled)."""
    with Session(get_engine()) as session:
        order = session.exec(select(Order).where(Order.reference == reference)).first()
        return order is not None and order.status == OrderStatus.PENDING_PAYMENT
