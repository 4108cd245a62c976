"""The shopper's country (market, currency, locale) and cart, remembered in the browser.

Both live in localStorage so they survive reloads and browser restarts; the server re-validates
them on every event because any browser can send anything.
"""

from __future__ import annotations

import reflex as rx

from storefront import routes
from storefront.domain.client_ip import client_ip, parse_networks
from storefront.domain.errors import ErrorCode
from storefront.domain.markets import Country, country_from_accept_language
from storefront.services import browser as browser_id
from storefront.services import cart as cart_service
from storefront.services.markets import CountryOption, country_options, deliverable, sanctioned_countries
from storefront.settings import get_settings
from storefront.state.toasts import refusal_toast


class ShopState(rx.State):
    country: str = rx.LocalStorage("", name="vx_country", sync=True)
    origin: str = rx.LocalStorage("", name="vx_origin")
    cart_json: str = rx.LocalStorage("{}", name="vx_cart", sync=True)
    countries: list[CountryOption] = []
    origin_notice: str = ""
    cart_count: int = 0
    ready: bool = False
    _bound_browser: str = ""  # see state/browser_binding.py

    def _market(self) -> Country:
        """The current country, falling back to the merchant's default if the stored one is not offered."""
        return deliverable(self.country, shown=True) or deliverable(get_settings().default_country, shown=True)

    def _browser(self) -> str:
        """Fingerprint of the server-issued browser id sent with this event's connection; "" without one."""
        return browser_id.fingerprint(self.router.headers.cookie)

    def _client_ip(self) -> str:
        """The client's address, believing forwarded headers only from the configured proxies."""
        return client_ip(self.router.session.client_ip, self.router.headers.raw_headers.get("x-forwarded-for", ""),
                         parse_networks(get_settings().trusted_proxies))

    async def _load_page(self) -> list:
        """Runs the page's loaders (routes.PAGE_LOADERS) inside the current event, so that what they change goes
        out in its one answer: one render of the page on a phone instead of one per loader, each after a round
        trip through the page to start it. Returns what the loaders ask for next (a redirect)."""
        follow_ups = []
        for loader in routes.loaders_for(self.router.route_id):  # the matched route pattern, e.g. /watch/[slug]
            outcome = loader.fn(await self.get_state(loader.state))
            follow_ups.extend(outcome if isinstance(outcome, list) else [outcome] if outcome is not None else [])
        return follow_ups

    @rx.event
    async def init(self):
        """Runs on every page load. The first visit's country comes from the languages the browser sent with the
        event socket's handshake (Accept-Language, the same list as navigator.languages), so the page gets its
        country, prices and cart in the answer to this one event, without a round trip to ask the page."""
        if not self.countries:
            self.countries = country_options(shown=True)
        if not self.origin:
            self.origin = country_from_accept_language(str(self.router.headers.accept_language or "")[:500]) or "-"
        if deliverable(self.country, shown=True) is None:
            self.country = (deliverable(self.origin, shown=True) or self._market()).code
        self._settle()
        return await self._load_page()

    def _settle(self) -> None:
        blocked = sanctioned_countries(shown=True)
        self.origin_notice = (
            f"We cannot deliver to {blocked[self.origin]}: delivery there is not possible under the sanctions we comply with. "
            "You are welcome to browse the collection."
            if self.origin in blocked else ""
        )
        self.cart_count = sum(cart_service.parse(self.cart_json).values())
        self.ready = True

    @rx.event
    async def set_country(self, code: str):
        if not isinstance(code, str) or deliverable(code) is None:
            return refusal_toast(ErrorCode.COUNTRY_NOT_OFFERED)
        self.country = code
        return await self._load_page()

    @rx.var
    def currency(self) -> str:
        found = deliverable(self.country, shown=True)
        return found.currency if found else ""
