"""Insured-courier shipping fee by zone and currency (GTC-4.1).

The table is built from plain rows so the same code serves the TOML defaults and, later, a table
staff edit in the database. A missing row is an error, not a free shipment: a silent zero would
ship a watch uninsured at the merchant's cost.
"""

from __future__ import annotations

from dataclasses import dataclass

from storefront.domain.money import Money
from storefront.rules import load


class NoShippingRate(LookupError):
    """No fee is configured for this zone and currency; checkout must not quote the order."""


@dataclass(frozen=True)
class ShippingRow:
    zone: str
    currency: str
    fee_minor: int
    carrier: str


@dataclass(frozen=True)
class ShippingTable:
    rows: tuple[ShippingRow, ...]

    def row(self, zone: str, currency: str) -> ShippingRow:
        found = next((r for r in self.rows if r.zone == zone and r.currency == currency), None)
        if found is None:
            raise NoShippingRate(f"No shipping fee configured for zone {zone!r} in {currency}.")
        return found

    def carrier(self, zone: str) -> str:
        found = next((r.carrier for r in self.rows if r.zone == zone), None)
        if found is None:
            raise NoShippingRate(f"No carrier configured for zone {zone!r}.")
        return found


def default_table() -> ShippingTable:
    zones = load("shipping")["zones"]
    return ShippingTable(tuple(
        ShippingRow(zone, currency, int(minor), spec["carrier"])
        for zone, spec in zones.items()
        for currency, minor in spec["fees"].items()
    ))


def shipping_fee(table: ShippingTable, zone: str, currency: str) -> Money:
    return Money(table.row(zone, currency).fee_minor, currency)
