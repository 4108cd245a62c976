"""The catalogue on the management page (issue 10 section 1; GTC-3.1, 3.3, 4.2): every watch with its state,
one watch's form, prices per market, photographs, stock and its history, and the shipping fees per zone.
Forms show only for a role that may use them (the server refuses every other click anyway)."""

from __future__ import annotations

import reflex as rx

from storefront import routes
from storefront.components.admin_layout import admin_frame, data_table, field_row
from storefront.pages.admin import admin_page
from storefront.services.catalogue_admin import FeeRow, MovementView, PriceRow, ProductRow
from storefront.state.admin_catalogue import UPLOAD_ID, AdminCatalogueState

COLUMNS = ("Reference", "Name", "Collection", "Offered", "Stock", "Limit per order", "Not priced in", "")
HISTORY = ("When", "Change", "Stock after", "Reason", "Note", "By")
S = AdminCatalogueState


def _field_error(name: str) -> rx.Component:
    text = S.field_errors[name]
    return rx.cond(text != "", rx.text(text, color_scheme="red", size="2", role="alert", id=f"error-{name}",
                                       class_name="field-error"))


def product_row(row: ProductRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.reference), rx.table.cell(row.name), rx.table.cell(row.collection),
        rx.table.cell(rx.badge(rx.cond(row.active, "offered", "withdrawn"),
                               color_scheme=rx.cond(row.active, "green", "gray"))),
        rx.table.cell(row.stock.to_string(), class_name="stock"),
        rx.table.cell(row.max_per_order.to_string()),
        rx.table.cell(row.missing_prices.join(", ")),
        rx.table.cell(rx.button("Open", on_click=S.open_product(row.id), size="2", variant="soft",
                                class_name="open-product")),
        class_name="product-row", data_reference=row.reference,
    )


def _input(label: str, name: str, **props) -> rx.Component:
    return rx.fragment(field_row(label, rx.input(name=name, id=f"product-{name}", default_value=S.form[name],
                                                 **props)),
                       _field_error(name))


def product_form() -> rx.Component:
    return rx.card(
        rx.form(
            rx.flex(
                rx.heading(rx.cond(S.editing_id != 0, "Watch " + S.form["reference"], "New watch"), as_="h2",
                           size="4", id="product-heading"),
                rx.cond(S.editing_id == 0, _input("Reference (never changes: it is on every order)", "reference",
                                                  max_length=40, width="12rem")),
                _input("Name", "name", max_length=160),
                field_row("Collection", rx.el.select(
                    rx.el.option("Choose…", value=""),
                    rx.foreach(S.collections, lambda c: rx.el.option(c[1], value=c[0])),
                    name="collection", id="product-collection", default_value=S.form["collection"])),
                _field_error("collection"),
                _input("Case material", "case_material", max_length=200),
                _input("Diameter (mm)", "diameter_mm", max_length=5, width="8rem"),
                _input("Movement", "movement", max_length=200),
                _input("Water resistance (m)", "water_resistance_m", max_length=6, width="8rem"),
                field_row("Description", rx.text_area(name="description", id="product-description",
                                                      default_value=S.form["description"], rows="5",
                                                      max_length=4000)),
                _field_error("description"),
                _input("Limit per order (GTC-3.3)", "max_per_order", max_length=3, width="8rem"),
                rx.flex(rx.button(rx.cond(S.editing_id != 0, "Save", "Create"), type="submit", id="save-product",
                                  size="3"),
                        rx.button("New watch", type="button", on_click=S.new_product, variant="ghost",
                                  id="new-product"),
                        spacing="3", align="center"),
                direction="column", spacing="2",
            ),
            on_submit=S.save_product, reset_on_submit=False, key=S.form_key.to_string(),
        ),
        id="product-form",
    )


def offer_card() -> rx.Component:
    p = S.product
    return rx.card(rx.flex(
        rx.badge(rx.cond(p.active, "Offered on the shop", "Withdrawn"), color_scheme=rx.cond(p.active, "green", "gray"),
                 id="product-state", size="2"),
        rx.cond(p.active,
                rx.button("Withdraw from sale", on_click=S.set_active(False), color_scheme="red", variant="soft",
                          id="withdraw-product"),
                rx.button("Offer on the shop", on_click=S.set_active(True), color_scheme="green",
                          id="offer-product")),
        rx.link("Shop page", href="/watch/" + p.slug, id="shop-page", is_external=True),
        spacing="4", align="center", wrap="wrap",
    ))


def _price(row: PriceRow) -> rx.Component:
    error = S.field_errors["price_" + row.currency]
    return rx.flex(
        field_row(row.currency, rx.input(name="price_" + row.currency, id="price-" + row.currency,
                                         default_value=row.amount, max_length=20, width="12rem")),
        rx.text(row.shown, size="2", color_scheme="gray"),
        rx.cond(error != "", rx.text(error, color_scheme="red", size="2", role="alert", id="error-price-" + row.currency,
                                     class_name="field-error")),
        direction="column", spacing="1",
    )


def prices_form() -> rx.Component:
    return rx.card(rx.form(
        rx.flex(
            rx.heading("Prices per market", as_="h2", size="4"),
            rx.text("In major units of each currency (12500.00 CHF, 1850000 JPY: yen have no decimals). A change "
                    "applies to new checkouts; orders keep the prices they were placed at, and a shopper in the "
                    "middle of checkout is shown the new price before confirming.", size="2"),
            rx.grid(rx.foreach(S.product.prices, _price), columns=rx.breakpoints(initial="1", md="3"), spacing="3"),
            rx.button("Save prices", type="submit", id="save-prices", width="fit-content"),
            direction="column", spacing="3",
        ),
        on_submit=S.save_prices, reset_on_submit=False, key=S.form_key.to_string(),
    ), id="prices-form")


