"""Staff manage the catalogue, stock, prices and shipping fees (issue 10 section 1; GTC-3.1, 3.3, 4.2).

Services against the real database (SQLite, and PostgreSQL with `bash scripts/with-postgres.sh`): bad input is
refused field by field with nothing saved; every action is audited; the stock history explains the number
(staff adjustments and orders alike) and cannot be rewritten; a price or fee change applies to new quotes
only, orders keep what they were placed at, and a shopper mid-checkout (the checkout's Reflex state, driven
in this process) is shown the new figures and confirms again before any order is placed.
"""

from __future__ import annotations

import io
import secrets
from datetime import datetime, timezone

import pytest
from PIL import Image
from sqlalchemy import func, text
from sqlalchemy.exc import DatabaseError
from sqlmodel import Session, select

from storefront.adapters.db import get_engine
from storefront.adapters.tables import Order, OrderLine, Product, ProductPrice, ShippingFee, StaffAuditEntry, StockMovement
from storefront.domain.errors import ErrorCode
from storefront.domain.markets import country
from storefront.domain.money import Money
from storefront.domain.staff import Role
from storefront.services import browser as browser_id
from storefront.services import catalogue, catalogue_admin, checkout, product_images
from storefront.services import shipping_fees
from storefront.services.catalogue_admin import CatalogueInvalid
from storefront.services.order_admin import ActionRefused
from storefront.services.unit_of_work import UnitOfWork
from tests.integration.shop_fixtures import *  # noqa: F403 - fixtures and helpers
from tests.integration.shop_fixtures import PRICES, buyer, order_row, staff_member, stock_of
from tests.integration.test_terms_admin import at_confirmation, checkout_tab, confirm

pytestmark = pytest.mark.usefixtures("database")

CHF = country("CH")


def _chf(minor: int) -> str:
    return Money(minor, "CHF").format("en_CH")


@pytest.fixture(scope="module")
def admin():
    return staff_member(Role.ADMIN)


@pytest.fixture(autouse=True)
def media(tmp_path, monkeypatch):
    monkeypatch.setattr(product_images, "directory", lambda: tmp_path / "products")
    return tmp_path / "products"


def _form(**overrides) -> dict:
    form = {"reference": f"VX-A{secrets.token_hex(3).upper()}", "name": "Régulateur Céleste",
            "collection": "test-bench", "case_material": "Platinum", "diameter_mm": "39.5",
            "movement": "Manual winding calibre VX-11", "water_resistance_m": "30",
            "description": "A regulator dial.\nHand-finished.", "max_per_order": "2"}
    form.update(overrides)
    return form


def _product(product_id: int) -> Product:
    with Session(get_engine()) as s:
        return s.get(Product, product_id)


def _count(model) -> int:
    with Session(get_engine()) as s:
        return s.exec(select(func.count()).select_from(model)).one()


def _audit(subject: str) -> list[StaffAuditEntry]:
    with Session(get_engine()) as s:
        return s.exec(select(StaffAuditEntry).where(StaffAuditEntry.subject == subject)
                      .order_by(StaffAuditEntry.id)).all()


def _movements(product_id: int) -> list[StockMovement]:
    with Session(get_engine()) as s:
        return s.exec(select(StockMovement).where(StockMovement.product_id == product_id)
                      .order_by(StockMovement.id)).all()


def _png(width: int = 1200, height: int = 1000, kind: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (120, 90, 40)).save(buffer, kind)
    return buffer.getvalue()


def _priced_everywhere(admin, product_id: int) -> None:
    for currency, minor in PRICES.items():
        amount = str(minor) if currency == "JPY" else f"{minor / 100:.2f}"
        catalogue_admin.set_price(UnitOfWork(), product_id, currency, amount, staff=admin)


def _product_id(reference: str) -> int:
    with Session(get_engine()) as s:
        return s.exec(select(Product.id).where(Product.reference == reference)).one()


# -- products -------------------------------------------------------------------------------------


