"""Staff manage the catalogue: products, photographs, stock, prices per market and shipping fees
(issue 10 section 1; GTC-3.1, 3.3, 4.2).

Every action is one transaction with its audit entry; input is refused field by field
(`CatalogueInvalid`, {field: refusal}) before anything is written, so nothing is ever half-saved.

- A product is created withdrawn (inactive): it is offered once it has a price in every market's currency
  and staff activate it. Its reference (on every order line) and its address (/watch/<slug>) never change.
  Activating, editing or withdrawing it shows on the shop at the next page load: product pages are one
  dynamic route read from the database (pages/product.py), listings are queries.
- Stock changes by signed adjustments with a reason code, each one a row of the append-only stock history
  (services/stock.py), as orders placed and cancelled write theirs; the stock never goes below zero.
- Prices and shipping fees are typed as Decimal text in major units and stored in minor units
  (domain/catalogue.amount_input: no more decimals than the currency has, positive, below a ceiling).
  A change applies to quotes made from then on: orders keep the prices they were placed at (order lines
  and order totals are copies), and a shopper mid-checkout is shown the new figures before confirming
  (services/checkout.py, PlaceOrder.shown_quote).
- Photographs are checked by their content (PNG, JPEG, WebP), size and dimensions, cropped square and
  resized to the sizes the shop pages use (services/product_images.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from storefront.adapters import clock
from storefront.adapters.tables import Collection, Product, ProductPrice, ShippingFee
from storefront.domain import card_numbers
from storefront.domain.catalogue import amount_input, slug_for
from storefront.domain.errors import ErrorCode, Refusal
from storefront.domain.markets import currencies
from storefront.domain.money import Money
from storefront.domain.shipping import default_table
from storefront.rules import load
from storefront.services import audit, product_images, shipping_fees, stock
from storefront.services.order_admin import ActionRefused
from storefront.services.row_ids import is_row_id
from storefront.services.staff import StaffIdentity
from storefront.services.unit_of_work import UnitOfWork

REFERENCE = re.compile(r"[A-Z0-9][A-Z0-9-]{2,39}")
WHOLE = re.compile(r"-?[0-9]{1,9}")
DIAMETER = re.compile(r"[0-9]{1,3}(\.[0-9])?")
SHORT_TEXT = 200  # case material, movement
# The fields of the product form, as the page names them.
FORM_FIELDS = ("reference", "name", "collection", "case_material", "diameter_mm", "movement", "water_resistance_m",
               "description", "max_per_order")


class CatalogueInvalid(Exception):
    """Input refused field by field ({field name: refusal}); nothing was saved."""

    def __init__(self, errors: dict[str, Refusal]) -> None:
        super().__init__(", ".join(f"{name}: {r.code.value}" for name, r in errors.items()))
        self.errors = errors


def rules() -> dict:
    return load("catalogue")["products"]


def adjustment_reasons() -> list[str]:
    return list(rules()["adjustment_reasons"])


def _now(at: datetime | None) -> datetime:
    return at or clock.now()


# -- reading --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductRow:
    id: int
    reference: str
    name: str
    collection: str
    active: bool
    stock: int
    max_per_order: int
    missing_prices: list[str]


@dataclass(frozen=True)
class PriceRow:
    currency: str
    amount: str  # as staff type it, in major units ("" when not priced)
    shown: str  # formatted


@dataclass(frozen=True)
class MovementView:
    at: str
    delta: str
    stock_after: int
    reason: str
    note: str
    by: str  # "staff #3" or "order #12"


@dataclass(frozen=True)
class ProductEdit:
    id: int
    reference: str
    slug: str
    form: dict[str, str]
    active: bool
    featured: bool
    stock: int
    images: list[str]
    prices: list[PriceRow] = field(default_factory=list)
    movements: list[MovementView] = field(default_factory=list)


@dataclass(frozen=True)
class FeeRow:
    zone: str
    currency: str
    amount: str
    shown: str
    carrier: str


def _major(minor: int, currency: str) -> str:
    return str(Money(minor, currency).to_decimal())


def products(uow: UnitOfWork) -> list[ProductRow]:
    sold = currencies()
    with uow.reading() as s:
        priced: dict[int, set[str]] = {}
        for pp in s.exec(select(ProductPrice)).all():
            priced.setdefault(pp.product_id, set()).add(pp.currency)
        rows = s.exec(select(Product, Collection).join(Collection, Collection.id == Product.collection_id)
                      .order_by(Product.reference)).all()
        return [ProductRow(p.id, p.reference, p.name, c.name, p.active, p.stock, p.max_per_order,
                           [cur for cur in sold if cur not in priced.get(p.id, set())]) for p, c in rows]


def collection_choices(uow: UnitOfWork) -> list[list[str]]:
    """[slug, name] of every collection, in the shop's order."""
    with uow.reading() as s:
        return [[c.slug, c.name] for c in s.exec(select(Collection).order_by(Collection.position)).all()]


