"""Importing the OFAC SDN list as staff work, and what follows from it (issue 10 § 3, PAY-7).

The three published files (`sdn.csv`, `alt.csv`, `add.csv`) are read strictly here, unlike the lenient
reader of the sample (adapters/sanctions_csv.py): every record must have its published number of fields and
a numeric entry number, aliases and addresses must name an entry of sdn.csv, and each file must end with the
DOS end-of-file byte (0x1A) the published files carry, so a download cut short is told from a whole one. The
first faulty line is named in the refusal and nothing changes: the list in force stays.

An accepted import replaces the list, records its version (publication date when given, entry count, who, when,
how) and screens every open order (neither shipped nor cancelled) again against the new list, in ONE
transaction: the list, its version, the orders' new screening and their history are all kept, or none.

What a newly matching order becomes is services/rescreening.py's rule: it stops in compliance review wherever
it stood, and clearing returns it there.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, func
from sqlmodel import Session, select

from storefront.adapters import clock
from storefront.adapters.tables import Order, SanctionsListVersion, SdnEntry as SdnRow, StaffUser
from storefront.domain import screening
from storefront.domain.errors import ErrorCode
from storefront.domain.order_status import OrderStatus
from storefront.services import audit, rescreening
from storefront.services.order_admin import ActionRefused
from storefront.services.staff import StaffIdentity
from storefront.services.unit_of_work import UnitOfWork

EOF_BYTE = "\x1a"
NULL = "-0-"
MAX_FILE_BYTES = 40 * 1024 * 1024  # the published sdn.csv is about 4 MB
FIELDS = {"sdn.csv": 12, "alt.csv": 5, "add.csv": 6}
# flagged by a re-screening and not yet decided: in review, or waiting for the client or the payment that
# sends it there
UNDECIDED = (OrderStatus.AWAITING_CLIENT, OrderStatus.PENDING_PAYMENT, OrderStatus.COMPLIANCE_REVIEW)
ACTION = "sanctions.import"


def _now(at: datetime | None) -> datetime:
    return at or clock.now()


def _stamp(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else ""


def _decode(raw: bytes) -> str:
    for encoding in ("utf-8", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def _cell(value: str) -> str:
    value = value.strip()
    return "" if value == NULL else value


def _records(name: str, raw: bytes) -> list[tuple[int, list[str]]]:
    """(line number, cells) of every record of one file; ActionRefused at the first faulty line."""
    if len(raw) > MAX_FILE_BYTES:
        raise ActionRefused(ErrorCode.SANCTIONS_FILE_TOO_LARGE, file=name, limit=MAX_FILE_BYTES // (1024 * 1024))
    text = _decode(raw).lstrip("\ufeff")
    body = text.rstrip("\r\n \t")
    if not body.strip(EOF_BYTE + "\r\n \t"):
        raise ActionRefused(ErrorCode.SANCTIONS_FILE_EMPTY, file=name)
    if not body.endswith(EOF_BYTE):
        last = body.count("\n") + 1
        raise ActionRefused(ErrorCode.SANCTIONS_FILE_TRUNCATED, file=name, line=last)
    body = body[:-1]
    if EOF_BYTE in body:
        line = body[:body.index(EOF_BYTE)].count("\n") + 1
        raise ActionRefused(ErrorCode.SANCTIONS_FILE_MALFORMED, file=name, line=line,
                            reason="an end-of-file byte in the middle of the file")
    reader = csv.reader(io.StringIO(body, newline=""), strict=True)
    found: list[tuple[int, list[str]]] = []
    line = 0
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            raise ActionRefused(ErrorCode.SANCTIONS_FILE_TRUNCATED if "unexpected end" in str(error)
                                else ErrorCode.SANCTIONS_FILE_MALFORMED,
                                file=name, line=start, reason=str(error)) from None
        line = start
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != FIELDS[name]:
            raise ActionRefused(ErrorCode.SANCTIONS_FILE_MALFORMED, file=name, line=line,
                                reason=f"{len(row)} fields where the published format has {FIELDS[name]}")
        cells = [_cell(cell) for cell in row]
        if not cells[0].isdigit():
            raise ActionRefused(ErrorCode.SANCTIONS_FILE_MALFORMED, file=name, line=line,
                                reason="the entry number is not a number")
        found.append((line, cells))
    return found


@dataclass(frozen=True)
class ParsedList:
    entries: list[screening.SdnEntry]
    addresses: dict[str, list[str]]
    digest: str


def parse_files(sdn: bytes, alt: bytes | None = None, add: bytes | None = None) -> ParsedList:
    """The list the three files describe; ActionRefused naming the file and line of the first fault."""
    digest = hashlib.sha256()
    for raw in (sdn, alt or b"", add or b""):
        digest.update(hashlib.sha256(raw).digest())
    sdn_rows = _records("sdn.csv", sdn)
    known: dict[str, int] = {}
    for line, cells in sdn_rows:
        if not cells[1]:
            raise ActionRefused(ErrorCode.SANCTIONS_FILE_MALFORMED, file="sdn.csv", line=line, reason="no name")
        if cells[0] in known:
            raise ActionRefused(ErrorCode.SANCTIONS_FILE_MALFORMED, file="sdn.csv", line=line,
                                reason=f"entry {cells[0]} listed twice")
        known[cells[0]] = line
    aliases: dict[str, list[tuple[int, str]]] = {}
    for line, cells in _records("alt.csv", alt) if alt else ():
        if cells[0] not in known:
            raise ActionRefused(ErrorCode.SANCTIONS_FILE_MALFORMED, file="alt.csv", line=line,
                                reason=f"entry {cells[0]} is not in sdn.csv")
        if cells[3]:
            aliases.setdefault(cells[0], []).append((int(cells[1]) if cells[1].isdigit() else 0, cells[3]))
    addresses: dict[str, list[str]] = {}
    for line, cells in _records("add.csv", add) if add else ():
        if cells[0] not in known:
            raise ActionRefused(ErrorCode.SANCTIONS_FILE_MALFORMED, file="add.csv", line=line,
                                reason=f"entry {cells[0]} is not in sdn.csv")
        text = ", ".join(part for part in cells[2:5] if part)
        if text:
            addresses.setdefault(cells[0], []).append(text)
    entries = []
    for _line, cells in sdn_rows:
        uid, name, kind, program = cells[:4]
        names = [alias for _, alias in sorted(aliases.get(uid, []))]
        entries.append(screening.SdnEntry(
            uid=uid, name=name, aliases=tuple(dict.fromkeys(a for a in names if a != name)),
            programs="; ".join(p.strip() for p in program.split("] [") if p.strip()),
            kind=kind.casefold() or "entity"))
    return ParsedList(entries, addresses, digest.hexdigest())


def _published(value: str) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise ActionRefused(ErrorCode.SANCTIONS_PUBLISHED_INVALID) from None


@dataclass(frozen=True)
class ImportResult:
    version_id: int
    entry_count: int
    rescreened: int
    flagged: list[str]  # references of the open orders newly matching


def import_list(uow: UnitOfWork, *, staff: StaffIdentity | None, sdn: bytes, alt: bytes | None = None,
                add: bytes | None = None, published: str = "", via: str = "upload", ip: str = "",
                at: datetime | None = None) -> ImportResult:
    """Replace the list in force with the one the files describe, record its version and screen the open
    orders again, in one transaction; a refused import changes nothing and is audited as refused."""
    at = _now(at)
    try:
        published = _published(published)
        parsed = parse_files(sdn, alt, add)
    except ActionRefused as refused:
        audit.record_now(uow, staff=staff, action=ACTION, outcome="failed", subject=f"sanctions:{via}",
                         ip=ip, detail=refused.refusal.code.value, at=at)
        raise
    prepared = screening.prepare(parsed.entries)
    with uow.reading() as s:
        found = rescreening.best_matches(s, prepared)
    with uow:
        s = uow.session
        previous = s.exec(select(SanctionsListVersion).order_by(SanctionsListVersion.id.desc())).first()
        s.exec(delete(SdnRow))
        for e in parsed.entries:
            s.add(SdnRow(uid=e.uid, name=e.name, aliases=list(e.aliases), programs=e.programs, kind=e.kind,
                         addresses=parsed.addresses.get(e.uid, [])))
        version = SanctionsListVersion(
            published=published, entry_count=len(parsed.entries),
            address_count=sum(len(a) for a in parsed.addresses.values()),
            imported_by=staff.staff_id if staff else None, imported_via=via, imported_at=at, digest=parsed.digest)
        s.add(version)
        s.flush()
        rescreened, flagged = rescreening.names_again(s, prepared, version.id, at, found)
        version.rescreened, version.flagged = rescreened, len(flagged)
        s.add(version)
        audit.record(uow, staff=staff, action=ACTION, outcome="done", subject=f"sanctions:{version.id}",
                     before={"version": previous.id, "entries": previous.entry_count} if previous else None,
                     after={"version": version.id, "entries": len(parsed.entries), "published": published,
                            "via": via, "digest": parsed.digest, "rescreened": rescreened,
                            "flagged": len(flagged)}, ip=ip, at=at)
        uow.commit()
    return ImportResult(version.id, len(parsed.entries), rescreened, flagged)


@dataclass(frozen=True)
class VersionView:
    id: int
    published: str
    entry_count: int
    address_count: int
    imported_by: str
    imported_via: str
    imported_at: str
    rescreened: int
    flagged: int


def current_version(uow: UnitOfWork) -> VersionView | None:
    """The list in force: the newest import (None when the list was loaded before versions were kept)."""
    with uow.reading() as s:
        row = s.exec(select(SanctionsListVersion, StaffUser.email).outerjoin(
            StaffUser, StaffUser.id == SanctionsListVersion.imported_by)
            .order_by(SanctionsListVersion.id.desc())).first()
        if row is None:
            return None
        version, email = row
        return VersionView(version.id, version.published or "not given with the files", version.entry_count,
                           version.address_count, email or ("command line" if version.imported_via == "command"
                                                           else "unknown"),
                           version.imported_via, _stamp(version.imported_at), version.rescreened, version.flagged)


def entries_in_force(uow: UnitOfWork) -> int:
    with uow.reading() as s:
        return s.exec(select(func.count()).select_from(SdnRow)).one()


@dataclass(frozen=True)
class FlaggedOrder:
    reference: str
    status: str
    entry: str
    matched_name: str
    score: float
    flagged_at: str


def flagged_orders(uow: UnitOfWork, limit: int = 100) -> list[FlaggedOrder]:
    """Open orders a re-screening (a new list, a new destination) flagged and compliance has not decided."""
    with uow.reading() as s:
        orders = s.exec(select(Order).where(Order.status.in_([st.value for st in UNDECIDED]))
                        .order_by(Order.updated_at.desc()).limit(5000)).all()
        found = []
        for order in orders:
            record = order.screening or {}
            if record.get("found_by") not in ("rescreen", "destination"):
                continue
            entry = str(record.get("entry") or record.get("destination_name") or "")
            matched = str(record.get("matched_name") or (f"{record.get('address', '')} address"
                                                         if record.get("found_by") == "destination" else ""))
            found.append(FlaggedOrder(order.reference, order.status, entry, matched, float(record.get("score") or 0),
                                      str(record.get("rescreened_at") or "")[:16].replace("T", " ")))
            if len(found) >= limit:
                break
        return found


@dataclass(frozen=True)
class MatchedEntry:
    uid: str
    name: str
    aliases: list[str]
    addresses: list[str]
    programs: str
    kind: str
    matched_name: str
    score: str
    verdict: str


def matched_entry(session: Session, order: Order) -> MatchedEntry | None:
    """The SDN entry an order's screening matched, as the list in force holds it (for the compliance reviewer)."""
    record = order.screening or {}
    uid = record.get("entry")
    if not uid:
        return None
    row = session.get(SdnRow, str(uid))
    matched = str(record.get("matched_name") or "")
    score = str(record.get("score") or "")
    verdict = str(record.get("rescreen_verdict") or record.get("verdict") or "")
    if row is None:
        return MatchedEntry(str(uid), "(no longer on the list in force)", [], [], "", "", matched, score, verdict)
    return MatchedEntry(row.uid, row.name, list(row.aliases), list(row.addresses or []), row.programs, row.kind,
                        matched, score, verdict)


def matched_entry_of(uow: UnitOfWork, reference: str) -> MatchedEntry | None:
    """`matched_entry` of the order with `reference`, for the compliance view of the order page."""
    if not isinstance(reference, str) or not reference:
        return None
    with uow.reading() as s:
        order = s.exec(select(Order).where(Order.reference == reference[:32])).first()
        if order is None or (order.screening or {}).get("verdict") not in ("possible", "match"):
            return None
        return matched_entry(s, order)
