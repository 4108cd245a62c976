"""The one place that talks to Stripe (or the localstripe sandbox, which speaks the same API).

Results come back as small frozen dataclasses (in the spirit of Saleor's gateway data objects)
so services never handle Stripe objects or Stripe exceptions. Each gateway owns its own
`stripe.StripeClient`; nothing here touches `stripe.api_key` or `stripe.api_base`, so a sandbox
gateway and a real one (or two sandboxes in parallel tests) can live in one process.

Card numbers and security codes never reach this module: the browser turns them into a `tok_…`
with Stripe.js, and everything here works on tokens, ids and the last four digits.

Only parameters that both real Stripe and localstripe 1.15 accept are sent; localstripe rejects
any unknown parameter with 400 "Unexpected <name>". Where the two differ the gateway switches on
`sandbox` and asks `adapters/sandbox.py`, which holds what is peculiar to the sandbox.

Every call that moves money (authorize, authorize_off_session, capture, refund, cancel) sends an
`Idempotency-Key`: Stripe answers a repeated key with the first result, so a retry moves money once.
The sandbox does the same (adapted in `localstripe_server`).

Calls are blocking; callers run them in a worker thread, never on the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import stripe

from storefront.adapters import sandbox as localstripe
from storefront.domain.cards import canonical_brand
from storefront.domain.money import Money

AuthorizationStatus = Literal["held", "requires_action", "declined", "canceled", "expired", "captured", "pending"]
# Reasons Stripe gives when it cancelled an uncaptured intent itself because the hold lapsed.
LAPSED_HOLD_REASONS = frozenset({"expired", "automatic"})

STRIPE_JS_URL = "https://js.stripe.com/v3/"
WEBHOOK_TOLERANCE_SECONDS = 300
_HTTP_TIMEOUT_SECONDS = 30


class PaymentGatewayError(Exception):
    """Stripe could not do what was asked. `retryable` is true when trying again later may succeed."""

    def __init__(self, message: str, *, retryable: bool = False, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.code = code


class CardDeclined(PaymentGatewayError):
    """The issuer refused the card (PAY-3): the client must contact their issuer or use another card."""

    def __init__(self, message: str, decline_code: str | None) -> None:
        super().__init__(message, retryable=False, code=decline_code)
        self.decline_code = decline_code


class InvalidWebhook(PaymentGatewayError):
    """A webhook whose signature, secret or age does not check out; answer 400 and do nothing."""


@dataclass(frozen=True)
class CardDetails:
    brand: str
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True)
class SavedCard:
    customer_id: str
    card_id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True)
class Authorization:
    intent_id: str | None
    status: AuthorizationStatus
    client_secret: str | None
    amount: Money
    capture_before: datetime | None = None
    decline_code: str | None = None
    decline_message: str | None = None
    captured_minor: int = 0  # charged to the card, in the currency of `amount`
    refunded_minor: int = 0  # given back of what was charged
    multicapture: bool = False  # the hold may be captured once per shipment (final_capture=false)

    @property
    def held(self) -> bool:
        return self.status == "held"


@dataclass(frozen=True)
class Capture:
    """What a capture left charged. A PaymentIntent is captured once, unless it has multicapture: the rest of
    the hold is released then (`released_minor`; Stripe counts it in the charge's `amount_refunded`, yet
    nothing was charged for it). `amount_minor` is everything captured on the intent so far."""

    intent_id: str
    amount_minor: int
    currency: str
    released_minor: int


@dataclass(frozen=True)
class Refund:
    """Money given back of a capture. `status` is Stripe's: succeeded, pending, requires_action, failed, canceled."""

    refund_id: str
    intent_id: str
    amount_minor: int
    currency: str
    status: str


def _field(obj: Any, *path: str) -> Any:
    """Walk nested Stripe objects or dicts; None where a step is missing (SDK 16 objects are not dicts)."""
    for key in path:
        if obj is None or isinstance(obj, str):
            return None
        try:
            if key not in obj:
                return None
            obj = obj[key]
        except (TypeError, KeyError):
            return None
    return obj


