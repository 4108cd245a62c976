"""The Reflex app: every registered page, the API routes, the background jobs."""

import reflex as rx

import storefront.pages  # noqa: F401  (pages register themselves in the route registry)
from storefront import event_guard, routes
from storefront.api import api
from storefront.http_headers import security_headers
from storefront.http_identity import browser_cookie
from storefront.http_listing_images import listing_images
from storefront.http_page_paths import page_paths
from storefront.http_product_shell import product_shell
from storefront.services.jobs import run_forever
from storefront.state.browser_binding import BrowserBinding

app = rx.App(
    head_components=[rx.el.link(rel="icon", href="/favicon.svg", type="image/svg+xml")],
    # phone tap targets (inside a narrow-screen media query); text contrast (WCAG AA); placeholders held still
    stylesheets=["/phone.css", "/contrast.css", "/placeholders.css"],
    api_transformer=[api, product_shell, listing_images, page_paths, security_headers, browser_cookie],
    backend_exception_handler=event_guard.backend_exception_handler,
    frontend_exception_handler=event_guard.frontend_exception_handler,
)
event_guard.install(app)
app.add_middleware(BrowserBinding(), index=0)
app.register_lifespan_task(run_forever)

for route in routes.ROUTES:
    app.add_page(route.component, route=route.path, title=route.title, description=route.description,
                 on_load=route.on_load)