def product(uow: UnitOfWork, product_id: object) -> ProductEdit | None:
    if not is_row_id(product_id):
        return None
    with uow.reading() as s:
        p = s.get(Product, product_id)
        if p is None:
            return None
        col = s.get(Collection, p.collection_id)
        prices = {pp.currency: pp.amount_minor for pp in
                  s.exec(select(ProductPrice).where(ProductPrice.product_id == p.id)).all()}
        history = stock.history(s, p.id)
    form = {"reference": p.reference, "name": p.name, "collection": col.slug if col else "",
            "case_material": p.case_material, "diameter_mm": str(p.diameter_mm), "movement": p.movement,
            "water_resistance_m": str(p.water_resistance_m), "description": p.description,
            "max_per_order": str(p.max_per_order)}
    return ProductEdit(
        id=p.id, reference=p.reference, slug=p.slug, form=form, active=p.active, featured=p.featured, stock=p.stock,
        images=["/" + image for image in p.images],
        prices=[PriceRow(cur, _major(prices[cur], cur) if cur in prices else "",
                         Money(prices[cur], cur).format("en") if cur in prices else "not priced")
                for cur in currencies()],
        movements=[MovementView(m.at.strftime("%Y-%m-%d %H:%M UTC"), f"{m.delta:+d}", m.stock_after, m.reason, m.note,
                                f"staff #{m.staff_id}" if m.staff_id else f"order #{m.order_id}" if m.order_id else "")
                   for m in history],
    )


def shipping_rows(uow: UnitOfWork) -> list[FeeRow]:
    with uow.reading() as s:
        table = shipping_fees.table(s)
    return [FeeRow(r.zone, r.currency, _major(r.fee_minor, r.currency), Money(r.fee_minor, r.currency).format("en"),
                   r.carrier) for r in table.rows]


# -- checking a product form ----------------------------------------------------------------------


def _text(form: dict, name: str) -> str:
    value = form.get(name)
    return " ".join(value.split()) if isinstance(value, str) else ""


