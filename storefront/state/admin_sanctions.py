"""The sanctions page's state (issue 10 § 3, PAY-7): the list in force, the upload of the OFAC files, the
orders a re-screening flagged, and the sanctioned destinations. Thin, like state/admin_outbox.py: checks its
input, calls services/sanctions_admin and services/destinations_admin.

The upload handler is reached through Reflex's HTTP upload endpoint by anyone holding a state token, without the
event guard of the socket: `@requires` checks the staff session the tab's socket opened with (a token that never
had a signed-in socket has no staff cookie and is sent to sign in), and the handler checks the files' names, type
and size before reading them into the strict parser.
"""

from __future__ import annotations

import asyncio
from typing import Any

import reflex as rx

from storefront.domain.errors import ErrorCode, message
from storefront.services import destinations_admin, sanctions_admin
from storefront.services.destinations_admin import DestinationView
from storefront.services.order_admin import ActionRefused
from storefront.services.row_ids import is_row_id
from storefront.services.sanctions_admin import FlaggedOrder, VersionView
from storefront.services.staff import StaffIdentity
from storefront.services.unit_of_work import UnitOfWork
from storefront.state.admin_auth import AdminState, requires

UPLOAD_ID = "sanctions-files"
NAMES = ("sdn.csv", "alt.csv", "add.csv")
# what browsers send for a .csv file; Windows sends Excel's type when Excel is installed
DESTINATION_FIELDS = ("country", "region", "name", "programme", "postal_prefixes", "places")
CONTENT_TYPES = frozenset({"", "text/csv", "text/plain", "application/csv", "application/vnd.ms-excel",
                           "application/octet-stream"})


def _text(value: object, limit: int) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


