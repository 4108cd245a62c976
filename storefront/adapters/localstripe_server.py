"""The payment sandbox: localstripe on loopback, so the shop takes card payments without Stripe keys.

We do not launch the stock `localstripe` console script, for two reasons found in its source
(localstripe 1.15.10, `server.start`): it binds `[::]`, i.e. every interface, and this server
has no authentication (anyone who reaches it could register a webhook pointing anywhere); and
it pickles its whole store to the fixed path `/tmp/localstripe.pickle` after every write and
reloads it at start, so two instances on one machine (a dev server and a test run, or parallel
test sessions) overwrite each other's data, and a half-written file can crash the next start.
Instead this module is itself the entry point (`python -m storefront.adapters.localstripe_server`):
it runs localstripe's own aiohttp app on 127.0.0.1 with a per-instance state file (or none).

Only the command that starts the sandbox imports this module; what the shop needs to talk to the
sandbox (address, keys, its differences from Stripe) is in `adapters/sandbox.py`.

`_adapt_localstripe` teaches localstripe what the back office needs and real Stripe does; each
adaptation says which Stripe behaviour it copies. They only ever run in the sandbox process: the
shop's gateway sends real Stripe's parameters and reads real Stripe's fields, and nothing in the
production path knows they exist. Test support that Stripe offers through its dashboard or test
clocks instead (expiring a hold now, a saved card that stops paying) is on private `/_config/` routes.
"""

from __future__ import annotations

import argparse
import atexit
import hashlib
import json
import os
import pickle
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storefront.rules import load as load_rules

from storefront.adapters import clock
from storefront.adapters.sandbox import JS_PATH, LOOPBACK, url as sandbox_url

_SANDBOX_MARKER = b"LOCALSTRIPE_BASE_API"
# Bumped whenever `_adapt_localstripe` changes what the sandbox does, so a sandbox left running by an
# older start is not silently reused (it would refuse setup_future_usage, for one).
ADAPTATIONS = 3
ADAPTATIONS_PATH = "/_config/adaptations"
GATE_PATH = "/_config/authorization_gate"
_PROJECT_ROOT = Path(__file__).resolve().parents[2]


class LocalStripeError(RuntimeError):
    """The sandbox could not be started or reached."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def is_sandbox_listening(url: str, timeout: float = 1.0) -> bool:
    """True only for a localstripe answering at `url`, so an unrelated service on the port is not mistaken for it."""
    try:
        with urllib.request.urlopen(url + JS_PATH, timeout=timeout) as response:
            return response.status == 200 and _SANDBOX_MARKER in response.read()
    except (OSError, ValueError):
        return False


def is_adapted(url: str, timeout: float = 1.0) -> bool:
    """True when the sandbox at `url` runs this module's adaptations (version `ADAPTATIONS`), not an older start."""
    try:
        with urllib.request.urlopen(url + ADAPTATIONS_PATH, timeout=timeout) as response:
            return json.loads(response.read()).get("adaptations") == ADAPTATIONS
    except (OSError, ValueError):
        return False


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((LOOPBACK, port)) == 0


