"""The catalogue page's state (issue 10 section 1; GTC-3.1, 3.3, 4.2): the list of watches, one watch's form,
its prices, photographs and stock history, and the shipping fees. Thin, like state/admin_terms.py: each handler
checks its input and calls services/catalogue_admin.py; the permission decorator guards every one.

Reading the catalogue needs `orders.view` (every staff role: references, names, prices and stock are no one's
personal data, and fulfilment needs the page for stock); changing it needs `catalogue.manage`, adjusting the
stock `stock.adjust`.

The upload handler is reached through Reflex's HTTP upload endpoint by anyone holding a state token, without the
event guard of the socket: `@requires` checks the staff session the tab's socket opened with, and the handler
reads at most the size limit (plus one byte) before the service checks the content.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from storefront.domain.errors import ErrorCode, Refusal, message
from storefront.domain.markets import currencies
from storefront.domain.shipping import default_table
from storefront.rules import load as load_rules
from storefront.services import catalogue_admin
from storefront.services.catalogue_admin import CatalogueInvalid, FeeRow, ProductEdit, ProductRow
from storefront.services.order_admin import ActionRefused
from storefront.services.staff import StaffIdentity
from storefront.services.unit_of_work import UnitOfWork
from storefront.state.admin_auth import AdminState, requires

UPLOAD_ID = "product-image"
ERROR_FIELDS = (*catalogue_admin.FORM_FIELDS, "image", "delta", "reason", "note", "currency", "zone")


def _blank_errors() -> dict[str, str]:
    return ({name: "" for name in ERROR_FIELDS} | {f"price_{cur}": "" for cur in currencies()}
            | {f"fee_{row.zone}_{row.currency}": "" for row in default_table().rows})


def _blank_form() -> dict[str, str]:
    return {name: "" for name in catalogue_admin.FORM_FIELDS} | {"max_per_order": "1"}


class AdminCatalogueState(AdminState):
    rows: list[ProductRow] = []
    collections: list[list[str]] = []
    reasons: list[str] = []
    fees: list[FeeRow] = []
    editing_id: int = 0  # the watch in the form; 0 for a new one
    product: ProductEdit | None = None
    form: dict[str, str] = _blank_form()
    form_key: int = 0  # a new value re-creates the forms with the values above
    field_errors: dict[str, str] = _blank_errors()
    notice: str = ""
    notice_code: str = ""

    def _answer(self, code: ErrorCode | None, done: str = "", **params: object) -> None:
        self.notice_code = code.value if code else "done"
        self.notice = message(code, **params) if code else done

    def _show(self) -> None:
        self.rows = catalogue_admin.products(UnitOfWork())
        self.fees = catalogue_admin.shipping_rows(UnitOfWork())
        self.product = catalogue_admin.product(UnitOfWork(), self.editing_id) if self.editing_id else None
        if self.product is None:
            self.editing_id = 0
        self.form = dict(self.product.form) if self.product else _blank_form()
        self.form_key += 1

    def _invalid(self, invalid: CatalogueInvalid) -> None:
        errors = {name: r.message for name, r in invalid.errors.items()}
        self.field_errors = {**_blank_errors(), **errors}
        self._answer(ErrorCode.FIELDS_INVALID)

    def _refused(self, refused: ActionRefused) -> None:
        self._answer(refused.refusal.code, **refused.refusal.params)
        self._show()

    def _clear(self) -> None:
        self.notice, self.notice_code = "", ""
        self.field_errors = _blank_errors()

    @rx.event
    @requires("orders.view")
    def load(self, staff: StaffIdentity):
        self._clear()
        self.collections = catalogue_admin.collection_choices(UnitOfWork())
        self.reasons = catalogue_admin.adjustment_reasons()
        self._show()

    @rx.event
    @requires("orders.view")
    def open_product(self, product_id: int, staff: StaffIdentity):
        if catalogue_admin.product(UnitOfWork(), product_id) is None:
            self._answer(ErrorCode.PRODUCT_NOT_FOUND)
            return
        self._clear()
        self.editing_id = product_id
        self._show()

    @rx.event
    @requires("catalogue.manage")
    def new_product(self, staff: StaffIdentity):
        self._clear()
        self.editing_id = 0
        self._show()

    @rx.event
    @requires("catalogue.manage")
    def save_product(self, form_data: dict[str, Any], staff: StaffIdentity):
        if not isinstance(form_data, dict):
            return
        fields = {name: form_data.get(name) for name in catalogue_admin.FORM_FIELDS}
        # what was typed stays in the form whatever the answer
        self.form = {name: value if isinstance(value, str) else "" for name, value in fields.items()}
        try:
            if self.editing_id:
                catalogue_admin.update_product(UnitOfWork(), self.editing_id, fields, staff=staff,
                                               ip=self._client_ip())
                done = "Saved. The shop shows the change at once."
            else:
                self.editing_id = catalogue_admin.create_product(UnitOfWork(), fields, staff=staff,
                                                                 ip=self._client_ip())
                done = ("Created, not yet offered: give it a price in every currency, photographs and stock, "
                        "then offer it.")
        except CatalogueInvalid as invalid:
            self._invalid(invalid)
            return
        except ActionRefused as refused:
            self._refused(refused)
            return
        self._clear()
        self._answer(None, done)
        self._show()

    @rx.event
    @requires("catalogue.manage")
    def set_active(self, active: bool, staff: StaffIdentity):
        if not isinstance(active, bool) or not self.editing_id:
            self._answer(ErrorCode.PRODUCT_NOT_FOUND if isinstance(active, bool) else ErrorCode.INVALID_REQUEST)
            return
        try:
            catalogue_admin.set_active(UnitOfWork(), self.editing_id, active, staff=staff, ip=self._client_ip())
        except ActionRefused as refused:
            self._refused(refused)
            return
        self._clear()
        self._answer(None, "Offered on the shop from now on." if active else
                     "Withdrawn: no longer listed or orderable; carts holding it are told.")
        self._show()

    @rx.event
    @requires("catalogue.manage")
    def save_prices(self, form_data: dict[str, Any], staff: StaffIdentity):
        if not isinstance(form_data, dict) or not self.editing_id:
            self._answer(ErrorCode.PRODUCT_NOT_FOUND)
            return
        amounts = {cur: form_data.get(f"price_{cur}", "") for cur in currencies()}
        try:
            saved = catalogue_admin.set_prices(UnitOfWork(), self.editing_id, amounts, staff=staff,
                                               ip=self._client_ip())
        except CatalogueInvalid as invalid:
            self._invalid(invalid)
            return
        except ActionRefused as refused:
            self._refused(refused)
            return
        self._clear()
        self._answer(None, f"Prices saved ({', '.join(saved) or 'none changed'}); new checkouts use them, "
                           "orders keep theirs.")
        self._show()

    @rx.event
    @requires("catalogue.manage")
    def save_fees(self, form_data: dict[str, Any], staff: StaffIdentity):
        if not isinstance(form_data, dict):
            return
        amounts = {f"{row.zone}:{row.currency}": form_data.get(f"fee_{row.zone}_{row.currency}", "")
                   for row in catalogue_admin.shipping_rows(UnitOfWork())}
        try:
            catalogue_admin.set_shipping_fees(UnitOfWork(), amounts, staff=staff, ip=self._client_ip())
        except CatalogueInvalid as invalid:
            self._invalid(invalid)
            return
        self._clear()
        self._answer(None, "Shipping fees saved; new checkouts use them, orders keep theirs.")
        self._show()

    @rx.event
    @requires("stock.adjust")
    def adjust_stock(self, form_data: dict[str, Any], staff: StaffIdentity):
        if not isinstance(form_data, dict) or not self.editing_id:
            self._answer(ErrorCode.PRODUCT_NOT_FOUND)
            return
        try:
            after = catalogue_admin.adjust_stock(UnitOfWork(), self.editing_id, form_data.get("delta"),
                                                 form_data.get("reason"), form_data.get("note", ""), staff=staff,
                                                 ip=self._client_ip())
        except CatalogueInvalid as invalid:
            self._invalid(invalid)
            return
        except ActionRefused as refused:
            self._refused(refused)
            return
        self._clear()
        self._answer(None, f"Stock is now {after}.")
        self._show()

    @rx.event
    @requires("catalogue.manage")
    def remove_image(self, image: str, staff: StaffIdentity):
        if not self.editing_id:
            self._answer(ErrorCode.PRODUCT_NOT_FOUND)
            return
        try:
            catalogue_admin.remove_image(UnitOfWork(), self.editing_id, image, staff=staff, ip=self._client_ip())
        except ActionRefused as refused:
            self._refused(refused)
            return
        self._clear()
        self._answer(None, "Photograph removed.")
        self._show()

    @rx.event
    @requires("catalogue.manage")
    async def upload_image(self, files: list[rx.UploadFile], staff: StaffIdentity):
        limit = int(load_rules("catalogue")["images"]["max_bytes"])
        try:
            if not self.editing_id:
                raise ActionRefused(ErrorCode.PRODUCT_NOT_FOUND)
            if not isinstance(files, list) or len(files) != 1:
                raise CatalogueInvalid({"image": Refusal(ErrorCode.IMAGE_TYPE_INVALID)})
            upload = files[0]
            if upload.size is not None and upload.size > limit:
                raise CatalogueInvalid({"image": Refusal(ErrorCode.IMAGE_TOO_LARGE,
                                                                         {"limit": limit // 1_000_000})})
            data = await upload.read(limit + 1)
            catalogue_admin.add_image(UnitOfWork(), self.editing_id, data, staff=staff, ip=self._client_ip())
        except CatalogueInvalid as invalid:
            self._invalid(invalid)
            return rx.clear_selected_files(UPLOAD_ID)
        except ActionRefused as refused:
            self._refused(refused)
            return rx.clear_selected_files(UPLOAD_ID)
        self._clear()
        self._answer(None, "Photograph added; the shop shows it at once.")
        self._show()
        return rx.clear_selected_files(UPLOAD_ID)
