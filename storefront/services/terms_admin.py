"""Staff write, edit and publish versions of the terms of sale (GTC-1.4, 2.3; issue 10 section 2).

A draft is a row of `terms_draft`: edited and deleted freely, never public. Publishing copies it into
`terms_version` with the time it takes effect and deletes the draft, in one transaction; from then on the
version can never change (the database refuses UPDATE and DELETE, migration e3f4a5b6c7d8) and it is public,
and the version new orders are placed under, from its effective time (services/terms.py).

Rules, each refused with a code next to its field and nothing saved:
- the label is short and URL-safe (it is the version's address, /terms?version=...) and unique among
  drafts and published versions;
- the body has the form of the published terms: headings (lines starting with #) and their paragraphs,
  no longer than one browser event may carry (rules/events.toml);
- a version takes effect from now on, and after every version already published, so versions take
  effect in the order they were published and a scheduled version is never overtaken by a later one.
Saving, deleting and publishing name the draft's revision: a draft changed by someone else meanwhile is
not overwritten, deleted or published unread. Every action is in the audit log with before and after.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from storefront.adapters import clock
from storefront.adapters.tables import Order, TermsDraft, TermsVersion
from storefront.domain.errors import ErrorCode, Refusal
from storefront.rules import load
from storefront.services import audit
from storefront.services import terms as terms_service
from storefront.services.order_admin import ActionRefused
from storefront.services.row_ids import is_row_id
from storefront.services.seed import terms_hash
from storefront.services.staff import StaffIdentity
from storefront.services.unit_of_work import UnitOfWork
from storefront.settings import get_settings

LABEL = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,19}")
TITLE_MAX = 200


def body_max() -> int:
    """The longest body that can be typed in and sent: the bound on one browser event's text."""
    return int(load("events")["max_text_chars"])


class Status:
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    IN_FORCE = "in force"
    SUPERSEDED = "superseded"


