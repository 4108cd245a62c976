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
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from storefront.adapters import clock
from storefront.adapters.email_render import render_order_notice
from storefront import routes
from storefront.adapters.stripe_gateway import StripeGateway
from storefront.adapters.tables import Order, Product, StaffUser, TermsVersion
from storefront.domain import card_numbers, order_info
from storefront.domain.errors import ErrorCode, Refusal
from storefront.domain.order_status import OrderStatus
from storefront.domain.policy import policy
from storefront.domain.screening import Verdict
from storefront.domain.staff import allowed
from storefront.services import audit, cancellations, checkout, links, order_events, outbox, payment
from storefront.services import terms as terms_service
from storefront.services.calendar import merchant_calendar
from storefront.services.documents import order_document
from storefront.services.markets import deliverable
from storefront.services.order_view import LineRow, TotalsView
from storefront.services.screening import screen_names
from storefront.services.staff import StaffIdentity
from storefront.services.unit_of_work import UnitOfWork
from storefront.settings import get_settings

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
    created: bool = True  # False: this form had entered it already (a repeated click)


def _now(at: datetime | None) -> datetime:
    return at or clock.now()


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


def _already_entered(uow: UnitOfWork, checkout_key: str) -> EnteredOrder | None:
    with uow.reading() as s:
        order = s.exec(select(Order).where(Order.checkout_key == checkout_key)).first()
        return EnteredOrder(order.reference, order_document(s, order).total, order.email, False) if order else None