def register_webhook(
    base_url: str,
    url: str,
    secret: str,
    *,
    name: str = "storefront",
    events: list[str] | None = None,
) -> None:
    """Make the sandbox POST signed events to `url`.

    Real Stripe configures endpoints in its dashboard; localstripe has a private route instead
    (`POST /_config/webhooks/<name>` with url, secret and an optional event filter). Registering
    the same name again replaces the endpoint. Registrations live in the server's memory only,
    so they must be repeated after every sandbox start.
    """
    body: dict[str, Any] = {"url": url, "secret": secret}
    if events is not None:
        body["events"] = list(events)
    request = urllib.request.Request(
        f"{base_url}/_config/webhooks/{urllib.parse.quote(name, safe='')}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        raise LocalStripeError(f"localstripe refused the webhook registration ({exc.code}): {url}") from exc
    except OSError as exc:
        raise LocalStripeError(f"localstripe at {base_url} is not reachable: {exc}") from exc


def _config_post(base_url: str, path: str, body: dict[str, Any]) -> None:
    request = urllib.request.Request(
        f"{base_url}/_config/{path}", data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"}, method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        raise LocalStripeError(f"localstripe refused {path} ({exc.code}): {exc.read()[:200]!r}") from exc
    except OSError as exc:
        raise LocalStripeError(f"localstripe at {base_url} is not reachable: {exc}") from exc


def expire_hold(base_url: str, intent_id: str) -> None:
    """Test support: let an uncaptured hold lapse now, as Stripe does at the charge's `capture_before`.

    The intent becomes `canceled` with `cancellation_reason` "automatic", its charge is released in
    full, and `charge.expired` then `payment_intent.canceled` are sent to the registered webhooks.
    Real Stripe has no such call (its test clocks do not cover PaymentIntents): there the hold simply
    lapses after its window (`[hold_windows]` in rules/payments.toml).
    """
    _config_post(base_url, f"payment_intents/{urllib.parse.quote(intent_id, safe='')}/expire", {})


def decline_card(base_url: str, card_id: str, decline_code: str = "insufficient_funds") -> None:
    """Test support: from now on the issuer refuses every charge on this saved card with `decline_code`.

    Stripe's test cards that decline for a stated reason (4000000000009995 insufficient funds, ...)
    cannot be saved to a customer at all, on Stripe as in localstripe, so they cannot show a renewal
    on a card that was good at checkout and is not any more; this stands in for that.
    """
    _config_post(base_url, f"cards/{urllib.parse.quote(card_id, safe='')}/decline", {"decline_code": decline_code})


def hold_authorizations(base_url: str, held: bool) -> None:
    """Test support: a provider that answers card holds only when told. While `held`, every new hold
    (`POST /v1/payment_intents`) waits at the sandbox's door; releasing lets the waiting ones through. A test
    thus keeps a payment in flight for as long as it needs, by the order of events rather than a delay."""
    request = urllib.request.Request(f"{base_url}{GATE_PATH}", data=json.dumps({"held": held}).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=5) as response:
        response.read()


def authorizations_waiting(base_url: str) -> int:
    """How many holds wait at the door (see `hold_authorizations`): a payment that has reached the provider."""
    with urllib.request.urlopen(f"{base_url}{GATE_PATH}", timeout=5) as response:
        return json.loads(response.read())["waiting"]


@dataclass
class LocalStripe:
    """A running sandbox. `stop()` only ends a process this handle started, never a shared one."""

    url: str
    port: int
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def owned(self) -> bool:
        return self._process is not None

    def register_webhook(self, url: str, secret: str, *, name: str = "storefront", events: list[str] | None = None) -> None:
        register_webhook(self.url, url, secret, name=name, events=events)

    def expire_hold(self, intent_id: str) -> None:
        expire_hold(self.url, intent_id)

    def decline_card(self, card_id: str, decline_code: str = "insufficient_funds") -> None:
        decline_card(self.url, card_id, decline_code)

    def stop(self, timeout: float = 5.0) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)

    def __enter__(self) -> LocalStripe:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start(
    port: int,
    *,
    state_file: Path | str | None = None,
    log_file: Path | str | None = None,
    timeout: float = 20.0,
) -> LocalStripe:
    """Launch a sandbox on loopback and return once it answers HTTP.

    `state_file` keeps customers, cards and intents across restarts (the shop's orders refer to
    their ids); without it the sandbox starts empty and keeps everything in memory. Output goes
    to `log_file` or is discarded: an unread pipe would fill and freeze the server.
    """
    url = sandbox_url(port)
    command = [sys.executable, "-m", __name__, "--port", str(port)]
    if state_file is not None:
        command += ["--state-file", str(state_file)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_PROJECT_ROOT), env.get("PYTHONPATH")]))
    log = open(log_file, "ab") if log_file is not None else subprocess.DEVNULL  # noqa: SIM115
    try:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env, close_fds=True
        )
    finally:
        if log is not subprocess.DEVNULL:
            log.close()
    handle = LocalStripe(url=url, port=port, _process=process)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if is_sandbox_listening(url, timeout=0.5):
            atexit.register(handle.stop)
            return handle
        if process.poll() is not None:
            # Lost a start race (another worker bound the port first): use theirs.
            if is_sandbox_listening(url):
                return LocalStripe(url=url, port=port)
            raise LocalStripeError(
                f"localstripe exited with code {process.returncode} before answering on port {port}"
                + (f"; see {log_file}" if log_file else "")
            )
        time.sleep(0.05)
    handle.stop()
    raise LocalStripeError(f"localstripe did not answer on {url} within {timeout:.0f} s")


