"""The sanctions list on the management page (issue 10 § 3, PAY-7): the version in force, the import of the
published OFAC files, the open orders a re-screening flagged, and the sanctioned destinations compliance keeps."""

from __future__ import annotations

import reflex as rx

from storefront import routes
from storefront.components.admin_layout import admin_frame, data_table, field_row
from storefront.pages.admin import admin_page
from storefront.services.destinations_admin import DestinationView
from storefront.services.sanctions_admin import FlaggedOrder
from storefront.state.admin_sanctions import UPLOAD_ID, AdminDestinationsState, AdminSanctionsState

COLUMNS = ("Order", "Status", "Matched entry", "Listed name", "Score", "Flagged")
DESTINATION_COLUMNS = ("Country", "Region", "Name", "Programme", "Postcode prefixes", "Place names", "")


def flagged_row(row: FlaggedOrder) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(row.reference, href="/admin/orders/" + row.reference)),
        rx.table.cell(row.status), rx.table.cell(row.entry), rx.table.cell(row.matched_name),
        rx.table.cell(row.score), rx.table.cell(row.flagged_at),
        class_name="flagged-row",
    )


def version_card() -> rx.Component:
    v = AdminSanctionsState.version
    return rx.card(
        rx.cond(
            v,
            rx.flex(
                rx.text("List in force: version ", v.id, size="3", weight="medium"),
                rx.text("Published: ", v.published, size="2"),
                rx.text(v.entry_count, " entries, ", v.address_count, " addresses", size="2", id="sanctions-count"),
                rx.text("Imported by ", v.imported_by, " (", v.imported_via, ") on ", v.imported_at, size="2",
                        id="sanctions-imported"),
                rx.text(v.rescreened, " open orders screened again, ", v.flagged, " newly matching", size="2"),
                direction="column", spacing="1",
            ),
            rx.text("The list in force (", AdminSanctionsState.entries,
                    " entries) was loaded before versions were kept: import the published files.", size="2"),
        ),
        id="sanctions-version",
    )


def destination_row(row: DestinationView) -> rx.Component:
    d = AdminDestinationsState
    return rx.table.row(
        rx.table.cell(row.country_name, " (", row.country, ")"), rx.table.cell(row.region),
        rx.table.cell(row.name), rx.table.cell(rx.text(row.programme, size="1")),
        rx.table.cell(row.postal_prefixes), rx.table.cell(row.place_count),
        rx.table.cell(rx.cond(
            d.granted.contains("sanctions.destinations"),
            rx.flex(rx.button("Change", on_click=d.edit(row.id), size="2", variant="soft", class_name="edit-destination"),
                    rx.button("Remove", on_click=d.remove(row.id), size="2", color_scheme="red", variant="soft",
                              class_name="remove-destination"),
                    spacing="2"),
        )),
        class_name="destination-row", data_country=row.country, data_region=row.region,
    )


def destination_field(label: str, name: str, control: rx.Component) -> rx.Component:
    error = AdminDestinationsState.field_errors.get(name, "")
    return rx.box(field_row(label, control),
                  rx.cond(error != "", rx.text(error, color_scheme="red", size="2", role="alert",
                                               id=f"destination-error-{name}")))


