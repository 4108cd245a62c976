"""Terms of sale on the management page (issue 10 section 2, GTC-1.4): every version with its status and the
number of orders that accepted it, the draft form, publishing with an effective time, and a preview that
shows the text as clients will read it."""

from __future__ import annotations

import reflex as rx

from storefront import routes
from storefront.components.admin_layout import admin_frame, data_table, field_row
from storefront.components.terms_text import terms_text
from storefront.pages.admin import admin_page
from storefront.services.terms_admin import TITLE_MAX, VersionRow, body_max
from storefront.settings import get_settings
from storefront.state.admin_terms import AdminTermsState

COLUMNS = ("Version", "Title", "Status", "Takes effect", "Orders", "")


def _field_error(name: str) -> rx.Component:
    text = AdminTermsState.field_errors[name]
    return rx.cond(text != "", rx.text(text, color_scheme="red", size="2", role="alert", id=f"error-{name}",
                                       class_name="field-error"))


def version_row(row: VersionRow) -> rx.Component:
    s = AdminTermsState
    return rx.table.row(
        rx.table.cell(row.version), rx.table.cell(row.title),
        rx.table.cell(rx.badge(row.status, color_scheme=rx.match(row.status, ("in force", "green"),
                                                                 ("scheduled", "amber"), ("draft", "blue"), "gray"))),
        rx.table.cell(rx.cond(row.kind == "draft", "saved " + row.changed, row.effective)),
        rx.table.cell(rx.cond(row.kind == "draft", "—", row.orders.to_string()), class_name="orders-count"),
        rx.table.cell(rx.cond(
            row.kind == "draft",
            rx.button("Edit", on_click=s.edit_draft(row.id), size="2", variant="soft", class_name="edit-draft"),
            rx.flex(rx.button("Read", on_click=s.preview_version(row.id), size="2", variant="soft",
                              class_name="read-version"),
                    rx.cond(row.public, rx.link("Public page", href=routes.TERMS + "?version=" + row.version,
                                                class_name="public-version")),
                    spacing="3", align="center"),
        )),
        class_name="terms-row", data_version=row.version, data_status=row.status,
    )


def draft_form() -> rx.Component:
    s = AdminTermsState
    return rx.card(
        rx.form(
            rx.flex(
                rx.heading(rx.cond(s.editing_id != 0, "Draft " + s.form_version, "New draft"), as_="h2", size="4",
                           id="draft-heading"),
                field_row("Version label (its address: /terms?version=…)",
                          rx.input(name="version", id="terms-label", default_value=s.form_version, max_length=20,
                                   width="12rem")),
                _field_error("version"),
                field_row("Title", rx.input(name="title", id="terms-title", default_value=s.form_title,
                                            max_length=TITLE_MAX)),
                _field_error("title"),
                field_row("Text: a line starting with # is a heading, every other line a paragraph",
                          rx.text_area(name="body", id="terms-body", default_value=s.form_body, rows="18",
                                       max_length=body_max(), style={"fontFamily": "monospace"})),
                _field_error("body"),
                rx.flex(
                    rx.button("Save draft", type="submit", id="save-draft", size="3"),
                    rx.cond(s.editing_id != 0, rx.button("Delete draft", type="button", on_click=s.delete_draft,
                                                         color_scheme="red", variant="soft", id="delete-draft")),
                    rx.button("New draft", type="button", on_click=s.new_draft, variant="ghost", id="new-draft"),
                    spacing="3", align="center", wrap="wrap",
                ),
                direction="column", spacing="2",
            ),
            on_submit=s.save_draft, reset_on_submit=False, key=s.form_key.to_string(),
        ),
        id="draft-form",
    )


def publish_form() -> rx.Component:
    s = AdminTermsState
    return rx.card(
        rx.form(
            rx.flex(
                rx.heading("Publish draft " + s.form_version, as_="h2", size="4"),
                rx.text("What is published is the draft as saved, shown below (revision ",
                        s.editing_revision.to_string(), "); save your changes first. A published version can never "
                        "be changed or withdrawn. From the time it takes effect it is public and every new order is "
                        "placed under it; a client in the middle of checkout must accept it before confirming.",
                        size="2"),
                field_row(f"Takes effect at ({get_settings().merchant_timezone} time)",
                          rx.input(name="effective_at", id="terms-effective", type="datetime-local", width="16rem")),
                rx.el.label(rx.el.input(type="checkbox", name="immediately", id="terms-immediately"),
                            " Immediately", style={"display": "flex", "gap": "0.5rem", "alignItems": "center"}),
                _field_error("effective_at"),
                rx.button("Publish", type="submit", id="publish-terms", size="3", color_scheme="amber",
                          width="fit-content"),
                direction="column", spacing="2",
            ),
            on_submit=s.publish, reset_on_submit=False, key=s.form_key.to_string(),
        ),
        id="publish-form",
    )


@admin_page(routes.ADMIN_TERMS, "Terms of sale", [AdminTermsState.load])
def terms_versions() -> rx.Component:
    s = AdminTermsState
    return admin_frame(
        AdminTermsState,
        rx.heading("Terms of sale", as_="h1", size="6"),
        rx.cond(s.notice != "", rx.callout(s.notice, id="terms-notice", data_code=s.notice_code, role="status",
                                           color_scheme=rx.cond(s.notice_code == "done", "green", "red"))),
        # Nothing to fill in for a role the server refuses (it would refuse every click anyway).
        rx.cond(s.granted.contains("terms.manage"), rx.flex(
            data_table(COLUMNS, rx.foreach(s.rows, version_row)),
            draft_form(),
            rx.cond(s.editing_id != 0, publish_form()),
            rx.cond(s.preview, rx.card(terms_text(s.preview), id="terms-preview")),
            direction="column", spacing="4",
        )),
    )
