"""The Reflex app: every registered page, the health route."""

import reflex as rx
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

import storefront.pages  # noqa: F401  (pages register themselves in the route registry)
from storefront import routes


async def health(_request):
    return JSONResponse({"status": "ok"})


api = Starlette(routes=[Route("/api/health", health)])

app = rx.App(
    head_components=[rx.el.link(rel="icon", href="/favicon.svg", type="image/svg+xml")],
    api_transformer=api,
)

for route in routes.ROUTES:
    app.add_page(route.component, route=route.path, title=route.title, on_load=route.on_load)