def ensure_running(
    port: int,
    *,
    state_file: Path | str | None = None,
    log_file: Path | str | None = None,
    timeout: float = 20.0,
) -> LocalStripe:
    """Reuse a sandbox already on `port` (another worker's, or one left by a previous run), else start one."""
    url = sandbox_url(port)
    if is_sandbox_listening(url):
        if not is_adapted(url):
            raise LocalStripeError(
                f"the payment sandbox on port {port} was started by an older version of the shop (it lacks the "
                "capture, refund and off-session adaptations): stop that process and start again")
        return LocalStripe(url=url, port=port)
    if _port_in_use(port):
        raise LocalStripeError(f"port {port} is taken by something that is not localstripe")
    return start(port, state_file=state_file, log_file=log_file, timeout=timeout)


def _relocate_store(state_file: str | None) -> None:
    """Point localstripe's persistence at our own file (or nowhere) instead of /tmp/localstripe.pickle."""
    from localstripe import resources

    def load(self: dict) -> None:
        if not state_file:
            return
        try:
            with open(state_file, "rb") as handle:
                old = pickle.load(handle)  # noqa: S301 - our own sandbox file on our own machine
        except FileNotFoundError:
            return
        except (EOFError, pickle.UnpicklingError, AttributeError, ImportError) as exc:
            print(f"localstripe: ignoring unreadable state file {state_file}: {exc}", file=sys.stderr)
            return
        self.clear()
        self.update(old)

    def mark_changed(self: dict) -> None:
        _persistence.changed = True

    _persistence.state_file = state_file or None
    resources.Store.try_load_from_disk = load
    resources.Store.dump_to_disk = mark_changed
    resources.store.try_load_from_disk()


@dataclass
class _Persistence:
    """When the sandbox writes its store to its state file.

    localstripe pickles the whole store after every write (several times per request), so each payment call
    cost more than the last as the store grew: at a few thousand checkouts the sandbox burned more CPU than the
    shop. Here a write only marks the store changed; the store is written at most every `SAVE_EVERY_SECONDS`
    (from the event loop, between requests, so no request sees half a write) and when the sandbox stops. A
    call's cost no longer depends on the history; a `kill -9` loses at most the last seconds of a development
    sandbox's state (the shop's own records are in its database)."""

    state_file: str | None = None
    changed: bool = False

    def save(self) -> None:
        from localstripe import resources

        if not self.state_file or not self.changed:
            return
        self.changed = False
        temporary = f"{self.state_file}.{os.getpid()}.tmp"
        with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:  # owner only
            pickle.dump(dict(resources.store), handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, self.state_file)


def _index_store_by_type() -> None:
    """Lists read an index of the store by object type instead of scanning the whole store.

    localstripe answers every list by walking all its objects (`StripeObject._api_list_all`), and exporting a
    charge lists its refunds that way: each payment call walked the whole history, so its cost grew with it
    (two thirds of the sandbox's CPU after a few hundred checkouts). The index keeps the store's insertion
    order, so lists come out as before."""
    from localstripe import resources
    from localstripe.errors import UserError

    by_type: dict[str, dict[str, Any]] = {}

    def kind(key: str) -> str:
        return key.split(":", 1)[0]

    def set_item(self: dict, key: str, value: Any) -> None:
        dict.__setitem__(self, key, value)
        by_type.setdefault(kind(key), {})[key] = value
        self.dump_to_disk()

    def del_item(self: dict, key: str) -> None:
        dict.__delitem__(self, key)
        by_type.get(kind(key), {}).pop(key, None)
        self.dump_to_disk()

    def list_all(cls: type, url: str | None, limit: Any = None, starting_after: Any = None, **kwargs: Any) -> Any:
        if kwargs:
            raise UserError(400, "Unexpected " + ", ".join(kwargs.keys()))
        listed = resources.List(url, limit=limit, starting_after=starting_after)
        listed._list = list(by_type.get(cls.object, {}).values())
        return listed

    for key, value in resources.store.items():  # what the state file brought back
        by_type.setdefault(kind(key), {})[key] = value
    resources.Store.__setitem__ = set_item
    resources.Store.__delitem__ = del_item
    resources.StripeObject._api_list_all = classmethod(list_all)


SAVE_EVERY_SECONDS = 2.0
_persistence = _Persistence()


async def _save_periodically(app: Any) -> Any:
    """aiohttp cleanup context: save every few seconds while serving, and once more on the way out."""
    import asyncio

    async def loop() -> None:
        while True:
            await asyncio.sleep(SAVE_EVERY_SECONDS)
            _persistence.save()

    task = asyncio.create_task(loop())
    yield
    task.cancel()
    _persistence.save()