def enter(uow: UnitOfWork, *, form: object, lines: object, personal_use: object, staff: StaffIdentity,
          ip: str = "", at: datetime | None = None, entry_key: object = "") -> EnteredOrder:
    """Record the order a client gives on the phone and email them the link to confirm and pay it.

    Refused (TelephoneOrderRefused, nothing written but the audit of a forbidden attempt) when the role may
    not, a field is wrong or holds a card number, a watch cannot be ordered, or a shop rule refuses the buyer.
    `entry_key` (the form's own key) makes a repeated submission of the same form return the order it made.
    """
    at = _now(at)
    if not allowed(staff.role, PERMISSION):
        audit.record_now(uow, staff=staff, action=ACTION, outcome="refused", ip=ip, detail="forbidden", at=at)
        raise TelephoneOrderRefused(ErrorCode.STAFF_FORBIDDEN)
    keyed = isinstance(entry_key, str) and 16 <= len(entry_key) <= 60 and entry_key.replace("-", "").replace(
        "_", "").isalnum()
    checkout_key = f"tel-{entry_key}" if keyed else f"tel-{secrets.token_urlsafe(24)}"
    found = _already_entered(uow, checkout_key) if keyed else None
    if found is not None:
        return found
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
    cmd = checkout.PlaceOrder(checkout_key=checkout_key, cart=cart, info=info,
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
    except (checkout.CheckoutError, IntegrityError) as exc:  # a watch sold out meanwhile: nothing was written
        found = _already_entered(uow, checkout_key) if keyed else None  # or the same form won the race
        if found is not None:
            return found
        if isinstance(exc, IntegrityError):
            raise
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
        elif order.status == OrderStatus.PENDING_PAYMENT and order.browser_hash is None:
            # accepted on the phone, the card taken by phone refused: the link now leads to the payment step
            if s.exec(update(Order).where(Order.id == order.id, Order.browser_hash.is_(None))
                      .values(browser_hash=browser)).rowcount != 1:
                return Refusal(ErrorCode.PHONE_ORDER_NOT_AWAITING_CLIENT)
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
        concluded = _conclude(s, order, screening, at, browser=cmd.browser, ip=ip, agent=agent,
                              deadline=at + timedelta(minutes=policy().payment_retry_minutes),
                              terms=current)
        if not concluded:  # confirmed (or cancelled) meanwhile by another request
            s.refresh(order)
            if order.status == OrderStatus.CANCELLED:
                raise checkout.CheckoutError(ErrorCode.PHONE_ORDER_NOT_AWAITING_CLIENT)
            return checkout.PlacedOrder(order.reference, order.status, False)
        s.add(order_events.confirmed_by_client(order.id, at, channel=CHANNEL))
        s.add(order_events.terms_accepted(order.id, at, version=current.version, version_id=current.id,
                                          content_hash=current.content_hash))
        uow.commit()
        return checkout.PlacedOrder(order.reference, OrderStatus.PENDING_PAYMENT.value, True)


def _conclude(s: Session, order: Order, screening, at: datetime, *, browser: str | None, ip: str, agent: str,
              deadline: datetime | None, terms) -> bool:
    """Move the order from awaiting_client to pending_payment with the terms accepted (the contract is
    concluded); its screening kept as strict as the stricter of entry and now. False when it moved meanwhile."""
    record = dict(order.screening or {})
    if record.get("verdict") != Verdict.POSSIBLE.value or screening.verdict is not Verdict.CLEAR:
        record = {"verdict": screening.verdict.value, "score": round(screening.score, 1),
                  "entry": screening.entry.uid if screening.entry else None, "matched_name": screening.matched_name}
    where = [Order.id == order.id, Order.status == OrderStatus.AWAITING_CLIENT]
    if browser is not None:
        where.append(Order.browser_hash == browser)
    values = dict(status=OrderStatus.PENDING_PAYMENT.value, terms_version_id=terms.id,
                  terms_content_hash=terms.content_hash, terms_accepted_at=at, accepted_ip=ip,
                  accepted_user_agent=agent, personal_use_declared=True, screening=record, updated_at=at)
    if deadline is not None:
        values["payment_deadline"] = deadline
    if s.exec(update(Order).where(*where).values(**values)).rowcount != 1:
        return False
    if record.get("verdict") == Verdict.POSSIBLE.value and record != (order.screening or {}):
        s.add(order_events.compliance_hold(order.id, at, dict(record)))  # new since entry (entry wrote its own)
    return True


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


# -- MOTO: the card taken by telephone (off unless the account allows it) ---------------------------------------

MOTO_ACTION = "telephone_orders.moto"


def moto_enabled() -> bool:
    """Whether staff may take a card on the phone (settings STOREFRONT_STRIPE_MOTO, rules/payments.toml)."""
    return get_settings().stripe_moto


@dataclass(frozen=True)
class PhonePayment:
    """What became of a card taken by phone: held, or fallen back to the emailed pay link."""

    status: str  # "held" | "fallback" | "cancelled"
    code: ErrorCode | None
    message: str


def _staff_name(s: Session, staff: StaffIdentity) -> str:
    user = s.get(StaffUser, staff.staff_id)
    return (user.full_name or user.email) if user else staff.email


def _email_terms(s: Session, order: Order, terms: TermsVersion, staff_name: str, at: datetime) -> None:
    """The client receives the terms they accepted on the phone, in full, with the version's address."""
    url = f"{get_settings().public_url.rstrip('/')}{routes.TERMS}?version={terms.version}"
    paragraphs = (
        f"On the telephone with {staff_name} of our client service, you accepted our terms and conditions of sale, "
        f"version {terms.version}, for the order below. They are reproduced here for your records and remain "
        f"available at {url}",
        *(block.strip() for block in terms.body.split("\n\n") if block.strip()),
    )
    notice = render_order_notice(order_document(s, order), f"Your order {order.reference}: the terms you accepted",
                                 paragraphs)
    outbox.enqueue(s, f"telephone-terms:{order.id}", "telephone_terms", order.email, notice, order_id=order.id, at=at)


def pay_by_phone(uow: UnitOfWork, reference: object, token: object, *, terms_accepted: object,
                 terms_version_id: object, staff: StaffIdentity, ip: str = "", at: datetime | None = None,
                 gw: StripeGateway | None = None) -> PhonePayment:
    """Staff take the client's card in the provider's form (MOTO) for an order they entered (PAY-2).

    The client accepted the terms on the phone: that acceptance is recorded as given by telephone with the
    staff member's name, the terms are emailed to the client, and the contract is concluded; then the card is
    held with the MOTO flag. If the provider does not hold it, the order falls back to the emailed link, which
    now opens at the payment step, and the client is emailed again. Refusals before any of that raise
    TelephoneOrderRefused and write nothing but the audit of a forbidden attempt.
    """
    at = _now(at)
    if not allowed(staff.role, PERMISSION):
        audit.record_now(uow, staff=staff, action=MOTO_ACTION, outcome="refused", ip=ip, detail="forbidden", at=at)
        raise TelephoneOrderRefused(ErrorCode.STAFF_FORBIDDEN)
    if not moto_enabled():
        raise TelephoneOrderRefused(ErrorCode.PHONE_ORDER_MOTO_OFF)
    if terms_accepted is not True:
        raise TelephoneOrderRefused(ErrorCode.PHONE_ORDER_TERMS_NOT_READ, "terms_by_phone")
    current = terms_service.current(uow, at)
    if current is None or type(terms_version_id) is not int or current.id != terms_version_id:
        raise TelephoneOrderRefused(ErrorCode.TERMS_CHANGED, "terms_by_phone")
    refused = payment.card_attempt_refused(token, ip)
    if refused is not None:
        raise TelephoneOrderRefused(refused.code or ErrorCode.CARD_UNREADABLE, "card")
    if not isinstance(reference, str) or len(reference) > 32:
        raise TelephoneOrderRefused(ErrorCode.PHONE_ORDER_NOT_AWAITING_CLIENT)
    with uow.reading() as s:
        order = s.exec(select(Order).where(Order.reference == reference, Order.channel == CHANNEL)).first()
    if order is None or order.status != OrderStatus.AWAITING_CLIENT \
            or (_aware(order.payment_deadline) and at > _aware(order.payment_deadline)):
        raise TelephoneOrderRefused(ErrorCode.PHONE_ORDER_NOT_AWAITING_CLIENT)
    info = _info_of(order)
    try:
        checkout.check_buyer(info, merchant_calendar().local(at).date())
    except checkout.CheckoutError as exc:
        raise TelephoneOrderRefused(exc.code, exc.field, **exc.refusal.params) from None
    screening = screen_names([info.full_name, info.shipping.name, info.billing.name])
    with uow:
        s = uow.session
        name = _staff_name(s, staff)
        if not _conclude(s, order, screening, at, browser=None, ip="", agent=f"telephone ({name})"[:400],
                         deadline=None, terms=current):
            raise TelephoneOrderRefused(ErrorCode.PHONE_ORDER_NOT_AWAITING_CLIENT)
        s.add(order_events.terms_accepted_by_phone(order.id, at, version=current.version, version_id=current.id,
                                                   content_hash=current.content_hash, staff_id=staff.staff_id))
        _email_terms(s, order, current, name, at)
        audit.record(s, staff=staff, action=MOTO_ACTION, outcome="done", order_id=order.id,
                     subject=f"order:{order.reference}", after={"status": OrderStatus.PENDING_PAYMENT.value,
                                                                 "terms_version_id": current.id}, ip=ip, at=at)
        uow.commit()
    outcome = payment.authorize(uow, reference, token, browser=None, ip=ip, at=at, gw=gw, moto=True)
    if outcome.status == "held":
        return PhonePayment("held", None, "")
    if outcome.status == "cancelled":
        return PhonePayment("cancelled", outcome.code, outcome.message or "")
    with uow:
        s = uow.session
        order = s.exec(select(Order).where(Order.reference == reference)).first()
        if order.status == OrderStatus.PENDING_PAYMENT:
            _email_pay_link(s, order, at)
            audit.record(s, staff=staff, action=MOTO_ACTION, outcome="failed", order_id=order.id,
                         subject=f"order:{order.reference}",
                         detail="fallback_to_pay_link:" + (outcome.code.value if outcome.code else outcome.status),
                         ip=ip, at=at)
            uow.commit()
    return PhonePayment("fallback", outcome.code, outcome.message or "")


def _email_pay_link(s: Session, order: Order, at: datetime) -> None:
    url = links.telephone_order_url(order.reference, at)
    paragraphs = (
        "The card details given on the telephone could not be authorised for this order. Your order stands, "
        "under the terms you accepted; nothing has been charged.",
        f"Please authorise the payment yourself in our payment provider's secure form: {url}",
    )
    notice = render_order_notice(order_document(s, order), f"Your order {order.reference}: please authorise the payment",
                                 paragraphs)
    outbox.enqueue(s, f"telephone-pay:{order.id}:{int(at.timestamp())}", "telephone_pay_link", order.email, notice,
                   order_id=order.id, at=at)