def card_brand_of(obj: Any) -> str:
    """The card brand as the shop's canonical key ("visa", "amex", "jcb", "diners", ...).

    Card sources spell brands for people ("American Express"), PaymentMethods use codes
    ("amex"); `storefront.domain.cards` (rules/payments.toml) holds the one spelling table, so an
    unlisted spelling comes back as "unknown" and is refused by the brand check (PAY-1).

    Accepts what the API hands back, as Stripe objects or plain dicts: a card source (`brand`),
    a PaymentMethod (`card.brand`), a Charge (`payment_method_details.card.brand`), or a
    PaymentIntent whose `payment_method` or `latest_charge` is expanded. An object that carries
    no brand at all is a programming error (usually something not expanded), hence ValueError
    rather than a guess.
    """
    candidates = (
        _field(obj, "brand"),
        _field(obj, "card", "brand"),
        _field(obj, "payment_method_details", "card", "brand"),
    )
    for raw in candidates:
        if isinstance(raw, str) and raw:
            return canonical_brand(raw)
    for nested in ("payment_method", "latest_charge", "source", "default_source"):
        inner = _field(obj, nested)
        if inner is not None and not isinstance(inner, str):
            try:
                return card_brand_of(inner)
            except ValueError:
                continue
    raise ValueError(f"no card brand on {_field(obj, 'object') or type(obj).__name__} {_field(obj, 'id') or ''}".strip())


def _money(minor: Any, currency: str) -> Money:
    return Money(int(minor), currency.upper())


def _translate(exc: stripe.StripeError) -> PaymentGatewayError:
    if isinstance(exc, stripe.CardError):
        return CardDeclined(exc.user_message or "The card was declined.", _decline_code(exc))
    retryable = isinstance(exc, (stripe.APIConnectionError, stripe.RateLimitError)) or (
        isinstance(exc, stripe.APIError) and (exc.http_status or 500) >= 500
    )
    return PaymentGatewayError(exc.user_message or type(exc).__name__, retryable=retryable, code=exc.code)


def _decline_code(exc: stripe.StripeError) -> str | None:
    # Real Stripe says why (decline_code "insufficient_funds"); localstripe only says "card_declined".
    return _field(exc.error, "decline_code") or exc.code


