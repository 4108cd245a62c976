"""Orders exported as CSV (issue 10 § 6): the current filter of the order list, through a short-lived link.

The order list asks for a link (`export_link`): the filter travels in it, signed with the application secret
under a salt and bound to the staff session that asked, and it lasts `LINK_AGE`. The download route
(http_admin.py) checks the staff cookie again, that the link was issued to that very session and is still
fresh, and the role: `orders.view` for the columns of the list, and the client's name, email and phone only for
a role with `customers.view_personal_data` (then the email filter applies too). Every download is audited as
`orders.export` (a personal-data export when those columns are in it), with the row count and the filter's
non-personal fields. Cells a spreadsheet would read as a formula are quoted (CSV injection).
"""

from __future__ import annotations

import base64
import csv
import io
import json
from dataclasses import asdict
from datetime import date, datetime, timedelta

from sqlmodel import select

from storefront.adapters import clock
from storefront.adapters import signing
from storefront.adapters.tables import Order
from storefront.domain.errors import ErrorCode
from storefront.domain.staff import Outcome, allowed
from storefront.services import admin_orders, audit
from storefront.services.admin_orders import OrderFilters
from storefront.services.staff import StaffError, StaffIdentity
from storefront.services.unit_of_work import UnitOfWork
from storefront.settings import get_settings

SALT = "orders-export"
LINK_AGE = timedelta(minutes=5)
PATH = "/api/admin/orders.csv"
BATCH = 500
MAX_ROWS = 100_000  # a bound on one file; a larger export asks for a narrower filter
COLUMNS = ("reference", "placed_at_utc", "status", "country", "total", "channel")
PERSONAL_COLUMNS = ("full_name", "email", "phone")


def _now(at: datetime | None) -> datetime:
    return at or clock.now()


def _encode(session_id: int, filters: OrderFilters) -> str:
    data = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(filters).items()}
    raw = json.dumps([session_id, data], separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(value: str) -> tuple[int, OrderFilters]:
    try:
        session_id, data = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
        day = lambda text: date.fromisoformat(text) if text else None  # noqa: E731
        filters = OrderFilters(status=str(data["status"]), country=str(data["country"]),
                               reference=str(data["reference"]), email=str(data["email"]),
                               placed_from=day(data["placed_from"]), placed_to=day(data["placed_to"]),
                               sort=str(data["sort"]))
        return int(session_id), filters
    except (ValueError, TypeError, KeyError, json.JSONDecodeError) as exc:
        raise StaffError(ErrorCode.EXPORT_LINK_INVALID) from exc


def export_link(filters: OrderFilters, *, staff: StaffIdentity, at: datetime | None = None) -> str:
    """The download address for `filters`, valid `LINK_AGE` and only for the session of `staff`."""
    value = _encode(staff.session_id, filters)
    token = signing.sign(value, secret=get_settings().secret_key, salt=SALT, at=_now(at))
    return f"{PATH}?v={value}&t={token}"


def read_link(value: object, token: object, *, staff: StaffIdentity, at: datetime | None = None) -> OrderFilters:
    """The filter a link carries, if it is genuine, fresh and was issued to this session; else a StaffError."""
    if not isinstance(value, str) or not isinstance(token, str) or len(value) > 4000 or len(token) > 200:
        raise StaffError(ErrorCode.EXPORT_LINK_INVALID)
    try:
        genuine = signing.check(value, token, secret=get_settings().secret_key, salt=SALT, max_age=LINK_AGE,
                                at=_now(at))
    except signing.Expired as exc:
        raise StaffError(ErrorCode.EXPORT_LINK_EXPIRED, minutes=int(LINK_AGE.total_seconds() // 60)) from exc
    if not genuine:
        raise StaffError(ErrorCode.EXPORT_LINK_INVALID)
    session_id, filters = _decode(value)
    if session_id != staff.session_id or session_id <= 0:
        raise StaffError(ErrorCode.EXPORT_LINK_INVALID)
    return filters


def _cell(value: object) -> str:
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def orders_csv(uow: UnitOfWork, filters: OrderFilters, *, staff: StaffIdentity, ip: str = "",
               at: datetime | None = None) -> str:
    """The CSV of the orders `filters` select, audited; personal columns only for a role allowed them."""
    at = _now(at)
    if not allowed(staff.role, "orders.view"):
        audit.record_now(uow, staff=staff, action="orders.export", outcome=Outcome.REFUSED, subject="orders_export",
                         ip=ip, detail="forbidden", at=at)
        raise StaffError(ErrorCode.STAFF_FORBIDDEN)
    personal = allowed(staff.role, "customers.view_personal_data")
    if not personal:
        filters = OrderFilters(filters.status, filters.country, filters.reference, "", filters.placed_from,
                               filters.placed_to, filters.sort)
    rows: list[admin_orders.OrderRow] = []
    cursor = ""
    while len(rows) < MAX_ROWS:
        page = admin_orders.order_page(uow, filters, cursor, limit=BATCH)
        rows.extend(page.rows)
        cursor = page.next_cursor
        if not cursor:
            break
    rows = rows[:MAX_ROWS]
    people: dict[str, tuple[str, str, str]] = {}
    if personal and rows:
        with uow.reading() as s:
            references = [r.reference for r in rows]
            for start in range(0, len(references), BATCH):
                chunk = references[start:start + BATCH]
                for reference, name, email, phone in s.exec(select(Order.reference, Order.full_name, Order.email,
                                                                   Order.phone)
                                                             .where(Order.reference.in_(chunk))).all():
                    people[reference] = (name, email, phone)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS + (PERSONAL_COLUMNS if personal else ()))
    for r in rows:
        cells = [r.reference, r.placed_at, r.status, r.country, r.total, r.channel]
        if personal:
            cells += list(people.get(r.reference, ("", "", "")))
        writer.writerow([_cell(c) for c in cells])
    shown = {"status": filters.status, "country": filters.country, "reference": filters.reference,
             "placed_from": filters.placed_from.isoformat() if filters.placed_from else "",
             "placed_to": filters.placed_to.isoformat() if filters.placed_to else "", "sort": filters.sort,
             "by_email": bool(filters.email)}
    with uow:
        audit.record(uow, staff=staff, action="orders.export", outcome=Outcome.DONE, subject="orders_export",
                     after={"rows": len(rows), "personal_data": personal, "filter": shown}, ip=ip,
                     detail="personal_data" if personal else "no_personal_data", at=at)
        uow.commit()
    return out.getvalue()


def filename(at: datetime | None = None) -> str:
    return f"orders-{_now(at).strftime('%Y%m%d-%H%M')}.csv"