# -- what localstripe is taught (sandbox process only) -------------------------------------------

IDEMPOTENCY_TTL_SECONDS = 24 * 3600  # Stripe keeps an idempotent result for at least 24 hours
_IDEMPOTENCY_PREFIX = "_idempotency:"  # store keys no localstripe object type starts with
SETUP_FUTURE_USAGES = ("off_session", "on_session")
CANCELLATION_REASONS = ("duplicate", "fraudulent", "requested_by_customer", "abandoned")
REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
# Stripe's 3-D Secure test cards: 4000002500003155 needs authentication on-session but not for
# off-session payments once set up (saved with setup_future_usage); the others always need it.
SET_UP_SKIPS_AUTHENTICATION = frozenset({"4000002500003155"})


def hold_window_seconds(brand: str, initiator: str) -> int:
    """How long a hold lasts by card network and who initiated it ("customer" or "merchant").

    From `[hold_windows]` in rules/payments.toml; a network not listed gets the `default` row.
    """
    windows = load_rules("payments")["hold_windows"]
    row = windows.get((brand or "").lower(), windows["default"])
    return int(round(float(row[f"{initiator}_days"]) * 86400))


CARD_OPTIONS = {"request_extended_authorization": ("if_available", "never"),
                "request_multicapture": ("if_available", "never"),
                # Mail order / telephone order (PAY-2): accepted and ignored, as a sandbox cannot tell
                # (tests record the request to prove the flag is sent).
                "moto": ("true", "false", True, False)}


def _card_options(options: Any) -> dict[str, str]:
    """payment_method_options[card] as Stripe validates it, for the capabilities the shop may ask for."""
    from localstripe.errors import UserError

    if options in (None, ""):
        return {}
    card = options.get("card") if isinstance(options, dict) else None
    if not isinstance(options, dict) or set(options) - {"card"} or not isinstance(card, dict):
        raise UserError(400, "Invalid payment_method_options", {"param": "payment_method_options"})
    for key, value in card.items():
        if value not in CARD_OPTIONS.get(key, ()):
            raise UserError(400, f"Invalid payment_method_options[card][{key}]",
                            {"param": f"payment_method_options[card][{key}]"})
    return dict(card)