def images_card() -> rx.Component:
    return rx.card(rx.flex(
        rx.heading("Photographs", as_="h2", size="4"),
        rx.flex(rx.foreach(S.product.images, lambda src: rx.flex(
            rx.image(src=src, alt="", width="120px", height="120px"),
            rx.button("Remove", on_click=S.remove_image(src), size="1", variant="soft", color_scheme="red",
                      class_name="remove-image"),
            direction="column", spacing="1", align="center", class_name="product-image")),
            spacing="3", wrap="wrap"),
        rx.text("PNG, JPEG or WebP, at least 960 x 960 pixels, at most 8 MB; cropped square and resized for the "
                "shop's pages.", size="2"),
        rx.upload(rx.text("Drop a photograph here, or click to choose one"), id=UPLOAD_ID, multiple=False,
                  max_files=1, accept={"image/png": [".png"], "image/jpeg": [".jpg", ".jpeg"],
                                       "image/webp": [".webp"]},
                  border="1px dashed var(--gray-7)", padding="1.5rem"),
        rx.text(rx.selected_files(UPLOAD_ID).join(", "), size="2", id="image-selected"),
        _field_error("image"),
        rx.button("Upload", id="upload-image", width="fit-content",
                  on_click=S.upload_image(rx.upload_files(upload_id=UPLOAD_ID))),
        direction="column", spacing="3",
    ), id="images-card")


def stock_form() -> rx.Component:
    return rx.card(rx.form(
        rx.flex(
            rx.heading("Adjust the stock", as_="h2", size="4"),
            field_row("Units (e.g. 3 received, -1 sent to the workshop)",
                      rx.input(name="delta", id="stock-delta", max_length=6, width="8rem")),
            _field_error("delta"),
            field_row("Reason", rx.el.select(rx.el.option("Choose…", value=""),
                                             rx.foreach(S.reasons, lambda r: rx.el.option(r, value=r)),
                                             name="reason", id="stock-reason")),
            _field_error("reason"),
            field_row("Note (optional)", rx.input(name="note", id="stock-note", max_length=200)),
            _field_error("note"),
            rx.button("Adjust", type="submit", id="adjust-stock", width="fit-content"),
            direction="column", spacing="2",
        ),
        on_submit=S.adjust_stock, reset_on_submit=True, key=S.form_key.to_string(),
    ), id="stock-form")


def _movement(m: MovementView) -> rx.Component:
    return rx.table.row(rx.table.cell(m.at), rx.table.cell(m.delta), rx.table.cell(m.stock_after.to_string()),
                        rx.table.cell(m.reason), rx.table.cell(m.note), rx.table.cell(m.by),
                        class_name="movement-row")


def _fee(row: FeeRow) -> rx.Component:
    name = "fee_" + row.zone + "_" + row.currency
    return rx.table.row(
        rx.table.cell(row.zone), rx.table.cell(row.carrier), rx.table.cell(row.currency),
        rx.table.cell(rx.cond(
            S.granted.contains("catalogue.manage"),
            rx.input(name=name, id="fee-" + row.zone + "-" + row.currency, default_value=row.amount, max_length=20,
                     width="10rem"),
            rx.text(row.shown))),
        rx.table.cell(S.field_errors[name], color="var(--red-11)", class_name="field-error"),
        class_name="fee-row",
    )


def fees_card() -> rx.Component:
    return rx.card(rx.form(
        rx.flex(
            rx.heading("Shipping fees (insured courier)", as_="h2", size="4"),
            rx.text("Per zone and currency, in major units. A change applies to new checkouts; orders keep the fee "
                    "they were placed with.", size="2"),
            data_table(("Zone", "Carrier", "Currency", "Fee", ""), rx.foreach(S.fees, _fee)),
            _field_error("zone"),
            rx.cond(S.granted.contains("catalogue.manage"),
                    rx.button("Save shipping fees", type="submit", id="save-fees", width="fit-content")),
            direction="column", spacing="3",
        ),
        on_submit=S.save_fees, reset_on_submit=False, key=S.form_key.to_string(),
    ), id="fees-card")


@admin_page(routes.ADMIN_CATALOGUE, "Catalogue", [AdminCatalogueState.load])
def catalogue() -> rx.Component:
    manage = S.granted.contains("catalogue.manage")
    return admin_frame(
        AdminCatalogueState,
        rx.heading("Catalogue", as_="h1", size="6"),
        rx.cond(S.notice != "", rx.callout(S.notice, id="catalogue-notice", data_code=S.notice_code, role="status",
                                           color_scheme=rx.cond(S.notice_code == "done", "green", "red"))),
        rx.cond(S.granted.contains("orders.view"), rx.flex(
            data_table(COLUMNS, rx.foreach(S.rows, product_row)),
            rx.cond(manage, product_form()),
            rx.cond(S.product, rx.flex(
                rx.cond(manage, rx.flex(offer_card(), prices_form(), images_card(), direction="column", spacing="4")),
                rx.card(rx.flex(
                    rx.heading("Stock: ", rx.text.span(S.product.stock.to_string(), id="product-stock"), as_="h2",
                               size="4"),
                    rx.cond(S.granted.contains("stock.adjust"), stock_form()),
                    data_table(HISTORY, rx.foreach(S.product.movements, _movement)),
                    direction="column", spacing="3"), id="stock-card"),
                direction="column", spacing="4",
            )),
            fees_card(),
            direction="column", spacing="4",
        )),
    )
