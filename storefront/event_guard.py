"""What a browser's event may reach, and how a failure is told: one short log line, a polite message.

Reflex hands a client's event to whichever handler it names, with whatever arguments it carries.
Left alone, an unknown name raises a KeyError whose log line carries the request headers, an extra
or missing argument a TypeError with a traceback, a value Reflex cannot convert a warning that
quotes it, and `setvar` lets any browser write any var of a state. So every event is checked here,
before Reflex queues it (docs/design.md, "Crafted events"):

- the event is a mapping with a handler name, a payload mapping and routing data of the right shapes;
- the name is a registered handler that a browser may call: a method written on the shop's states
  or one of Reflex's own internal events, never `setvar` or a generated setter;
- the payload binds to the handler's signature, and every value has the type its annotation names
  (a bool is not an int, a float is finite) within the bounds of `rules/events.toml`;
- browser-storage values sent back (hydration, storage sync) name real storage vars and are strings.

A refused event is logged as one line (the handler name only when it is a plain identifier, never
the payload, headers or cookies) and answered with `ErrorCode.INVALID_REQUEST`. Handlers still check
the values they receive (a quantity of -3 is an int); they can rely on the types.

An exception in a handler is logged as one line with its type, where it happened and a reference,
without message, locals or request, and the shopper sees `ErrorCode.UNEXPECTED` with that reference.
"""

import functools
import inspect
import logging
import math
import re
import secrets
import traceback
import types
import typing
from pathlib import Path
from typing import Any

import reflex as rx
from reflex.app import App, EventNamespace
from reflex.state import EventHandlerSetVar, State, StateUpdate, UpdateVarsInternalState
from reflex_base.constants.state import FIELD_MARKER
from reflex_base.event import Event, EventHandler, EventSpec
from reflex_base.registry import RegistrationContext
from reflex_base.utils.format import sanitize_client_log_value

from storefront.domain.errors import ErrorCode, message
from storefront.rules import load
from storefront.state.toasts import refusal_toast

log = logging.getLogger("storefront.events")

_PACKAGE_ROOT = Path(__file__).resolve().parent.parent

_IDENTIFIER = re.compile(r"[A-Za-z0-9_.]+")
_EMAIL = re.compile(r"[^\s@]+@[^\s@]+")
_DIGITS = re.compile(r"\d{6,}")


class Refused(Exception):
    """A crafted event. `reason` is a fixed phrase of this module, never text from the client."""

    def __init__(self, reason: str, tell_client: bool = True):
        super().__init__(reason)
        self.reason = reason
        self.tell_client = tell_client


def _limits() -> dict[str, int]:
    return load("events")


# -- values --------------------------------------------------------------------------------------


def _text_ok(value: str, limit: int | None = None) -> bool:
    # NUL is refused because PostgreSQL cannot store it: a stored field must not fail later.
    return len(value) <= (limit or _limits()["max_text_chars"]) and "\x00" not in value


