"""HTTP routes beside the Reflex app: health check and the Stripe webhook."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from storefront.adapters.stripe_gateway import InvalidWebhook
from storefront.services import webhooks
from storefront.services.payment import gateway

MAX_BODY = 512 * 1024


async def health(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def stripe_webhook(request: Request) -> JSONResponse:
    body = await request.body()
    if len(body) > MAX_BODY:
        return JSONResponse({"error": "too large"}, status_code=413)
    try:
        event = gateway().verify_webhook(body, request.headers.get("stripe-signature", ""))
    except InvalidWebhook:
        return JSONResponse({"error": "invalid signature"}, status_code=400)
    return JSONResponse({"result": webhooks.apply(event)})


api = Starlette(routes=[
    Route("/api/health", health),
    Route("/api/stripe/webhook", stripe_webhook, methods=["POST"]),
])
