"""Orders for integration tests: dedicated test watches, buyers, and placed orders.

Every test gets its own watch (reference "VX-T…", in a test collection at the end of the
catalogue, priced in every market currency), so tests that take or release stock never touch
the demo catalogue and never depend on each other's order.
"""

from __future__ import annotations

import secrets
import socket
from collections.abc import Callable
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import Session, select

from storefront.adapters.mailer import SmtpMailer
from storefront.adapters.tables import Collection, Order, OrderEvent, OutboxEmail, PaymentAuthorization, Product, ProductPrice
from storefront.domain.order_info import Address, OrderInfo
from storefront.domain.staff import Role
from storefront.services import staff
from storefront.services import terms as terms_service
from storefront.services.checkout import PlaceOrder, PlacedOrder, place_order
from storefront.services.staff import StaffIdentity
from storefront.services.unit_of_work import UnitOfWork

__all__ = [
    "PRICES",
    "buyer",
    "collecting_smtp",
    "events_of",
    "make_product",
    "new_key",
    "order_row",
    "outbox_of",
    "payments_of",
    "place",
    "stock_of",
]

# Net unit prices per market currency (minor units; JPY has none).
PRICES = {"CHF": 1_234_565, "EUR": 991_550, "USD": 1_850_000, "GBP": 1_420_000, "JPY": 2_380_000,
          "CNY": 13_400_000, "HKD": 14_500_000, "SGD": 2_500_000, "AED": 6_800_000}
TEST_COLLECTION = "test-bench"

ADDRESSES = {
    "CH": ("Bahnhofstrasse 12", "Zürich", "8001", ""),
    "DE": ("Unter den Linden 1", "BERLIN", "10117", ""),
    "US": ("350 Fifth Avenue", "NEW YORK", "10118", "NY"),
    "JP": ("1-1 Marunouchi", "Chiyoda-ku", "100-0005", "Tokyo"),
    "AE": ("Sheikh Zayed Road 1", "Dubai", "", "Dubai"),
    "CU": ("Calle 23", "La Habana", "10400", ""),
    "UA": ("Prospekt Kirova 1", "Simferopol", "95000", ""),
}
PHONES = {"CH": "+41446681800", "DE": "+493012345678", "US": "+12125550187", "JP": "+81312345678",
          "AE": "+97143123456", "CU": "+5378334455", "UA": "+380652123456"}


def new_key() -> str:
    return secrets.token_urlsafe(24)


def new_browser() -> str:
    """A browser fingerprint as services/browser.py makes them (each test order from its own browser)."""
    return secrets.token_hex(32)


def new_ip() -> str:
    """An address of the documentation range, one per order unless a test shares it on purpose."""
    return f"2001:db8::{secrets.token_hex(2)}:{secrets.token_hex(2)}"


@pytest.fixture
def make_product(database) -> Callable[..., str]:
    """Insert a test watch; returns its reference."""

    def make(stock: int = 5, max_per_order: int = 3, active: bool = True, prices: dict[str, int] | None = None) -> str:
        reference = f"VX-T{secrets.token_hex(4).upper()}"
        with UnitOfWork() as uow:
            s = uow.session
            collection = s.exec(select(Collection).where(Collection.slug == TEST_COLLECTION)).first()
            if collection is None:
                collection = Collection(slug=TEST_COLLECTION, name="Test bench", position=999)
                s.add(collection)
                s.flush()
            product = Product(reference=reference, slug=reference.lower(), name=f"Test Watch {reference[4:]}",
                              collection_id=collection.id, case_material="Test steel", diameter_mm=Decimal("40.0"),
                              movement="Test calibre", water_resistance_m=50, stock=stock, max_per_order=max_per_order,
                              active=active)
            s.add(product)
            s.flush()
            for currency, minor in (prices or PRICES).items():
                s.add(ProductPrice(product_id=product.id, currency=currency, amount_minor=minor))
            uow.commit()
        return reference

    return make


def buyer(country: str = "CH", name: str = "Anna Keller", birth: date = date(1985, 4, 12), *,
          ship_name: str | None = None, email: str | None = None, area: str | None = None,
          postal_code: str | None = None) -> OrderInfo:
    street, city, postal, default_area = ADDRESSES[country]
    address = Address(ship_name or name, street, city, postal if postal_code is None else postal_code,
                      default_area if area is None else area, country)
    return OrderInfo(email or f"client-{secrets.token_hex(4)}@example.com", PHONES[country], name, birth, address, address)


@pytest.fixture
def place(database) -> Callable[..., PlacedOrder]:
    """Conclude the contract (step 5) with every tick given, unless a test says otherwise."""

    def do(cart: dict[str, int], info: OrderInfo | None = None, *, at: datetime | None = None, **overrides) -> PlacedOrder:
        current = terms_service.current(UnitOfWork(), at)
        fields = dict(checkout_key=new_key(), cart=cart, info=info or buyer(), terms_version_id=current.id,
                      details_confirmed=True, terms_accepted=True, personal_use=True, browser=new_browser(),
                      ip=new_ip(), user_agent="Mozilla/5.0 (X11; Linux x86_64) TestBrowser/1.0")
        fields.update(overrides)
        return place_order(PlaceOrder(**fields), UnitOfWork(), at)

    return do


def staff_member(role: Role = Role.ADMIN) -> StaffIdentity:
    """A new staff account of `role`, acting without a browser session (as the services see staff)."""
    email = f"{role.value}-{secrets.token_hex(3)}@vireux.example"
    staff_id = staff.create_staff(UnitOfWork(), email=email, password="correct horse battery staple", role=role)
    return StaffIdentity(staff_id=staff_id, email=email, role=role, session_id=0)


def order_row(reference: str) -> Order:
    from storefront.adapters.db import get_engine

    with Session(get_engine()) as s:
        return s.exec(select(Order).where(Order.reference == reference)).one()


def _rows(model, **where):
    from storefront.adapters.db import get_engine

    with Session(get_engine()) as s:
        query = select(model)
        for key, value in where.items():
            query = query.where(getattr(model, key) == value)
        return s.exec(query.order_by(model.id)).all()


def events_of(reference: str) -> list[OrderEvent]:
    return _rows(OrderEvent, order_id=order_row(reference).id)


def payments_of(reference: str) -> list[PaymentAuthorization]:
    return _rows(PaymentAuthorization, order_id=order_row(reference).id)


def outbox_of(reference: str) -> list[OutboxEmail]:
    return _rows(OutboxEmail, order_id=order_row(reference).id)


def stock_of(reference: str) -> int:
    return _rows(Product, reference=reference)[0].stock


def aware(moment: datetime | None) -> datetime | None:
    """SQLite hands datetimes back without their zone; they were stored as UTC."""
    return moment.replace(tzinfo=timezone.utc) if moment is not None and moment.tzinfo is None else moment


# -- SMTP peer -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Collect:
    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.envelopes.append(envelope)
        return "250 OK"


@pytest.fixture(scope="module")
def collecting_smtp():
    """A real SMTP server on loopback; yields (mailer pointed at it, received envelopes)."""
    handler = _Collect()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), server_hostname="localhost")
    controller.start()
    try:
        yield SmtpMailer(host="127.0.0.1", port=controller.port, starttls=False, timeout=10), handler.envelopes
    finally:
        controller.stop()
