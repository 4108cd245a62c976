from __future__ import annotations

import reflex as rx

from storefront.domain.markets import display_locale, page_language
from storefront.services import terms
from storefront.services.terms import TermsView
from storefront.services.unit_of_work import UnitOfWork
from storefront.state.shop import ShopState


class TermsState(ShopState):
    terms: TermsView | None = None
    versions: list[list[str]] = []

    @rx.event
    def load(self):
        wanted = self.router.url.query_parameters.get("version", "")
        locale = display_locale(page_language(), self._market().code)
        self.terms = terms.view(UnitOfWork(), wanted if isinstance(wanted, str) else None, locale)
        self.versions = [list(v) for v in terms.archive(UnitOfWork(), locale)]
