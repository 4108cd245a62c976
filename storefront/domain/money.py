"""Money as integer minor units of an ISO 4217 currency; never a float.

The exponent comes from Babel's CLDR data (JPY has none, CHF and EUR have two), so amounts
cross to Stripe unchanged and are formatted by Babel in a display locale (page language, delivery
country: `storefront.domain.markets.display_locale`), never in the delivery country's own language.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel import Locale
from babel.numbers import format_currency, get_currency_precision


def exponent(currency: str) -> int:
    return get_currency_precision(currency)


@dataclass(frozen=True, order=True)
class Money:
    minor: int
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.minor, int) or isinstance(self.minor, bool):
            raise TypeError(f"Money needs integer minor units, got {self.minor!r}")
        if len(self.currency) != 3 or not self.currency.isupper():
            raise ValueError(f"Not an ISO 4217 code: {self.currency!r}")

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def from_decimal(cls, amount: Decimal | str | int, currency: str) -> Money:
        """Major units (e.g. Decimal('12.50') CHF) to minor units, rounding half up to the exponent."""
        scaled = Decimal(amount).scaleb(exponent(currency)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        return cls(int(scaled), currency)

    def to_decimal(self) -> Decimal:
        return Decimal(self.minor).scaleb(-exponent(self.currency))

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money) or other.currency != self.currency:
            raise ValueError(f"Cannot combine {self.currency} with {getattr(other, 'currency', other)!r}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor - other.minor, self.currency)

    def __mul__(self, quantity: int) -> Money:
        if not isinstance(quantity, int) or isinstance(quantity, bool):
            raise TypeError("Money can only be multiplied by an integer quantity")
        return Money(self.minor * quantity, self.currency)

    __rmul__ = __mul__

    def format(self, locale: str) -> str:
        """Babel formatting in `locale`, a display locale; the result may contain non-breaking spaces (U+00A0, U+202F)."""
        return format_currency(self.to_decimal(), self.currency, locale=_locale(locale))


@lru_cache(maxsize=256)
def _locale(identifier: str) -> Locale:
    """Babel parses a locale name anew on every call; pages format a dozen amounts per event in a few locales.
    A Locale is CLDR data, the same in every process, so keeping it here holds no shop data."""
    return Locale.parse(identifier)


def total(amounts: list[Money], currency: str) -> Money:
    result = Money.zero(currency)
    for amount in amounts:
        result = result + amount
    return result
