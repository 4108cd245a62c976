"""Browser tabs without a browser, lean enough to run hundreds at once in one process (load_bench.py).

A tab speaks Reflex's websocket protocol the way the built frontend (.web/utils/state.js) does:
Engine.IO 4 over a websocket at `/_event/?token=<uuid>&EIO=4&transport=websocket`, the Reflex version as
websocket subprotocol, and the `hydrate_and_load` event riding in the socket.io CONNECT packet together with
the state schema, the hashes of the compiled defaults and the values the browser keeps in localStorage and
sessionStorage. Each event carries the router data of the page it is sent from. Frontend events in the
server's updates are acted on as the page would: the scripts this benchmark knows are answered through their
callback, backend events handed back are sent on, storage vars the server changes are written back to the
browser's storage; a redirect is left to the caller, who finds it in the update its step waited for and
follows it (`navigate`: a client-side navigation, `update_vars_internal` then `on_load_internal`).

Unlike tests/e2e/raw_client.py, nothing waits for marker events: the caller says which state change ends
its step (`expect`), so a step's latency runs from its emit to the update that shows its result.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import aiohttp

FIELD = "_rx_state_"  # the suffix of every var name in a delta
NAMESPACE = "/_event"
CLOSE_WAIT_S = 10  # longest wait for a closing socket
EXPORT = re.compile(r"^export const (\w+) = (.*?);?$", re.M)
CALLBACK = re.compile(r'ReflexEvent\("([^"]+)", \{(\w+):_result\}\)')
_MISSING = object()


class StepFailed(RuntimeError):
    """The server answered a step with a refusal or an error, or the connection broke."""


@dataclass(frozen=True)
class Frontend:
    """What a built frontend sends on every connect, read from its compiled .web/utils/context.jsx."""

    state_name: str
    state_schema: str
    hashes: list[str]
    local_storage: dict[str, dict]  # state key ("<state>.<var>_rx_state_") -> {"name": storage key, ...}
    session_storage: dict[str, dict]
    state_vars: dict[str, tuple[str, ...]]  # every state's full name -> its vars (with FIELD)
    version: str  # Reflex's, sent as websocket subprotocol

    @classmethod
    def read(cls, app_dir: Path) -> Frontend:
        consts = {}
        for name, value in EXPORT.findall((app_dir / ".web" / "utils" / "context.jsx").read_text()):
            if name in ("initialState", "initialStateHashes", "stateSchema", "clientStorage", "state_name"):
                consts[name] = json.loads(value)
        storage = consts["clientStorage"]
        return cls(consts["state_name"], consts["stateSchema"], consts["initialStateHashes"],
                   storage.get("local_storage") or {}, storage.get("session_storage") or {},
                   {state: tuple(values) for state, values in consts["initialState"].items()},
                   metadata.version("reflex"))

    def state(self, suffix: str) -> str:
        """The full name of the one state whose name ends with `suffix` (e.g. "___product_state")."""
        return self._one([s for s in self.state_vars if s.endswith(suffix)], suffix)

    def state_with_var(self, var: str) -> str:
        """The full name of the one state that has `var` (the blank app's counter, say)."""
        return self._one([s for s, names in self.state_vars.items() if var + FIELD in names], var)

    @staticmethod
    def _one(found: list[str], what: str) -> str:
        if len(found) != 1:
            raise LookupError(f"not exactly one state for {what!r}: {found}")
        return found[0]


def var_in(update: dict, state: str, var: str) -> Any:
    """The value `update` gives `var` of `state`, or _MISSING when it says nothing of it."""
    return ((update.get("delta") or {}).get(state) or {}).get(var + FIELD, _MISSING)


def sets(state: str, var: str, test: Callable[[Any], bool] = lambda v: True) -> Callable[[dict], bool]:
    """An update that sets `var` of `state` to a value passing `test`."""
    def check(update: dict) -> bool:
        value = var_in(update, state, var)
        return value is not _MISSING and test(value)
    return check


def says(state: str, *vars_: str) -> Callable[[dict], str | None]:
    """A refusal: an update that sets one of `vars_` of `state` (a message code, a not-found flag) to
    something non-empty."""
    def check(update: dict) -> str | None:
        for var in vars_:
            value = var_in(update, state, var)
            if value not in (_MISSING, "", None, False):
                return f"{var}={value!r}"
        return None
    return check


def redirected(update: dict) -> bool:
    return any(e.get("name") == "_redirect" for e in update.get("events") or [])


def _seen(future: asyncio.Future) -> None:
    """Mark a future's failure as read: one nobody awaits any more is no error worth asyncio's warning."""
    if not future.cancelled():
        future.exception()


@dataclass
class Waiter:
    ok: Callable[[dict], bool]
    fail: Callable[[dict], str | None] | None
    future: asyncio.Future


@dataclass
class Browser:
    """One person's browser: its cookies (the shop's identity cookie) and localStorage, shared by its tabs."""

    base: str
    frontend: Frontend
    headers: dict[str, str]
    scripts: dict[str, str] = field(default_factory=dict)  # a script's text -> what the browser returns
    local: dict[str, str] = field(default_factory=dict)  # localStorage, by storage key

    def __post_init__(self):
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True), headers=self.headers,
                                          timeout=aiohttp.ClientTimeout(total=120))

    async def close(self) -> None:
        await self.http.close()