class AdminSanctionsState(AdminState):
    version: VersionView | None = None
    entries: int = 0
    flagged: list[FlaggedOrder] = []
    published: str = ""
    notice: str = ""
    notice_code: str = ""

    def _show(self) -> None:
        self.version = sanctions_admin.current_version(UnitOfWork())
        self.entries = sanctions_admin.entries_in_force(UnitOfWork())
        self.flagged = sanctions_admin.flagged_orders(UnitOfWork())

    def _answer(self, code: ErrorCode | None, done: str = "", **params: object) -> None:
        self.notice_code = code.value if code else "done"
        self.notice = message(code, **params) if code else done

    @rx.event
    @requires("compliance.review")
    def load(self, staff: StaffIdentity):
        self.notice, self.notice_code = "", ""
        self._show()

    @rx.event
    @requires("sanctions.import")
    def set_published(self, value: str, staff: StaffIdentity):
        self.published = _text(value, 10)

    @rx.event
    @requires("sanctions.import")
    async def import_files(self, files: list[rx.UploadFile], staff: StaffIdentity):
        found: dict[str, bytes] = {}
        try:
            if not isinstance(files, list) or not files or len(files) > len(NAMES):
                raise ActionRefused(ErrorCode.SANCTIONS_FILE_MISSING)
            for upload in files:
                name = (upload.name or "").rsplit("/", 1)[-1].casefold()
                kind = (upload.headers.get("content-type", "") if upload.headers else "").split(";")[0].strip()
                if name not in NAMES or name in found or kind.casefold() not in CONTENT_TYPES:
                    raise ActionRefused(ErrorCode.SANCTIONS_FILE_UNKNOWN, file=name[:40] or "a file without a name")
                if upload.size is not None and upload.size > sanctions_admin.MAX_FILE_BYTES:
                    raise ActionRefused(ErrorCode.SANCTIONS_FILE_TOO_LARGE, file=name,
                                        limit=sanctions_admin.MAX_FILE_BYTES // (1024 * 1024))
                raw = await upload.read(sanctions_admin.MAX_FILE_BYTES + 1)
                if b"\x00" in raw[:4096]:  # a binary file (a spreadsheet, an archive), not the published text
                    raise ActionRefused(ErrorCode.SANCTIONS_FILE_UNKNOWN, file=name)
                found[name] = raw
            if "sdn.csv" not in found:
                raise ActionRefused(ErrorCode.SANCTIONS_FILE_MISSING)
            # parsing a full list and screening every open order against it takes seconds: off the event loop, so
            # the worker keeps answering every other tab meanwhile
            result = await asyncio.to_thread(
                sanctions_admin.import_list, UnitOfWork(), staff=staff, sdn=found["sdn.csv"], alt=found.get("alt.csv"),
                add=found.get("add.csv"), published=self.published, via="upload", ip=self._client_ip())
        except ActionRefused as refused:
            self._answer(refused.refusal.code, **refused.refusal.params)
            self._show()
            return rx.clear_selected_files(UPLOAD_ID)
        self._answer(None, f"Imported {result.entry_count} entries (version {result.version_id}); "
                           f"{result.rescreened} open orders screened again, {len(result.flagged)} newly matching.")
        self.published = ""
        self._show()
        return rx.clear_selected_files(UPLOAD_ID)


class AdminDestinationsState(AdminState):
    """The sanctioned destinations on the same page: listed for the compliance reviewer, changed by
    `sanctions.destinations` through services/destinations_admin (validation, re-screening, audit)."""

    rows: list[DestinationView] = []
    editing: int = 0  # the row the form changes; 0: the form adds a row
    field_errors: dict[str, str] = {}
    notice: str = ""
    notice_code: str = ""

    def _show(self) -> None:
        self.rows = destinations_admin.listing(UnitOfWork())

    def _answer(self, code: ErrorCode | None, done: str = "", **params: object) -> None:
        self.notice_code = code.value if code else "done"
        self.notice = message(code, **params) if code else done

    def _fill(self, row: DestinationView | None) -> list:
        values = {"country": row.country, "region": row.region, "name": row.name, "programme": row.programme,
                  "postal_prefixes": row.postal_prefixes, "places": row.places} if row else {}
        return [rx.set_value(f"destination-{field}", values.get(field, "")) for field in DESTINATION_FIELDS]

    @rx.event
    @requires("compliance.review")
    def load(self, staff: StaffIdentity):
        self.editing, self.field_errors, self.notice, self.notice_code = 0, {}, "", ""
        self._show()

    @rx.event
    @requires("sanctions.destinations")
    def edit(self, destination_id: int, staff: StaffIdentity):
        self.field_errors, self.notice, self.notice_code = {}, "", ""
        self._show()
        row = next((r for r in self.rows if is_row_id(destination_id) and r.id == destination_id), None)
        if row is None:
            self._answer(ErrorCode.DESTINATION_NOT_FOUND)
            return
        self.editing = row.id
        return self._fill(row)

    @rx.event
    @requires("sanctions.destinations")
    def new(self, staff: StaffIdentity):
        self.editing, self.field_errors, self.notice, self.notice_code = 0, {}, "", ""
        return self._fill(None)

    @rx.event
    @requires("sanctions.destinations")
    async def save(self, form_data: dict[str, Any], staff: StaffIdentity):
        self.field_errors, self.notice, self.notice_code = {}, "", ""
        if not isinstance(form_data, dict):
            return
        form = {field: _text(form_data.get(field), destinations_admin.FORM_LIMIT) for field in DESTINATION_FIELDS}
        try:
            saved = destinations_admin.save(UnitOfWork(), self.editing or None, staff=staff, ip=self._client_ip(),
                                            **form)
        except ActionRefused as refused:
            field = destinations_admin.field_of(refused.refusal)
            if field:
                self.field_errors = {field: refused.refusal.message}
            else:
                self._answer(refused.refusal.code, **refused.refusal.params)
            self._show()
            return
        self._answer(None, f"Saved. From the next checkout no delivery or billing address there is accepted; "
                           f"{saved.rescreened} open orders screened again, {len(saved.flagged)} newly stopped for "
                           f"compliance review.")
        self.editing = 0
        self._show()
        (await self.get_state(AdminSanctionsState)).flagged = sanctions_admin.flagged_orders(UnitOfWork())
        return self._fill(None)

    @rx.event
    @requires("sanctions.destinations")
    def remove(self, destination_id: int, staff: StaffIdentity):
        self.field_errors, self.notice, self.notice_code = {}, "", ""
        try:
            destinations_admin.remove(UnitOfWork(), destination_id, staff=staff, ip=self._client_ip())
        except ActionRefused as refused:
            self._answer(refused.refusal.code, **refused.refusal.params)
        else:
            self._answer(None, "Removed: addresses there are accepted again from the next checkout. Orders it "
                               "stopped stay in compliance review until decided.")
            if self.editing == destination_id:
                self.editing = 0
        self._show()