def _json_ok(value: Any, depth: int) -> bool:
    """Any JSON value, within the size bounds (for arguments annotated `Any` or not at all)."""
    limits = _limits()
    if depth > limits["max_depth"]:
        return False
    if value is None or isinstance(value, (bool, int)):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, str):
        return _text_ok(value)
    if isinstance(value, list):
        return len(value) <= limits["max_items"] and all(_json_ok(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return len(value) <= limits["max_items"] and all(
            isinstance(k, str) and _text_ok(k) and _json_ok(v, depth + 1) for k, v in value.items())
    return False


def fits(value: Any, hint: Any, depth: int = 0) -> bool:
    """Whether `value`, as decoded from the browser's JSON, is exactly of the annotated type.

    Only the types a browser event can carry are understood; any other annotation refuses, so a
    handler taking a dataclass or a model must declare plain types and build it itself.
    """
    if depth > _limits()["max_depth"]:
        return False
    if hint is Any or hint is inspect.Parameter.empty:
        return _json_ok(value, depth)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(fits(value, member, depth) for member in args)
    if hint is None or hint is type(None):
        return value is None
    if origin is typing.Literal:
        return any(type(value) is type(choice) and value == choice for choice in args)
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and math.isfinite(value))
    if hint is str:
        return isinstance(value, str) and _text_ok(value)
    if hint is dict or origin is dict:
        key_hint, value_hint = args or (str, Any)
        return isinstance(value, dict) and len(value) <= _limits()["max_items"] and all(
            fits(k, key_hint, depth + 1) and fits(v, value_hint, depth + 1) for k, v in value.items())
    if hint is list or origin is list:
        item_hint = args[0] if args else Any
        return isinstance(value, list) and len(value) <= _limits()["max_items"] and all(
            fits(v, item_hint, depth + 1) for v in value)
    return False


# -- handlers ------------------------------------------------------------------------------------


def callable_by_browser(handler: EventHandler, state: type) -> bool:
    """A method written in the same package as its state: neither `setvar` (which sets any var) nor
    a setter Reflex generates, and none of Reflex's setters on its internal states."""
    if isinstance(handler, EventHandlerSetVar):
        return False
    return handler.fn.__module__.partition(".")[0] == state.__module__.partition(".")[0]


@functools.cache
def _signature(fn) -> inspect.Signature:
    """The handler's parameters without `self`."""
    signature = inspect.signature(fn)
    return signature.replace(parameters=list(signature.parameters.values())[1:])


@functools.cache
def _hints(fn) -> dict[str, Any]:
    try:
        return typing.get_type_hints(fn)
    except Exception:  # an annotation that cannot be resolved: every argument must then be plain JSON
        return {}


@functools.cache
def _storage_writers() -> frozenset:
    """Reflex's events that copy browser storage into state vars by their full names."""
    return frozenset({
        State.event_handlers["hydrate_and_load"].fn,
        UpdateVarsInternalState.event_handlers["update_vars_internal"].fn,
    })


def _check_storage(values: Any) -> None:
    if values is None:
        return
    if not isinstance(values, dict) or len(values) > _limits()["max_items"]:
        raise Refused("browser storage is not a mapping", tell_client=False)
    for key, value in values.items():
        if not isinstance(key, str) or not _text_ok(key):
            raise Refused("browser storage names no var", tell_client=False)
        state_path, _, var_name = key.rpartition(".")
        try:
            state = State.get_class_substate(state_path)
        except ValueError:
            raise Refused("browser storage names no state", tell_client=False) from None
        if not state._is_client_storage(var_name.removesuffix(FIELD_MARKER)):
            raise Refused("browser storage names a var that is not stored in the browser", tell_client=False)
        if not isinstance(value, str) or not _text_ok(value, _limits()["max_storage_chars"]):
            raise Refused("browser storage value is not text within bounds", tell_client=False)


def _check_arguments(handler: EventHandler, payload: dict) -> None:
    signature = _signature(handler.fn)
    try:
        bound = signature.bind(**payload)
    except TypeError:
        raise Refused("arguments do not match the handler") from None
    storage_writer = handler.fn in _storage_writers()
    hints = _hints(handler.fn)
    for name, value in bound.arguments.items():
        if storage_writer and name == "vars":
            if value is None and not fits(None, hints.get(name, Any)):
                raise Refused("browser storage is missing", tell_client=False)
            _check_storage(value)
        elif signature.parameters[name].kind is inspect.Parameter.VAR_KEYWORD:
            if not all(_json_ok(v, 0) for v in value.values()):
                raise Refused("argument out of bounds")
        elif not fits(value, hints.get(name, Any)):
            raise Refused("argument of the wrong type or out of bounds")


def _check_router_data(router_data: Any) -> None:
    if not isinstance(router_data, dict):
        raise Refused("routing data is not a mapping")
    for key in ("pathname", "asPath"):
        if key in router_data and not fits(router_data[key], str):
            raise Refused("routing data of the wrong type")
    if not fits(router_data.get("query", {}), dict[str, str | list[str] | None]):
        raise Refused("routing data of the wrong type")


def check_event(data: Any) -> EventHandler:
    """The handler `data` may call, or `Refused`."""
    if not isinstance(data, dict):
        raise Refused("event is not a mapping")
    name, payload = data.get("name"), data.get("payload", {})
    if not isinstance(name, str) or not 0 < len(name) <= _limits()["max_name_chars"]:
        raise Refused("event has no handler name")
    if not isinstance(payload, dict):
        raise Refused("payload is not a mapping")
    _check_router_data(data.get("router_data", {}))
    registered = RegistrationContext.get().event_handlers.get(name)
    if registered is None:
        raise Refused("no such handler")
    if not callable_by_browser(registered.handler, registered.states[0]):
        raise Refused("handler is not callable from a browser")
    _check_arguments(registered.handler, payload)
    return registered.handler


def loggable_name(data: Any) -> str:
    """The handler name for a log line: shown only when it is a plain dotted identifier (so it cannot
    carry an address, a line break or markup), and shortened to its last two parts."""
    name = data.get("name") if isinstance(data, dict) else None
    if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name[:300]):
        return "(unnamed)"
    return ".".join(name.split(".")[-2:])[-80:]


# -- the socket ----------------------------------------------------------------------------------