@dataclass
class Tab:
    """One tab: its token and sessionStorage, its page address, and the socket of the page shown."""

    browser: Browser
    token: str = field(default_factory=lambda: str(uuid.uuid4()))
    session: dict[str, str] = field(default_factory=dict)  # sessionStorage, by storage key
    path: str = "/"
    search: str = ""
    params: dict[str, str] = field(default_factory=dict)  # the route's parameters ("slug", "reference")
    _ws: aiohttp.ClientWebSocketResponse | None = None
    _reader: asyncio.Task | None = None
    _waiters: list[Waiter] = field(default_factory=list)

    # -- pages -------------------------------------------------------------------------------------

    async def load(self, address: str, params: dict[str, str] | None = None,
                   ok: Callable[[dict], bool] | None = None, fail=None) -> tuple[float, dict] | None:
        """A full page load, as typing the address: the old page's socket closes, the document is fetched
        (following any redirect), a new socket hydrates the new page. Returns
        (time, update) once an update passes `ok` (the page's on_load done), or None after the connect."""
        await self.close()
        async with self.browser.http.get(self.browser.base + address, headers={"Accept": "text/html"}) as r:
            r.raise_for_status()
            await r.read()
            self.path, self.search = r.url.path, ("?" + r.url.query_string if r.url.query_string else "")
        self.params = dict(params or {})
        done = self.expect(ok, fail) if ok else None
        await self._connect()
        return await done if done else None

    async def navigate(self, address: str, params: dict[str, str], ok: Callable[[dict], bool],
                       fail=None) -> tuple[float, dict]:
        """A client-side navigation (a link or a redirect): no document is fetched; the page's storage
        vars and `on_load_internal` go over the open socket. Returns (time, update) as `expect` does."""
        parts = urlsplit(address)
        self.path, self.search = parts.path, ("?" + parts.query if parts.query else "")
        self.params = dict(params)
        done = self.expect(ok, fail)
        storage = self._storage_vars()
        if storage:
            await self.emit(f"{self.browser.frontend.state_name}.reflex___state____update_vars_internal_state"
                            ".update_vars_internal", {"vars": storage})
        await self.emit(f"{self.browser.frontend.state_name}.reflex___state____on_load_internal_state.on_load_internal")
        return await done

    async def close(self) -> None:
        """Leave the page: socket.io's disconnect packet, then the websocket closes (as on `pagehide`)."""
        ws, self._ws = self._ws, None
        if ws is not None and not ws.closed:
            try:
                await ws.send_str(f"41{NAMESPACE},")
            except (ConnectionError, RuntimeError):
                pass
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(ws.close(), CLOSE_WAIT_S)
        if self._reader is not None:
            # A server that never answers the close (seen with two granian workers) must not hold the level's end.
            await asyncio.wait([self._reader], timeout=CLOSE_WAIT_S)
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
            self._reader = None

    # -- events ------------------------------------------------------------------------------------

    def router_data(self) -> dict:
        data = {"pathname": self.path, "asPath": self.path + self.search}
        query = {**dict(parse_qsl(self.search.lstrip("?"))), **self.params}
        if query:
            data["query"] = query
        return data

    def event(self, name: str, payload: dict | None = None) -> dict:
        """As ReflexEvent() then withRouterData() shape it: no payload key when it is empty."""
        ev: dict[str, Any] = {"name": name}
        if payload:
            ev["payload"] = payload
        ev["router_data"] = self.router_data()
        return ev

    async def emit(self, name: str, payload: dict | None = None) -> float:
        """Send one event; returns the time it went out (perf_counter)."""
        if self._ws is None or self._ws.closed:
            raise StepFailed("the socket is closed")
        frame = json.dumps(["event", self.event(name, payload)], separators=(",", ":"), ensure_ascii=False)
        at = time.perf_counter()
        await self._ws.send_str(f"42{NAMESPACE},{frame}")
        return at

    def expect(self, ok: Callable[[dict], bool], fail: Callable[[dict], str | None] | None = None) -> asyncio.Future:
        """A future for (time, update) of the first later update passing `ok`; it fails on an update `fail`
        names (a refusal) or when the socket closes. Register it before the emit, so no answer slips past."""
        waiter = Waiter(ok, fail, asyncio.get_running_loop().create_future())
        waiter.future.add_done_callback(_seen)  # a caller whose step failed first leaves its failure unread
        self._waiters.append(waiter)
        return waiter.future

    # -- the socket --------------------------------------------------------------------------------

    def _storage_vars(self) -> dict[str, str]:
        """hydrateClientStorage(): the browser's stored values of the tracked vars, by state key."""
        fe = self.browser.frontend
        values = {key: self.browser.local[o.get("name") or key] for key, o in fe.local_storage.items()
                  if (o.get("name") or key) in self.browser.local}
        values.update({key: self.session[o.get("name") or key] for key, o in fe.session_storage.items()
                       if (o.get("name") or key) in self.session})
        return values

    async def _connect(self) -> None:
        fe = self.browser.frontend
        payload: dict[str, Any] = {}
        storage = self._storage_vars()
        if storage:
            payload["vars"] = storage
        payload["hashes"] = fe.hashes  # first connect of the page: the compiled defaults' hashes
        auth = {"event": self.event(f"{fe.state_name}.hydrate_and_load", payload), "state_schema": fe.state_schema}
        ws_url = self.browser.base.replace("http", "ws", 1) + f"{NAMESPACE}/?token={self.token}&EIO=4&transport=websocket"
        self._ws = await self.browser.http.ws_connect(ws_url, protocols=(fe.version,), origin=self.browser.base,
                                                      compress=15, max_msg_size=0, autoping=True)
        connected = asyncio.get_running_loop().create_future()
        connected.add_done_callback(_seen)  # a connect abandoned (its level ended) leaves its failure unread
        self._reader = asyncio.create_task(self._read(self._ws, auth, connected))
        await asyncio.wait_for(asyncio.shield(connected), 120)

    async def _read(self, ws: aiohttp.ClientWebSocketResponse, auth: dict, connected: asyncio.Future) -> None:
        error = "the socket closed"
        try:
            async for msg in ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    break
                data: str = msg.data
                if data == "2":  # Engine.IO ping
                    await ws.send_str("3")
                elif data.startswith("0"):  # Engine.IO open: socket.io CONNECT with the hydrate event
                    await ws.send_str(f"40{NAMESPACE}," + json.dumps(auth, separators=(",", ":"), ensure_ascii=False))
                elif data.startswith(f"40{NAMESPACE},"):
                    if not connected.done():
                        connected.set_result(None)
                elif data.startswith(f"42{NAMESPACE},"):
                    name, *args = json.loads(data[len(NAMESPACE) + 3:])
                    await self._on_message(name, args)
                elif data.startswith(f"44{NAMESPACE},"):
                    error = f"connect refused: {data[:200]}"
                    break
                elif data.startswith(f"41{NAMESPACE}"):
                    error = "the server closed the connection"
                    break
        except (aiohttp.ClientError, ConnectionError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        finally:
            if not connected.done():
                connected.set_exception(StepFailed(error))
            self._fail_all(error)

    async def _on_message(self, name: str, args: list) -> None:
        if name == "event" and args and isinstance(args[0], dict):
            await self._on_update(args[0])
        elif name == "new_token" and args:
            self.token = args[0]  # the server gave this tab another token (its old one was still connected)
        elif name == "state_mismatch":
            self._fail_all(f"the server says the frontend was built for another state tree: {args}")

    async def _on_update(self, update: dict) -> None:
        self._store(update.get("delta") or {})
        for ev in update.get("events") or []:
            await self._frontend_event(ev)
        for waiter in list(self._waiters):
            if waiter.future.done():
                self._waiters.remove(waiter)
                continue
            refusal = waiter.fail(update) if waiter.fail else None
            if refusal:
                waiter.future.set_exception(StepFailed(refusal))
            elif waiter.ok(update):
                waiter.future.set_result((time.perf_counter(), update))
            else:
                continue
            self._waiters.remove(waiter)

    def _store(self, delta: dict) -> None:
        """applyClientStorageDelta(): storage vars the server set go back into the browser's storage, except
        from the hydration snapshot (is_hydrated false), which only repeats what the browser sent."""
        fe = self.browser.frontend
        if (delta.get(fe.state_name) or {}).get("is_hydrated" + FIELD) is False:
            return
        for state, values in delta.items():
            for var, value in values.items():
                key = f"{state}.{var}"
                if key in fe.local_storage:
                    self.browser.local[fe.local_storage[key].get("name") or key] = value
                elif key in fe.session_storage:
                    self.session[fe.session_storage[key].get("name") or key] = value

    async def _frontend_event(self, ev: dict) -> None:
        name, payload = ev.get("name", ""), ev.get("payload") or {}
        if name == "_call_script":
            answer = self.browser.scripts.get(payload.get("javascript_code", ""))
            callback = CALLBACK.search(payload.get("callback") or "")
            if answer is None or callback is None:
                self._fail_all(f"a script this client cannot run: {str(payload)[:200]}")
                return
            await self.emit(callback.group(1), {callback.group(2): answer})
        elif not name.startswith("_"):  # a backend event the server hands back: the page sends it on
            await self.emit(name, ev.get("payload") or None)

    def _fail_all(self, error: str) -> None:
        for waiter in self._waiters:
            if not waiter.future.done():
                waiter.future.set_exception(StepFailed(error))
        self._waiters.clear()