class StripeGateway:
    """Card holds: authorized now, captured later (PAY-5)."""

    def __init__(
        self,
        secret_key: str,
        webhook_secret: str,
        *,
        api_base: str | None = None,
        sandbox: bool = False,
        max_network_retries: int | None = None,
        multicapture: bool = False,
        extended_authorization: bool = False,
        http_client: stripe.HTTPClient | None = None,
    ) -> None:
        if not secret_key:
            raise ValueError("a Stripe secret key is required (use from_settings for the sandbox)")
        self.sandbox = sandbox
        self.multicapture, self.extended_authorization = multicapture, extended_authorization
        self._webhook_secret = webhook_secret
        if max_network_retries is not None:
            retries = max_network_retries
        else:
            retries = localstripe.NETWORK_RETRIES if sandbox else 2
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base} if api_base else None,
            max_network_retries=retries,
            http_client=http_client or stripe.RequestsClient(timeout=_HTTP_TIMEOUT_SECONDS),
        )

    @classmethod
    def from_settings(cls, settings: Any) -> StripeGateway:
        """Real Stripe when a secret key is configured, else the loopback sandbox (which must be running)."""
        capabilities = {"multicapture": settings.stripe_multicapture,
                        "extended_authorization": settings.stripe_extended_authorization}
        if settings.uses_local_stripe:
            return cls(
                localstripe.SECRET_KEY,
                settings.stripe_webhook_secret,
                api_base=localstripe.url(settings.localstripe_port),
                sandbox=True,
                **capabilities,
            )
        return cls(settings.stripe_secret_key, settings.stripe_webhook_secret, **capabilities)

    def _card_options(self) -> dict[str, Any]:
        """Ask for the account's optional capabilities; the charge says whether this card got them."""
        card = {}
        if self.extended_authorization:
            card["request_extended_authorization"] = "if_available"
        if self.multicapture:
            card["request_multicapture"] = "if_available"
        return {"payment_method_options": {"card": card}} if card else {}

    # -- cards ---------------------------------------------------------------------------------

    def card_of_token(self, token: str) -> CardDetails:
        """What card a browser token stands for, so a refused brand (PAY-1) stops before anything is saved."""
        try:
            tok = self._client.v1.tokens.retrieve(token)
        except stripe.StripeError as exc:
            raise _translate(exc) from exc
        card = _field(tok, "card")
        if card is None:
            raise PaymentGatewayError(f"token {token} is not a card token")
        return CardDetails(card_brand_of(card), card["last4"], int(card["exp_month"]), int(card["exp_year"]))

    def save_card(self, token: str, email: str, name: str, idempotency_key: str) -> SavedCard:
        """Store the card with Stripe under a new customer, for later holds without the client.

        The issuer validates the card here (PAY-3), so a card refused at this point raises
        CardDeclined. `default_source` is expanded to read the card in the same round trip.
        """
        try:
            customer = self._client.v1.customers.create(
                params={"source": token, "email": email, "name": name, "expand": ["default_source"]},
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            raise _translate(exc) from exc
        card = customer.default_source
        if card is None or isinstance(card, str):
            raise PaymentGatewayError(f"customer {customer.id} came back without its card")
        return SavedCard(
            customer_id=customer.id,
            card_id=card.id,
            brand=card_brand_of(card),
            last4=card.last4,
            exp_month=int(card.exp_month),
            exp_year=int(card.exp_year),
        )

    def delete_customer(self, customer_id: str) -> None:
        """Delete the Stripe customer saved for an order, with its email, name and card (PAY-6: least data kept).
        One Stripe no longer knows counts as deleted, so a retry after a lost answer ends the same way."""
        try:
            self._client.v1.customers.delete(customer_id)
        except stripe.InvalidRequestError as exc:
            if exc.http_status == 404 or exc.code == "resource_missing":
                return
            raise _translate(exc) from exc
        except stripe.StripeError as exc:
            raise _translate(exc) from exc

    # -- holds ---------------------------------------------------------------------------------

    def authorize(
        self,
        amount: Money,
        customer_id: str,
        card_id: str,
        idempotency_key: str,
        description: str = "",
        metadata: dict[str, str] | None = None,
        moto: bool = False,
    ) -> Authorization:
        """Hold `amount` on the saved card without charging it (capture_method=manual).

        A decline is a normal outcome, returned as status "declined", not raised. The card is set up
        for later off-session holds (setup_future_usage), which the checkout's consent covers.
        `moto`: staff entered the card for a client on the telephone (PAY-2); the intent is flagged
        `payment_method_options[card][moto]=true` (Stripe: mail order / telephone order, out of scope
        of SCA; only for accounts Stripe enabled for MOTO, and only at confirmation, as here).
        """
        meta = {str(k): str(v) for k, v in (metadata or {}).items()}
        params: dict[str, Any] = {
            "amount": amount.minor,
            "currency": amount.currency.lower(),
            "capture_method": "manual",
            "payment_method": card_id,
            "customer": customer_id,
            "confirm": True,
            # Cards only: otherwise real Stripe wants a return_url for redirect-based methods.
            "payment_method_types": ["card"],
            # The client consents at the card step to the card being kept to charge the shipments
            # and renew the hold off-session; Stripe then sets the card up for merchant-initiated use.
            "setup_future_usage": "off_session",
            "metadata": meta,
            "expand": ["latest_charge"],
        }
        card_options = dict(self._card_options().get("payment_method_options", {}).get("card", {}))
        if moto:
            card_options["moto"] = True
        if card_options:
            params["payment_method_options"] = {"card": card_options}
        if description:
            if self.sandbox:
                localstripe.describe(meta, description)
            else:
                params["description"] = description
        try:
            intent = self._client.v1.payment_intents.create(params=params, options={"idempotency_key": idempotency_key})
        except stripe.CardError as exc:
            return Authorization(
                intent_id=_field(exc.error, "payment_intent", "id"),
                status="declined",
                client_secret=None,
                amount=amount,
                decline_code=_decline_code(exc),
                decline_message=exc.user_message,
            )
        except stripe.StripeError as exc:
            raise _translate(exc) from exc
        return self._authorization(intent)

    def retrieve(self, intent_id: str) -> Authorization:
        """The intent's state now: after 3-D Secure in the browser (PAY-4), or when a webhook says it changed."""
        return self._authorization(self._intent(intent_id))

    def _intent(self, intent_id: str) -> Any:
        try:
            return self._client.v1.payment_intents.retrieve(intent_id, params={"expand": ["latest_charge"]})
        except stripe.StripeError as exc:
            raise _translate(exc) from exc

    def authorize_off_session(
        self,
        *,
        customer_id: str,
        payment_method_id: str,
        amount_minor: int,
        currency: str,
        idempotency_key: str,
        metadata: dict[str, str],
    ) -> Authorization:
        """A new hold on the saved card without the client (merchant-initiated): a renewal, or the rest
        of an order after a partial shipment.

        Held: status "held", with Stripe's `capture_before` (shorter than at checkout for some networks).
        The issuer wants the client to authenticate: status "requires_action", decline_code
        "authentication_required" and the intent's client_secret, so the client can be asked to come
        back and confirm it on-session. Any other refusal raises CardDeclined with Stripe's decline_code
        (e.g. "insufficient_funds").
        """
        if amount_minor <= 0:
            raise ValueError("a hold needs a positive amount")
        amount = _money(amount_minor, currency)
        params: dict[str, Any] = {
            "amount": amount_minor,
            "currency": currency.lower(),
            "customer": customer_id,
            "payment_method": payment_method_id,
            "payment_method_types": ["card"],
            "capture_method": "manual",
            "confirm": True,
            "off_session": True,
            "metadata": {str(k): str(v) for k, v in metadata.items()},
            "expand": ["latest_charge"],
            **self._card_options(),
        }
        try:
            intent = self._client.v1.payment_intents.create(params=params, options={"idempotency_key": idempotency_key})
        except stripe.CardError as exc:
            if _decline_code(exc) == "authentication_required" or exc.code == "authentication_required":
                return Authorization(
                    intent_id=_field(exc.error, "payment_intent", "id"),
                    status="requires_action",
                    client_secret=_field(exc.error, "payment_intent", "client_secret"),
                    amount=amount,
                    decline_code="authentication_required",
                    decline_message=exc.user_message,
                )
            raise _translate(exc) from exc
        except stripe.StripeError as exc:
            raise _translate(exc) from exc
        auth = self._authorization(intent)
        if auth.status == "declined":
            raise CardDeclined(auth.decline_message or "The card was declined.", auth.decline_code)
        return auth

    def capture(self, intent_id: str, *, amount_minor: int, idempotency_key: str, final: bool = True) -> Capture:
        """Charge `amount_minor` of the hold (what shipped) and release the rest: Stripe captures an intent once.

        `final=False` (only on a hold with `multicapture`) charges the amount and keeps the rest held for
        later shipments. Capturing again what was already captured (another key, same amount) returns that
        capture; anything else on an intent that is not held raises PaymentGatewayError with Stripe's code
        (payment_intent_unexpected_state; amount_too_large above the hold).
        """
        if amount_minor <= 0:
            raise ValueError("a capture needs a positive amount; cancel the hold to charge nothing")
        params: dict[str, Any] = {"amount_to_capture": amount_minor, "expand": ["latest_charge"]}
        if not final:
            params["final_capture"] = False
        try:
            intent = self._client.v1.payment_intents.capture(
                intent_id, params=params, options={"idempotency_key": idempotency_key})
        except stripe.InvalidRequestError as exc:
            intent = self._intent(intent_id)
            if not final or intent.status != "succeeded" or self._captured_minor(intent) != amount_minor:
                raise _translate(exc) from exc
        except stripe.StripeError as exc:
            raise _translate(exc) from exc
        captured = self._captured_minor(intent)
        return Capture(
            intent_id=intent.id,
            amount_minor=captured,
            currency=intent.currency.upper(),
            released_minor=_released_minor(intent),
        )

    def refund(
        self, intent_id: str, *, amount_minor: int, idempotency_key: str, reason: str = "requested_by_customer"
    ) -> Refund:
        """Give back `amount_minor` of what was captured on the intent.

        Stripe refuses more than is left unrefunded (PaymentGatewayError, code amount_too_large, or
        charge_already_refunded once nothing is left); `reason` is Stripe's (requested_by_customer,
        duplicate, fraudulent).
        """
        if amount_minor <= 0:
            raise ValueError("a refund needs a positive amount")
        try:
            refund = self._client.v1.refunds.create(
                params={"payment_intent": intent_id, "amount": amount_minor, "reason": reason},
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            raise _translate(exc) from exc
        return Refund(
            refund_id=refund.id,
            intent_id=intent_id,
            amount_minor=int(refund.amount),
            currency=str(refund.currency).upper(),
            status=str(refund.status),
        )

    def cancel(self, intent_id: str, *, idempotency_key: str | None = None) -> None:
        """Release the hold. Cancelling an already cancelled (or lapsed) intent is a no-op, so retries are safe.

        Pass an idempotency key wherever the caller has one; without it a retry is still safe, because
        a second cancel is refused by Stripe and then found already done.
        """
        try:
            self._client.v1.payment_intents.cancel(intent_id, options=_options(idempotency_key))
        except stripe.InvalidRequestError as exc:
            if self.retrieve(intent_id).status not in ("canceled", "expired"):
                raise _translate(exc) from exc
        except stripe.StripeError as exc:
            raise _translate(exc) from exc

    # -- webhooks ------------------------------------------------------------------------------

    def verify_webhook(self, payload: bytes, signature_header: str | None) -> stripe.Event:
        """Check the Stripe-Signature (HMAC-SHA256 with the endpoint secret, at most 300 s old) and parse the event."""
        if not self._webhook_secret:
            raise InvalidWebhook("no webhook secret is configured")
        try:
            return self._client.construct_event(
                payload, signature_header, self._webhook_secret, tolerance=WEBHOOK_TOLERANCE_SECONDS
            )
        except stripe.SignatureVerificationError as exc:
            raise InvalidWebhook(f"webhook signature rejected: {exc.user_message}") from exc
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidWebhook("webhook payload is not JSON") from exc

    # -- internals -----------------------------------------------------------------------------

    def _authorization(self, intent: Any) -> Authorization:
        status = intent.status
        error = _field(intent, "last_payment_error")
        mapped: AuthorizationStatus
        if status == "requires_capture":
            mapped = "held"
        elif status == "requires_action":
            mapped = "requires_action"
        elif status == "requires_payment_method":
            mapped = "declined"
        elif status == "canceled":
            mapped = "expired" if _field(intent, "cancellation_reason") in LAPSED_HOLD_REASONS else "canceled"
        elif status == "succeeded":
            mapped = "captured"
        else:
            mapped = "pending"
        return Authorization(
            intent_id=intent.id,
            status=mapped,
            client_secret=intent.client_secret if mapped == "requires_action" else None,
            amount=_money(intent.amount, intent.currency),
            capture_before=_capture_before(intent),
            decline_code=(_field(error, "decline_code") or _field(error, "code")) if mapped == "declined" else None,
            decline_message=_field(error, "message") if mapped == "declined" else None,
            captured_minor=self._captured_minor(intent),
            refunded_minor=self._refunded_minor(intent),
            multicapture=_field(intent, "latest_charge", "payment_method_details", "card", "multicapture",
                                "status") == "available",
        )

    def _captured_minor(self, intent: Any) -> int:
        return int(_field(intent, "amount_received") or 0)

    def _refunded_minor(self, intent: Any) -> int:
        """Refunds only: Stripe's `amount_refunded` also counts the hold released at a partial capture."""
        if _field(intent, "status") != "succeeded":
            return 0
        return max(0, int(_field(intent, "latest_charge", "amount_refunded") or 0) - _released_minor(intent))


def _released_minor(intent: Any) -> int:
    """The part of a captured hold that was not charged (the charge's amount less what it captured)."""
    charge = _field(intent, "latest_charge")
    amount, captured = _field(charge, "amount"), _field(charge, "amount_captured")
    if amount is None or captured is None:  # charge not expanded: the intent says the same
        amount, captured = _field(intent, "amount"), _field(intent, "amount_received")
    return max(0, int(amount or 0) - int(captured or 0)) if _field(intent, "status") == "succeeded" else 0


def _options(idempotency_key: str | None) -> dict[str, Any]:
    return {"idempotency_key": idempotency_key} if idempotency_key else {}


def _capture_before(intent: Any) -> datetime | None:
    """Stripe's own deadline for the hold, from the charge (the sandbox reports it from rules/payments.toml)."""
    stamp = _field(intent, "latest_charge", "payment_method_details", "card", "capture_before")
    return datetime.fromtimestamp(int(stamp), UTC) if stamp else None
