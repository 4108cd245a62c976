"""The staff session over plain HTTP: sign in, TOTP enrolment, sign out.

The session token must live in an HttpOnly cookie, which only an HTTP response can set: the event
socket cannot. So the sign-in page posts a native form here, and every admin event then finds the
cookie on its socket's handshake and checks it again (state/admin_auth.py). Each route accepts only
requests from the shop's own origin, so a page on another site cannot post with a staff member's
cookie, and answers with a redirect that carries a code, never a message or a detail.
"""

from __future__ import annotations

import html
from urllib.parse import parse_qs, urlencode, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from storefront.domain.client_ip import client_ip, parse_networks
from storefront.domain.errors import ErrorCode
from storefront.http_headers import allowed_origins
from storefront.services import order_export, staff
from storefront.services.staff_cookies import ENROL_COOKIE, SESSION_COOKIE, cookie_value
from storefront.services.unit_of_work import UnitOfWork
from storefront.settings import get_settings

ENROL_COOKIE_SECONDS = 600
LOGIN_PAGE = "/admin/login"
ENROL_PAGE = "/admin/enrol"
HOME_PAGE = "/admin"
# A sign-in form is a few hundred bytes; anything much larger is not one.
MAX_FORM_BYTES = 4096


def same_origin(request: Request) -> bool:
    """The request comes from one of the shop's own pages (CSRF and cross-site form posts)."""
    origin = request.headers.get("origin")
    if origin is not None:
        return origin in allowed_origins(get_settings().public_url)
    return request.headers.get("sec-fetch-site") == "same-origin"


def _ip(request: Request) -> str:
    peer = request.client.host if request.client else ""
    return client_ip(peer, request.headers.get("x-forwarded-for", ""), parse_networks(get_settings().trusted_proxies))


def _cookie(response: Response, name: str, value: str, max_age: int | None = None) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="strict",
                        secure=urlsplit(get_settings().public_url).scheme == "https")


async def _form(request: Request) -> dict[str, str] | None:
    declared = request.headers.get("content-length", "")
    if not declared.isdigit() or int(declared) > MAX_FORM_BYTES:
        return None
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return None
    try:
        fields = parse_qs(body.decode("utf-8"), max_num_fields=10)
    except (UnicodeDecodeError, ValueError):
        return None
    return {k: v[0][:500] for k, v in fields.items() if v}


def _back(page: str, code: ErrorCode, **extra: object) -> RedirectResponse:
    return RedirectResponse(f"{page}?{urlencode({'error': code.value, **extra})}", status_code=303)


async def sign_in(request: Request) -> Response:
    if not same_origin(request):
        return Response("cross-origin request refused", status_code=403)
    form = await _form(request)
    if form is None:
        return _back(LOGIN_PAGE, ErrorCode.INVALID_REQUEST)
    result = await run_in_threadpool(
        staff.sign_in, UnitOfWork(), email=form.get("email", ""), password=form.get("password", ""),
        otp=form.get("otp", ""), ip=_ip(request), user_agent=request.headers.get("user-agent", "")[:300])
    if result.token:
        response = RedirectResponse(HOME_PAGE, status_code=303)
        _cookie(response, SESSION_COOKIE, result.token)
        return response
    if result.enrolment_token:
        response = RedirectResponse(ENROL_PAGE, status_code=303)
        _cookie(response, ENROL_COOKIE, result.enrolment_token, ENROL_COOKIE_SECONDS)
        return response
    extra = {"retry": result.retry_after} if result.retry_after else {}
    return _back(LOGIN_PAGE, result.refusal or ErrorCode.UNEXPECTED, **extra)


RECOVERY_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">
<title>Recovery codes</title></head><body style="font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;
padding:0 1rem"><h1>Two-factor sign-in is set up</h1><p>Keep these recovery codes somewhere safe, away from your
phone. Each one signs you in once if you lose your authenticator. They are shown only now.</p>
<ul id="recovery-codes" style="font-family:monospace;font-size:1.1rem">{codes}</ul>
<p><a href="/admin" style="display:inline-block;padding:0.75rem 1rem">Continue to the management page</a></p>
</body></html>"""


async def enrol(request: Request) -> Response:
    if not same_origin(request):
        return Response("cross-origin request refused", status_code=403)
    form = await _form(request)
    token = cookie_value(request.headers.get("cookie", ""), ENROL_COOKIE)
    if form is None or not token:
        return _back(LOGIN_PAGE, ErrorCode.STAFF_SIGNED_OUT)
    try:
        session_token, codes = await run_in_threadpool(
            staff.complete_enrolment, UnitOfWork(), token, form.get("otp", ""), ip=_ip(request),
            user_agent=request.headers.get("user-agent", "")[:300])
    except staff.StaffError as exc:
        return _back(ENROL_PAGE, exc.code)
    page = RECOVERY_PAGE.format(codes="".join(f"<li>{html.escape(c)}</li>" for c in codes))
    response = HTMLResponse(page, headers={"cache-control": "no-store"})
    _cookie(response, SESSION_COOKIE, session_token)
    response.delete_cookie(ENROL_COOKIE, path="/")
    return response


async def sign_out(request: Request) -> Response:
    if not same_origin(request):
        return Response("cross-origin request refused", status_code=403)
    form = await _form(request) or {}
    token = cookie_value(request.headers.get("cookie", ""), SESSION_COOKIE)
    if token:
        if form.get("everywhere") == "1":
            identity = await run_in_threadpool(staff.session_for, UnitOfWork(), token, touch=False)
            if identity is not None:
                await run_in_threadpool(staff.sign_out_everywhere, UnitOfWork(), identity.staff_id,
                                        actor=identity, ip=_ip(request))
        await run_in_threadpool(staff.sign_out, UnitOfWork(), token)
    response = RedirectResponse(LOGIN_PAGE, status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def export_orders(request: Request) -> Response:
    """The CSV of an order export link (services/order_export.py): the staff cookie, the session the link was
    issued to, its freshness and the role are all checked again here; every download is audited."""
    headers = {"cache-control": "no-store", "x-content-type-options": "nosniff"}
    if not same_origin(request):
        return Response("cross-origin request refused", status_code=403, headers=headers)
    token = cookie_value(request.headers.get("cookie", ""), SESSION_COOKIE)
    identity = await run_in_threadpool(staff.session_for, UnitOfWork(), token) if token else None
    if identity is None:
        return _back(LOGIN_PAGE, ErrorCode.STAFF_SIGNED_OUT)
    try:
        filters = order_export.read_link(request.query_params.get("v"), request.query_params.get("t"),
                                         staff=identity)
        body = await run_in_threadpool(order_export.orders_csv, UnitOfWork(), filters, staff=identity,
                                       ip=_ip(request))
    except staff.StaffError as exc:
        status = 403 if exc.code == ErrorCode.STAFF_FORBIDDEN else 410
        return Response(exc.refusal.message, status_code=status, media_type="text/plain", headers=headers)
    headers["content-disposition"] = f'attachment; filename="{order_export.filename()}"'
    return Response(body, media_type="text/csv; charset=utf-8", headers=headers)


ROUTES = [
    Route("/api/admin/session", sign_in, methods=["POST"]),
    Route("/api/admin/orders.csv", export_orders, methods=["GET"]),
    Route("/api/admin/enrol", enrol, methods=["POST"]),
    Route("/api/admin/sign-out", sign_out, methods=["POST"]),
]
