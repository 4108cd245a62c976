"""Read models of the catalogue for one market: what listing and product pages show.

Only active products are returned (GTC-3.1); each carries its own price in the market's
currency from the price list (GTC-4.1), formatted in the page language (markets.display_locale).
"""

from __future__ import annotations

from dataclasses import dataclass

from babel.numbers import format_decimal
from sqlmodel import Session, select

from storefront.adapters.tables import Collection, Product, ProductPrice
from storefront.domain.catalogue import availability, max_orderable
from storefront.domain.markets import Country, display_locale, page_language
from storefront.domain.money import Money
from storefront.services import product_images
from storefront.services.unit_of_work import UnitOfWork

SORTS = ("featured", "price_asc", "price_desc", "name")


@dataclass(frozen=True)
class ProductCard:
    reference: str
    slug: str
    name: str
    collection: str
    collection_slug: str
    case_material: str
    image: str
    image_srcset: str  # "" when the image has a single size
    price: str
    price_minor: int
    availability: str
    availability_kind: str


@dataclass(frozen=True)
class ProductDetail:
    reference: str
    slug: str
    name: str
    collection: str
    collection_slug: str
    case_material: str
    diameter: str
    movement: str
    water_resistance: str
    description: str
    images: list[str]
    price: str
    availability: str
    availability_kind: str
    max_quantity: int


@dataclass(frozen=True)
class CollectionView:
    slug: str
    name: str
    description: str
    image: str


def _priced_rows(session: Session, currency: str):
    return (
        select(Product, Collection, ProductPrice)
        .join(Collection, Collection.id == Product.collection_id)
        .join(ProductPrice, (ProductPrice.product_id == Product.id) & (ProductPrice.currency == currency))
        .where(Product.active == True)  # noqa: E712
    )


def _shown(product: Product, collection: Collection, price: ProductPrice, country: Country) -> dict:
    """The fields a card and a detail page share: identity, market price, availability."""
    avail = availability(product.stock)
    return dict(
        reference=product.reference,
        slug=product.slug,
        name=product.name,
        collection=collection.name,
        collection_slug=collection.slug,
        case_material=product.case_material,
        price=Money(price.amount_minor, price.currency).format(display_locale(page_language(), country.code)),
        availability=avail.text,
        availability_kind=avail.kind.value,
    )


def _images(product: Product) -> list[str]:
    return ["/" + image for image in product.images]


def _card(product: Product, collection: Collection, price: ProductPrice, country: Country) -> ProductCard:
    image = ("/" + product_images.card_image(product.images[0])) if product.images else ""
    srcset = product_images.card_srcset(product.images[0]) if product.images else ""
    return ProductCard(**_shown(product, collection, price, country), image=image, image_srcset=srcset,
                       price_minor=price.amount_minor)


def list_products(
    uow: UnitOfWork,
    country: Country,
    collection: str = "",
    material: str = "",
    sort: str = "featured",
    featured_only: bool = False,
) -> list[ProductCard]:
    with uow.reading() as session:
        query = _priced_rows(session, country.currency)
        if collection:
            query = query.where(Collection.slug == collection)
        if material:
            query = query.where(Product.case_material == material)
        if featured_only:
            query = query.where(Product.featured == True)  # noqa: E712
        order = {
            "price_asc": (ProductPrice.amount_minor, Product.reference),
            "price_desc": (ProductPrice.amount_minor.desc(), Product.reference),
            "name": (Product.name, Product.reference),
        }.get(sort, (Product.featured.desc(), Collection.position, Product.reference))
        rows = session.exec(query.order_by(*order)).all()
        return [_card(p, c, pr, country) for p, c, pr in rows]


def product_detail(uow: UnitOfWork, slug: str, country: Country) -> ProductDetail | None:
    with uow.reading() as session:
        row = session.exec(_priced_rows(session, country.currency).where(Product.slug == slug)).first()
        if row is None:
            return None
        product, collection, price = row
        locale = display_locale(page_language(), country.code)
        return ProductDetail(
            **_shown(product, collection, price, country),
            diameter=f"{format_decimal(product.diameter_mm, locale=locale)} mm",
            movement=product.movement,
            water_resistance=f"{format_decimal(product.water_resistance_m, locale=locale)} m",
            description=product.description,
            images=_images(product),
            max_quantity=max_orderable(product.stock, product.max_per_order),
        )


def lead_image(uow: UnitOfWork, slug: object) -> str | None:
    """The first photograph of an offered watch, as its page shows it: the page's largest paint, which the
    product page's first HTML carries (storefront/http_product_shell.py)."""
    if not isinstance(slug, str):
        return None
    with uow.reading() as session:
        images = session.exec(select(Product.images).where(Product.slug == slug, Product.active == True)).first()  # noqa: E712
    return "/" + images[0] if images else None


def first_card_images(uow: UnitOfWork, country: Country, collection: object, count: int) -> list[str]:
    """The photographs of the listing's first `count` cards, in the order the listing shows them by default
    (its collection filter only), for the listing's first HTML (storefront/http_listing_images.py)."""
    wanted = collection if isinstance(collection, str) else ""
    return [card.image for card in list_products(uow, country, wanted)[:count] if card.image]


def withdrawn(uow: UnitOfWork, slug: object) -> bool:
    """True when `slug` names a watch the catalogue no longer offers (its page says so, not "not found")."""
    if not isinstance(slug, str):
        return False
    with uow.reading() as session:
        return session.exec(select(Product.id).where(Product.slug == slug, Product.active == False)).first() \
            is not None  # noqa: E712


def collections(uow: UnitOfWork) -> list[CollectionView]:
    with uow.reading() as session:
        result = []
        for col in session.exec(select(Collection).order_by(Collection.position)).all():
            first = session.exec(
                select(Product).where(Product.collection_id == col.id, Product.active == True)  # noqa: E712
                .order_by(Product.featured.desc(), Product.reference)
            ).first()
            image = (_images(first) or [""])[0] if first else ""
            result.append(CollectionView(col.slug, col.name, col.description, image))
        return result


def materials(uow: UnitOfWork) -> list[str]:
    with uow.reading() as session:
        rows = session.exec(
            select(Product.case_material).where(Product.active == True).distinct().order_by(Product.case_material)  # noqa: E712
        ).all()
        return list(rows)
