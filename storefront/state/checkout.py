"""The six checkout steps of GTC-3.4 as one reactive flow.

What the page needs and nothing more: the step, the typed fields, the ticks, the totals and the
messages (each with its error code). The checkout key and the order belong to the browser that
placed it (services/browser.py), never to a value the tab stores: the draft kept in sessionStorage
so a restart of the server loses nothing is sealed for this browser and carries no key or order.
Every step handler checks it is called at its own step; every amount is recomputed on the server.
"""

from __future__ import annotations

import secrets

import reflex as rx

from storefront.domain import order_info
from storefront.domain.errors import ErrorCode, Refusal, message
from storefront.domain.markets import display_locale, page_language
from storefront.services import browser as browser_id
from storefront.services import cart as cart_service
from storefront.services import checkout, links, payment, telephone_orders
from storefront.services import terms as terms_service
from storefront.services.checkout import CheckoutError
from storefront.services.markets import deliverable, known_country
from storefront.services.order_view import TotalsView, totals_view
from storefront.services.terms import TermsView
from storefront.services.unit_of_work import UnitOfWork
from storefront.state.background import call_then_settle
from storefront.state.card_form import confirm_js, read_card_result
from storefront.state.cart import CartState

STEPS = ["Cart", "Information", "Details", "Terms", "Confirm", "Payment"]
CART, INFO, DETAILS, TERMS, CONFIRM, PAY = range(1, 7)
PERSON = ["email", "phone", "full_name", "birth_date"]
ADDRESS = ["name", "street", "city", "postal_code", "area", "country"]
FIELDS = PERSON + [f"ship_{f}" for f in ADDRESS] + [f"bill_{f}" for f in ADDRESS]
TERMS_LABEL = "I have read and accept the terms and conditions of the site"
MAX_FIELD = 200
HELD = ("awaiting_approval", "compliance_review", "approved", "partially_shipped", "shipped")


def _blank_form() -> dict[str, str]:
    return {name: "" for name in FIELDS}


