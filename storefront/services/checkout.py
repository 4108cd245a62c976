"""Checkout use cases: quote a cart for a destination, and conclude the contract (GTC-3.4 step 5).

`place_order` re-checks everything the earlier steps checked (terms version, personal use, age,
destination, names, limits, stock, prices) because the browser may skip or replay any step.
It is idempotent on the checkout key: a double click or a resent event returns the same order.
Every use case receives its unit of work; an order placed from the web is bound to the browser
that placed it, and only that browser may resume, pay or withdraw it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from storefront.adapters import clock
from storefront.adapters.tables import Order, OrderLine, Product, TermsVersion
from storefront.domain.catalogue import quantity_refusal
from storefront.domain.errors import ErrorCode, Refusal
from storefront.domain.majority import check_majority
from storefront.domain.markets import Country, display_locale, page_language
from storefront.domain.markets import country as market_country
from storefront.domain.money import Money
from storefront.domain.order_info import OrderInfo
from storefront.domain.order_status import OrderStatus
from storefront.domain.policy import policy
from storefront.domain.quote import Quote, QuoteLine, quote
from storefront.domain.screening import Verdict
from storefront.services import abuse_limits, cancellations, order_events, shipping_fees, stock
from storefront.services import terms as terms_service
from storefront.services.calendar import merchant_calendar
from storefront.services.markets import deliverable
from storefront.services.price_list import priced_products
from storefront.services.screening import address_refusal, destinations, screen_names
from storefront.services.unit_of_work import UnitOfWork

REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class CheckoutError(Exception):
    """A rule refuses the order; carries the error code, its message fields and the form field it concerns."""

    def __init__(self, code: ErrorCode, field: str = "", **params: object) -> None:
        self.refusal = Refusal(code, params, field)
        super().__init__(code.value)

    @property
    def code(self) -> ErrorCode:
        return self.refusal.code

    @property
    def field(self) -> str:
        return self.refusal.field

    @property
    def message(self) -> str:
        return self.refusal.message


@dataclass(frozen=True)
class PlacedOrder:
    reference: str
    status: str
    created: bool


def now_utc() -> datetime:
    return clock.now()


def new_reference() -> str:
    """VX- and 10 characters from a 32-letter alphabet: 50 bits of randomness, not guessable, easy to read out."""
    return "VX-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(10))


def quote_cart(session: Session, cart: dict[str, int], country: Country, at: datetime | None = None) -> Quote:
    """Re-price the cart from the price list for the delivery country; refuse what cannot be ordered."""
    if not cart:
        raise CheckoutError(ErrorCode.CART_EMPTY)
    priced = priced_products(session, list(cart), country.currency)
    lines = []
    for reference, quantity in cart.items():
        item = priced.get(reference)
        if item is None or item.price_minor is None:
            raise CheckoutError(ErrorCode.CART_CHANGED)
        product = item.product
        refusal = quantity_refusal(product.name, quantity, product.stock, product.max_per_order, product.active)
        if refusal:
            raise CheckoutError(refusal.code, **refusal.params)
        lines.append(QuoteLine(reference, product.name, quantity, Money(item.price_minor, country.currency)))
    return quote(lines, country, shipping_fees.table(session), merchant_calendar(), at or now_utc())


def quote_figures(q: Quote) -> str:
    """Every amount the shopper is shown for the order, as one string: lines (unit price x quantity),
    shipping, VAT and total. The confirmation names the figures its page showed (PlaceOrder.shown_quote);
    the order is placed only if the price list still gives the same ones (GTC-4.2)."""
    lines = ",".join(f"{l.reference}:{l.quantity}x{l.unit_price.minor}" for l in q.lines)
    return (f"{q.total.currency};{lines};ship={q.shipping.minor};vat={q.vat.amount.minor if q.vat else 0};"
            f"total={q.total.minor}")


def quote_for(uow: UnitOfWork, cart: dict[str, int], country: Country) -> Quote:
    with uow.reading() as session:
        return quote_cart(session, cart, country)


def check_buyer(info: OrderInfo, today=None) -> None:
    """Gates of step 2, run again at confirmation: destination, age, sanctions (strong matches only)."""
    # One read of the live list serves every check below: the whole countries barred (what `deliverable` reads)
    # are its rows without a region. It runs at every checkout step, so it is read once, not four times.
    listed = destinations()
    country = market_country(info.shipping.country)
    if country is None or country.code in {d.country for d in listed if d.region is None}:
        raise CheckoutError(ErrorCode.DESTINATION_NOT_DELIVERABLE, "ship_country")
    # The billing address is screened like the delivery address (PAY-7): country, region, postcode, town.
    for address, prefix, billing in ((info.shipping, "ship", False), (info.billing, "bill", True)):
        refusal = address_refusal(address, prefix=prefix, billing=billing, listed=listed)
        if refusal:
            raise CheckoutError(refusal.code, refusal.field, **refusal.params)
    minor = check_majority(info.birth_date, country, today or merchant_calendar().local(now_utc()).date())
    if minor:
        raise CheckoutError(ErrorCode.UNDER_AGE, "birth_date", message=minor)
    if screen_names([info.full_name, info.shipping.name, info.billing.name]).verdict is Verdict.MATCH:
        raise CheckoutError(ErrorCode.ORDER_DECLINED)


@dataclass(frozen=True)
class PlaceOrder:
    checkout_key: str
    cart: dict[str, int]
    info: OrderInfo
    terms_version_id: int
    details_confirmed: bool
    terms_accepted: bool
    personal_use: bool
    browser: str = ""  # fingerprint of the placing browser (services/browser.py); empty for staff channels
    ip: str = ""
    user_agent: str = ""
    channel: str = "web"
    # The figures the confirming page showed (quote_figures). If the price list or a shipping fee changed
    # since, the order is refused with PRICE_CHANGED and the page shows the new figures: no client confirms
    # an amount they were not shown. None only for callers that show no figures before placing.
    shown_quote: str | None = None


def _existing(session: Session, checkout_key: str) -> PlacedOrder | None:
    order = session.exec(select(Order).where(Order.checkout_key == checkout_key)).first()
    return PlacedOrder(order.reference, order.status, False) if order else None


def _check_steps(uow: UnitOfWork, cmd: PlaceOrder, at: datetime) -> TermsVersion:
    if not isinstance(cmd.checkout_key, str) or not 16 <= len(cmd.checkout_key) <= 64:
        raise CheckoutError(ErrorCode.CHECKOUT_EXPIRED)
    if cmd.channel == "web" and not cmd.browser:
        raise CheckoutError(ErrorCode.COOKIES_REQUIRED)
    if not cmd.details_confirmed:
        raise CheckoutError(ErrorCode.DETAILS_NOT_CONFIRMED)
    if not cmd.terms_accepted:
        raise CheckoutError(ErrorCode.TERMS_NOT_ACCEPTED)
    if not cmd.personal_use:
        raise CheckoutError(ErrorCode.PERSONAL_USE_NOT_DECLARED)
    current = terms_service.current(uow, at)
    if current is None or current.id != cmd.terms_version_id:
        raise CheckoutError(ErrorCode.TERMS_CHANGED)
    return current


def place_order(cmd: PlaceOrder, uow: UnitOfWork, at: datetime | None = None) -> PlacedOrder:
    """Conclude the contract: reserve the stock and record the order, its lines and what the client accepted.

    The abuse limits are checked before anything is written, so a refused client leaves no trace
    but the rate counter.
    """
    at = at or now_utc()
    with uow.reading() as session:
        found = _existing(session, cmd.checkout_key) if isinstance(cmd.checkout_key, str) else None
    if found:
        return found
    current = _check_steps(uow, cmd, at)
    check_buyer(cmd.info, merchant_calendar().local(at).date())
    country = deliverable(cmd.info.shipping.country)
    screening = screen_names([cmd.info.full_name, cmd.info.shipping.name, cmd.info.billing.name])
    with uow.reading() as session:
        crowded = abuse_limits.open_orders_refusal(session, cmd.browser, cmd.info.email, cmd.ip)
    if crowded:
        raise CheckoutError(crowded)
    if not abuse_limits.confirmation_allowed(cmd.ip):
        raise CheckoutError(ErrorCode.TOO_MANY_CONFIRMATIONS)
    try:
        with uow:
            order = _record(uow.session, cmd, country, current, screening, at)
            uow.commit()
            return PlacedOrder(order.reference, order.status, True)
    except (IntegrityError, CheckoutError):
        # A concurrent replay of the same checkout lost the race: for the last piece in stock it sees
        # "sold out" (or the unique checkout key), yet its order exists. Return that order.
        with uow.reading() as session:
            found = _existing(session, cmd.checkout_key)
        if found:
            return found
        raise


def _record(s: Session, cmd: PlaceOrder, country: Country, terms: TermsVersion | None, screening, at: datetime,
            *, entered_by: int | None = None, deadline: datetime | None = None) -> Order:
    """Reserve the stock and write the order. Without `terms` it is an order staff entered by telephone
    (`entered_by`): it awaits the client, who checks it and accepts the terms through the emailed link
    (services/telephone_orders.py), and it lapses at `deadline`."""
    q = quote_cart(s, cmd.cart, country, at)
    if cmd.shown_quote is not None and cmd.shown_quote != quote_figures(q):
        raise CheckoutError(ErrorCode.PRICE_CHANGED)
    products = {ref: item.product for ref, item in priced_products(s, list(cmd.cart), country.currency).items()}
    for line in q.lines:
        reserved = s.exec(
            update(Product)
            .where(Product.id == products[line.reference].id, Product.active == True,  # noqa: E712
                   Product.stock >= line.quantity)
            .values(stock=Product.stock - line.quantity, updated_at=at)
        ).rowcount
        if reserved != 1:
            raise CheckoutError(ErrorCode.SOLD_OUT_NOW, name=line.name)
    reference = new_reference()
    ip, agent = cmd.ip[:64], cmd.user_agent[:400]
    order = Order(
        reference=reference, access_token="", checkout_key=cmd.checkout_key,
        browser_hash=cmd.browser or None,
        status=(OrderStatus.PENDING_PAYMENT if terms else OrderStatus.AWAITING_CLIENT).value, channel=cmd.channel,
        country=country.code, entered_by=entered_by,
        currency=country.currency, locale=display_locale(page_language(), country.code), email=cmd.info.email,
        phone=cmd.info.phone, full_name=cmd.info.full_name, birth_date=cmd.info.birth_date,
        shipping_address=vars(cmd.info.shipping), billing_address=vars(cmd.info.billing),
        subtotal_minor=q.subtotal.minor, shipping_minor=q.shipping.minor,
        vat_rate=str(q.vat.rate) if q.vat else None, vat_minor=q.vat.amount.minor if q.vat else 0,
        total_minor=q.total.minor, ship_by=q.ship_by, terms_version_id=terms.id if terms else None,
        terms_content_hash=terms.content_hash if terms else "", terms_accepted_at=at if terms else None,
        accepted_ip=ip, accepted_user_agent=agent, personal_use_declared=True,
        screening={"verdict": screening.verdict.value, "score": round(screening.score, 1),
                   "entry": screening.entry.uid if screening.entry else None,
                   "matched_name": screening.matched_name},
        payment_deadline=deadline or at + timedelta(minutes=policy().payment_retry_minutes),
        placed_at=at, updated_at=at,
    )
    s.add(order)
    s.flush()
    for line in q.lines:
        s.add(OrderLine(order_id=order.id, product_id=products[line.reference].id, reference=line.reference,
                        name=line.name, quantity=line.quantity, unit_price_minor=line.unit_price.minor))
        stock.record_change(s, products[line.reference].id, -line.quantity, stock.ORDER_PLACED, at=at,
                            order_id=order.id)
    s.add(order_events.order_placed(order.id, at, total_minor=q.total.minor, currency=q.total.currency,
                                    channel=cmd.channel, entered_by=entered_by))
    if terms is not None:
        s.add(order_events.terms_accepted(order.id, at, version=terms.version, version_id=terms.id,
                                          content_hash=terms.content_hash))
    if screening.verdict is Verdict.POSSIBLE:
        s.add(order_events.compliance_hold(order.id, at, dict(order.screening)))
    return order


@dataclass(frozen=True)
class OpenOrder:
    """An order of this browser that the checkout should show instead of an empty cart."""

    reference: str
    status: str
    total: str  # formatted for the page
    items: dict[str, int]


def browser_order(uow: UnitOfWork, browser: str, reference: str = "") -> OpenOrder | None:
    """The order `reference` if this browser placed it, else the browser's latest order awaiting payment."""
    if not browser:
        return None
    with uow.reading() as s:
        query = select(Order).where(Order.browser_hash == browser)
        if reference:
            query = query.where(Order.reference == reference)
        else:
            query = query.where(Order.status == OrderStatus.PENDING_PAYMENT)
        order = s.exec(query.order_by(Order.placed_at.desc(), Order.id.desc())).first()
        if order is None:
            return None
        lines = s.exec(select(OrderLine).where(OrderLine.order_id == order.id)).all()
        total = Money(order.total_minor, order.currency).format(order.locale)
        return OpenOrder(order.reference, order.status, total, {line.reference: line.quantity for line in lines})


def cancel_by_client(uow: UnitOfWork, reference: str, browser: str, at: datetime | None = None) -> bool:
    """The shopper withdraws an order they have not paid for yet; only the browser that placed it may."""
    at = at or now_utc()
    if not browser or not isinstance(reference, str):
        return False
    with uow:
        order = uow.session.exec(select(Order).where(Order.reference == reference,
                                                     Order.browser_hash == browser)).first()
        if order is None or not cancellations.cancel_unpaid(uow.session, order.id, at, "withdrawn_by_client",
                                                            actor=order_events.CLIENT, notify=False):
            return False
        uow.commit()
        return True
