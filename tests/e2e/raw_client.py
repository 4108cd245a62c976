"""A browser tab without a browser: socket.io events shaped as the built frontend sends them, and any
other shape a hostile client may send instead.

The tab loads a page over HTTP first (so it holds the identity cookie the server issues), connects to
`/_event` with a fresh token in the query, hydrates, and then sends events by their full handler name.
After each call it waits until the server has finished with it: Reflex runs a tab's events one after
another, so once the answer to a later marker event has arrived, so has everything the call produced
(a handler's chained events run after the marker was queued, hence a second round). The marker is
Reflex's `set_is_hydrated(True)` (a flag only the built frontend reads) sent from a page address with
a unique query parameter: Reflex answers with the new address, so the answer is unmistakable, and no
handler's state is touched.

A background event (`@rx.event(background=True)`: placing an order, paying) runs beside the tab's line,
not in it, so the markers cannot tell when it is over: `emit` sends it and `until` waits for what it
must bring (an order reference, a redirect).
"""

from __future__ import annotations

import asyncio
import itertools
import re
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import parse_qsl, urlsplit

import socketio
from reflex_base.constants.state import FIELD_MARKER

NAMESPACE = "/_event"
ROOT = "reflex___state____state"
HYDRATE = f"{ROOT}.hydrate_and_load"
MARKER = f"{ROOT}.set_is_hydrated"
UNCAUSED = {"router", "is_hydrated"}  # follow the page each event names and the markers, not the handler
ROUTER_VARS = "rx_router_"  # computed from the router (page, url, headers): they follow the page too
_markers = itertools.count(1)
ANSWER_TIMEOUT = 60  # a hang guard, not a measurement: a call normally settles in milliseconds
_TOAST_ID = re.compile(r'\["id"\] : "([^"]*)"')
_ABSENT = object()


def handler_name(state: type, handler: str) -> str:
    return f"{state.get_full_name()}.{handler}"


