"""Countries, the market (currency) each belongs to, and the locale dates and amounts are shown in.

Display rule: text the client reads (pages, emails, documents) is formatted in the language the
text is written in, the page language (`page_language` in rules/markets.toml, English today),
with the delivery country's conventions where Babel's CLDR data has that language for that country,
and the language alone otherwise:

    English, CH -> en_CH   CHF 12’500.00     Wednesday, 6 January 2027
    English, DE -> en_DE   12.500,00 €       Wednesday, 6 January 2027
    English, JP -> en      ¥1,190,000        Wednesday, January 6, 2027   (no en_JP in CLDR)

Amounts keep the delivery market's currency whatever the locale. The delivery country's own
language (de_CH, ja_JP) is never used: it put "Mittwoch" and a full-width yen sign on English
pages. A translated page (roadmap step 6) passes its own language: German for CH gives de_CH.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from babel import localedata

from storefront.rules import load


@dataclass(frozen=True)
class Country:
    code: str
    name: str
    currency: str
    shipping_zone: str
    majority_age: int
    languages: tuple[str, ...]


@lru_cache
def countries() -> tuple[Country, ...]:
    data = load("markets")
    default_age = data["defaults"]["majority_age"]
    return tuple(
        Country(
            code=code,
            name=row["name"],
            currency=row["currency"],
            shipping_zone=row["shipping_zone"],
            majority_age=row.get("majority_age", default_age),
            languages=tuple(row.get("languages", ())),
        )
        for code, row in data["countries"].items()
    )


def country(code: str) -> Country | None:
    code = (code or "").upper()
    return next((c for c in countries() if c.code == code), None)


def page_language() -> str:
    return load("markets")["page_language"]


def display_locale(language: str, country_code: str) -> str:
    """The Babel locale for text in `language` about a delivery to `country_code` (rule above)."""
    code = (country_code or "").upper()
    regional = f"{language}_{code}"
    return regional if code.isalpha() and localedata.exists(regional) else language


def currencies() -> tuple[str, ...]:
    return tuple(dict.fromkeys(c.currency for c in countries()))


def country_from_accept_language(header: str) -> str | None:
    """The first country a browser's Accept-Language names, e.g. 'de-CH,de;q=0.9' -> 'CH'.

    A tag with a region gives that region (even a sanctioned one, so the visitor can be told);
    a bare language ('ja') gives the first market country whose main language it is.
    """
    tags = []
    for part in (header or "").split(","):
        tag, _, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            weight = 0.0
        if tag:
            tags.append((weight, tag.replace("_", "-")))
    for _, tag in sorted(tags, key=lambda t: -t[0]):
        pieces = tag.split("-")
        region = next((p.upper() for p in pieces[1:] if len(p) == 2 and p.isalpha()), None)
        if region:
            return region
        lang = pieces[0].lower()
        match = next((c.code for c in countries() if c.languages and c.languages[0] == lang), None)
        if match:
            return match
    return None
