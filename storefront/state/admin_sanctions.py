"""The sanctions page's state (issue 10 § 3, PAY-7): the list in force, the upload of the OFAC files, and the
orders a re-screening flagged. Thin, like state/admin_outbox.py: checks its input, calls services/sanctions_admin.

The upload handler is reached through Reflex's HTTP upload endpoint by anyone holding a state token, without the
event guard of the socket: `@requires` checks the staff session the tab's socket opened with (a token that never
had a signed-in socket has no staff cookie and is sent to sign in), and the handler checks the files' names, type
and size before reading them into the strict parser.
"""

from __future__ import annotations

import reflex as rx

from storefront.domain.errors import ErrorCode, message
from storefront.services import sanctions_admin
from storefront.services.order_admin import ActionRefused
from storefront.services.sanctions_admin import FlaggedOrder, VersionView
from storefront.services.staff import StaffIdentity
from storefront.services.unit_of_work import UnitOfWork
from storefront.state.admin_auth import AdminState, requires

UPLOAD_ID = "sanctions-files"
NAMES = ("sdn.csv", "alt.csv", "add.csv")
# what browsers send for a .csv file; Windows sends Excel's type when Excel is installed
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
            result = sanctions_admin.import_list(
                UnitOfWork(), staff=staff, sdn=found["sdn.csv"], alt=found.get("alt.csv"), add=found.get("add.csv"),
                published=self.published, via="upload", ip=self._client_ip())
        except ActionRefused as refused:
            self._answer(refused.refusal.code, **refused.refusal.params)
            self._show()
            return rx.clear_selected_files(UPLOAD_ID)
        self._answer(None, f"Imported {result.entry_count} entries (version {result.version_id}); "
                           f"{result.rescreened} open orders screened again, {len(result.flagged)} newly matching.")
        self.published = ""
        self._show()
        return rx.clear_selected_files(UPLOAD_ID)