@pytest.mark.clause("GTC-3.1")
def test_a_new_watch_is_offered_only_once_priced_in_every_market_and_activated_then_shows_at_once(admin, make_product):
    make_product()  # makes sure the test collection exists
    product_id = catalogue_admin.create_product(UnitOfWork(), _form(), staff=admin)
    row = _product(product_id)
    assert (row.active, row.stock, row.slug) == (False, 0, f"regulateur-celeste-{row.reference.lower()}")
    assert catalogue.product_detail(UnitOfWork(), row.slug, CHF) is None

    with pytest.raises(ActionRefused) as refused:
        catalogue_admin.set_active(UnitOfWork(), product_id, True, staff=admin)
    assert refused.value.refusal.code is ErrorCode.PRODUCT_NOT_PRICED and _product(product_id).active is False

    _priced_everywhere(admin, product_id)
    catalogue_admin.adjust_stock(UnitOfWork(), product_id, "4", "received", "first delivery", staff=admin)
    catalogue_admin.set_active(UnitOfWork(), product_id, True, staff=admin)

    shown = catalogue.product_detail(UnitOfWork(), row.slug, CHF)
    assert (shown.name, shown.max_quantity, shown.price) == ("Régulateur Céleste", 2, _chf(1_234_565))
    assert row.reference in [card.reference for card in catalogue.list_products(UnitOfWork(), CHF)]
    assert [e.action for e in _audit(f"product:{product_id}")][:1] == ["catalogue.create_product"]
    assert "catalogue.activate" in [e.action for e in _audit(f"product:{product_id}")]


@pytest.mark.clause("GTC-3.1")
def test_a_withdrawn_watch_leaves_the_shop_its_page_says_so_carts_are_told_and_it_cannot_be_ordered(
        admin, make_product, place):
    reference = make_product()
    product_id = _product_id(reference)
    catalogue_admin.set_active(UnitOfWork(), product_id, False, staff=admin)

    assert reference not in [card.reference for card in catalogue.list_products(UnitOfWork(), CHF)]
    assert catalogue.withdrawn(UnitOfWork(), reference.lower()) is True
    from storefront.services import cart as cart_service
    view = cart_service.view(UnitOfWork(), {reference: 1}, CHF)
    assert view.lines == [] and "no longer offered" in view.notices[0]
    with pytest.raises(checkout.CheckoutError) as refused:
        place({reference: 1})
    assert refused.value.code is ErrorCode.PRODUCT_NOT_OFFERED
    assert [(e.action, e.before, e.after) for e in _audit(f"product:{product_id}")] == [
        ("catalogue.withdraw", {"active": True}, {"active": False})]


@pytest.mark.parametrize("fields, errors", [
    ({"reference": "vx 1", "name": "", "collection": "nope"},
     {"reference": "product_reference_invalid", "name": "product_name_invalid",
      "collection": "product_collection_unknown"}),
    ({"diameter_mm": "39,5", "water_resistance_m": "-1", "max_per_order": "0"},
     {"diameter_mm": "product_number_invalid", "water_resistance_m": "product_number_invalid",
      "max_per_order": "product_limit_invalid"}),
    ({"max_per_order": "21", "case_material": " ", "movement": "x" * 201, "description": "y" * 4001},
     {"max_per_order": "product_limit_invalid", "case_material": "product_field_invalid",
      "movement": "product_field_invalid", "description": "product_field_invalid"}),
    pytest.param({"name": "Calibre 4242 4242 4242 4242", "description": "Card: 5555-5555-5555-4444 exp 12/30"},
                 {"name": "card_number_in_text", "description": "card_number_in_text"},
                 marks=pytest.mark.clause("PAY-2"), id="card-numbers-in-staff-text"),
])
def test_bad_product_input_is_refused_field_by_field_and_nothing_is_saved(admin, make_product, fields, errors):
    make_product()
    before = (_count(Product), _count(StaffAuditEntry))
    with pytest.raises(CatalogueInvalid) as refused:
        catalogue_admin.create_product(UnitOfWork(), _form(**fields), staff=admin)
    assert {name: r.code.value for name, r in refused.value.errors.items()} == errors
    assert all(r.message for r in refused.value.errors.values())
    assert (_count(Product), _count(StaffAuditEntry)) == before


def test_a_reference_is_unique_and_an_edit_keeps_reference_and_address(admin, make_product):
    reference = make_product()
    with pytest.raises(CatalogueInvalid) as refused:
        catalogue_admin.create_product(UnitOfWork(), _form(reference=reference), staff=admin)
    assert refused.value.errors["reference"].code is ErrorCode.PRODUCT_REFERENCE_TAKEN
    product_id = _product_id(reference)
    slug = _product(product_id).slug
    catalogue_admin.update_product(UnitOfWork(), product_id, _form(reference="IGNORED", name="Renamed", max_per_order="1"),
                                   staff=admin)
    row = _product(product_id)
    assert (row.reference, row.slug, row.name, row.max_per_order) == (reference, slug, "Renamed", 1)
    entry = _audit(f"product:{product_id}")[-1]
    assert entry.action == "catalogue.edit_product" and entry.before["max_per_order"] == 3 and entry.after["max_per_order"] == 1


