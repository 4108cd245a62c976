"""The terms versions page's state (issue 10 section 2, GTC-1.4): the list of versions, the draft form,
publishing. Thin, like state/admin.py: each handler checks its input and calls services/terms_admin.py;
the permission decorator guards every one."""

from __future__ import annotations

from typing import Any

import reflex as rx

from storefront.domain.errors import ErrorCode, message
from storefront.services import terms_admin
from storefront.services.order_admin import ActionRefused
from storefront.services.staff import StaffIdentity
from storefront.services.terms import TermsView
from storefront.services.terms_admin import DraftView, TermsInvalid, VersionRow
from storefront.services.unit_of_work import UnitOfWork
from storefront.state.admin import _merchant_time as merchant_time
from storefront.state.admin_auth import AdminState, requires

FIELDS = ("version", "title", "body", "effective_at")


def _blank_errors() -> dict[str, str]:
    return {name: "" for name in FIELDS}


class AdminTermsState(AdminState):
    rows: list[VersionRow] = []
    editing_id: int = 0  # the draft in the form; 0 for a new one
    editing_revision: int = 0
    form_version: str = ""
    form_title: str = ""
    form_body: str = ""
    form_key: int = 0  # a new value re-creates the form with the values above (its fields keep what is typed)
    field_errors: dict[str, str] = _blank_errors()
    preview: TermsView | None = None
    notice: str = ""
    notice_code: str = ""

    def _answer(self, code: ErrorCode | None, done: str = "", **params: object) -> None:
        self.notice_code = code.value if code else "done"
        self.notice = message(code, **params) if code else done

    def _list(self) -> None:
        self.rows = terms_admin.versions(UnitOfWork())

    def _fill(self, found: DraftView | None) -> None:
        """The form shows `found` (and its preview), or a new draft starting from the latest published text."""
        if found is None:
            title, body = terms_admin.new_draft_text(UnitOfWork())
            self.editing_id, self.editing_revision = 0, 0
            self.form_version, self.form_title, self.form_body = "", title, body
            self.preview = None
        else:
            self.editing_id, self.editing_revision = found.id, found.revision
            self.form_version, self.form_title, self.form_body = found.version, found.title, found.body
            self.preview = terms_admin.draft_preview(found)
        self.field_errors = _blank_errors()
        self.form_key += 1

    def _refused(self, refused: ActionRefused) -> None:
        self._answer(refused.refusal.code, **refused.refusal.params)
        if refused.refusal.code in (ErrorCode.TERMS_DRAFT_NOT_FOUND, ErrorCode.TERMS_DRAFT_CHANGED):
            # Someone else saved, published or deleted the draft: the form keeps what was typed, while the
            # preview and the revision follow the draft as saved now, so the next click acts on what is shown.
            found = terms_admin.draft(UnitOfWork(), self.editing_id) if self.editing_id else None
            self.editing_id, self.editing_revision = (found.id, found.revision) if found else (0, 0)
            self.preview = terms_admin.draft_preview(found) if found else None
        self._list()

    def _invalid(self, invalid: TermsInvalid) -> None:
        self.field_errors = {**_blank_errors(), **{name: r.message for name, r in invalid.errors.items()}}
        self._answer(ErrorCode.FIELDS_INVALID)

    @rx.event
    @requires("terms.manage")
    def load(self, staff: StaffIdentity):
        self.notice, self.notice_code = "", ""
        self._list()
        self._fill(terms_admin.draft(UnitOfWork(), self.editing_id) if self.editing_id else None)

    @rx.event
    @requires("terms.manage")
    def new_draft(self, staff: StaffIdentity):
        self.notice, self.notice_code = "", ""
        self._fill(None)

    @rx.event
    @requires("terms.manage")
    def edit_draft(self, draft_id: int, staff: StaffIdentity):
        found = terms_admin.draft(UnitOfWork(), draft_id)
        if found is None:
            self._answer(ErrorCode.TERMS_DRAFT_NOT_FOUND)
            self._list()
            return
        self.notice, self.notice_code = "", ""
        self._fill(found)

    @rx.event
    @requires("terms.manage")
    def save_draft(self, form_data: dict[str, Any], staff: StaffIdentity):
        if not isinstance(form_data, dict):
            return
        fields = {name: form_data.get(name) for name in ("version", "title", "body")}
        try:
            if self.editing_id:
                saved = terms_admin.update_draft(UnitOfWork(), self.editing_id, self.editing_revision, **fields,
                                                 staff=staff, ip=self._client_ip())
            else:
                saved = terms_admin.create_draft(UnitOfWork(), **fields, staff=staff, ip=self._client_ip())
        except TermsInvalid as invalid:
            self._invalid(invalid)
            return
        except ActionRefused as refused:
            self._refused(refused)
            return
        self._fill(saved)
        self._answer(None, f"Draft {saved.version} saved. Read it below, then publish it when it is ready.")
        self._list()

    @rx.event
    @requires("terms.manage")
    def delete_draft(self, staff: StaffIdentity):
        if not self.editing_id:
            self._answer(ErrorCode.TERMS_DRAFT_NOT_FOUND)
            return
        try:
            terms_admin.delete_draft(UnitOfWork(), self.editing_id, self.editing_revision, staff=staff,
                                     ip=self._client_ip())
        except ActionRefused as refused:
            self._refused(refused)
            return
        version = self.form_version
        self._fill(None)
        self._answer(None, f"Draft {version} deleted.")
        self._list()

    @rx.event
    @requires("terms.manage")
    def publish(self, form_data: dict[str, Any], staff: StaffIdentity):
        """The saved draft (the revision previewed on the page) takes effect at the time entered, in the
        merchant's time zone, or immediately."""
        if not isinstance(form_data, dict):
            return
        if not self.editing_id:
            self._answer(ErrorCode.TERMS_DRAFT_NOT_FOUND)
            return
        immediately = form_data.get("immediately") in ("on", "true", True)
        try:
            version = terms_admin.publish(UnitOfWork(), self.editing_id, self.editing_revision,
                                          effective_at=merchant_time(form_data.get("effective_at")),
                                          immediately=immediately, staff=staff, ip=self._client_ip())
        except TermsInvalid as invalid:
            self._invalid(invalid)
            return
        except ActionRefused as refused:
            self._refused(refused)
            return
        self._fill(None)
        self.preview = terms_admin.version_preview(UnitOfWork(), version.id)
        self._answer(None, f"Version {version.version} is published; it takes effect on "
                           f"{terms_admin.merchant_time(version.published_at)} and can no longer be changed.")
        self._list()

    @rx.event
    @requires("terms.manage")
    def preview_version(self, version_id: int, staff: StaffIdentity):
        """A published version as clients read it, also a scheduled one before it is public."""
        found = terms_admin.version_preview(UnitOfWork(), version_id)
        if found is None:
            self._answer(ErrorCode.TERMS_VERSION_NOT_FOUND)
            return
        self.notice, self.notice_code = "", ""
        self.preview = found