class CheckoutState(CartState):
    draft: str = rx.SessionStorage("", name="vx_checkout")
    step: int = CART
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
    message_code: str = ""
    busy: bool = False
    order_reference: str = ""
    amount_to_pay: str = ""
    pay_message: str = ""
    pay_code: str = ""
    # an order staff entered by telephone, opened through its emailed link (services/telephone_orders.py):
    # the client walks steps 3 to 6 for it; its details are shown as entered, never edited here
    phone_order: bool = False
    _phone_reference: str = ""
    _checkout_key: str = ""
    _terms_version_id: int = 0
    _shown_quote: str = ""  # the figures on screen (checkout.quote_figures): what a confirmation agrees to

    # -- the draft: one mechanism, sealed for this browser ----------------------------------------

    def _save(self) -> None:
        if self._phone_reference:  # the telephone order's details are the order's, not this browser's draft
            return
        data = {"step": self.step, "form": self.form, "billing_same": self.billing_same,
                "details": self.details_confirmed, "terms": self.terms_accepted, "terms_id": self._terms_version_id,
                "personal": self.personal_use}
        browser = self._browser()
        self.draft = browser_id.seal(data, browser) if browser else ""

    def _restore(self) -> int:
        """Fields and ticks from the sealed draft (nothing, if another browser sealed it); the step it was at."""
        data = browser_id.unseal(self.draft, self._browser())
        saved = data.get("form") if isinstance(data.get("form"), dict) else {}
        if saved:
            self.form = {name: str(saved.get(name, ""))[:MAX_FIELD] for name in FIELDS}
            self.billing_same = data.get("billing_same", True) is not False
            self.details_confirmed = data.get("details") is True
            self.terms_accepted = data.get("terms") is True
            self.personal_use = data.get("personal") is True
            terms_id = data.get("terms_id")  # the version on screen when the box was ticked
            self._terms_version_id = terms_id if type(terms_id) is int else 0
        step = data.get("step")
        return step if isinstance(step, int) and CART <= step <= PAY else self.step

    def _forget(self) -> None:
        """Another browser spoke with this tab's state: nothing of this checkout may reach it."""
        self.reset()
        self.form, self.field_errors = _blank_form(), _blank_form()
        self._checkout_key, self._terms_version_id = "", 0

    # -- what holds now --------------------------------------------------------------------------

    def _info(self) -> order_info.OrderInfo | None:
        info, _errors = order_info.validate({**self.form, "billing_same": self.billing_same})
        return info

    def _reachable(self) -> int:
        """The furthest step whose preconditions hold now."""
        if self.order_reference:
            return PAY
        if self._phone_reference:  # entered by staff: the order itself stands for steps 1 and 2
            if not self.details_confirmed:
                return DETAILS
            return CONFIRM if self.terms_accepted and self.personal_use else TERMS
        if not self.lines:
            return CART
        info = self._info()
        if info is None or self.totals is None:
            return INFO
        try:
            checkout.check_buyer(info)
        except CheckoutError:
            return INFO
        if not self.details_confirmed:
            return DETAILS
        if not (self.terms_accepted and self.personal_use):
            return TERMS
        return CONFIRM

    def _say(self, refusal: Refusal | ErrorCode | None) -> None:
        refusal = Refusal(refusal) if isinstance(refusal, ErrorCode) else refusal
        self.message = refusal.message if refusal else ""
        self.message_code = refusal.code.value if refusal else ""

    def _pay_say(self, code: ErrorCode | None, text: str = "") -> None:
        self.pay_code = code.value if code else ""
        self.pay_message = text or (message(code) if code else "")

    def _show_current_terms(self) -> bool:
        """Put the version in force now on screen. A tick given under another version does not count for
        this one (GTC-2.3): it is removed, and True means the shopper must read and accept the new one."""
        current = terms_service.current(UnitOfWork())
        if current is None:
            self._say(ErrorCode.TERMS_UNAVAILABLE)
            return False
        changed = current.id != self._terms_version_id
        self._terms_version_id = current.id
        self.terms = terms_service.view(UnitOfWork(), current.version, display_locale(page_language(), self._market().code))
        if changed and self.terms_accepted:
            self.terms_accepted = False
            return True
        return False

    def _terms_changed(self) -> None:
        """A new version took effect while the shopper was checking out (GTC-1.4): back to the terms step with
        the new version on screen and the box unticked; the order is confirmed only once it is accepted."""
        self._show_current_terms()
        self.terms_accepted = False
        self.step = min(self.step, TERMS)
        self._say(ErrorCode.TERMS_CHANGED)
        self._save()

    def _at_step(self, step: int) -> bool:
        """Step handlers act only at their own step: a replayed or crafted call changes nothing."""
        if self.step != step:
            self._say(ErrorCode.STEP_NOT_READY)
            return False
        return True

    def _areas(self) -> None:
        self.ship_areas = [list(a) for a in order_info.area_choices(self.form["ship_country"])]
        self.bill_areas = [list(a) for a in order_info.area_choices(self.form["bill_country"] or self.form["ship_country"])]

    def _requote(self) -> bool:
        """Put the current prices and shipping fee on screen; True when they differ from the figures shown
        before (GTC-4.2: the merchant changed a price meanwhile, so the shopper must see the new ones)."""
        shown = self._shown_quote
        self.totals, self._shown_quote = None, ""
        if not self.lines:
            return False
        try:
            q = checkout.quote_for(UnitOfWork(), cart_service.parse(self.cart_json), self._market())
        except CheckoutError as exc:
            self._say(exc.refusal)
            return False
        self.totals, self._shown_quote = totals_view(q), checkout.quote_figures(q)
        return bool(shown) and shown != self._shown_quote

    def _prices_changed(self) -> bool:
        """Re-read the lines and totals; if any figure changed, say so (the new figures are on screen)."""
        self._show(cart_service.parse(self.cart_json))
        if self._requote():
            # a watch withdrawn (or sold out) meanwhile left the cart: the notices on the page say which
            self._say(ErrorCode.CART_CHANGED if self.notices else ErrorCode.PRICE_CHANGED)
            return True
        return False

    def _resume_order(self):
        """The order this browser placed and has not finished paying for, or the news that it is done."""
        found = checkout.browser_order(UnitOfWork(), self._browser(), self.order_reference)
        if found is None:
            self.order_reference = ""
            return None
        if found.status == "pending_payment":
            self.order_reference, self.amount_to_pay, self.step = found.reference, found.total, PAY
            return None
        if found.status in HELD:  # the hold went through while the page was away
            return self._finish_purchase(found.reference)
        self._end_unpaid(found, ErrorCode.PAYMENT_WINDOW_CLOSED)
        return None

    def _end_unpaid(self, found: checkout.OpenOrder, code: ErrorCode) -> None:
        """The order ended without payment: its watches go back into the cart so the shopper loses nothing."""
        self._fresh_checkout()
        self.cart_json = cart_service.dump(found.items)
        self._show(found.items)
        self._requote()
        self._say(code)

    # -- events --------------------------------------------------------------------------------

    def _phone_link(self) -> tuple[str, str]:
        """The telephone order's reference and token, read again from the page address: the state proves nothing."""
        params = self.router.url.query_parameters
        reference, token = params.get("phone_order", ""), params.get("t", "")
        return (reference if isinstance(reference, str) else "", token if isinstance(token, str) else "")

    def _load_phone_order(self, reference: str, token: str):
        """Open the order staff entered by telephone at the check of details (GTC-3.4 step 3), bound to this
        browser; once confirmed, the same link brings this browser back to its payment."""
        self._say(None)
        self._pay_say(None)
        self.busy, self.field_errors = False, _blank_form()
        found = telephone_orders.open_for_client(UnitOfWork(), reference, token, self._browser())
        if isinstance(found, Refusal):
            self._leave_phone_order()
            self._say(found)
            return None
        self._phone_reference, self.phone_order = found.reference, True
        if found.status != "awaiting_client":
            self.order_reference = found.reference
            return self._resume_order()
        if self.step not in (DETAILS, TERMS, CONFIRM) or self.order_reference:
            self.step, self.details_confirmed, self.terms_accepted, self.personal_use = DETAILS, False, False, False
        self.order_reference, self.amount_to_pay = "", ""
        self.form = {name: str(found.form.get(name, ""))[:MAX_FIELD] for name in FIELDS}
        self.billing_same, self.totals = found.billing_same, found.totals
        if self._show_current_terms():
            self._say(ErrorCode.TERMS_CHANGED)
        self.step = min(self.step, self._reachable())
        return None

    def _leave_phone_order(self) -> None:
        if self._phone_reference or self.phone_order:
            self._phone_reference, self.phone_order = "", False
            self.order_reference, self.amount_to_pay = "", ""
            self.step, self.details_confirmed, self.terms_accepted, self.personal_use = CART, False, False, False
            self.form = _blank_form()

    @rx.event
    def load(self):
        self._checkout_key = self._checkout_key or secrets.token_urlsafe(24)
        reference, token = self._phone_link()
        if reference or token:
            return self._load_phone_order(reference, token)
        self._leave_phone_order()
        self._say(None)
        wanted = self._restore()
        if not self.form["ship_country"] or self.form["ship_country"] != self.country:
            self.form["ship_country"] = self._market().code
        if not self.form["bill_country"]:
            self.form["bill_country"] = self.form["ship_country"]
        self._show(cart_service.parse(self.cart_json))
        self._areas()
        self._requote()
        unticked = self._show_current_terms()
        self.busy = False
        self._pay_say(None)
        redirect = self._resume_order()
        if not self.order_reference:
            self.step = min(wanted, self._reachable())
            if unticked:
                self._say(ErrorCode.TERMS_CHANGED)
        self.field_errors = _blank_form()
        self._save()
        return redirect

    @rx.event
    def go_to(self, step: int):
        if isinstance(step, int) and not isinstance(step, bool) and CART <= step <= self._reachable() \
                and not (self.order_reference and step < PAY) and not (self._phone_reference and step < DETAILS):
            self.step = step
            self._say(None)
            self._save()

    @rx.event
    def set_field(self, name: str, value: str):
        if name in FIELDS and isinstance(value, str) and name != "ship_country" and not self.order_reference \
                and not self._phone_reference:
            self.form[name] = value[:MAX_FIELD]
            self._save()

    @rx.event
    def set_ship_country(self, code: str):
        """The delivery country is the market: changing it re-prices the cart and the totals."""
        if self.order_reference or self._phone_reference:
            return
        if not isinstance(code, str) or deliverable(code) is None:
            self.field_errors["ship_country"] = message(ErrorCode.DESTINATION_NOT_DELIVERABLE)
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
        if self.order_reference or self._phone_reference:
            return
        if not isinstance(code, str) or known_country(code) is None:
            self.field_errors["bill_country"] = message(ErrorCode.COUNTRY_NOT_OFFERED)
            return
        self.form["bill_country"] = known_country(code)
        self._areas()
        self._save()

    @rx.event
    def set_billing_same(self, value: bool):
        if not self.order_reference and not self._phone_reference:
            self.billing_same = value is True
            self._save()

    @rx.event
    def continue_from_cart(self):
        if not self._at_step(CART):
            return
        self._show(cart_service.parse(self.cart_json))
        if not self.lines:
            self._say(ErrorCode.CART_EMPTY)
            return
        self.step = INFO
        self._say(None)
        self._save()

    @rx.event
    def submit_info(self, form_data: dict):
        if not isinstance(form_data, dict) or not self._at_step(INFO):
            return
        for name in FIELDS:
            value = form_data.get(name)
            if isinstance(value, str) and name != "ship_country":
                self.form[name] = value[:MAX_FIELD]
        info, errors = order_info.validate({**self.form, "billing_same": self.billing_same})
        self.field_errors = {**_blank_form(), **errors}
        self._say(None)
        if info is not None:
            try:
                checkout.check_buyer(info)
            except CheckoutError as exc:
                if exc.field in self.field_errors:
                    self.field_errors[exc.field] = exc.message
                else:
                    self._say(exc.refusal)
                info = None
        if info is None:
            if not self.message:
                self._say(ErrorCode.FIELDS_INVALID)
            self._save()
            return
        self._requote()
        if self.totals is not None:
            self.step = DETAILS
        self._save()

    @rx.event
    def set_details_confirmed(self, value: bool):
        if self.step == DETAILS:  # a tick counts only on its own step
            self.details_confirmed = value is True
            self._save()

    @rx.event
    def confirm_details(self):
        if not self._at_step(DETAILS):
            return
        if self._reachable() < DETAILS:
            self.step = min(self.step, self._reachable())
            self._say(ErrorCode.STEP_NOT_READY)
            return
        if not self.details_confirmed:
            self._say(ErrorCode.DETAILS_NOT_CONFIRMED)
            return
        if self._prices_changed():
            self._save()
            return
        self.step = TERMS
        self._say(None)
        self._save()

    @rx.event
    def set_terms_accepted(self, value: bool):
        if self.step == TERMS:  # a tick counts only on its own step
            self.terms_accepted = value is True
            self._save()

    @rx.event
    def set_personal_use(self, value: bool):
        if self.step == TERMS:  # a tick counts only on its own step
            self.personal_use = value is True
            self._save()

    @rx.event
    def accept_terms(self):
        if not self._at_step(TERMS):
            return
        if not self.terms_accepted:
            self._say(ErrorCode.TERMS_NOT_ACCEPTED)
            return
        if not self.personal_use:
            self._say(ErrorCode.PERSONAL_USE_NOT_DECLARED)
            return
        current = terms_service.current(UnitOfWork())
        if current is None or current.id != self._terms_version_id:
            self._terms_changed()
            return
        if self._reachable() < CONFIRM:
            self._say(ErrorCode.STEP_NOT_READY)
            return
        changed = self._prices_changed()
        self.step = CONFIRM
        if not changed:
            self._say(None)
        self._save()

    # -- the long calls: background events ------------------------------------------------------
    # Placing an order and holding a card wait on the database, the payment provider and the mail: seconds when
    # the provider is slow. A normal handler keeps the tab's state lock that long (every other event of the tab
    # waits, and Redis warns of a lock held too long), so these run as background events: the reentry check and
    # `busy` are set in one locked block (a double click or a crafted second event finds it set), everything the
    # service needs is read there, the service runs with no lock held, and its outcome is applied under the lock
    # again, only if the tab is still at the checkout that asked (a page load or another browser may have moved
    # it on meanwhile). Whatever happens to the call, `busy` is lifted.

    @rx.event(background=True)
    async def place_order(self):
        async with self:
            if self.busy or not self._at_step(CONFIRM):
                return
            phone = bool(self._phone_reference)
            cmd = self._phone_confirmation() if phone else self._order_command()
            if cmd is None:
                return
            self.busy = True
            self._say(None)

        def call():
            try:
                if phone:
                    return telephone_orders.confirm_by_client(UnitOfWork(), cmd)
                return checkout.place_order(cmd, UnitOfWork())
            except CheckoutError as exc:
                return exc.refusal

        def settle(outcome):
            self.busy = False
            asking = self._phone_reference == cmd.reference if phone else self._checkout_key == cmd.checkout_key
            if asking and isinstance(outcome, Refusal):
                self._order_refused(outcome, phone)
            elif asking and outcome is not None:
                self._order_placed(outcome, phone)

        await call_then_settle(self, call, settle)

    def _order_command(self) -> checkout.PlaceOrder | None:
        info = self._info()
        if self._reachable() < CONFIRM or info is None:
            self._say(ErrorCode.STEP_NOT_READY)
            return None
        return checkout.PlaceOrder(
            checkout_key=self._checkout_key, cart=cart_service.parse(self.cart_json), info=info,
            terms_version_id=self._terms_version_id, details_confirmed=self.details_confirmed,
            terms_accepted=self.terms_accepted, personal_use=self.personal_use, browser=self._browser(),
            ip=self._client_ip(), user_agent=(self.router.headers.user_agent or "")[:400],
            shown_quote=self._shown_quote,
        )

    def _phone_confirmation(self) -> telephone_orders.ClientConfirmation | None:
        """Step 5 for an order taken by telephone: the client concludes the contract, under the terms in force."""
        if self._reachable() < CONFIRM:
            self._say(ErrorCode.STEP_NOT_READY)
            return None
        reference, token = self._phone_link()
        if reference != self._phone_reference:
            self._say(ErrorCode.PHONE_ORDER_LINK_INVALID)
            return None
        return telephone_orders.ClientConfirmation(
            reference=reference, token=token, browser=self._browser(), terms_version_id=self._terms_version_id,
            details_confirmed=self.details_confirmed, terms_accepted=self.terms_accepted,
            personal_use=self.personal_use, ip=self._client_ip(),
            user_agent=(self.router.headers.user_agent or "")[:400])

    def _order_refused(self, refusal: Refusal, phone: bool) -> None:
        if refusal.code is ErrorCode.TERMS_CHANGED:
            self._terms_changed()
        elif not phone and refusal.code in (ErrorCode.PRICE_CHANGED, ErrorCode.PRODUCT_NOT_OFFERED,
                                            ErrorCode.CART_CHANGED):
            # the cart and figures as they are now go on screen (a withdrawn watch leaves the cart, with its
            # notice); the shopper confirms again, having seen them (GTC-3.1, GTC-4.2)
            self._show(cart_service.parse(self.cart_json))
            self._requote()
            self._say(refusal)
            self._save()
        else:
            self._say(refusal)

    def _order_placed(self, placed: checkout.PlacedOrder, phone: bool) -> None:
        if not phone:  # the watches are the order's now (a telephone order never came from this cart)
            self.cart_json, self.lines, self.cart_count = "{}", [], 0
        self.order_reference = placed.reference
        self._resume_order()
        self._save()

    @rx.event(background=True)
    async def pay(self, result: str):
        """`result` comes from Stripe.js in the browser: a token id (never card data) or an error."""
        async with self:
            if self.busy or not self.order_reference or not self._at_step(PAY):
                return
            card = read_card_result(result)
            if card.token is None:
                self._pay_say(ErrorCode.CARD_INCOMPLETE, card.error)
                return
            self.busy = True
            self._pay_say(None)
            reference, browser, ip = self.order_reference, self._browser(), self._client_ip()
        yield await self._ask_provider(reference, lambda: payment.authorize(UnitOfWork(), reference, card.token,
                                                                            browser=browser, ip=ip))

    @rx.event(background=True)
    async def authenticated(self, _result: str):
        """After 3-D Secure: the provider, not the page, says whether the card is now held."""
        async with self:
            if self.busy or not self.order_reference or not self._at_step(PAY):
                return
            self.busy = True
            reference, browser = self.order_reference, self._browser()
        yield await self._ask_provider(reference, lambda: payment.complete_authentication(UnitOfWork(), reference,
                                                                                          browser=browser))

    async def _ask_provider(self, reference: str, call):
        """The payment service's call outside the state lock, then `busy` lifted in any case and the outcome
        applied only if the tab still shows the order that asked; returns what the page must do next."""
        def settle(outcome):
            self.busy = False
            return self._after_payment(outcome) if outcome is not None and self.order_reference == reference else None

        return await call_then_settle(self, call, settle)

    @rx.event
    def cancel_order(self):
        """The shopper withdraws the unpaid order; its watches go back into the cart."""
        if self.busy or not self.order_reference or not self._at_step(PAY):
            return
        found = checkout.browser_order(UnitOfWork(), self._browser(), self.order_reference)
        if found is not None and checkout.cancel_by_client(UnitOfWork(), found.reference, self._browser()):
            self._end_unpaid(found, None)
            self._save()

    def _after_payment(self, outcome: payment.PaymentOutcome):
        if outcome.status == "held":
            return self._finish_purchase(self.order_reference)
        if outcome.status == "requires_action":
            self._pay_say(None)
            return rx.call_script(confirm_js(outcome.client_secret),
                                  callback=CheckoutState.authenticated)
        if outcome.status == "cancelled":
            found = checkout.browser_order(UnitOfWork(), self._browser(), self.order_reference)
            if found is not None:
                self._end_unpaid(found, outcome.code)
            self._save()
            return None
        self._pay_say(outcome.code or ErrorCode.UNEXPECTED, outcome.message)
        return None

    def _finish_purchase(self, reference: str):
        """The purchase is over: the next checkout in this tab starts afresh; the order page takes over."""
        self._fresh_checkout()
        return rx.redirect(links.order_path(reference) + "&placed=1")

    def _fresh_checkout(self) -> None:
        self._phone_reference, self.phone_order = "", False
        self.order_reference, self.amount_to_pay = "", ""
        self._checkout_key = secrets.token_urlsafe(24)
        self.step, self.details_confirmed, self.terms_accepted, self.personal_use = CART, False, False, False
        self._pay_say(None)
        self._save()