@pytest.mark.clause("GTC-3.3")
def test_the_quantity_limit_set_by_staff_is_what_checkout_enforces(admin, make_product, place):
    reference = make_product(stock=9, max_per_order=3)
    product_id = _product_id(reference)
    catalogue_admin.update_product(UnitOfWork(), product_id, _form(max_per_order="1"), staff=admin)
    with pytest.raises(checkout.CheckoutError) as refused:
        place({reference: 2})
    assert refused.value.code is ErrorCode.OVER_ORDER_LIMIT
    assert place({reference: 1}).created


# -- stock ----------------------------------------------------------------------------------------


def test_stock_adjustments_and_orders_write_the_history_that_explains_the_number(admin, make_product, place):
    reference = make_product(stock=5)
    product_id = _product_id(reference)
    fulfilment = staff_member(Role.FULFILMENT)
    assert catalogue_admin.adjust_stock(UnitOfWork(), product_id, "3", "received", "", staff=fulfilment) == 8
    assert catalogue_admin.adjust_stock(UnitOfWork(), product_id, "-1", "workshop", "crown to check",
                                        staff=fulfilment) == 7
    placed = place({reference: 2})
    from storefront.services.cancellations import cancel_unpaid
    with UnitOfWork() as uow:
        assert cancel_unpaid(uow.session, order_row(placed.reference).id, datetime.now(timezone.utc), "expired",
                             notify=False)
        uow.commit()

    history = [(m.delta, m.stock_after, m.reason, m.staff_id, m.order_id is not None) for m in _movements(product_id)]
    assert history == [(3, 8, "received", fulfilment.staff_id, False), (-1, 7, "workshop", fulfilment.staff_id, False),
                       (-2, 5, "order_placed", None, True), (2, 7, "order_cancelled", None, True)]
    assert stock_of(reference) == 7
    view = catalogue_admin.product(UnitOfWork(), product_id)
    assert [(m.delta, m.reason, m.by[:5]) for m in view.movements][:2] == [("+2", "order_cancelled", "order"),
                                                                         ("-2", "order_placed", "order")]
    assert [e.after for e in _audit(f"product:{product_id}") if e.action == "stock.adjust"] == [
        {"stock": 8, "delta": 3, "reason": "received"}, {"stock": 7, "delta": -1, "reason": "workshop"}]


@pytest.mark.parametrize("delta, reason, note, errors", [
    ("0", "received", "", {"delta": "stock_delta_invalid"}),
    ("1.5", "bought", "", {"delta": "stock_delta_invalid", "reason": "stock_reason_invalid"}),
    ("1001", "received", "n" * 201, {"delta": "stock_delta_invalid", "note": "note_too_long"}),
    ("-6", "damaged", "", {"delta": "stock_below_zero"}),
    pytest.param("1", "received", "paid by 4000 0566 5566 5556", {"note": "card_number_in_text"},
                 marks=pytest.mark.clause("PAY-2"), id="card-number-in-the-note"),
])
def test_a_bad_stock_adjustment_changes_nothing(admin, make_product, delta, reason, note, errors):
    reference = make_product(stock=5)
    product_id = _product_id(reference)
    with pytest.raises(CatalogueInvalid) as refused:
        catalogue_admin.adjust_stock(UnitOfWork(), product_id, delta, reason, note, staff=admin)
    assert {name: r.code.value for name, r in refused.value.errors.items()} == errors
    assert stock_of(reference) == 5 and _movements(product_id) == [] and _audit(f"product:{product_id}") == []


def test_the_stock_history_cannot_be_changed_or_deleted(admin, make_product, database):
    product_id = _product_id(make_product())
    catalogue_admin.adjust_stock(UnitOfWork(), product_id, "1", "received", staff=admin)
    movement_id = _movements(product_id)[0].id
    for statement in ("UPDATE stock_movement SET delta = 100 WHERE id = :id", "DELETE FROM stock_movement WHERE id = :id"):
        with pytest.raises(DatabaseError) as caught:
            with database.begin() as conn:
                conn.execute(text(statement), {"id": movement_id})
        assert "append-only" in str(caught.value)
    if database.dialect.name == "postgresql":
        with pytest.raises(DatabaseError):
            with database.begin() as conn:
                conn.execute(text("TRUNCATE stock_movement"))
    assert _movements(product_id)[0].delta == 1


