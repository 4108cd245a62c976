"""HTTP routes beside the Reflex app: health check, the Stripe webhook, uploaded product photographs, order PDFs."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from storefront import http_admin
from storefront.adapters.stripe_gateway import InvalidWebhook, PaymentGatewayError
from storefront.services import documents, product_images, webhooks
from storefront.services.payment import gateway
from storefront.services.unit_of_work import UnitOfWork

# The largest webhook body accepted. Stripe's events are a few kilobytes; the limit only has to stop a
# client from making the server hold an arbitrary amount of data before the signature is checked.
MAX_WEBHOOK_BODY_BYTES = 512 * 1024


class _TooLarge(Exception):
    pass


async def health(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def _capped_body(request: Request, limit: int) -> bytes:
    """The body, refused (`_TooLarge`) by its declared length before any of it is read, and read with a
    running count so that a false or missing Content-Length cannot make the server take in more than `limit`."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise _TooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


async def stripe_webhook(request: Request) -> JSONResponse:
    try:
        body = await _capped_body(request, MAX_WEBHOOK_BODY_BYTES)
    except _TooLarge:
        return JSONResponse({"error": "too large"}, status_code=413)
    try:
        event = gateway().verify_webhook(body, request.headers.get("stripe-signature", ""))
    except InvalidWebhook:
        return JSONResponse({"error": "invalid signature"}, status_code=400)
    try:
        # Database and provider calls block: run them off the event loop that serves every shopper.
        return JSONResponse({"result": await run_in_threadpool(webhooks.apply, event, UnitOfWork())})
    except PaymentGatewayError:  # the provider could not be asked; a non-2xx answer makes it deliver again
        return JSONResponse({"error": "payment provider unreachable, retry later"}, status_code=503)


async def product_image(request: Request) -> Response:
    """A photograph uploaded by staff (services/product_images.py): read from the media folder at each request,
    so a new one shows without a rebuild. Names carry the upload's digest, so a name never changes content."""
    path = product_images.file_for(request.path_params.get("name", ""))
    if path is None:
        return Response(status_code=404)
    return FileResponse(path, media_type="image/webp",
                        headers={"Cache-Control": "public, max-age=31536000, immutable",
                                 "X-Content-Type-Options": "nosniff"})


async def order_document(request: Request) -> Response:
    """An issued PDF of an order (GTC-3.8), for the holder of the order page's signed view link (`t`).
    A wrong link, another order's document or an unknown number all get the same 404."""
    found = await run_in_threadpool(documents.document_for_download, UnitOfWork(),
                                    request.path_params.get("reference", ""), request.path_params.get("number", ""),
                                    request.query_params.get("t", ""))
    if found is None:
        return Response("Not found", status_code=404, headers={"Cache-Control": "no-store"})
    filename, pdf = found
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff",
                             "Referrer-Policy": "no-referrer"})


api = Starlette(routes=[
    Route("/api/health", health),
    Route("/api/media/products/{name}", product_image, methods=["GET", "HEAD"]),
    Route("/api/stripe/webhook", stripe_webhook, methods=["POST"]),
    Route("/api/orders/{reference}/{number}", order_document, methods=["GET"]),
    *http_admin.ROUTES,
])

