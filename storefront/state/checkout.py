"""The six checkout steps of GTC-3.4 as one reactive flow.

The draft (step, typed fields, ticks, checkout key, placed order) is kept in the tab's
sessionStorage so a reload resumes at the same step; it is untrusted input, so on load the step is
capped at the furthest one whose conditions still hold. Every amount is recomputed on the server.
"""

from __future__ import annotations

import asyncio
import json
import secrets

import reflex as rx

from storefront.domain import order_info
from storefront.domain.cards import accepted_brands_text, accepted_spellings
from storefront.domain.markets import display_locale, page_language
from storefront.services import cart as cart_service
from storefront.services import checkout, links, payment
from storefront.services import terms as terms_service
from storefront.services.checkout import CheckoutError
from storefront.services.markets import deliverable
from storefront.services.order_view import TotalsView, totals_view
from storefront.services.terms import TermsView
from storefront.state.cart import CartState

STEPS = ["Cart", "Information", "Details", "Terms", "Confirm", "Payment"]
PERSON = ["email", "phone", "full_name", "birth_date"]
ADDRESS = ["name", "street", "city", "postal_code", "area", "country"]
FIELDS = PERSON + [f"ship_{f}" for f in ADDRESS] + [f"bill_{f}" for f in ADDRESS]
TERMS_LABEL = "I have read and accept the terms and conditions of the site"


def _blank_form() -> dict[str, str]:
    return {name: "" for name in FIELDS}