# -- prices and shipping fees ---------------------------------------------------------------------


@pytest.mark.parametrize("currency, amount, code", [
    ("JPY", "2380000.5", "amount_too_precise"),  # no yen decimals
    ("CHF", "12345.655", "amount_too_precise"),
    ("CHF", "0", "amount_not_positive"),
    ("EUR", "-10", "amount_not_positive"),
    ("USD", "99999999", "amount_too_large"),
    ("GBP", "12 thousand", "amount_invalid"),
    ("GBP", "1e5", "amount_invalid"),
])
@pytest.mark.clause("GTC-4.2")
def test_a_price_is_refused_unless_it_fits_the_currency_and_nothing_changes(admin, make_product, currency, amount, code):
    reference = make_product()
    product_id = _product_id(reference)
    with pytest.raises(CatalogueInvalid) as refused:
        catalogue_admin.set_price(UnitOfWork(), product_id, currency, amount, staff=admin)
    assert refused.value.errors[f"price_{currency}"].code.value == code
    with Session(get_engine()) as s:
        assert s.get(ProductPrice, (product_id, currency)).amount_minor == PRICES[currency]
    assert _audit(f"product:{product_id}") == []


@pytest.mark.clause("GTC-4.2")
def test_a_price_is_typed_in_major_units_and_stored_in_minor_units(admin, make_product):
    product_id = _product_id(make_product())
    assert catalogue_admin.set_price(UnitOfWork(), product_id, "CHF", "13,500.50", staff=admin) == 1_350_050
    assert catalogue_admin.set_price(UnitOfWork(), product_id, "JPY", "2500000", staff=admin) == 2_500_000
    prices = {p.currency: p.amount for p in catalogue_admin.product(UnitOfWork(), product_id).prices}
    assert (prices["CHF"], prices["JPY"]) == ("13500.50", "2500000")
    assert [e.after for e in _audit(f"product:{product_id}")] == [{"currency": "CHF", "amount_minor": 1_350_050},
                                                                 {"currency": "JPY", "amount_minor": 2_500_000}]


@pytest.mark.clause("GTC-4.2")
def test_orders_keep_the_prices_and_fee_they_were_placed_at(admin, make_product, place):
    reference = make_product()
    product_id = _product_id(reference)
    placed = place({reference: 1})
    before = order_row(placed.reference)
    fee = shipping_fees.table(Session(get_engine())).row("CH", "CHF").fee_minor

    catalogue_admin.set_price(UnitOfWork(), product_id, "CHF", "20000", staff=admin)
    catalogue_admin.set_shipping_fee(UnitOfWork(), "CH", "CHF", f"{fee / 100 + 5:.2f}", staff=admin)
    try:
        after = order_row(placed.reference)
        with Session(get_engine()) as s:
            line = s.exec(select(OrderLine).where(OrderLine.order_id == after.id)).one()
        assert line.unit_price_minor == PRICES["CHF"]
        assert (after.subtotal_minor, after.shipping_minor, after.total_minor) == (
            before.subtotal_minor, before.shipping_minor, before.total_minor)
        assert before.shipping_minor == fee
        new = checkout.quote_for(UnitOfWork(), {reference: 1}, CHF)  # a new checkout gets the new figures
        assert (new.subtotal.minor, new.shipping.minor) == (2_000_000, fee + 500)
    finally:
        catalogue_admin.set_shipping_fee(UnitOfWork(), "CH", "CHF", f"{fee / 100:.2f}", staff=admin)


