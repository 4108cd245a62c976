"""The customer's order page, opened only through its signed link (reference + token)."""

from __future__ import annotations

import reflex as rx

from storefront.domain.errors import ErrorCode, message
from storefront.services import delays, reauthorization, unavailable_items
from storefront.services import documents as documents_service
from storefront.services.delays import DelayOffer
from storefront.services.documents import DocumentLink
from storefront.services.order_admin import ActionRefused
from storefront.services.order_view import OrderView, order_view
from storefront.services.payment import PaymentOutcome
from storefront.services.reauthorization import Request
from storefront.services.unavailable_items import Offer
from storefront.services.unit_of_work import UnitOfWork
from storefront.state.background import call_then_settle
from storefront.state.card_form import confirm_js, read_card_result
from storefront.state.shop import ShopState


class OrderStatusState(ShopState):
    order: OrderView | None = None
    documents: list[DocumentLink] = []  # GTC-3.8: the issued PDFs, each linked with this page's own view token
    not_found: bool = False
    just_placed: bool = False
    # GTC-3.2: a piece found unavailable, when the page was opened through the choice link
    offer: Offer | None = None
    choice_answer: str = ""
    # GTC-5.4: a delay beyond 51 days, when the page was opened through the `delay` link
    delay_offer: DelayOffer | None = None
    delay_answer: str = ""
    # PAY-5: the bank refused to renew the hold; opened through the `reauthorize` link, the client authorises again
    reauth: Request | None = None
    reauth_message: str = ""
    reauth_ok: bool = False
    reauth_busy: bool = False
    _answering: bool = False  # an answer to an offer (choose, answer_delay) is with the services

    def _forget(self) -> None:
        self.reset()

    @rx.event
    def load(self):
        params = self.router.url.query_parameters
        reference = self.router.page.params.get("reference", "")
        token = params.get("t", "")
        self.order = order_view(UnitOfWork(), reference, token) if isinstance(token, str) else None
        self.not_found = self.order is None
        self.documents = (documents_service.documents_for_page(UnitOfWork(), reference, token)
                          if self.order is not None else [])
        self.just_placed = params.get("placed") == "1"
        self.choice_answer, self._answering = "", False  # as `busy` at the checkout: a page load frees the answers
        choice = params.get("unavailable", "")
        self.offer = (unavailable_items.pending_offer(UnitOfWork(), reference, choice)
                      if self.order is not None and choice else None)
        self._load_reauth(reference, params.get("reauthorize", ""))
        self._load_delay(reference, params.get("delay", ""))

    def _load_delay(self, reference: str, token: object) -> None:
        self.delay_answer = ""
        self.delay_offer = (delays.pending_offer(UnitOfWork(), reference, token)
                            if self.order is not None and token else None)

    def _load_reauth(self, reference: str, token: object) -> None:
        self.reauth, self.reauth_message, self.reauth_ok, self.reauth_busy = None, "", False, False
        if self.order is None or not token:
            return
        self.reauth = reauthorization.request(UnitOfWork(), reference, token)
        if self.reauth is None:
            valid = reauthorization.link_valid(UnitOfWork(), reference, token)
            code = ErrorCode.REAUTHORIZE_NOT_NEEDED if valid else ErrorCode.REAUTHORIZE_LINK_INVALID
            self.reauth_message, self.reauth_ok = message(code), valid

    def _reauth_link(self) -> tuple[str, str]:
        """The order and the link's token, read again from the page address: the state proves nothing."""
        token = self.router.url.query_parameters.get("reauthorize", "")
        return self.router.page.params.get("reference", ""), token if isinstance(token, str) else ""

    # The card is held again, a piece refunded or what has not shipped cancelled at the payment provider: seconds
    # when it is slow. These run as background events (see state/checkout.py, "the long calls"): checked and
    # marked busy in one locked block, the service called with no lock held, its answer applied under the lock
    # again if the page is still the one that asked.

    @rx.event(background=True)
    async def reauthorize(self, result: str):
        """`result` comes from Stripe.js in the browser: a token id (never card data) or an error."""
        async with self:
            if self.reauth_busy or self.reauth is None:
                return
            card = read_card_result(result)
            if card.token is None:
                self.reauth_message = card.error or message(ErrorCode.CARD_INCOMPLETE)
                return
            (reference, token), ip = self._reauth_link(), self._client_ip()
            self.reauth_busy, self.reauth_message = True, ""
        yield await self._ask_provider((reference, token), lambda: reauthorization.authorize(
            UnitOfWork(), reference, token, card.token, ip=ip))

    @rx.event(background=True)
    async def reauthenticated(self, _result: str):
        """After 3-D Secure: the provider, not the page, says whether the card is now held."""
        async with self:
            if self.reauth_busy or self.reauth is None:
                return
            reference, token = self._reauth_link()
            self.reauth_busy = True
        yield await self._ask_provider((reference, token), lambda: reauthorization.complete(
            UnitOfWork(), reference, token))

    async def _ask_provider(self, link: tuple[str, str], call):
        """The re-authorisation's call to the provider outside the state lock, then `reauth_busy` lifted in any
        case and the outcome applied only if the page still shows the link that asked; returns what the page
        must do next (the checkout's `_ask_provider` does the same for the first authorisation)."""
        def settle(outcome):
            self.reauth_busy = False
            return self._after_reauth(outcome) if outcome is not None and self._reauth_link() == link else None

        return await call_then_settle(self, call, settle)

    def _after_reauth(self, outcome: PaymentOutcome):
        if outcome.status == "requires_action":
            return rx.call_script(confirm_js(outcome.client_secret),
                                  callback=OrderStatusState.reauthenticated)
        if outcome.status == "held":
            self.reauth, self.reauth_ok = None, True
            self.reauth_message = ("Thank you: your card is authorised for the rest of your order. Nothing has been "
                                   "charged; you are charged only when your watches ship.")
            reference, _token = self._reauth_link()
            view = self.router.url.query_parameters.get("t", "")
            self.order = order_view(UnitOfWork(), reference, view if isinstance(view, str) else "")
            return None
        self.reauth_message = outcome.message or message(ErrorCode.UNEXPECTED)
        if outcome.code in (ErrorCode.REAUTHORIZE_LINK_INVALID, ErrorCode.REAUTHORIZE_ATTEMPTS_EXHAUSTED):
            self.reauth = None
        return None

    def _link(self, name: str) -> tuple[str, str, str]:
        """The order, its page token and the token of the link `name`, read again from the page address."""
        params = self.router.url.query_parameters
        view, token = params.get("t", ""), params.get(name, "")
        return (self.router.page.params.get("reference", ""), view if isinstance(view, str) else "",
                token if isinstance(token, str) else "")

    @rx.event(background=True)
    async def choose(self, choice: str):
        """The client's answer to the unavailable piece: a new date or its refund (GTC-3.2). The link's token
        is read again from the page address; the state holds no proof of anything."""
        async with self:
            if self.order is None or self.offer is None or not isinstance(choice, str) or self._answering:
                return
            self._answering = True
            link = self._link("unavailable")
        reference, _view, token = link

        def answer() -> str:
            outcome = unavailable_items.choose(UnitOfWork(), reference, token, choice)
            return ("Thank you: the new delivery date is agreed." if outcome == "new_date_agreed"
                    else "Thank you: this piece is cancelled and will not be charged.")

        def settle(text: str) -> None:
            self.choice_answer, self.offer = text, None

        await self._answer_offer("unavailable", link, answer, settle)

    @rx.event(background=True)
    async def answer_delay(self, choice: str):
        """The client's answer to a delay beyond 51 days (GTC-5.4): `new_date`, `decline`, then `cancel` to confirm
        the cancellation. The link's token is read again from the page address; the state proves nothing."""
        async with self:
            if self.order is None or self.delay_offer is None or not isinstance(choice, str) or self._answering \
                    or not isinstance(self.router.url.query_parameters.get("delay", ""), str):
                return
            self._answering = True
            link, ip = self._link("delay"), self._client_ip()
        reference, _view, token = link

        def answer() -> str:
            return {
                delays.AGREED: "Thank you: the new delivery date is agreed.",
                delays.REFUSED: "You declined the new date. You may cancel what has not shipped below.",
                delays.CANCELLED: "Your cancellation is confirmed: what had not shipped is cancelled and its "
                                  "authorisation on your card released.",
            }[delays.choose(UnitOfWork(), reference, token, choice[:20], ip=ip)]

        def settle(text: str) -> None:
            self._load_delay(reference, token)  # the next step (the cancellation to confirm), or none
            self.delay_answer = text

        await self._answer_offer("delay", link, answer, settle)

    async def _answer_offer(self, name: str, link: tuple[str, str, str], answer, settle) -> None:
        """A client's answer to an emailed offer (link `name`): the service called outside the state lock, its
        refusal told as a message, `_answering` lifted in any case, and the answer shown (`settle`, then the
        order read again) only if the page still shows the link that asked."""
        def answer_or_refusal() -> str:
            try:
                return answer()
            except ActionRefused as refused:
                return message(refused.refusal.code, **refused.refusal.params)

        def apply(text: str | None) -> None:
            self._answering = False
            if text is not None and self._link(name) == link:
                settle(text)
                self.order = order_view(UnitOfWork(), link[0], link[1])

        await call_then_settle(self, answer_or_refusal, apply)
