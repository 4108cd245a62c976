"""Idempotent seed of the demo shop: inserts what is missing, never overwrites what staff changed."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from decimal import Decimal
from importlib import resources

from sqlmodel import select

from storefront.adapters.tables import (Collection, Product, ProductPrice, SanctionedDestination, ShippingFee, StaffUser,
                                       TermsVersion)
from storefront.domain.destinations import default_destinations
from storefront.domain.shipping import default_table
from storefront.adapters.sanctions_csv import load_sample
from storefront.services import staff
from storefront.services.sanctions import entry_count, replace_list
from storefront.services.unit_of_work import UnitOfWork
from storefront.settings import get_settings

SEED = resources.files("storefront") / "seed"
TERMS = (("2026-01", "General Terms and Conditions of Sale", datetime(2026, 1, 1, tzinfo=timezone.utc)),)


def terms_hash(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def seed_all() -> dict[str, int]:
    counts = {"collections": 0, "products": 0, "prices": 0, "destinations": 0, "terms": 0}
    data = json.loads((SEED / "catalogue.json").read_text(encoding="utf-8"))
    with UnitOfWork() as uow:
        s = uow.session
        by_slug = {c.slug: c for c in s.exec(select(Collection)).all()}
        for position, row in enumerate(data["collections"]):
            if row["slug"] not in by_slug:
                col = Collection(slug=row["slug"], name=row["name"], description=row["description"], position=position)
                s.add(col)
                by_slug[row["slug"]] = col
                counts["collections"] += 1
        s.flush()
        existing = {p.reference: p for p in s.exec(select(Product)).all()}
        for row in data["products"]:
            product = existing.get(row["reference"])
            if product is None:
                product = Product(
                    reference=row["reference"],
                    slug=row["slug"],
                    name=row["name"],
                    collection_id=by_slug[row["collection"]].id,
                    case_material=row["case_material"],
                    diameter_mm=Decimal(row["diameter_mm"]),
                    movement=row["movement"],
                    water_resistance_m=row["water_resistance_m"],
                    description=row["description"],
                    images=row["images"],
                    stock=row["stock"],
                    max_per_order=row["max_per_order"],
                    active=row["active"],
                    featured=row.get("featured", False),
                )
                s.add(product)
                s.flush()
                counts["products"] += 1
            priced = {pp.currency for pp in s.exec(select(ProductPrice).where(ProductPrice.product_id == product.id)).all()}
            for currency, minor in row["prices"].items():
                if currency not in priced:
                    s.add(ProductPrice(product_id=product.id, currency=currency, amount_minor=int(minor)))
                    counts["prices"] += 1
        known = {(d.country, d.region): d for d in s.exec(select(SanctionedDestination)).all()}
        for dest in default_destinations():
            row = known.get((dest.country, dest.region))
            if row is None:
                s.add(SanctionedDestination(country=dest.country, region=dest.region, name=dest.name,
                                            postal_prefixes=list(dest.postal_prefixes), places=list(dest.places),
                                            programme=dest.programme))
                counts["destinations"] += 1
            elif not row.places and not row.programme:
                # A row from before these columns existed: fill them in, leave what staff set alone.
                row.places, row.programme = list(dest.places), dest.programme
        # Shipping fees: rules/shipping.toml is the default; a row staff edited is never overwritten.
        fees = {(f.zone, f.currency) for f in s.exec(select(ShippingFee)).all()}
        for rate in default_table().rows:
            if (rate.zone, rate.currency) not in fees:
                s.add(ShippingFee(zone=rate.zone, currency=rate.currency, fee_minor=rate.fee_minor))
        versions = {t.version for t in s.exec(select(TermsVersion)).all()}
        for version, title, published in TERMS:
            if version not in versions:
                body = (SEED / "terms" / f"{version}.md").read_text(encoding="utf-8")
                s.add(TermsVersion(version=version, title=title, body=body, content_hash=terms_hash(body), published_at=published))
                counts["terms"] += 1
        uow.commit()
    if entry_count() == 0:
        counts["sanctions_sample"] = replace_list(load_sample())
    counts["staff"] = seed_staff() if demo_staff_allowed() else 0
    return counts


def _demo_accounts() -> list[dict]:
    return json.loads((SEED / "staff_demo.json").read_text(encoding="utf-8"))["accounts"]


def demo_staff_allowed() -> bool:
    """The demo accounts' passwords and TOTP secrets are public (README, seed file): they exist only in a shop
    on the local payment sandbox, never in one configured with a real payment provider."""
    return get_settings().uses_local_stripe


def demo_staff_present(uow: UnitOfWork) -> list[str]:
    """Active demo accounts in this database (what `serve` refuses to start with against a real provider)."""
    emails = [row["email"] for row in _demo_accounts()]
    with uow.reading() as s:
        return sorted(s.exec(select(StaffUser.email).where(StaffUser.email.in_(emails), StaffUser.active)).all())


def seed_staff() -> int:
    """One demo account per role (seed/staff_demo.json), TOTP roles already enrolled with the file's secret."""
    accounts = _demo_accounts()
    with UnitOfWork().reading() as s:
        existing = set(s.exec(select(StaffUser.email)).all())
    created = 0
    for row in accounts:
        if row["email"] in existing:
            continue
        staff_id = staff.create_staff(UnitOfWork(), email=row["email"], password=row["password"], role=row["role"],
                                      full_name=row["full_name"])
        if row.get("totp_secret"):
            staff.enrol_known_secret(UnitOfWork(), staff_id, row["totp_secret"])
        created += 1
    return created