def _checked(s: Session, form: object, creating: bool) -> dict:
    """The product's columns from the form, or CatalogueInvalid with every field's refusal."""
    form = form if isinstance(form, dict) else {}
    limits = rules()
    errors: dict[str, Refusal] = {}
    values: dict = {}
    if creating:
        reference = _text(form, "reference").upper()
        if not REFERENCE.fullmatch(reference):
            errors["reference"] = Refusal(ErrorCode.PRODUCT_REFERENCE_INVALID)
        elif s.exec(select(Product.id).where(Product.reference == reference)).first() is not None:
            errors["reference"] = Refusal(ErrorCode.PRODUCT_REFERENCE_TAKEN, {"reference": reference})
        values["reference"] = reference
    name = _text(form, "name")
    if not name or len(name) > limits["name_max"]:
        errors["name"] = Refusal(ErrorCode.PRODUCT_NAME_INVALID, {"limit": limits["name_max"]})
    values["name"] = name
    slug = _text(form, "collection")
    col = s.exec(select(Collection).where(Collection.slug == slug)).first() if slug else None
    if col is None:
        errors["collection"] = Refusal(ErrorCode.PRODUCT_COLLECTION_UNKNOWN)
    else:
        values["collection_id"] = col.id
    for name_ in ("case_material", "movement"):
        text_ = _text(form, name_)
        if not text_ or len(text_) > SHORT_TEXT:
            errors[name_] = Refusal(ErrorCode.PRODUCT_FIELD_INVALID, {"limit": SHORT_TEXT})
        values[name_] = text_
    diameter = _text(form, "diameter_mm")
    if not DIAMETER.fullmatch(diameter) or not 20 <= Decimal(diameter) <= 60:
        errors["diameter_mm"] = Refusal(ErrorCode.PRODUCT_NUMBER_INVALID, {"low": 20, "high": 60})
    else:
        values["diameter_mm"] = Decimal(diameter)
    water = _text(form, "water_resistance_m")
    if not WHOLE.fullmatch(water) or not 0 <= int(water) <= 12000:
        errors["water_resistance_m"] = Refusal(ErrorCode.PRODUCT_NUMBER_INVALID, {"low": 0, "high": 12000})
    else:
        values["water_resistance_m"] = int(water)
    raw = form.get("description")
    description = raw.replace("\r\n", "\n").strip() if isinstance(raw, str) else ""
    if len(description) > limits["description_max"]:
        errors["description"] = Refusal(ErrorCode.PRODUCT_FIELD_INVALID, {"limit": limits["description_max"]})
    values["description"] = description
    limit = _text(form, "max_per_order")
    if not WHOLE.fullmatch(limit) or not 1 <= int(limit) <= limits["max_per_order_ceiling"]:
        errors["max_per_order"] = Refusal(ErrorCode.PRODUCT_LIMIT_INVALID, {"limit": limits["max_per_order_ceiling"]})
    else:
        values["max_per_order"] = int(limit)
    for field_, text_ in values.items():  # card numbers never enter the shop through staff text (PAY-2)
        if field_ not in errors and isinstance(text_, str) and card_numbers.contains_card_number(text_):
            errors[field_] = Refusal(ErrorCode.CARD_NUMBER_IN_TEXT)
    if errors:
        raise CatalogueInvalid(errors)
    return values


def _summary(p: Product) -> dict:
    """What the audit log keeps of a product: its fields, the description by length."""
    return {"reference": p.reference, "name": p.name, "collection_id": p.collection_id,
            "case_material": p.case_material, "diameter_mm": str(p.diameter_mm), "movement": p.movement,
            "water_resistance_m": p.water_resistance_m, "description_chars": len(p.description),
            "max_per_order": p.max_per_order, "active": p.active, "images": list(p.images)}


def _product(s: Session, product_id: object) -> Product:
    row = s.get(Product, product_id) if is_row_id(product_id) else None
    if row is None:
        raise ActionRefused(ErrorCode.PRODUCT_NOT_FOUND)
    return row


# -- products -------------------------------------------------------------------------------------


def create_product(uow: UnitOfWork, form: object, *, staff: StaffIdentity, ip: str = "",
                   at: datetime | None = None) -> int:
    """A new watch, withdrawn until it is priced in every market and activated; returns its id."""
    at = _now(at)
    with uow:
        s = uow.session
        values = _checked(s, form, creating=True)
        row = Product(**values, slug=slug_for(values["name"], values["reference"]), images=[], stock=0,
                      active=False, featured=False, updated_at=at)
        s.add(row)
        try:
            s.flush()
        except IntegrityError:  # the same reference (or address) saved by someone else a moment ago
            raise CatalogueInvalid({"reference": Refusal(ErrorCode.PRODUCT_REFERENCE_TAKEN,
                                                         {"reference": values["reference"]})}) from None
        audit.record(s, staff=staff, action="catalogue.create_product", outcome="done", subject=f"product:{row.id}",
                     before=None, after=_summary(row), ip=ip, at=at)
        uow.commit()
        return row.id


