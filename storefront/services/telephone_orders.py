"""Orders taken by telephone (PAY-2): staff enter the order, the client checks, accepts, confirms and pays.

Staff of client relations (`telephone_orders.create`) enter the watches and the client's details as the
client gives them on the phone. Everything the shop checks is checked here by the same code: catalogue,
per-order limits and stock (checkout.quote_cart and the same conditional stock update), prices, shipping and
VAT of the delivery country, the order information (domain/order_info.py), age, personal use (declared by
the client on the phone and recorded so) and sanctions screening (checkout.check_buyer, screen_names).
Every free-text field refuses a card number (domain/card_numbers.py): card details never pass through the shop.

The order is written with status `awaiting_client`, channel "telephone" and `entered_by` (the staff
member), its stock reserved as a web order's is. It is not a contract yet: the client receives an email with
a purpose-bound signed link (`telephone_order`, rules/links.toml) that opens the checkout at the check of
details. The client walks GTC-3.4 steps 3 to 6 in the shop's own checkout: checks the details, accepts the
terms version in force at that moment, confirms (the contract is concluded, status `pending_payment`, the
payment window starts) and pays in the provider's form. Prices are those entered (GTC-4.2). If the link
lapses first, the order is cancelled and its stock released (`expire_unconfirmed`, a background job).

Binding: the order has no browser until the client opens the link. Opening the link binds the order to
that browser (services/browser.py), and opening it again elsewhere moves the binding while the order still
awaits the client: the link itself is the credential until confirmation. From confirmation on the order
belongs to the browser that confirmed it, exactly as a web order belongs to the browser that placed it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import update
from sqlmodel import Session, select

from storefront.adapters.email_render import render_order_notice
from storefront.adapters.tables import Order, Product
from storefront.domain import card_numbers, order_info
from storefront.domain.errors import ErrorCode, Refusal
from storefront.domain.order_status import OrderStatus
from storefront.domain.policy import policy
from storefront.domain.screening import Verdict
from storefront.domain.staff import allowed
from storefront.services import audit, cancellations, checkout, links, order_events, outbox
from storefront.services import terms as terms_service
from storefront.services.calendar import merchant_calendar
from storefront.services.documents import order_document
from storefront.services.markets import deliverable
from storefront.services.order_view import LineRow, TotalsView
from storefront.services.screening import screen_names
from storefront.services.staff import StaffIdentity
from storefront.services.unit_of_work import UnitOfWork

CHANNEL = "telephone"
PERMISSION = "telephone_orders.create"
ACTION = "telephone_orders.create"
MAX_LINES = 10
# The fields of the order information form (the web checkout's names), each free text from staff.
TEXT_FIELDS = ("email", "phone", "full_name", "birth_date",
               *(f"{p}_{f}" for p in ("ship", "bill") for f in order_info.ADDRESS_FIELDS))
EXPIRED_REASON = "not_confirmed_by_client"


class TelephoneOrderRefused(Exception):
    """The order was not entered: the refusal (code, field) and a message per form field."""

    def __init__(self, code: ErrorCode, field: str = "", fields: dict[str, str] | None = None,
                 **params: object) -> None:
        self.refusal = Refusal(code, params, field)
        self.fields = dict(fields or {})
        if field and field not in self.fields:
            self.fields[field] = self.refusal.message
        super().__init__(code.value)

    @property
    def code(self) -> ErrorCode:
        return self.refusal.code


@dataclass(frozen=True)
class EnteredOrder:
    reference: str
    total: str  # formatted for the page
    email: str


def _now(at: datetime | None) -> datetime:
    return at or datetime.now(timezone.utc)


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=timezone.utc) if moment is not None and moment.tzinfo is None else moment


def link_lifetime() -> timedelta:
    return links.lifetimes()[links.Purpose.TELEPHONE_ORDER.value]


def _lines(raw: object) -> dict[str, int]:
    """{product reference: quantity} from untrusted input; quantities are whole numbers of at least 1."""
    if not isinstance(raw, dict) or not raw or len(raw) > MAX_LINES:
        raise TelephoneOrderRefused(ErrorCode.PHONE_ORDER_NO_LINES, "lines")
    cart: dict[str, int] = {}
    for reference, quantity in raw.items():
        if not isinstance(reference, str) or not reference or len(reference) > 40 \
                or type(quantity) is not int or not 1 <= quantity <= 1000:
            raise TelephoneOrderRefused(ErrorCode.INVALID_QUANTITY, "lines")
        cart[reference] = quantity
    return cart


def _form(raw: object) -> dict:
    form = raw if isinstance(raw, dict) else {}
    clean = {name: form.get(name) if isinstance(form.get(name), str) else "" for name in TEXT_FIELDS}
    clean["billing_same"] = form.get("billing_same", True) is not False
    return clean


def enter(uow: UnitOfWork, *, form: object, lines: object, personal_use: object, staff: StaffIdentity,
          ip: str = "", at: datetime | None = None) -> EnteredOrder:
    """Record the order a client gives on the phone and email them the link to confirm and pay it.

    Refused (TelephoneOrderRefused, nothing written but the audit of a forbidden attempt) when the role may
    not, a field is wrong or holds a card number, a watch cannot be ordered, or a shop rule refuses the buyer.
    """
    at = _now(at)
    if not allowed(staff.role, PERMISSION):
        audit.record_now(uow, staff=staff, action=ACTION, outcome="refused", ip=ip, detail="forbidden", at=at)
        raise TelephoneOrderRefused(ErrorCode.STAFF_FORBIDDEN)
    values = _form(form)
    hidden = card_numbers.field_errors({name: values[name] for name in TEXT_FIELDS})
    if hidden:  # card details never enter the shop through free text (PAY-2)
        raise TelephoneOrderRefused(ErrorCode.CARD_NUMBER_IN_TEXT, next(iter(hidden)), hidden)
    info, errors = order_info.validate(values)
    if info is None:
        raise TelephoneOrderRefused(ErrorCode.FIELDS_INVALID, "", errors)
    if personal_use is not True:
        raise TelephoneOrderRefused(ErrorCode.PHONE_ORDER_PERSONAL_USE, "personal_use")
    cart = _lines(lines)
    try:
        checkout.check_buyer(info, merchant_calendar().local(at).date())
    except checkout.CheckoutError as exc:
        raise TelephoneOrderRefused(exc.code, exc.field, **exc.refusal.params) from None
    if terms_service.current(uow, at) is None:
        raise TelephoneOrderRefused(ErrorCode.TERMS_UNAVAILABLE)
    country = deliverable(info.shipping.country)
    screening = screen_names([info.full_name, info.shipping.name, info.billing.name])
    cmd = checkout.PlaceOrder(checkout_key=f"tel-{secrets.token_urlsafe(24)}", cart=cart, info=info,
                              terms_version_id=0, details_confirmed=False, terms_accepted=False, personal_use=True,
                              channel=CHANNEL)
    try:
        with uow:
            s = uow.session
            order = checkout._record(s, cmd, country, None, screening, at, entered_by=staff.staff_id,
                                     deadline=at + link_lifetime())
            _email_link(s, order, at)
            audit.record(s, staff=staff, action=ACTION, outcome="done", order_id=order.id,
                         subject=f"order:{order.reference}",
                         after={"status": order.status, "channel": CHANNEL, "total_minor": order.total_minor,
                                "currency": order.currency}, ip=ip, at=at)
            total = order_document(s, order).total
            uow.commit()
            return EnteredOrder(order.reference, total, order.email)
    except checkout.CheckoutError as exc:  # a watch sold out meanwhile: nothing was written
        raise TelephoneOrderRefused(exc.code, "lines", **exc.refusal.params) from None


def _email_link(s: Session, order: Order, at: datetime) -> None:
    url = links.telephone_order_url(order.reference, at)
    days = link_lifetime().days
    paragraphs = (
        "Thank you for your call. As agreed on the phone, we have prepared the order below for you. "
        "It is not concluded yet: nothing is owed and no card details are taken by telephone.",
        f"Please open this link within {days} days to check your details, read and accept our terms and "
        f"conditions, confirm the order and authorise the payment in our payment provider's secure form: {url}",
        "The watches are reserved for you until then, at the prices shown. If the order is not confirmed in "
        "time, it lapses and the watches are released.",
    )
    notice = render_order_notice(order_document(s, order), f"Your order {order.reference}: please check and confirm",
                                 paragraphs)
    outbox.enqueue(s, f"telephone-order:{order.id}", "telephone_order", order.email, notice, order_id=order.id,
                   at=at)
    s.add(order_events.email_queued(order.id, at, "telephone_order"))


# -- the client, through the emailed link ------------------------------------------------------------------------

@dataclass(frozen=True)
class ClientOrder:
    """What the checkout shows of an order taken by telephone."""

    reference: str
    status: str
    country: str
    form: dict[str, str]
    billing_same: bool
    totals: TotalsView


def _link_refusal(reference: object, token: object, at: datetime) -> ErrorCode | None:
    if not isinstance(reference, str) or not isinstance(token, str) or not reference or not token \
            or len(reference) > 32 or len(token) > 200:
        return ErrorCode.PHONE_ORDER_LINK_INVALID
    verdict = links.check(reference, token, links.Purpose.TELEPHONE_ORDER, at)
    if verdict is links.LinkCheck.EXPIRED:
        return ErrorCode.PHONE_ORDER_LINK_EXPIRED
    return None if verdict is links.LinkCheck.VALID else ErrorCode.PHONE_ORDER_LINK_INVALID


def _client_view(s: Session, order: Order) -> ClientOrder:
    doc = order_document(s, order)
    ship, bill = order.shipping_address or {}, order.billing_address or {}
    form = {"email": order.email, "phone": order.phone, "full_name": order.full_name,
            "birth_date": order.birth_date.isoformat()}
    form.update({f"ship_{f}": str(ship.get(f, "")) for f in order_info.ADDRESS_FIELDS})
    form.update({f"bill_{f}": str(bill.get(f, "")) for f in order_info.ADDRESS_FIELDS})
    totals = TotalsView(
        lines=[LineRow(l.name, l.reference, l.quantity, l.unit_price, l.line_total) for l in doc.lines],
        subtotal=doc.subtotal, shipping=doc.shipping, vat_label=doc.vat_label or "", vat_amount=doc.vat_amount or "",
        duties_notice=doc.duties_notice or "", total=doc.total, ship_by=doc.ship_by, currency=doc.currency)
    return ClientOrder(order.reference, order.status, order.country, form, ship == bill, totals)


def open_for_client(uow: UnitOfWork, reference: object, token: object, browser: str,
                    at: datetime | None = None) -> ClientOrder | Refusal:
    """The order behind a `telephone_order` link, bound to this browser while it awaits the client.

    After the client confirmed, only the browser that confirmed sees it (to pay); any other is told the
    order no longer awaits confirmation.
    """
    at = _now(at)
    code = _link_refusal(reference, token, at)
    if code is not None:
        return Refusal(code)
    if not browser:
        return Refusal(ErrorCode.COOKIES_REQUIRED)
    with uow:
        s = uow.session
        order = s.exec(select(Order).where(Order.reference == reference, Order.channel == CHANNEL)).first()
        if order is None:
            return Refusal(ErrorCode.PHONE_ORDER_LINK_INVALID)
        if order.status == OrderStatus.AWAITING_CLIENT:
            if _aware(order.payment_deadline) and at > _aware(order.payment_deadline):
                cancellations.cancel_unpaid(s, order.id, at, EXPIRED_REASON)
                uow.commit()
                return Refusal(ErrorCode.PHONE_ORDER_LINK_EXPIRED)
            if order.browser_hash != browser:
                s.exec(update(Order).where(Order.id == order.id, Order.status == OrderStatus.AWAITING_CLIENT)
                       .values(browser_hash=browser))
                uow.commit()
                s.refresh(order)
        elif order.browser_hash != browser:
            return Refusal(ErrorCode.PHONE_ORDER_NOT_AWAITING_CLIENT)
        return _client_view(s, order)


@dataclass(frozen=True)
class ClientConfirmation:
    reference: str
    token: str
    browser: str
    terms_version_id: int
    details_confirmed: bool
    terms_accepted: bool
    personal_use: bool
    ip: str = ""
    user_agent: str = ""


def confirm_by_client(uow: UnitOfWork, cmd: ClientConfirmation, at: datetime | None = None) -> checkout.PlacedOrder:
    """GTC-3.4 step 5 for an order taken by telephone: the client concludes the contract.

    The same gates as a web order's confirmation: details confirmed, the terms in force accepted, personal use
    declared, destination, age and sanctions checked again (they may have changed since the call). Prices stay
    those entered (GTC-4.2). Idempotent: a repeated confirmation returns the order as it stands.
    """
    at = _now(at)
    code = _link_refusal(cmd.reference, cmd.token, at)
    if code is not None:
        raise checkout.CheckoutError(code)
    if not cmd.browser:
        raise checkout.CheckoutError(ErrorCode.COOKIES_REQUIRED)
    if not cmd.details_confirmed:
        raise checkout.CheckoutError(ErrorCode.DETAILS_NOT_CONFIRMED)
    if not cmd.terms_accepted:
        raise checkout.CheckoutError(ErrorCode.TERMS_NOT_ACCEPTED)
    if not cmd.personal_use:
        raise checkout.CheckoutError(ErrorCode.PERSONAL_USE_NOT_DECLARED)
    current = terms_service.current(uow, at)
    if current is None or current.id != cmd.terms_version_id:
        raise checkout.CheckoutError(ErrorCode.TERMS_CHANGED)
    with uow:
        s = uow.session
        order = s.exec(select(Order).where(Order.reference == cmd.reference, Order.channel == CHANNEL,
                                           Order.browser_hash == cmd.browser)).first()
        if order is None:
            raise checkout.CheckoutError(ErrorCode.PHONE_ORDER_LINK_INVALID)
        if order.status != OrderStatus.AWAITING_CLIENT:
            if order.status == OrderStatus.CANCELLED:
                raise checkout.CheckoutError(ErrorCode.PHONE_ORDER_NOT_AWAITING_CLIENT)
            return checkout.PlacedOrder(order.reference, order.status, False)
        if _aware(order.payment_deadline) and at > _aware(order.payment_deadline):
            cancellations.cancel_unpaid(s, order.id, at, EXPIRED_REASON)
            uow.commit()
            raise checkout.CheckoutError(ErrorCode.PHONE_ORDER_LINK_EXPIRED)
        info = _info_of(order)
    checkout.check_buyer(info, merchant_calendar().local(at).date())
    screening = screen_names([info.full_name, info.shipping.name, info.billing.name])
    ip, agent = cmd.ip[:64], cmd.user_agent[:400]
    with uow:
        s = uow.session
        order = s.exec(select(Order).where(Order.reference == cmd.reference)).first()
        record = dict(order.screening or {})
        if record.get("verdict") != Verdict.POSSIBLE.value or screening.verdict is not Verdict.CLEAR:
            record = {"verdict": screening.verdict.value, "score": round(screening.score, 1),
                      "entry": screening.entry.uid if screening.entry else None,
                      "matched_name": screening.matched_name}
        moved = s.exec(update(Order).where(Order.id == order.id, Order.status == OrderStatus.AWAITING_CLIENT,
                                           Order.browser_hash == cmd.browser)
                       .values(status=OrderStatus.PENDING_PAYMENT.value, terms_version_id=current.id,
                               terms_content_hash=current.content_hash, terms_accepted_at=at, accepted_ip=ip,
                               accepted_user_agent=agent, personal_use_declared=True, screening=record,
                               payment_deadline=at + timedelta(minutes=policy().payment_retry_minutes),
                               updated_at=at)).rowcount
        if moved != 1:  # confirmed (or cancelled) meanwhile by another request
            s.refresh(order)
            if order.status == OrderStatus.CANCELLED:
                raise checkout.CheckoutError(ErrorCode.PHONE_ORDER_NOT_AWAITING_CLIENT)
            return checkout.PlacedOrder(order.reference, order.status, False)
        s.add(order_events.confirmed_by_client(order.id, at, channel=CHANNEL))
        s.add(order_events.terms_accepted(order.id, at, version=current.version, version_id=current.id,
                                          content_hash=current.content_hash, ip=ip, user_agent=agent))
        if record.get("verdict") == Verdict.POSSIBLE.value:
            s.add(order_events.compliance_hold(order.id, at, dict(record)))
        uow.commit()
        return checkout.PlacedOrder(order.reference, OrderStatus.PENDING_PAYMENT.value, True)


def _info_of(order: Order) -> order_info.OrderInfo:
    return order_info.OrderInfo(order.email, order.phone, order.full_name, order.birth_date,
                                order_info.Address(**order.shipping_address),
                                order_info.Address(**order.billing_address))


def expire_unconfirmed(uow: UnitOfWork, at: datetime | None = None) -> list[str]:
    """Telephone orders whose link lapsed unconfirmed: cancelled, stock released, the client told."""
    at = _now(at)
    with uow.reading() as s:
        due = s.exec(select(Order.id, Order.reference).where(Order.status == OrderStatus.AWAITING_CLIENT,
                                                             Order.payment_deadline < at)).all()
    expired = []
    for order_id, reference in due:
        with uow:
            if cancellations.cancel_unpaid(uow.session, order_id, at, EXPIRED_REASON):
                uow.commit()
                expired.append(reference)
    return expired


@dataclass(frozen=True)
class WatchChoice:
    reference: str
    label: str  # name, reference, stock and the per-order limit, for staff reading them out


def watch_choices(uow: UnitOfWork) -> list[WatchChoice]:
    """The watches the shop lists now (active), as staff choose among them; stock and limits checked at entry."""
    with uow.reading() as s:
        products = s.exec(select(Product).where(Product.active == True).order_by(Product.name)).all()  # noqa: E712
    return [WatchChoice(p.reference, f"{p.name} · {p.reference} · {p.stock} in stock · at most {p.max_per_order}")
            for p in products]