def _adapt_localstripe() -> None:
    """Make localstripe 1.15 behave as Stripe does where the back office relies on it.

    Each patch names the Stripe behaviour it copies. Called once, before `localstripe.server` is
    imported (its routes bind the handlers at import time).
    """
    from localstripe import resources as r
    from localstripe.errors import UserError

    from storefront.domain.cards import canonical_brand

    PaymentIntent, Charge, Refund, PaymentMethod = r.PaymentIntent, r.Charge, r.Refund, r.PaymentMethod

    def card_error(message: str, contents: dict[str, Any]) -> UserError:
        err = UserError(402, message, contents)
        err.body["error"]["type"] = "card_error"  # what Stripe calls a decline (localstripe: invalid_request_error)
        return err

    # 1. setup_future_usage (localstripe: 400 "Unexpected setup_future_usage"). Stripe saves the card
    #    for later off-session use once the intent succeeds; the card is remembered as set up, which
    #    is what lets 4000002500003155 pay off-session without authentication afterwards.
    #    off_session=true is remembered on the intent (localstripe validates it, then forgets it).
    init = PaymentIntent.__init__

    def pi_init(self, *args, setup_future_usage=None, _off_session=False, payment_method_options=None, **kwargs):
        if setup_future_usage not in (None, "", *SETUP_FUTURE_USAGES):
            raise UserError(400, "Invalid setup_future_usage", {"param": "setup_future_usage"})
        card_options = _card_options(payment_method_options)
        init(self, *args, **kwargs)
        self.setup_future_usage = setup_future_usage or None
        self.cancellation_reason = None
        self._off_session = bool(_off_session)
        self._card_options = card_options

    PaymentIntent.__init__ = pi_init

    create = PaymentIntent._api_create.__func__

    def pi_create(cls, confirm=None, off_session=None, **data):
        return create(cls, confirm=confirm, off_session=off_session,
                      _off_session=r.try_convert_to_bool(off_session) is True, **data)

    PaymentIntent._api_create = classmethod(pi_create)

    # 2. Off-session confirmation (Stripe: no 3-D Secure challenge can be shown, so a card that needs
    #    one fails with 402 `authentication_required`, the intent back to requires_payment_method;
    #    a card set up earlier with setup_future_usage that the issuer exempts is charged directly).
    confirm = PaymentIntent._confirm

    def pi_confirm(self, on_failure_now):
        if not getattr(self, "_off_session", False):
            return confirm(self, on_failure_now)
        self._authentication_failed = False
        pm = PaymentMethod._api_retrieve(self.payment_method)
        if pm._requires_authentication() and not (
                getattr(pm, "_storefront_set_up", False) and getattr(pm, "_card_number", "") in SET_UP_SKIPS_AUTHENTICATION):
            self._storefront_error = {
                "code": "authentication_required", "decline_code": "authentication_required", "type": "card_error",
                "message": "Your card was declined. This transaction requires authentication.",
                "payment_method": {"id": pm.id, "object": pm.object},
            }
            self.payment_method = None
            r.schedule_webhook(r.Event("payment_intent.payment_failed", self))
            raise card_error(self._storefront_error["message"], {
                "code": "authentication_required", "decline_code": "authentication_required",
                "payment_intent": self._export()})
        return self._create_charge(on_failure_now=on_failure_now)

    PaymentIntent._confirm = pi_confirm

    def last_payment_error(self):
        if getattr(self, "_storefront_error", None) and self.payment_method is None:
            return dict(self._storefront_error)
        error = original_last_payment_error.fget(self)
        if error and self.latest_charge is not None and getattr(self.latest_charge, "_decline_code", None):
            error = {**error, "decline_code": self.latest_charge._decline_code, "type": "card_error"}
        return error

    original_last_payment_error = PaymentIntent.last_payment_error
    PaymentIntent.last_payment_error = property(last_payment_error)

    # 3. capture_before on the charge (Stripe: payment_method_details.card.capture_before), from the
    #    hold windows per network and initiator (customer at checkout, merchant off-session).
    create_charge = PaymentIntent._create_charge

    def pi_create_charge(self, on_failure_now):
        try:
            create_charge(self, on_failure_now)
        finally:
            charge = self.latest_charge
            if charge is not None and not getattr(charge, "payment_method_details", None):
                pm = PaymentMethod._api_retrieve(charge.payment_method)
                card = getattr(pm, "card", None)  # a PaymentMethod has a card; a card source is the card
                brand = card.get("brand") if isinstance(card, dict) else getattr(pm, "brand", None)
                last4 = card.get("last4") if isinstance(card, dict) else getattr(pm, "last4", None)
                initiator = "merchant" if getattr(self, "_off_session", False) else "customer"
                details: dict[str, Any] = {"brand": canonical_brand(brand or "visa"), "last4": last4}
                if self.capture_method == "manual" and charge.status == "succeeded":
                    asked = getattr(self, "_card_options", {})
                    capabilities = load_rules("payments")["provider_capabilities"]
                    extended = asked.get("request_extended_authorization") == "if_available" \
                        and details["brand"] in capabilities["extended_authorization_brands"]
                    # a test clock (adapters/clock.py) moves the sandbox's calendar as Stripe's test clocks do
                    details["capture_before"] = charge.created + int(clock.offset().total_seconds()) + (
                        int(capabilities["extended_authorization_days"]) * 86400 if extended
                        else hold_window_seconds(details["brand"], initiator))
                    details["extended_authorization"] = {"status": "enabled" if extended else "disabled"}
                    multi = asked.get("request_multicapture") == "if_available" \
                        and details["brand"] in capabilities["multicapture_brands"]
                    details["multicapture"] = {"status": "available" if multi else "unavailable"}
                charge.payment_method_details = {"type": "card", "card": details}
        if self.latest_charge is not None and self.latest_charge.status == "succeeded" and \
                getattr(self, "setup_future_usage", None):  # intents from an older state file lack it
            pm = PaymentMethod._api_retrieve(self.payment_method)
            pm._storefront_set_up = True

    PaymentIntent._create_charge = pi_create_charge

    # 4. A saved card that the issuer refuses from now on, with Stripe's decline_code on the error
    #    (localstripe only says code card_declined, and puts no payment_intent in the error).
    charging_is_declined = PaymentMethod._charging_is_declined

    def pm_charging_is_declined(self):
        return bool(getattr(self, "_storefront_decline_code", None)) or charging_is_declined(self)

    PaymentMethod._charging_is_declined = pm_charging_is_declined
    set_auth_failure = Charge._set_auth_failure

    def charge_set_auth_failure(self):
        set_auth_failure(self)
        code = getattr(PaymentMethod._api_retrieve(self.payment_method), "_storefront_decline_code", None)
        if code:
            self._decline_code = code
            self.outcome = {"type": "issuer_declined", "reason": code}

    Charge._set_auth_failure = charge_set_auth_failure

    def charge_raise_failure(self):
        contents: dict[str, Any] = {"code": self.failure_code, "charge": self.id}
        if getattr(self, "_decline_code", None):
            contents["decline_code"] = self._decline_code
        if self.payment_intent:
            contents["payment_intent"] = PaymentIntent._api_retrieve(self.payment_intent)._export()
        raise card_error(self.failure_message, contents)

    Charge._raise_failure = charge_raise_failure

    # 5. Partial capture as Stripe reports it: the charge says `amount_captured`, and the released rest
    #    counts in `amount_refunded` (localstripe booked it as a Refund object, which Stripe does not
    #    create); the intent says `amount_received` and `amount_capturable`. A PaymentIntent is
    #    captured once; capturing anything but a held intent is 400 payment_intent_unexpected_state.
    #    Multicapture (Stripe's request_multicapture, where the account and network offer it): a capture
    #    with final_capture=false charges part of the hold and leaves the intent requires_capture for the
    #    next; the final capture (the default) charges its amount and releases what is left.
    def charge_capture(self, amount, on_success=None, final=True):
        before = getattr(self, "_captured_so_far", 0)
        amount = self.amount - before if amount is None else r.try_convert_to_int(amount)
        if not (type(amount) is int and amount > 0):
            raise UserError(400, "Invalid amount_to_capture", {"param": "amount_to_capture"})
        if amount > self.amount - before:
            raise UserError(400, f"amount_to_capture ({amount}) is greater than the amount capturable "
                                 f"({self.amount - before})", {"code": "amount_too_large", "param": "amount_to_capture"})
        if self.captured is not False or self.status != "succeeded":
            raise UserError(400, "This charge cannot be captured.", {"code": "charge_already_captured"})
        if not final:
            self._captured_so_far = before + amount
            return

        def captured():
            self.captured = True
            self._amount_captured = before + amount
            if on_success:
                on_success()

        self._trigger_payment(on_success=captured)

    Charge._capture = charge_capture

    def amount_captured(self):
        if not self.captured:
            return getattr(self, "_captured_so_far", 0)
        return getattr(self, "_amount_captured", self.amount)  # state files from before this adaptation

    def released(self):
        if self.captured:
            return self.amount - amount_captured(self)
        return self.amount - amount_captured(self) if getattr(self, "_released", False) else 0

    Charge.amount_captured = property(amount_captured)
    Charge.amount_refunded = property(lambda self: released(self) + sum(x.amount for x in self.refunds._list))

    def amount_received(self):
        charge = self.latest_charge
        return charge.amount_captured if charge is not None and charge.status == "succeeded" else 0

    PaymentIntent.amount_received = property(amount_received)
    PaymentIntent.amount_capturable = property(
        lambda self: self.amount - amount_received(self) if self.status == "requires_capture" else 0)

    def pi_capture(cls, id, amount_to_capture=None, final_capture=None, **kwargs):
        if kwargs:
            raise UserError(400, "Unexpected " + ", ".join(kwargs.keys()))
        obj = cls._api_retrieve(id)
        if obj.status != "requires_capture":
            raise UserError(400, f"This PaymentIntent could not be captured because it has a status of {obj.status}.",
                            {"code": "payment_intent_unexpected_state"})
        final = r.try_convert_to_bool(final_capture) if final_capture is not None else True
        if final not in (True, False):
            raise UserError(400, "Invalid final_capture", {"param": "final_capture"})
        multicapture = (obj.latest_charge.payment_method_details or {}).get("card", {}).get("multicapture", {})
        if not final and multicapture.get("status") != "available":
            raise UserError(400, "Multicapture is not available for this PaymentIntent.",
                            {"code": "payment_intent_multicapture_not_available", "param": "final_capture"})
        obj.latest_charge._capture(amount=amount_to_capture, on_success=obj._on_success, final=final)
        return obj

    PaymentIntent._api_capture = classmethod(pi_capture)

    # 6. Cancel with Stripe's cancellation_reason; the hold's charge is released in full (Stripe
    #    refunds the uncaptured charge). Cancelling a cancelled or captured intent is 400
    #    payment_intent_unexpected_state (localstripe: a bare "Bad request").
    cancel = PaymentIntent._api_cancel.__func__

    def pi_cancel(cls, id, cancellation_reason=None, **kwargs):
        if cancellation_reason not in (None, *CANCELLATION_REASONS):
            raise UserError(400, "Invalid cancellation_reason", {"param": "cancellation_reason"})
        obj = cls._api_retrieve(id)
        if obj.status in ("canceled", "succeeded", "processing"):
            raise UserError(400, f"You cannot cancel this PaymentIntent because it has a status of {obj.status}.",
                            {"code": "payment_intent_unexpected_state"})
        obj = cancel(cls, id, **kwargs)
        obj.cancellation_reason = cancellation_reason
        if obj.latest_charge is not None:
            obj.latest_charge._released = True
        return obj

    PaymentIntent._api_cancel = classmethod(pi_cancel)

    # 7. Refunds as Stripe makes them: of captured money only, never more than is left unrefunded
    #    (400 amount_too_large; charge_already_refunded once nothing is left), by default the rest,
    #    with a `reason`, and naming the payment intent even when asked by charge.
    #    Difference kept: Stripe would treat a refund of an uncaptured hold as releasing it; here it
    #    is refused, and the shop cancels holds instead.
    refund_init = Refund.__init__

    def refund_new(self, charge=None, payment_intent=None, amount=None, metadata=None, reason=None, **kwargs):
        if reason not in (None, *REFUND_REASONS):
            raise UserError(400, "Invalid reason", {"param": "reason"})
        charge_obj = None
        if payment_intent is not None and isinstance(payment_intent, str):
            charge_obj = PaymentIntent._api_retrieve(payment_intent).latest_charge
            if charge_obj is None:
                raise UserError(400, f"PaymentIntent {payment_intent} has no charge to refund.",
                                {"code": "charge_not_captured"})
        elif isinstance(charge, str):
            charge_obj = Charge._api_retrieve(charge)
        if charge_obj is not None and charge_obj.status == "succeeded":
            if charge_obj.amount_captured == 0:
                raise UserError(400, "This charge has not been captured; cancel the payment intent to release it.",
                                {"code": "charge_not_captured"})
            left = charge_obj.amount_captured - sum(x.amount for x in charge_obj.refunds._list)
            asked = left if amount is None else r.try_convert_to_int(amount)
            if left <= 0:
                raise UserError(400, f"Charge {charge_obj.id} has already been refunded.",
                                {"code": "charge_already_refunded"})
            if type(asked) is int and asked > left:
                raise UserError(400, f"Refund amount ({asked}) is greater than unrefunded amount on charge ({left})",
                                {"code": "amount_too_large", "param": "amount"})
            amount = asked
        refund_init(self, charge=charge, payment_intent=payment_intent, amount=amount, metadata=metadata, **kwargs)
        self.reason = reason
        if self.payment_intent is None:
            self.payment_intent = Charge._api_retrieve(self.charge).payment_intent

    Refund.__init__ = refund_new

    # Handlers are bound into localstripe's route table when resources is imported.
    rebound = {
        "/v1/payment_intents/{id}/cancel": PaymentIntent._api_cancel,
        "/v1/payment_intents/{id}/capture": PaymentIntent._api_capture,
    }
    r.extra_apis[:] = [(method, url, rebound.get(url, func)) for method, url, func in r.extra_apis]
    r.extra_apis.extend((
        ("POST", "/_config/payment_intents/{id}/expire", _expire_intent),
        ("POST", "/_config/cards/{id}/decline", _decline_card),
    ))