@pytest.mark.clause("GTC-4.2")
def test_shipping_fees_are_edited_per_zone_and_currency_audited_and_refused_when_bad(admin):
    rows = {(r.zone, r.currency): r for r in catalogue_admin.shipping_rows(UnitOfWork())}
    assert rows[("WORLD", "JPY")].amount == "22000" and rows[("CH", "CHF")].carrier
    with pytest.raises(CatalogueInvalid) as refused:
        catalogue_admin.set_shipping_fee(UnitOfWork(), "WORLD", "JPY", "22000.5", staff=admin)
    assert refused.value.errors["fee_WORLD_JPY"].code is ErrorCode.AMOUNT_TOO_PRECISE
    with pytest.raises(CatalogueInvalid) as refused:
        catalogue_admin.set_shipping_fee(UnitOfWork(), "MOON", "CHF", "10", staff=admin)
    assert refused.value.errors["zone"].code is ErrorCode.SHIPPING_ZONE_UNKNOWN
    with pytest.raises(CatalogueInvalid):
        catalogue_admin.set_shipping_fee(UnitOfWork(), "WORLD", "JPY", "9000000", staff=admin)
    assert catalogue_admin.set_shipping_fee(UnitOfWork(), "WORLD", "JPY", "23000", staff=admin) == 23000
    try:
        with Session(get_engine()) as s:
            assert s.get(ShippingFee, ("WORLD", "JPY")).fee_minor == 23000
        assert checkout.quote_for(UnitOfWork(), {"VX-1001": 1}, country("JP")).shipping.minor == 23000
        assert _audit("shipping:WORLD:JPY")[-1].after == {"fee_minor": 23000}
    finally:
        catalogue_admin.set_shipping_fee(UnitOfWork(), "WORLD", "JPY", "22000", staff=admin)


@pytest.mark.clause("GTC-4.2")
def test_a_shopper_mid_checkout_sees_the_new_price_and_total_before_confirming(admin, make_product):
    from storefront.state.checkout import CONFIRM, PAY

    reference = make_product()
    state = checkout_tab("vx_sid=" + browser_id.issue())
    at_confirmation(state, reference, datetime.now(timezone.utc))
    shown_total = state.totals.total
    assert shown_total.startswith("CHF")

    catalogue_admin.set_price(UnitOfWork(), _product_id(reference), "CHF", "15000", staff=admin)
    confirm(state)  # confirms what the page showed: refused, and the new figures are on screen

    assert (state.step, state.message_code, state.order_reference) == (CONFIRM, ErrorCode.PRICE_CHANGED.value, "")
    assert state.totals.lines[0].unit_price == _chf(1_500_000) and state.totals.total != shown_total
    assert state.lines[0].unit_price == _chf(1_500_000)
    new_total = state.totals.total

    confirm(state)  # having seen them, the shopper confirms again

    assert state.step == PAY and state.order_reference
    order = order_row(state.order_reference)
    assert _chf(order.total_minor) == new_total
    assert order.subtotal_minor == 1_500_000


@pytest.mark.clause("GTC-4.2")
def test_a_price_changed_while_the_shopper_checks_the_details_is_shown_before_the_terms_step(admin, make_product):
    from storefront.state.checkout import DETAILS, TERMS

    reference = make_product()
    state = checkout_tab("vx_sid=" + browser_id.issue())
    at_confirmation(state, reference, datetime.now(timezone.utc))
    state.go_to(DETAILS)
    catalogue_admin.set_price(UnitOfWork(), _product_id(reference), "CHF", "9999.95", staff=admin)

    state.confirm_details()

    assert (state.step, state.message_code) == (DETAILS, "price_changed")
    assert state.totals.lines[0].unit_price == _chf(999_995)
    state.confirm_details()
    assert state.step == TERMS


def test_a_crafted_confirmation_naming_other_figures_places_no_order(make_product, place):
    reference = make_product()
    with pytest.raises(checkout.CheckoutError) as refused:
        place({reference: 1}, shown_quote="CHF;" + reference + ":1x1;ship=0;vat=0;total=1")
    assert refused.value.code is ErrorCode.PRICE_CHANGED
    assert stock_of(reference) == 5
    with Session(get_engine()) as s:
        assert s.exec(select(func.count()).select_from(Order).join(OrderLine).where(
            OrderLine.reference == reference)).one() == 0


# -- photographs ----------------------------------------------------------------------------------


