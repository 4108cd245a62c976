"""The shipping table checkout quotes from: the `shipping_fee` rows staff edit (GTC-4.2), over the defaults
of rules/shipping.toml.

A zone and currency with a row in the database takes its fee from there; one without keeps the
default, so a database made before the table existed (or not yet seeded) still quotes every market.
The carrier of a zone is configuration, not a price: it stays in rules/shipping.toml.
"""

from __future__ import annotations

from sqlmodel import Session, select

from storefront.adapters.tables import ShippingFee
from storefront.domain.shipping import ShippingRow, ShippingTable, default_table


def table(s: Session) -> ShippingTable:
    defaults = default_table()
    edited = {(row.zone, row.currency): row.fee_minor for row in s.exec(select(ShippingFee)).all()}
    rows = [ShippingRow(r.zone, r.currency, edited.get((r.zone, r.currency), r.fee_minor), r.carrier)
            for r in defaults.rows]
    known = {(r.zone, r.currency) for r in defaults.rows}
    rows += [ShippingRow(zone, currency, fee, defaults.carrier(zone))
             for (zone, currency), fee in sorted(edited.items())
             if (zone, currency) not in known and zone in {r.zone for r in defaults.rows}]
    return ShippingTable(tuple(rows))