def _expire_intent(id: str, **_: Any) -> Any:
    """Test support (see `expire_hold`): the hold lapses now, as Stripe cancels it at capture_before."""
    from localstripe import resources as r
    from localstripe.errors import UserError

    intent = r.PaymentIntent._api_retrieve(id)
    if intent.status != "requires_capture":
        raise UserError(400, f"Only a held payment intent can lapse (this one is {intent.status}).")
    intent._canceled = True
    intent.cancellation_reason = "automatic"
    intent.latest_charge._released = True
    r.schedule_webhook(r.Event("charge.expired", intent.latest_charge))
    r.schedule_webhook(r.Event("payment_intent.canceled", intent))
    return intent


def _decline_card(id: str, decline_code: str = "insufficient_funds", **_: Any) -> Any:
    """Test support (see `decline_card`): the issuer refuses further charges on this saved card."""
    from localstripe import resources as r
    from localstripe.errors import UserError

    if not isinstance(decline_code, str) or not decline_code:
        raise UserError(400, "decline_code is required")
    card = r.PaymentMethod._api_retrieve(id)
    card._storefront_decline_code = decline_code
    return card


def _idempotency_middleware(store: dict) -> Any:
    """Stripe's idempotent requests (localstripe ignores the `Idempotency-Key` header).

    A POST with a key the account used before, within 24 hours, gets the first answer again
    (`Idempotent-Replayed: true`) and changes nothing; with different parameters it is refused (400
    idempotency_error); while the first is still running, 409. As on Stripe, only answers of a
    request that ran are kept (success, or a card decline), not refused or failed ones. Kept in the
    store, so a state file keeps them across restarts.
    """
    from aiohttp import web

    running: set[str] = set()

    def error(status: int, message: str) -> web.Response:
        return web.json_response({"error": {"type": "idempotency_error", "message": message}}, status=status)

    @web.middleware
    async def middleware(request: web.Request, handler: Any) -> web.StreamResponse:
        key = request.headers.get("Idempotency-Key")
        if request.method != "POST" or not key or not request.path.startswith("/v1/"):
            return await handler(request)
        body = await request.read()  # aiohttp keeps it for the handler
        slot = _IDEMPOTENCY_PREFIX + hashlib.sha256(
            f"{request.headers.get('Authorization', '')}\0{key}".encode()).hexdigest()
        request_hash = hashlib.sha256(request.path.encode() + b"\0" + body).hexdigest()
        kept = store.get(slot)
        if kept is not None and time.time() - kept["at"] > IDEMPOTENCY_TTL_SECONDS:
            del store[slot]
            kept = None
        if kept is not None:
            if kept["request"] != request_hash:
                return error(400, "Keys for idempotent requests can only be used with the same parameters "
                                  "they were first used with.")
            return web.Response(body=kept["body"], status=kept["status"], content_type="application/json",
                                headers={"Idempotent-Replayed": "true"})
        if slot in running:
            return error(409, "There is currently another in-progress request using this idempotency key.")
        running.add(slot)
        try:
            response = await handler(request)
            if isinstance(response, web.Response) and (200 <= response.status < 300 or response.status == 402):
                store[slot] = {"request": request_hash, "status": response.status, "body": response.body,
                               "at": time.time()}
            return response
        finally:
            running.discard(slot)

    return middleware


