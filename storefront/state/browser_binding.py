"""Checks on every event that the tab's server-side state belongs to the browser sending it.

Reflex finds a tab's state by the token the tab keeps in sessionStorage, and storage can be copied
to another browser. So the state remembers the fingerprint of the browser it serves (the HttpOnly
cookie the server issued, services/browser.py); an event that arrives with another fingerprint
first wipes everything personal from that state, before any handler or the hydration that sends
the state to the page can run.
"""

from __future__ import annotations

from reflex.middleware import Middleware

from storefront.services import browser as browser_id
from storefront.state.checkout import CheckoutState
from storefront.state.order_status import OrderStatusState
from storefront.state.shop import ShopState

PRIVATE_STATES = (CheckoutState, OrderStatusState)


class BrowserBinding(Middleware):
    async def preprocess(self, app, state, event):
        shop = await state.get_state(ShopState)
        current = browser_id.fingerprint(state.router.headers.cookie)
        if shop._bound_browser != current:
            if shop._bound_browser:
                for cls in PRIVATE_STATES:
                    (await state.get_state(cls))._forget()
            shop._bound_browser = current
        return None