class TermsInvalid(Exception):
    """Input refused field by field ({field name: refusal}); nothing was saved."""

    def __init__(self, errors: dict[str, Refusal]) -> None:
        super().__init__(", ".join(f"{name}: {r.code.value}" for name, r in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class VersionRow:
    """One line of the management page's list: a draft or a published version."""

    kind: str  # "draft" or "published"
    id: int
    version: str
    title: str
    status: str
    effective: str  # in the merchant's time zone; "" for a draft
    orders: int
    public: bool  # readable at /terms?version=...
    changed: str  # a draft's last save, in the merchant's time zone


@dataclass(frozen=True)
class DraftView:
    id: int
    revision: int
    version: str
    title: str
    body: str


def _now(at: datetime | None) -> datetime:
    return at or clock.now()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def merchant_time(moment: datetime) -> str:
    zone = ZoneInfo(get_settings().merchant_timezone)
    return _aware(moment).astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def normalized_body(body: object) -> str:
    """Line ends as \\n, no trailing spaces, no blank lines before or after: what is hashed is what is shown."""
    if not isinstance(body, str):
        return ""
    lines = [line.rstrip() for line in body.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return "\n".join(lines).strip("\n")


def _body_refusal(body: str) -> Refusal | None:
    if len(body) > body_max():
        return Refusal(ErrorCode.TERMS_BODY_TOO_LONG, {"length": f"{len(body):,}", "limit": f"{body_max():,}"})
    lines = [line.strip() for line in body.split("\n") if line.strip()]
    headings = [line for line in lines if line.startswith("#")]
    if not lines or not lines[0].startswith("#") or len(headings) == len(lines) \
            or any(not h.lstrip("#").strip() for h in headings):
        return Refusal(ErrorCode.TERMS_BODY_UNSTRUCTURED)
    return None


def _label_taken(s: Session, version: str, draft_id: int | None) -> bool:
    if s.exec(select(TermsVersion.id).where(TermsVersion.version == version)).first() is not None:
        return True
    found = s.exec(select(TermsDraft.id).where(TermsDraft.version == version)).first()
    return found is not None and found != draft_id


def _checked(s: Session, version: object, title: object, body: object,
             draft_id: int | None = None) -> tuple[str, str, str]:
    """The draft's fields as they will be stored, or TermsInvalid with every field's refusal."""
    label = version.strip() if isinstance(version, str) else ""
    heading = " ".join(title.split()) if isinstance(title, str) else ""
    text_ = normalized_body(body)
    errors: dict[str, Refusal] = {}
    if not LABEL.fullmatch(label):
        errors["version"] = Refusal(ErrorCode.TERMS_LABEL_INVALID)
    elif _label_taken(s, label, draft_id):
        errors["version"] = Refusal(ErrorCode.TERMS_LABEL_TAKEN, {"version": label})
    if not heading or len(heading) > TITLE_MAX:
        errors["title"] = Refusal(ErrorCode.TERMS_TITLE_INVALID, {"limit": TITLE_MAX})
    refusal = _body_refusal(text_)
    if refusal:
        errors["body"] = refusal
    if errors:
        raise TermsInvalid(errors)
    return label, heading, text_


def _summary(version: str, title: str, body: str, revision: int) -> dict:
    """What the audit log keeps of a draft: the label and title, and the body by its hash and length (the
    text itself is kept by the version once published)."""
    return {"version": version, "title": title, "body_sha256": terms_hash(body), "body_chars": len(body),
            "revision": revision}


def _summary_of(row: TermsDraft) -> dict:
    return _summary(row.version, row.title, row.body, row.revision)


def _draft(s: Session, draft_id: object, revision: object) -> TermsDraft:
    row = s.get(TermsDraft, draft_id) if is_row_id(draft_id) else None
    if row is None:
        raise ActionRefused(ErrorCode.TERMS_DRAFT_NOT_FOUND)
    if type(revision) is not int or row.revision != revision:
        raise ActionRefused(ErrorCode.TERMS_DRAFT_CHANGED)
    return row


# -- drafts ---------------------------------------------------------------------------------------


def create_draft(uow: UnitOfWork, *, version: object, title: object, body: object, staff: StaffIdentity,
                 ip: str = "", at: datetime | None = None) -> DraftView:
    at = _now(at)
    with uow:
        s = uow.session
        label, heading, text_ = _checked(s, version, title, body)
        row = TermsDraft(version=label, title=heading, body=text_, revision=1, created_by=staff.staff_id,
                         created_at=at, updated_at=at)
        s.add(row)
        try:
            s.flush()
        except IntegrityError:  # the same label saved by someone else a moment ago
            raise TermsInvalid({"version": Refusal(ErrorCode.TERMS_LABEL_TAKEN, {"version": label})}) from None
        audit.record(s, staff=staff, action="terms.create_draft", outcome="done", subject=f"terms_draft:{row.id}",
                     before=None, after=_summary_of(row), ip=ip, at=at)
        uow.commit()
        return DraftView(row.id, row.revision, row.version, row.title, row.body)


def update_draft(uow: UnitOfWork, draft_id: int, revision: int, *, version: object, title: object, body: object,
                 staff: StaffIdentity, ip: str = "", at: datetime | None = None) -> DraftView:
    """Save the draft as typed; refused if someone saved it since `revision` was read."""
    at = _now(at)
    with uow:
        s = uow.session
        row = _draft(s, draft_id, revision)
        label, heading, text_ = _checked(s, version, title, body, draft_id=row.id)
        if (label, heading, text_) == (row.version, row.title, row.body):
            return DraftView(row.id, row.revision, row.version, row.title, row.body)
        before = _summary_of(row)
        try:
            saved = s.exec(update(TermsDraft).where(TermsDraft.id == row.id, TermsDraft.revision == revision)
                           .values(version=label, title=heading, body=text_, revision=revision + 1,
                                   updated_at=at)).rowcount
        except IntegrityError:
            raise TermsInvalid({"version": Refusal(ErrorCode.TERMS_LABEL_TAKEN, {"version": label})}) from None
        if saved != 1:
            raise ActionRefused(ErrorCode.TERMS_DRAFT_CHANGED)
        audit.record(s, staff=staff, action="terms.edit_draft", outcome="done", subject=f"terms_draft:{row.id}",
                     before=before, after=_summary(label, heading, text_, revision + 1), ip=ip, at=at)
        uow.commit()
        return DraftView(row.id, revision + 1, label, heading, text_)


def delete_draft(uow: UnitOfWork, draft_id: int, revision: int, *, staff: StaffIdentity, ip: str = "",
                 at: datetime | None = None) -> None:
    at = _now(at)
    with uow:
        s = uow.session
        row = _draft(s, draft_id, revision)
        before = _summary_of(row)
        gone = s.exec(delete(TermsDraft).where(TermsDraft.id == row.id, TermsDraft.revision == revision)).rowcount
        if gone != 1:
            raise ActionRefused(ErrorCode.TERMS_DRAFT_CHANGED)
        audit.record(s, staff=staff, action="terms.delete_draft", outcome="done", subject=f"terms_draft:{row.id}",
                     before=before, after=None, ip=ip, at=at)
        uow.commit()


# -- publishing -----------------------------------------------------------------------------------


def _latest(s: Session) -> TermsVersion | None:
    return s.exec(select(TermsVersion).order_by(TermsVersion.published_at.desc(), TermsVersion.id.desc())).first()


def publish(uow: UnitOfWork, draft_id: int, revision: int, *, effective_at: datetime | None, immediately: bool = False,
            staff: StaffIdentity, ip: str = "", at: datetime | None = None) -> TermsVersion:
    """GTC-1.4: the draft, exactly as saved at `revision`, becomes a version that takes effect at
    `effective_at` (now, if `immediately`). From then on it never changes, stays readable at its address,
    and is the version new orders are placed under until a later one takes effect; a client who ticked the
    earlier one must accept it before confirming (services/checkout.py, state/checkout.py)."""
    at = _now(at)
    if immediately:
        effective_at = at.replace(microsecond=0)
    elif effective_at is None:
        raise TermsInvalid({"effective_at": Refusal(ErrorCode.TERMS_EFFECTIVE_INVALID)})
    elif _aware(effective_at) < at:
        raise TermsInvalid({"effective_at": Refusal(ErrorCode.TERMS_EFFECTIVE_PAST)})
    effective_at = _aware(effective_at).astimezone(timezone.utc)
    with uow:
        s = uow.session
        if s.get_bind().dialect.name == "postgresql":
            # two publications at once must not both pass the "after the latest version" check; readers go on
            s.exec(text("LOCK TABLE terms_version IN SHARE ROW EXCLUSIVE MODE"))
        row = _draft(s, draft_id, revision)
        latest = _latest(s)
        if latest is not None and effective_at <= _aware(latest.published_at):
            raise TermsInvalid({"effective_at": Refusal(ErrorCode.TERMS_EFFECTIVE_BEFORE_LATEST, {
                "version": latest.version, "effective": merchant_time(latest.published_at)})})
        before = _summary_of(row)
        version = TermsVersion(version=row.version, title=row.title, body=row.body, content_hash=terms_hash(row.body),
                               published_at=effective_at)
        if s.exec(delete(TermsDraft).where(TermsDraft.id == row.id, TermsDraft.revision == revision)).rowcount != 1:
            raise ActionRefused(ErrorCode.TERMS_DRAFT_CHANGED)
        s.add(version)
        try:
            s.flush()
        except IntegrityError:
            raise ActionRefused(ErrorCode.TERMS_LABEL_TAKEN, version=row.version) from None
        audit.record(s, staff=staff, action="terms.publish", outcome="done", subject=f"terms:{version.version}",
                     before=before, after={"version_id": version.id, "version": version.version,
                                           "effective_at": effective_at.isoformat(),
                                           "content_hash": version.content_hash},
                     ip=ip, at=at)
        uow.commit()
        return version


# -- reading --------------------------------------------------------------------------------------


def orders_per_version(uow: UnitOfWork) -> dict[int, int]:
    """GTC-2.3: how many orders were placed under (accepted) each version."""
    with uow.reading() as s:
        return {vid: count for vid, count in s.exec(
            select(Order.terms_version_id, func.count(Order.id)).group_by(Order.terms_version_id)).all()}


def versions(uow: UnitOfWork, at: datetime | None = None) -> list[VersionRow]:
    """Drafts (latest saved first), then every published version, the latest effective first."""
    at = _now(at)
    counts = orders_per_version(uow)
    with uow.reading() as s:
        drafts = s.exec(select(TermsDraft).order_by(TermsDraft.updated_at.desc(), TermsDraft.id.desc())).all()
        published = s.exec(select(TermsVersion).order_by(TermsVersion.published_at.desc(),
                                                         TermsVersion.id.desc())).all()
    rows = [VersionRow("draft", d.id, d.version, d.title, Status.DRAFT, "", 0, False, merchant_time(d.updated_at))
            for d in drafts]
    in_force = next((v.id for v in published if _aware(v.published_at) <= at), None)
    for v in published:
        started = _aware(v.published_at) <= at
        status = Status.SCHEDULED if not started else Status.IN_FORCE if v.id == in_force else Status.SUPERSEDED
        rows.append(VersionRow("published", v.id, v.version, v.title, status, merchant_time(v.published_at),
                               counts.get(v.id, 0), started, ""))
    return rows


def draft(uow: UnitOfWork, draft_id: object) -> DraftView | None:
    with uow.reading() as s:
        row = s.get(TermsDraft, draft_id) if is_row_id(draft_id) else None
        return DraftView(row.id, row.revision, row.version, row.title, row.body) if row else None


def draft_preview(found: DraftView) -> terms_service.TermsView:
    return terms_service.text_view(found.id, found.version, found.title, "never: a draft", terms_hash(found.body),
                                   found.body)


def version_preview(uow: UnitOfWork, version_id: object) -> terms_service.TermsView | None:
    """A published version as clients read it, also before it takes effect (staff only)."""
    with uow.reading() as s:
        row = s.get(TermsVersion, version_id) if is_row_id(version_id) else None
    if row is None:
        return None
    return terms_service.text_view(row.id, row.version, row.title, merchant_time(row.published_at), row.content_hash,
                                   row.body)


def new_draft_text(uow: UnitOfWork) -> tuple[str, str]:
    """(title, body) a new draft starts from: the latest published version's, so staff change what changes."""
    with uow.reading() as s:
        latest = _latest(s)
    return (latest.title, latest.body) if latest else ("", "")