def update_product(uow: UnitOfWork, product_id: object, form: object, *, staff: StaffIdentity, ip: str = "",
                   at: datetime | None = None) -> None:
    """Save the watch's description fields; its reference and address stay as they are."""
    at = _now(at)
    with uow:
        s = uow.session
        row = _product(s, product_id)
        values = _checked(s, form, creating=False)
        before = _summary(row)
        for key, value in values.items():
            setattr(row, key, value)
        row.updated_at = at
        s.add(row)
        audit.record(s, staff=staff, action="catalogue.edit_product", outcome="done", subject=f"product:{row.id}",
                     before=before, after=_summary(row), ip=ip, at=at)
        uow.commit()


def set_active(uow: UnitOfWork, product_id: object, active: object, *, staff: StaffIdentity, ip: str = "",
               at: datetime | None = None) -> None:
    """Offer the watch (GTC-3.1: only once priced in every market) or withdraw it from sale at once."""
    at = _now(at)
    if not isinstance(active, bool):
        raise ActionRefused(ErrorCode.INVALID_REQUEST)
    with uow:
        s = uow.session
        row = _product(s, product_id)
        if active:
            priced = set(s.exec(select(ProductPrice.currency).where(ProductPrice.product_id == row.id)).all())
            missing = [cur for cur in currencies() if cur not in priced]
            if missing:
                raise ActionRefused(ErrorCode.PRODUCT_NOT_PRICED, currencies=", ".join(missing))
        if row.active == active:
            return
        s.exec(update(Product).where(Product.id == row.id).values(active=active, updated_at=at))
        audit.record(s, staff=staff, action="catalogue.activate" if active else "catalogue.withdraw",
                     outcome="done", subject=f"product:{row.id}", before={"active": not active},
                     after={"active": active}, ip=ip, at=at)
        uow.commit()


# -- stock ----------------------------------------------------------------------------------------


def adjust_stock(uow: UnitOfWork, product_id: object, delta: object, reason: object, note: object = "", *,
                 staff: StaffIdentity, ip: str = "", at: datetime | None = None) -> int:
    """Add (or remove, with a negative number) units for a reason; returns the stock after. The change and
    its movement are one transaction; the stock never goes below zero, even against a concurrent order."""
    at = _now(at)
    limits = rules()
    text_ = delta.strip() if isinstance(delta, str) else str(delta) if type(delta) is int else ""
    errors: dict[str, Refusal] = {}
    units = int(text_) if WHOLE.fullmatch(text_) else 0
    if units == 0 or abs(units) > limits["stock_adjustment_ceiling"]:
        errors["delta"] = Refusal(ErrorCode.STOCK_DELTA_INVALID, {"limit": limits["stock_adjustment_ceiling"]})
    if not isinstance(reason, str) or reason not in limits["adjustment_reasons"]:
        errors["reason"] = Refusal(ErrorCode.STOCK_REASON_INVALID)
    remark = " ".join(note.split()) if isinstance(note, str) else ""
    if not isinstance(note, str) or len(remark) > limits["note_max"]:
        errors["note"] = Refusal(ErrorCode.NOTE_TOO_LONG, {"limit": limits["note_max"]})
    elif card_numbers.contains_card_number(remark):
        errors["note"] = Refusal(ErrorCode.CARD_NUMBER_IN_TEXT)
    with uow:
        s = uow.session
        row = _product(s, product_id)
        if errors:
            raise CatalogueInvalid(errors)
        before = row.stock
        changed = s.exec(update(Product).where(Product.id == row.id, Product.stock + units >= 0)
                         .values(stock=Product.stock + units, updated_at=at)).rowcount
        if changed != 1:
            raise CatalogueInvalid({"delta": Refusal(ErrorCode.STOCK_BELOW_ZERO, {"stock": before})})
        movement = stock.record_change(s, row.id, units, reason, at=at, staff_id=staff.staff_id, note=remark)
        audit.record(s, staff=staff, action="stock.adjust", outcome="done", subject=f"product:{row.id}",
                     before={"stock": movement.stock_after - units},
                     after={"stock": movement.stock_after, "delta": units, "reason": reason}, ip=ip, at=at)
        uow.commit()
        return movement.stock_after