def destination_form() -> rx.Component:
    d = AdminDestinationsState
    return rx.form(
        rx.flex(
            rx.heading(rx.cond(d.editing != 0, "Change the destination", "Add a destination"), as_="h3", size="3"),
            rx.flex(
                destination_field("Country (ISO code, e.g. CU)", "country",
                                  rx.input(name="country", id="destination-country", max_length=2, required=True)),
                destination_field("Region (ISO 3166-2, e.g. UA-43; empty: the whole country)", "region",
                                  rx.input(name="region", id="destination-region", max_length=10)),
                spacing="3", wrap="wrap",
            ),
            destination_field("Name", "name", rx.input(name="name", id="destination-name", max_length=120,
                                                       required=True)),
            destination_field("Sanctions programme", "programme",
                              rx.text_area(name="programme", id="destination-programme", max_length=1000, rows="2")),
            destination_field("Postcode prefixes (digits, separated by commas)", "postal_prefixes",
                              rx.input(name="postal_prefixes", id="destination-postal_prefixes")),
            destination_field("Place names (towns and the region's names in any script, separated by commas)",
                              "places", rx.text_area(name="places", id="destination-places", rows="3")),
            rx.flex(
                rx.button(rx.cond(d.editing != 0, "Save the change", "Add"), type="submit", id="destination-save"),
                rx.cond(d.editing != 0, rx.button("Cancel", type="button", variant="soft", on_click=d.new)),
                spacing="2",
            ),
            direction="column", spacing="3",
        ),
        on_submit=d.save, reset_on_submit=False, id="destination-form",
    )


def destinations_section() -> rx.Component:
    d = AdminDestinationsState
    return rx.flex(
        rx.heading("Sanctioned destinations", as_="h2", size="4"),
        rx.text("No delivery to these places and no billing address in them (PAY-7). A change applies to the next "
                "checkout at once; adding or changing a row screens every open order's addresses again, and an order "
                "delivered or billed there stops in compliance review.", size="2"),
        rx.cond(d.notice != "", rx.callout(d.notice, id="destinations-notice", data_code=d.notice_code, role="status",
                                           color_scheme=rx.cond(d.notice_code == "done", "green", "red"))),
        data_table(DESTINATION_COLUMNS, rx.foreach(d.rows, destination_row)),
        rx.cond(d.granted.contains("sanctions.destinations"), rx.card(destination_form())),
        direction="column", spacing="3", id="destinations",
    )


@admin_page(routes.ADMIN_SANCTIONS, "Sanctions", [AdminSanctionsState.load, AdminDestinationsState.load])
def sanctions() -> rx.Component:
    s = AdminSanctionsState
    return admin_frame(
        AdminSanctionsState,
        rx.heading("Sanctions list (OFAC SDN)", as_="h1", size="6"),
        rx.cond(s.notice != "", rx.callout(s.notice, id="sanctions-notice", data_code=s.notice_code, role="status",
                                           color_scheme=rx.cond(s.notice_code == "done", "green", "red"))),
        version_card(),
        rx.cond(
            s.granted.contains("sanctions.import"),
            rx.card(
                rx.flex(
                    rx.heading("Import the published files", as_="h2", size="4"),
                    rx.text("sdn.csv with alt.csv and add.csv, as downloaded from OFAC. A malformed or truncated file "
                            "is refused with the line that failed and the list in force stays; after an import every "
                            "open order is screened again.", size="2"),
                    field_row("Publication date (YYYY-MM-DD, if known)",
                              rx.input(name="published", id="sanctions-published", max_length=10,
                                       on_blur=s.set_published)),
                    rx.upload(
                        rx.text("Drop sdn.csv, alt.csv and add.csv here, or click to choose them"),
                        id=UPLOAD_ID, multiple=True, max_files=3, accept={"text/csv": [".csv"]},
                        border="1px dashed var(--gray-7)", padding="1.5rem",
                    ),
                    rx.text(rx.selected_files(UPLOAD_ID).join(", "), size="2", id="sanctions-selected"),
                    rx.button("Import", id="sanctions-import",
                              on_click=s.import_files(rx.upload_files(upload_id=UPLOAD_ID))),
                    direction="column", spacing="3",
                ),
            ),
        ),
        rx.heading("Flagged by re-screening", as_="h2", size="4"),
        rx.text("Open orders a new list or destination matched, not yet decided: they wait in compliance review, where "
                "nothing approves or ships them (an order not yet paid goes there once paid). Clearing one returns it "
                "to where it stood.", size="2"),
        data_table(COLUMNS, rx.foreach(s.flagged, flagged_row)),
        destinations_section(),
    )