def _authorization_gate(app: Any) -> Any:
    """The door of `hold_authorizations`: a middleware that keeps new holds waiting while it is shut, and the
    private route that shuts it, opens it and counts who waits."""
    import asyncio

    from aiohttp import web

    state = {"open": asyncio.Event(), "waiting": 0}
    state["open"].set()

    @web.middleware
    async def middleware(request: web.Request, handler: Any) -> web.StreamResponse:
        if request.method == "POST" and request.path == "/v1/payment_intents" and not state["open"].is_set():
            state["waiting"] += 1
            try:
                await state["open"].wait()
            finally:
                state["waiting"] -= 1
        return await handler(request)

    async def gate(request: web.Request) -> web.Response:
        if request.method == "POST":
            if (await request.json()).get("held") is True:
                state["open"].clear()
            else:
                state["open"].set()
        return web.json_response({"held": not state["open"].is_set(), "waiting": state["waiting"]})

    app.router.add_get(GATE_PATH, gate)
    app.router.add_post(GATE_PATH, gate)
    return middleware


def _serve(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="localstripe on loopback with its own state file")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state-file", default=None)
    args = parser.parse_args(argv)

    import logging

    from aiohttp import web

    _relocate_store(args.state_file)
    _index_store_by_type()
    _adapt_localstripe()
    from localstripe import resources, server

    server.app.middlewares.insert(0, _idempotency_middleware(resources.store))
    server.app.middlewares.insert(0, _authorization_gate(server.app))

    async def adaptations(request: web.Request) -> web.Response:
        return web.json_response({"adaptations": ADAPTATIONS})

    server.app.router.add_get(ADAPTATIONS_PATH, adaptations)
    server.app.cleanup_ctx.append(_save_periodically)
    atexit.register(_persistence.save)

    # localstripe reports webhook deliveries on this logger; keep them visible in the log file.
    logger = logging.getLogger("aiohttp.access")
    logger.setLevel(logging.INFO)
    logger.addHandler(logging.StreamHandler())
    web.run_app(server.app, host=LOOPBACK, port=args.port, access_log=logger, print=None)


if __name__ == "__main__":
    _serve()
