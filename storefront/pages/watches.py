import reflex as rx

from storefront import routes
from storefront.components.layout import page, pricing_notice
from storefront.components.product_card import product_grid, product_grid_placeholder
from storefront.state.catalogue import ListingState

SELECT_STYLE = {"padding": "0.4rem", "borderRadius": "6px", "border": "1px solid var(--gray-7)",
                "background": "var(--color-panel-solid)", "width": "12rem"}


def _labelled(label: str, control: rx.Component) -> rx.Component:
    return rx.el.label(rx.text(label, size="1", color_scheme="gray"), control,
                       style={"display": "flex", "flexDirection": "column", "gap": "0.25rem"})


@page(routes.WATCHES, "All watches", on_load=[ListingState.load])
def watches() -> rx.Component:
    return rx.flex(
        rx.heading("Watches", size="7", as_="h1"),
        rx.flex(
            _labelled("Collection", rx.el.select(
                rx.el.option("All collections", value=""),
                rx.foreach(ListingState.collections, lambda c: rx.el.option(c.name, value=c.slug)),
                value=ListingState.collection, on_change=ListingState.set_filter_collection,
                id="filter-collection", style=SELECT_STYLE)),
            _labelled("Case material", rx.el.select(
                rx.el.option("All materials", value=""),
                rx.foreach(ListingState.materials, lambda m: rx.el.option(m, value=m)),
                value=ListingState.material, on_change=ListingState.set_filter_material,
                id="filter-material", style=SELECT_STYLE)),
            _labelled("Sort by", rx.el.select(
                rx.el.option("Featured", value="featured"),
                rx.el.option("Price: low to high", value="price_asc"),
                rx.el.option("Price: high to low", value="price_desc"),
                rx.el.option("Name", value="name"),
                value=ListingState.sort, on_change=ListingState.set_sort, id="sort", style=SELECT_STYLE)),
            spacing="3", wrap="wrap",
        ),
        # The watches come with the state (the collections in the same answer); until then cards' shapes.
        rx.cond(
            ListingState.collections.length() > 0,
            rx.flex(
                # h2, so the cards' h3 names follow in order (Lighthouse heading-order)
                rx.heading(ListingState.products.length().to_string() + " watches", as_="h2", size="2",
                           weight="regular", color_scheme="gray", id="result-count"),
                product_grid(ListingState.products),
                pricing_notice(),
                direction="column", spacing="4", key="watches",
            ),
            # The count's line is the heading's height: the cards below start where the real ones will.
            rx.flex(rx.skeleton(height="var(--heading-line-height-2)", width="6rem"), product_grid_placeholder(4),
                    direction="column", spacing="4", key="placeholder"),
        ),
        direction="column", spacing="4",
    )