class CheckoutState(CartState):
    draft: str = rx.SessionStorage("", name="vx_checkout")
    step: int = 1
    form: dict[str, str] = _blank_form()
    field_errors: dict[str, str] = _blank_form()
    billing_same: bool = True
    ship_areas: list[list[str]] = []
    bill_areas: list[list[str]] = []
    details_confirmed: bool = False
    terms_accepted: bool = False
    personal_use: bool = False
    terms: TermsView | None = None
    totals: TotalsView | None = None
    message: str = ""
    busy: bool = False
    order_reference: str = ""
    pay_message: str = ""
    _checkout_key: str = ""
    _order_token: str = ""
    _terms_version_id: int = 0

    # -- persistence ---------------------------------------------------------------------------

    def _save(self) -> None:
        self.draft = json.dumps({
            "step": self.step, "form": self.form, "billing_same": self.billing_same,
            "details": self.details_confirmed, "terms": self.terms_accepted, "personal": self.personal_use,
            "key": self._checkout_key, "order": self.order_reference, "token": self._order_token,
        })

    def _restore(self) -> int:
        try:
            data = json.loads(self.draft) if self.draft else {}
        except ValueError:
            data = {}
        data = data if isinstance(data, dict) else {}
        saved_form = data.get("form") if isinstance(data.get("form"), dict) else {}
        self.form = {name: str(saved_form.get(name, ""))[:200] for name in FIELDS}
        self.billing_same = data.get("billing_same", True) is not False
        self.details_confirmed = data.get("details") is True
        self.terms_accepted = data.get("terms") is True
        self.personal_use = data.get("personal") is True
        key = data.get("key")
        self._checkout_key = key if isinstance(key, str) and 16 <= len(key) <= 64 else secrets.token_urlsafe(24)
        ref, token = data.get("order"), data.get("token")
        valid = (isinstance(ref, str) and isinstance(token, str) and checkout.valid_status_token(ref, token)
                 and checkout.awaiting_payment(ref))
        # Only an order still waiting for its card resumes; nothing of a finished purchase may linger
        # (the browser may send back a stale draft before it has stored the cleared one).
        self.order_reference, self._order_token = (ref, token) if valid else ("", "")
        self.pay_message, self.busy = "", False
        if isinstance(ref, str) and ref and not valid:
            return 1
        step = data.get("step")
        return step if isinstance(step, int) and 1 <= step <= 6 else 1

    # -- derived -------------------------------------------------------------------------------

    def _info(self) -> order_info.OrderInfo | None:
        info, _errors = order_info.validate({**self.form, "billing_same": self.billing_same})
        return info

    def _reachable(self) -> int:
        """The furthest step whose preconditions hold now."""
        if self.order_reference:
            return 6
        if not self.lines:
            return 1
        info = self._info()
        if info is None or self.totals is None:
            return 2
        try:
            checkout.check_buyer(info)
        except CheckoutError:
            return 2
        if not self.details_confirmed:
            return 3
        if not (self.terms_accepted and self.personal_use):
            return 4
        return 5

    def _areas(self) -> None:
        self.ship_areas = [list(a) for a in order_info.area_choices(self.form["ship_country"])]
        self.bill_areas = [list(a) for a in order_info.area_choices(self.form["bill_country"] or self.form["ship_country"])]

    def _requote(self) -> None:
        self.totals = None
        if not self.lines:
            return
        try:
            self.totals = totals_view(checkout.quote_cart(cart_service.parse(self.cart_json), self.market()))
        except CheckoutError as exc:
            self.message = exc.message

    # -- events --------------------------------------------------------------------------------

    @rx.event
    def load(self):
        wanted = self._restore()
        if not self.form["ship_country"] or self.form["ship_country"] != self.country:
            self.form["ship_country"] = self.market().code
        if not self.form["bill_country"]:
            self.form["bill_country"] = self.form["ship_country"]
        self._show(cart_service.parse(self.cart_json))
        self._areas()
        self._requote()
        current = terms_service.current()
        if current is None:
            self.message = "Our terms of sale are being updated; ordering is paused. Please try again shortly."
        else:
            self._terms_version_id = current.id
            self.terms = terms_service.view(current.version, display_locale(page_language(), self.market().code))
        self.step = min(wanted, self._reachable())
        self.field_errors = _blank_form()
        self._save()

    @rx.event
    def go_to(self, step: int):
        if isinstance(step, int) and 1 <= step <= self._reachable() and not (self.order_reference and step < 6):
            self.step = step
            self.message = ""
            self._save()

    @rx.event
    def set_field(self, name: str, value: str):
        if name in FIELDS and isinstance(value, str) and name != "ship_country":
            self.form[name] = value[:200]
            self._save()

    @rx.event
    def set_ship_country(self, code: str):
        """The delivery country is the market: changing it re-prices the cart and the totals."""
        if not isinstance(code, str) or deliverable(code) is None:
            self.field_errors["ship_country"] = "We cannot deliver to this country."
            return
        self.country = code
        self.form["ship_country"] = code
        if self.billing_same:
            self.form["bill_country"] = code
        self._show(cart_service.parse(self.cart_json))
        self._areas()
        self._requote()
        self.details_confirmed = False
        self._save()

    @rx.event
    def set_bill_country(self, code: str):
        if isinstance(code, str) and len(code) == 2:
            self.form["bill_country"] = code.upper()
            self._areas()
            self._save()

    @rx.event
    def set_billing_same(self, value: bool):
        self.billing_same = value is True
        self._save()

    @rx.event
    def continue_from_cart(self):
        self._show(cart_service.parse(self.cart_json))
        if not self.lines:
            self.message = "Your cart is empty."
            return
        self.step = 2
        self.message = ""
        self._save()

    @rx.event
    def submit_info(self, form_data: dict):
        if not isinstance(form_data, dict):
            return
        for name in FIELDS:
            value = form_data.get(name)
            if isinstance(value, str) and name != "ship_country":
                self.form[name] = value[:200]
        info, errors = order_info.validate({**self.form, "billing_same": self.billing_same})
        self.field_errors = {**_blank_form(), **errors}
        self.message = ""
        if info is not None:
            try:
                checkout.check_buyer(info)
            except CheckoutError as exc:
                if exc.field:
                    self.field_errors[exc.field] = exc.message
                else:
                    self.message = exc.message
                info = None
        if info is None:
            self.message = self.message or "Please correct the highlighted fields."
            self._save()
            return
        self._requote()
        if self.totals is not None:
            self.step = 3
        self._save()

    @rx.event
    def set_details_confirmed(self, value: bool):
        self.details_confirmed = value is True
        self._save()

    @rx.event
    def confirm_details(self):
        if self._reachable() < 3:
            self.step = 2
            return
        if not self.details_confirmed:
            self.message = "Please confirm that your details are accurate."
            return
        self.step, self.message = 4, ""
        self._save()

    @rx.event
    def set_terms_accepted(self, value: bool):
        self.terms_accepted = value is True
        self._save()

    @rx.event
    def set_personal_use(self, value: bool):
        self.personal_use = value is True
        self._save()

    @rx.event
    def accept_terms(self):
        if not self.terms_accepted:
            self.message = "Please tick the box to accept the terms and conditions of the site."
            return
        if not self.personal_use:
            self.message = "Please declare that the purchase is for your own or a relative's personal use."
            return
        if self._reachable() < 5:
            self.message = "Some details need attention before you can confirm."
            return
        self.step, self.message = 5, ""
        self._save()

    @rx.event
    async def place_order(self):
        if self.order_reference:
            self.step = 6
            return
        if self.busy:
            return
        info = self._info()
        if self._reachable() < 5 or info is None:
            self.message = "Some details need attention before you can confirm."
            return
        self.busy, self.message = True, ""
        yield
        cmd = checkout.PlaceOrder(
            checkout_key=self._checkout_key, cart=cart_service.parse(self.cart_json), info=info,
            terms_version_id=self._terms_version_id, details_confirmed=self.details_confirmed,
            terms_accepted=self.terms_accepted, personal_use=self.personal_use,
            ip=self.router.session.client_ip or "", user_agent=self.router.headers.user_agent or "",
        )
        try:
            placed = await asyncio.to_thread(checkout.place_order, cmd)
        except CheckoutError as exc:
            self.busy, self.message = False, exc.message
            return
        self.order_reference, self._order_token = placed.reference, placed.access_token
        self.cart_json, self.lines, self.cart_count = "{}", [], 0
        self.busy, self.step = False, 6
        self._save()

    @rx.event
    async def pay(self, result: str):
        """`result` comes from Stripe.js in the browser: a token id (never card data) or an error."""
        if not self.order_reference or self.busy:
            return
        try:
            data = json.loads(result) if isinstance(result, str) else {}
        except ValueError:
            data = {}
        if not isinstance(data, dict) or not isinstance(data.get("token"), str):
            self.pay_message = str(data.get("error") or "Your card details are incomplete.")[:300] \
                if isinstance(data, dict) else "Your card details are incomplete."
            return
        self.busy, self.pay_message = True, ""
        yield
        outcome = await asyncio.to_thread(payment.authorize, self.order_reference, data["token"])
        self.busy = False
        for event in self._after_payment(outcome):
            yield event

    @rx.event
    async def authenticated(self, _result: str):
        if not self.order_reference:
            return
        self.busy = True
        yield
        outcome = await asyncio.to_thread(payment.complete_authentication, self.order_reference)
        self.busy = False
        for event in self._after_payment(outcome):
            yield event

    def _after_payment(self, outcome: payment.PaymentOutcome):
        if outcome.status == "held":
            url = links.order_path(self.order_reference) + "&placed=1"
            self._finish_purchase()
            yield rx.redirect(url)
        elif outcome.status == "requires_action":
            self.pay_message = outcome.message
            yield rx.call_script(
                f"window.__vxStripe.confirmCardPayment({json.dumps(outcome.client_secret)})"
                ".then(r => JSON.stringify({ok: !r.error}))",
                callback=CheckoutState.authenticated,
            )
        elif outcome.status == "cancelled":
            self._finish_purchase()
            self.pay_message = outcome.message
        else:
            self.pay_message = outcome.message or "The payment could not be completed."

    def _finish_purchase(self) -> None:
        """The purchase is over: the next checkout in this tab starts afresh with a new key."""
        self.draft = ""
        self.order_reference, self._order_token = "", ""
        self._checkout_key = secrets.token_urlsafe(24)
        self.step, self.details_confirmed, self.terms_accepted, self.personal_use = 1, False, False, False


ACCEPTED_JS = json.dumps(list(accepted_spellings()))
BRAND_MESSAGE_JS = json.dumps(f"We accept {accepted_brands_text()}. Please use one of these cards.")
TOKEN_SCRIPT = (
    "(async () => { if (!window.__vxStripe || !window.__vxCard) {"
    " return JSON.stringify({error: 'The secure payment form is still loading. Please try again in a moment.'}); }"
    " let r; try { r = await window.__vxStripe.createToken(window.__vxCard); }"
    " catch (e) { return JSON.stringify({error: 'The payment service could not be reached. Nothing was charged;"
    " please try again.'}); }"
    " if (r.error) { const m = r.error.message || ''; return JSON.stringify({error: 'Please check your card number,"
    " expiry date (MM / YY) and security code.' + (m && m !== 'Bad request' ? ' (' + m + ')' : '')}); }"
    " const brand = ((r.token.card && r.token.card.brand) || '').toLowerCase().replace(/[\\s_-]+/g, '');"
    f" if (!{ACCEPTED_JS}.includes(brand)) {{ return JSON.stringify({{error: {BRAND_MESSAGE_JS}}}); }}"
    " return JSON.stringify({token: r.token.id}); })()"
)