def test_a_photograph_is_checked_by_content_resized_to_the_shop_sizes_and_shown_at_once(admin, make_product, media):
    reference = make_product()
    product_id = _product_id(reference)
    path = catalogue_admin.add_image(UnitOfWork(), product_id, _png(1400, 1100, "JPEG"), staff=admin)

    assert path.startswith("/api/media/products/") and path.endswith("-960.webp")
    sizes = {}
    for name in sorted(p.name for p in media.iterdir()):
        with Image.open(media / name) as img:
            sizes[name.rsplit("-", 1)[1]] = (img.format, img.size)
    assert sizes == {"480.webp": ("WEBP", (480, 480)), "960.webp": ("WEBP", (960, 960))}
    assert product_images.file_for(path.rsplit("/", 1)[1]) is not None
    assert catalogue.product_detail(UnitOfWork(), reference.lower(), CHF).images == [path]
    card = next(c for c in catalogue.list_products(UnitOfWork(), CHF) if c.reference == reference)
    assert card.image == path.replace("-960.webp", "-480.webp")
    # A phone, where a card is the screen's width, can take the large size; both are served.
    assert card.image_srcset == f'{path.replace("-960.webp", "-480.webp")} 480w, {path} 960w'
    assert catalogue.lead_image(UnitOfWork(), reference.lower()) == path  # in the product page's first HTML
    assert _audit(f"product:{product_id}")[-1].action == "catalogue.add_image"

    catalogue_admin.remove_image(UnitOfWork(), product_id, path, staff=admin)
    assert catalogue.product_detail(UnitOfWork(), reference.lower(), CHF).images == []


@pytest.mark.parametrize("data, code", [
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image_type_invalid"),
    (_png(1200, 1200, "GIF"), "image_type_invalid"),  # a real picture, but not a type the shop takes
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "image_type_invalid"),  # a PNG by its name and first bytes only
    (_png(800, 1200), "image_too_small"),
    (b"\xff" * 8_000_001, "image_too_large"),
])
def test_a_bad_photograph_is_refused_and_nothing_is_stored(admin, make_product, media, data, code):
    product_id = _product_id(make_product())
    with pytest.raises(CatalogueInvalid) as refused:
        catalogue_admin.add_image(UnitOfWork(), product_id, data, staff=admin)
    assert refused.value.errors["image"].code.value == code
    assert not media.exists() or not list(media.iterdir())
    assert _product(product_id).images == [] and _audit(f"product:{product_id}") == []


def test_ids_from_the_browser_that_name_no_product_are_refused(admin):
    for product_id in (0, -1, 2**31, "1", True, None):
        with pytest.raises(ActionRefused) as refused:
            catalogue_admin.set_active(UnitOfWork(), product_id, False, staff=admin)
        assert refused.value.refusal.code is ErrorCode.PRODUCT_NOT_FOUND
    assert catalogue_admin.product(UnitOfWork(), 2**40) is None


@pytest.mark.clause("GTC-4.2")
def test_prices_saved_together_are_all_saved_or_none(admin, make_product):
    product_id = _product_id(make_product())
    with pytest.raises(CatalogueInvalid) as refused:
        catalogue_admin.set_prices(UnitOfWork(), product_id, {"CHF": "15000", "JPY": "2000000.50", "EUR": ""},
                                   staff=admin)
    assert list(refused.value.errors) == ["price_JPY"]
    with Session(get_engine()) as s:
        assert s.get(ProductPrice, (product_id, "CHF")).amount_minor == PRICES["CHF"]
    assert catalogue_admin.set_prices(UnitOfWork(), product_id, {"CHF": "15000", "JPY": "2000000", "EUR": " "},
                                      staff=admin) == {"CHF": 1_500_000, "JPY": 2_000_000}
    with Session(get_engine()) as s:
        assert s.get(ProductPrice, (product_id, "EUR")).amount_minor == PRICES["EUR"]


@pytest.mark.clause("GTC-3.1")
def test_a_watch_withdrawn_while_the_shopper_confirms_is_not_ordered_and_the_checkout_says_so(admin, make_product):
    from storefront.state.checkout import CONFIRM

    reference, other = make_product(), make_product()
    state = checkout_tab("vx_sid=" + browser_id.issue())
    at_confirmation(state, reference, datetime.now(timezone.utc))
    state.cart_json = '{"%s": 1, "%s": 1}' % (reference, other)
    state.load()
    state.go_to(CONFIRM)
    catalogue_admin.set_active(UnitOfWork(), _product_id(reference), False, staff=admin)

    confirm(state)

    assert (state.step, state.message_code, state.order_reference) == (CONFIRM, "product_not_offered", "")
    assert any("no longer offered" in notice for notice in state.notices)
    assert [line.reference for line in state.totals.lines] == [other]
    assert stock_of(reference) == 5
    confirm(state)  # the rest, as now shown
    assert state.order_reference and stock_of(other) == 4 and stock_of(reference) == 5
