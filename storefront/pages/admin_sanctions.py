"""The sanctions list on the management page (issue 10 § 3, PAY-7): the version in force, the import of the
published OFAC files, and the open orders a re-screening flagged that could not enter the compliance queue."""

from __future__ import annotations

import reflex as rx

from storefront import routes
from storefront.components.admin_layout import admin_frame, data_table, field_row
from storefront.pages.admin import admin_page
from storefront.services.sanctions_admin import FlaggedOrder
from storefront.state.admin_sanctions import UPLOAD_ID, AdminSanctionsState

COLUMNS = ("Order", "Status", "Matched entry", "Listed name", "Score", "Flagged")


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


@admin_page(routes.ADMIN_SANCTIONS, "Sanctions", [AdminSanctionsState.load])
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
        rx.text("Open orders a new list matched whose status cannot go back to compliance review (awaiting approval, "
                "approved, partly shipped): review them before approving or shipping.", size="2"),
        data_table(COLUMNS, rx.foreach(s.flagged, flagged_row)),
    )