# -- prices and shipping fees (GTC-4.2) -----------------------------------------------------------


def set_price(uow: UnitOfWork, product_id: object, currency: object, amount: object, *, staff: StaffIdentity,
              ip: str = "", at: datetime | None = None) -> int:
    """The watch's price in one market's currency, from now on; returns it in minor units."""
    if not isinstance(currency, str) or currency not in currencies():
        raise CatalogueInvalid({"currency": Refusal(ErrorCode.CURRENCY_NOT_SOLD, {"currency": str(currency)[:3]})})
    return set_prices(uow, product_id, {currency: amount}, staff=staff, ip=ip, at=at)[currency]


def set_prices(uow: UnitOfWork, product_id: object, amounts: object, *, staff: StaffIdentity, ip: str = "",
               at: datetime | None = None) -> dict[str, int]:
    """The watch's prices from now on, {currency: amount typed}; a blank amount leaves that currency as it
    is. All are checked first: one refused, none saved. Returns the prices saved, in minor units."""
    at = _now(at)
    typed = {cur: text_ for cur, text_ in amounts.items() if not (isinstance(text_, str) and not text_.strip())} \
        if isinstance(amounts, dict) else {}
    errors: dict[str, Refusal] = {}
    wanted: dict[str, int] = {}
    for currency, amount in typed.items():
        if not isinstance(currency, str) or currency not in currencies():
            errors["currency"] = Refusal(ErrorCode.CURRENCY_NOT_SOLD, {"currency": str(currency)[:3]})
            continue
        minor = amount_input(amount, currency, "price")
        if isinstance(minor, Refusal):
            errors[f"price_{currency}"] = minor
        else:
            wanted[currency] = minor
    with uow:
        s = uow.session
        row = _product(s, product_id)
        if errors:
            raise CatalogueInvalid(errors)
        for currency, minor in wanted.items():
            price = s.get(ProductPrice, (row.id, currency))
            before = price.amount_minor if price else None
            if before == minor:
                continue
            if price is None:
                s.add(ProductPrice(product_id=row.id, currency=currency, amount_minor=minor, updated_at=at))
            else:
                price.amount_minor, price.updated_at = minor, at
                s.add(price)
            audit.record(s, staff=staff, action="catalogue.set_price", outcome="done", subject=f"product:{row.id}",
                         before={"currency": currency, "amount_minor": before},
                         after={"currency": currency, "amount_minor": minor}, ip=ip, at=at)
        uow.commit()
    return wanted


def set_shipping_fee(uow: UnitOfWork, zone: object, currency: object, amount: object, *, staff: StaffIdentity,
                     ip: str = "", at: datetime | None = None) -> int:
    """The insured-courier fee of a zone in a currency, from now on; returns it in minor units."""
    if not isinstance(zone, str) or not isinstance(currency, str):
        raise CatalogueInvalid({"zone": Refusal(ErrorCode.SHIPPING_ZONE_UNKNOWN)})
    return set_shipping_fees(uow, {f"{zone}:{currency}": amount}, staff=staff, ip=ip, at=at)[(zone, currency)]