class GuardedEventNamespace(EventNamespace):
    """Reflex's event namespace with every incoming message checked first.

    Installed by changing the class of the namespace Reflex created (see `install`), so it has no
    constructor of its own; its per-connection counts are created on first use.
    """

    @property
    def _refusals(self) -> dict[str, int]:
        return self.__dict__.setdefault("_storefront_refusals", {})

    async def trigger_event(self, event, *args):
        """socket.io dispatches `on_<event>(*args)`; a message with other arguments would raise a
        TypeError with a traceback in the socket library, so it is refused here."""
        if event not in ("connect", "disconnect"):
            handler = getattr(self, f"on_{event}", None) if isinstance(event, str) else None
            if handler is not None:
                try:
                    inspect.signature(handler).bind(*args)
                except TypeError:
                    self._log_refusal(args[0] if args and isinstance(args[0], str) else "?",
                                      Refused("socket message with other arguments"), None)
                    return None
        return await super().trigger_event(event, *args)

    def on_disconnect(self, sid: str, reason: Any = None):
        self._refusals.pop(sid, None)
        return super().on_disconnect(sid)

    async def on_event(self, sid: str, data: Any):
        token = self.sid_to_token.get(sid)
        if token is None:
            self._log_refusal(sid, Refused("event before the connection was linked to a tab"), data)
            return
        try:
            check_event(data)
        except Refused as refusal:
            self._log_refusal(sid, refusal, data)
            if refusal.tell_client:
                await self.emit_update(StateUpdate(events=Event.from_event_type(
                    refusal_toast(ErrorCode.INVALID_REQUEST))), token)
            return
        except Exception as exc:  # a fault of this module must not open the door, nor log the event
            log.error("event check failed: %s %s", type(exc).__name__, _where(exc))
            return
        try:
            await super().on_event(sid, data)
        except Exception as exc:  # Reflex quotes the whole event in these messages
            log.error("event not queued for session %s: %s", sid, type(exc).__name__)

    def _log_refusal(self, sid: str, refusal: Refused, data: Any) -> None:
        count = self._refusals[sid] = self._refusals.get(sid, 0) + 1
        allowed = _limits()["logged_refusals_per_connection"]
        if count < allowed:
            log.warning("refused event %s from session %s: %s", loggable_name(data), sid, refusal.reason)
        elif count == allowed:
            log.warning("refused event %s from session %s: %s; further refusals on this connection are not logged",
                        loggable_name(data), sid, refusal.reason)


def install(app: App) -> None:
    """Put the guard in front of the app's event namespace, before the server accepts a connection.

    Reflex creates its namespace inside `rx.App(...)` and offers no hook to supply another, so the
    instance it made becomes a `GuardedEventNamespace`: nothing of Reflex is patched, every
    reference to the namespace (socket server, app, event processor) sees the guard, and the app
    refuses to start if a later Reflex builds the namespace differently.
    """
    namespace = app.event_namespace
    if type(namespace) is GuardedEventNamespace:
        return
    if type(namespace) is not EventNamespace:
        raise RuntimeError("The event guard cannot be installed: the app has no Reflex event namespace "
                           f"(found {type(namespace).__name__}). Check storefront/event_guard.py against Reflex.")
    namespace.__class__ = GuardedEventNamespace


# -- failures ------------------------------------------------------------------------------------


def _where(exception: BaseException) -> str:
    """The innermost frame of the shop's own code (else the innermost frame): file, line, function."""
    frames = traceback.extract_tb(exception.__traceback__)
    ours = [f for f in frames if Path(f.filename).is_relative_to(_PACKAGE_ROOT / "storefront")] or frames
    if not ours:
        return "(no frame)"
    frame = ours[-1]
    path = Path(frame.filename)
    shown = path.relative_to(_PACKAGE_ROOT) if path.is_relative_to(_PACKAGE_ROOT) else path.name
    return f"at {shown}:{frame.lineno} in {frame.name}"


def backend_exception_handler(exception: Exception) -> EventSpec:
    """An exception in a handler: one log line without message, locals or request data (any of them
    may carry what the shopper typed), and a polite message with a reference to quote."""
    reference = secrets.token_hex(4)
    log.error("handler failed [reference %s]: %s %s", reference, type(exception).__name__, _where(exception))
    return rx.toast.error(message(ErrorCode.UNEXPECTED), id=ErrorCode.UNEXPECTED.value,
                          description=f"Reference {reference}")


def frontend_exception_handler(exception: Exception) -> None:
    """An error a browser reports: its first line only, bounded, with addresses and long numbers
    masked. The report is client text, so it must neither forge log lines nor carry personal data."""
    lines = str(exception).splitlines()
    first = _DIGITS.sub("<digits>", _EMAIL.sub("<email>", lines[0] if lines else ""))
    log.warning("browser reported an error: %s", sanitize_client_log_value(first, max_length=200))
