"""Every handler of the management page declares a permission and refuses every role without it.

Driven over a raw socket with a real staff session of each demo role (the cookie a browser would
send on the handshake): refused, nothing changed, and the attempt is in the audit log. The same for a
client without a session.
"""

from __future__ import annotations

import pytest
import sqlalchemy

from storefront.domain.staff import Role, allowed
from storefront.services.staff_cookies import SESSION_COOKIE
from storefront.state.admin_auth import AdminState
from tests.async_runner import run_async
from tests.e2e.raw_client import Tab, handler_name
from tests.e2e.staff_sessions import session_cookie
from tests.e2e.test_raw_handlers import HANDLERS, registered

pytestmark = pytest.mark.e2e


def admin_handlers() -> dict[tuple[type, str], object]:
    return {key: handler for key, handler in registered().items()
            if issubclass(key[0], AdminState) and key[1] != "setvar"}


def test_every_admin_handler_declares_its_permission():
    handlers = admin_handlers()
    assert len(handlers) >= 7, sorted(f"{s.__name__}.{n}" for s, n in handlers)
    undeclared = [f"{s.__name__}.{n}" for (s, n), h in handlers.items() if not getattr(h.fn, "permission", None)]
    assert not undeclared, f"admin handlers without @requires(...): {undeclared}"


CASES = [(key, role) for key, handler in admin_handlers().items() for role in Role
         if not allowed(role, handler.fn.permission)]


def refusals(db, permission: str, role: str) -> int:
    with db.connect() as conn:
        return conn.execute(sqlalchemy.text(
            "SELECT COUNT(*) FROM staff_audit WHERE action = :p AND outcome = 'refused' AND role = :r"),
            {"p": permission, "r": role}).scalar_one()


def stored(db) -> dict[str, int]:
    with db.connect() as conn:
        return {t: conn.execute(sqlalchemy.text(f'SELECT COUNT(*) FROM "{t}"')).scalar_one()
                for t in ("shop_order", "order_event", "outbox_email", "payment_authorization")} | {
            "approved": conn.execute(sqlalchemy.text("SELECT COUNT(*) FROM shop_order WHERE status = 'approved'")).scalar_one(),
            "cancelled": conn.execute(sqlalchemy.text("SELECT COUNT(*) FROM shop_order WHERE status = 'cancelled'")).scalar_one()}


def any_order(db) -> str:
    with db.connect() as conn:
        found = conn.execute(sqlalchemy.text(
            "SELECT reference FROM shop_order WHERE status = 'awaiting_approval' ORDER BY id LIMIT 1")).scalar()
    return found or "VX-NOPE"


@pytest.mark.clause("CARD-6")
@pytest.mark.parametrize("key, role", CASES, ids=lambda v: v.value if isinstance(v, Role) else f"{v[0].__name__}.{v[1]}")
def test_a_role_without_the_permission_is_refused_and_audited(key, role, shop_url, db):
    state, name = key
    handler = admin_handlers()[key]
    cases = HANDLERS[key]
    page = cases.page.replace("VX-NOPE", any_order(db))
    cookie = f"{SESSION_COOKIE}={session_cookie(shop_url, role.value)}"

    async def run():
        tab = await Tab(shop_url, {"Origin": shop_url, "Cookie": cookie, "User-Agent": "StaffProbe/1.0"},
                        path=page).open(page)  # the page's own loader may be refused (and audited) already
        counted = stored(db), refusals(db, handler.fn.permission, role.value)
        outcome = await tab.call(handler_name(state, name), cases.ok)
        await tab.close()
        return outcome, counted

    outcome, (before, audited) = run_async(run())
    assert outcome.toasts == ["staff_forbidden"], outcome.toasts
    assert not outcome.changes(state), outcome.changes(state)
    assert stored(db) == before
    assert refusals(db, handler.fn.permission, role.value) == audited + 1


def anonymous_refusals(db, permission: str) -> int:
    with db.connect() as conn:
        return conn.execute(sqlalchemy.text(
            "SELECT COUNT(*) FROM staff_audit WHERE action = :p AND staff_id IS NULL AND outcome = 'refused'"),
            {"p": permission}).scalar_one()


def test_a_client_without_a_session_is_audited_too(shop_url, db):
    key = next(k for k in admin_handlers() if k[1] == "approve")
    before = anonymous_refusals(db, "orders.approve")

    async def run():
        tab = await Tab(shop_url, {"Origin": shop_url, "User-Agent": "StaffProbe/1.0"},
                        path="/admin/orders/VX-NOPE").open("/admin/orders/VX-NOPE")
        outcome = await tab.call(handler_name(*key), {})
        await tab.close()
        return outcome

    assert "_redirect" in run_async(run()).frontend_events
    assert anonymous_refusals(db, "orders.approve") == before + 1