def identity_cookie(base: str, headers: dict[str, str]) -> str:
    """The `name=value` of the identity cookie a page load hands this client ("" if the server sets none)."""
    request = urllib.request.Request(base + "/", headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        for header in response.headers.get_all("Set-Cookie") or []:
            pair = header.split(";", 1)[0].strip()
            if pair.startswith("vx_sid="):
                return pair
    return ""


@dataclass
class Outcome:
    """What the server sent back for one call: state changes and frontend events (toasts, scripts)."""

    updates: list[dict]
    before: dict[str, dict[str, Any]]
    after: dict[str, dict[str, Any]]

    @property
    def toasts(self) -> list[str]:
        """The ids of the toasts shown; the shop's error toasts carry their error code as id."""
        return [toast_id for update in self.updates for event in update.get("events") or []
                if event.get("name") == "_call_function"
                for toast_id in _TOAST_ID.findall(str((event.get("payload") or {}).get("function", "")))]

    @property
    def frontend_events(self) -> list[str]:
        return [event.get("name", "") for update in self.updates for event in update.get("events") or []]

    def changes(self, state: type | None = None) -> dict[str, Any]:
        """Vars the call's updates set to a new value (of one state, or of all as 'state.var')."""
        changed = {}
        for update in self.updates:
            for name, values in (update.get("delta") or {}).items():
                if state is not None and name != state.get_full_name():
                    continue
                for var, value in values.items():
                    var = var.removesuffix(FIELD_MARKER)
                    if var not in UNCAUSED and not var.startswith(ROUTER_VARS) and self.before.get(name, {}).get(var, _ABSENT) != value:
                        changed[var if state is not None else f"{name.rsplit('.', 1)[-1]}.{var}"] = value
        return changed

    def value(self, state: type, var: str) -> Any:
        """The var's value once the call was answered (as the call left it, not the markers after it)."""
        name = state.get_full_name()
        for update in reversed(self.updates):
            values = (update.get("delta") or {}).get(name) or {}
            if var + FIELD_MARKER in values:
                return values[var + FIELD_MARKER]
        return self.before.get(name, {}).get(var)


@dataclass
class Tab:
    base: str
    headers: dict[str, str]
    token: str = field(default_factory=lambda: str(uuid.uuid4()))
    path: str = "/"
    view: dict[str, dict[str, Any]] = field(default_factory=dict)
    received: list[dict] = field(default_factory=list)
    calls: int = 0
    markers: set[int] = field(default_factory=set)

    def __post_init__(self):
        self.sio = socketio.AsyncClient(reconnection=False)
        self._arrived = asyncio.Event()
        self.sio.on("event", self._on_update, namespace=NAMESPACE)

    async def _on_update(self, update):
        update = update if isinstance(update, dict) else {}
        for state, values in (update.get("delta") or {}).items():
            self.view.setdefault(state, {}).update({k.removesuffix(FIELD_MARKER): v for k, v in values.items()})
        self.received.append(update)
        self._arrived.set()

    async def open(self, path: str = "/") -> Tab:
        self.path = path
        await self.sio.connect(f"{self.base}?token={self.token}", namespaces=[NAMESPACE], socketio_path="/_event",
                               transports=["websocket"], headers=self.headers, wait_timeout=ANSWER_TIMEOUT)
        await self.call(HYDRATE, {})
        return self

    async def close(self) -> None:
        await self.sio.disconnect()

    @property
    def connected(self) -> bool:
        return self.sio.connected

    def event(self, name: str, payload: Any = None, path: str | None = None) -> dict:
        """An event exactly as the built frontend shapes it."""
        path = path or self.path
        parts = urlsplit(path)
        return {"name": name, "payload": {} if payload is None else payload,
                "router_data": {"pathname": parts.path, "asPath": path, "query": dict(parse_qsl(parts.query))}}

    async def call(self, name: str, payload: Any = None, path: str | None = None) -> Outcome:
        return await self.send(self.event(name, payload, path))

    async def emit(self, name: str, payload: Any = None, path: str | None = None) -> None:
        """Send an event and do not wait for it: a call still in flight when the next one goes."""
        self.calls += 1
        await self.sio.emit("event", self.event(name, payload, path), namespace=NAMESPACE)

    async def until(self, done: Callable[[], bool]) -> None:
        """Wait until `done()` holds for what has arrived (the tab's `view`, `received`)."""
        async with asyncio.timeout(ANSWER_TIMEOUT):
            while not done():
                self._arrived.clear()
                if not done():
                    await self._arrived.wait()

    def value(self, state: type, var: str) -> Any:
        """The var's value as the tab sees it now."""
        return self.view.get(state.get_full_name(), {}).get(var)

    @property
    def frontend_events(self) -> list[str]:
        """Every frontend event received so far (`_redirect`, `_call_function`, ...), in order."""
        return [event.get("name", "") for update in self.received for event in update.get("events") or []]

    async def send(self, *args: Any, socket_event: str = "event") -> Outcome:
        """Emit any message (well formed or not) and wait until the server has finished with it."""
        self.calls += 1
        before = {state: dict(values) for state, values in self.view.items()}
        start = len(self.received)
        await self.sio.emit(socket_event, args[0] if len(args) == 1 else tuple(args), namespace=NAMESPACE)
        await self._settle()
        updates = [u for u in self.received[start:] if not self._is_marker(u)]
        return Outcome(updates, before, {state: dict(values) for state, values in self.view.items()})

    async def _settle(self) -> None:
        rounds = 0
        while True:
            start = len(self.received)
            await self._marker()
            rounds += 1
            if rounds >= 2 and not any(not self._is_marker(u) for u in self.received[start:]):
                return

    async def _marker(self) -> None:
        token = f"vxmarker{next(_markers)}x"
        start = len(self.received)
        page = urlsplit(self.path)
        address = f"{page.path}?{page.query + '&' if page.query else ''}marker={token}"
        await self.sio.emit("event", self.event(MARKER, {"value": True}, address), namespace=NAMESPACE)

        def answer() -> dict | None:
            return next((u for u in self.received[start:] if token in str((u.get("delta") or {}).get(ROOT))), None)

        async with asyncio.timeout(ANSWER_TIMEOUT):
            while (found := answer()) is None:
                self._arrived.clear()
                if answer() is None:
                    await self._arrived.wait()
        self.markers.add(id(found))

    def _is_marker(self, update: dict) -> bool:
        return id(update) in self.markers
