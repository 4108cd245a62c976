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
"""

from __future__ import annotations

import argparse
import atexit
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

from storefront.adapters.sandbox import JS_PATH, LOOPBACK, url as sandbox_url

_SANDBOX_MARKER = b"LOCALSTRIPE_BASE_API"
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

    def dump(self: dict) -> None:
        if not state_file:
            return
        temporary = f"{state_file}.{os.getpid()}.tmp"
        with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:  # owner only
            pickle.dump(dict(self), handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, state_file)

    resources.Store.try_load_from_disk = load
    resources.Store.dump_to_disk = dump
    resources.store.try_load_from_disk()


def _serve(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="localstripe on loopback with its own state file")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state-file", default=None)
    args = parser.parse_args(argv)

    import logging

    from aiohttp import web

    _relocate_store(args.state_file)
    from localstripe import server

    # localstripe reports webhook deliveries on this logger; keep them visible in the log file.
    logger = logging.getLogger("aiohttp.access")
    logger.setLevel(logging.INFO)
    logger.addHandler(logging.StreamHandler())
    web.run_app(server.app, host=LOOPBACK, port=args.port, access_log=logger, print=None)


if __name__ == "__main__":
    _serve()
