"""The one permission decorator of the management page, and the state every admin state extends.

Reflex's client token sits in sessionStorage and unlocks the tab's server-side state, so being
signed in is never remembered in the state: every admin event reads the HttpOnly staff cookie from
its socket's handshake and asks the staff service again (revoked, idle or expired sessions end at
the next click). A handler runs only if the session's role holds the handler's permission; every
refusal is answered, changes nothing and is written to the audit log.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable

import reflex as rx
from reflex.istate.proxy import StateProxy

from storefront import routes
from storefront.domain.client_ip import client_ip, parse_networks
from storefront.domain.errors import ErrorCode
from storefront.domain.staff import PERMISSIONS, allowed
from storefront.services.staff_cookies import SESSION_COOKIE, cookie_value
from storefront.services import audit, staff
from storefront.services.staff import StaffIdentity
from storefront.services.unit_of_work import UnitOfWork
from storefront.settings import get_settings
from storefront.state.toasts import refusal_toast


class AdminState(rx.State):
    staff_email: str = ""
    staff_role: str = ""
    granted: list[str] = []

    def _client_ip(self) -> str:
        return client_ip(self.router.session.client_ip, self.router.headers.raw_headers.get("x-forwarded-for", ""),
                         parse_networks(get_settings().trusted_proxies))

    def _identity(self) -> StaffIdentity | None:
        token = cookie_value(self.router.headers.cookie, SESSION_COOKIE)
        return staff.session_for(UnitOfWork(), token) if token else None

    def _forget_staff(self) -> None:
        self.staff_email, self.staff_role, self.granted = "", "", []

    def _authorize(self, permission: str) -> StaffIdentity | rx.event.EventSpec:
        identity = self._identity()
        if identity is None or not allowed(identity.role, permission):
            audit.record_now(UnitOfWork(), staff=identity, action=permission, outcome="refused",
                             ip=self._client_ip(), detail="signed_out" if identity is None else "forbidden")
            if identity is None:
                self._forget_staff()
                return rx.redirect(routes.ADMIN_LOGIN)
            return refusal_toast(ErrorCode.STAFF_FORBIDDEN)
        self.staff_email, self.staff_role = identity.email, identity.role.value
        self.granted = sorted(p for p in PERMISSIONS if allowed(identity.role, p))
        return identity


async def _authorized(state: AdminState, permission: str) -> StaffIdentity | rx.event.EventSpec:
    """The check of `requires`. A background handler runs on a proxy of the state that may be changed (the
    staff shown, the audit's refusal) only under the tab's lock, so it checks there."""
    if isinstance(state, StateProxy):
        async with state:
            return state._authorize(permission)
    return state._authorize(permission)


def requires(permission: str) -> Callable:
    """Declare the permission an admin handler needs; the handler receives the staff identity as `staff`."""
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")

    def decorate(fn: Callable) -> Callable:
        params = list(inspect.signature(fn).parameters.values())
        public = inspect.Signature([p for p in params if p.name != "staff"])

        if inspect.iscoroutinefunction(fn):
            @functools.wraps(fn)
            async def handler(self, *args, **kwargs):
                identity = await _authorized(self, permission)
                if not isinstance(identity, StaffIdentity):
                    return identity
                return await fn(self, *args, staff=identity, **kwargs)
        else:
            @functools.wraps(fn)
            def handler(self, *args, **kwargs):
                identity = self._authorize(permission)
                if not isinstance(identity, StaffIdentity):
                    return identity
                return fn(self, *args, staff=identity, **kwargs)

        # What Reflex and the browser see: the handler's arguments without the identity it is given.
        handler.__signature__ = public
        handler.__annotations__ = {k: v for k, v in fn.__annotations__.items() if k != "staff"}
        handler.permission = permission
        return handler

    return decorate