def set_shipping_fees(uow: UnitOfWork, amounts: object, *, staff: StaffIdentity, ip: str = "",
                      at: datetime | None = None) -> dict[tuple[str, str], int]:
    """Shipping fees from now on, {"ZONE:CUR": amount typed}; blank leaves a fee as it is. All are checked
    first: one refused, none saved. Returns the fees saved, in minor units."""
    at = _now(at)
    known = {(r.zone, r.currency) for r in default_table().rows}
    typed = {key: text_ for key, text_ in amounts.items() if not (isinstance(text_, str) and not text_.strip())} \
        if isinstance(amounts, dict) else {}
    errors: dict[str, Refusal] = {}
    wanted: dict[tuple[str, str], int] = {}
    for key, amount in typed.items():
        zone, _, currency = key.partition(":") if isinstance(key, str) else ("", "", "")
        if (zone, currency) not in known:
            errors["zone"] = Refusal(ErrorCode.SHIPPING_ZONE_UNKNOWN)
            continue
        minor = amount_input(amount, currency, "shipping")
        if isinstance(minor, Refusal):
            errors[f"fee_{zone}_{currency}"] = minor
        else:
            wanted[(zone, currency)] = minor
    if errors:
        raise CatalogueInvalid(errors)
    with uow:
        s = uow.session
        current = shipping_fees.table(s)
        for (zone, currency), minor in wanted.items():
            before = current.row(zone, currency).fee_minor
            if before == minor:
                continue
            row = s.get(ShippingFee, (zone, currency))
            if row is None:
                s.add(ShippingFee(zone=zone, currency=currency, fee_minor=minor, updated_at=at))
            else:
                row.fee_minor, row.updated_at = minor, at
                s.add(row)
            audit.record(s, staff=staff, action="catalogue.set_shipping_fee", outcome="done",
                         subject=f"shipping:{zone}:{currency}", before={"fee_minor": before},
                         after={"fee_minor": minor}, ip=ip, at=at)
        uow.commit()
    return wanted


# -- photographs ----------------------------------------------------------------------------------


def add_image(uow: UnitOfWork, product_id: object, data: object, *, staff: StaffIdentity, ip: str = "",
              at: datetime | None = None) -> str:
    """Check, resize and store an uploaded photograph and add it to the watch's; returns its address."""
    at = _now(at)
    limit = int(load("catalogue")["images"]["max_images"])
    with uow.reading() as s:
        row = _product(s, product_id)
        count, reference = len(row.images), row.reference
    if count >= limit:
        raise CatalogueInvalid({"image": Refusal(ErrorCode.IMAGE_LIMIT, {"limit": limit})})
    stored = product_images.store(data, reference)  # raises CatalogueInvalid-compatible refusals
    if isinstance(stored, Refusal):
        raise CatalogueInvalid({"image": stored})
    with uow:
        s = uow.session
        row = _product(s, product_id)
        before = list(row.images)
        if stored in before:
            return "/" + stored
        if len(before) >= limit:
            raise CatalogueInvalid({"image": Refusal(ErrorCode.IMAGE_LIMIT, {"limit": limit})})
        row.images, row.updated_at = before + [stored], at
        s.add(row)
        audit.record(s, staff=staff, action="catalogue.add_image", outcome="done", subject=f"product:{row.id}",
                     before={"images": before}, after={"images": row.images}, ip=ip, at=at)
        uow.commit()
    return "/" + stored


def remove_image(uow: UnitOfWork, product_id: object, image: object, *, staff: StaffIdentity, ip: str = "",
                 at: datetime | None = None) -> None:
    """Take a photograph off the watch (the file stays: an order page or a cached page may still show it)."""
    at = _now(at)
    with uow:
        s = uow.session
        row = _product(s, product_id)
        before = list(row.images)
        path = image[1:] if isinstance(image, str) and image.startswith("/") else image
        if not isinstance(path, str) or path not in before:
            raise ActionRefused(ErrorCode.IMAGE_NOT_FOUND)
        row.images, row.updated_at = [i for i in before if i != path], at
        s.add(row)
        audit.record(s, staff=staff, action="catalogue.remove_image", outcome="done", subject=f"product:{row.id}",
                     before={"images": before}, after={"images": row.images}, ip=ip, at=at)
        uow.commit()
