"""Helpers shared by the benchmarks: tool environment, free ports, servers in their own process group,
the blank Reflex app they are compared against, and the Chromium they are measured in."""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def tool_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The variables scripts/env.sh exports, so reflex finds the pinned bun and sends no telemetry."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(ROOT / ".tools" / "bin"), str(ROOT / ".venv" / "bin"), env.get("PATH", "")])
    env.update(REFLEX_USE_SYSTEM_BUN="1", REFLEX_TELEMETRY_ENABLED="false", PYTHONDONTWRITEBYTECODE="1")
    env.update(extra or {})
    return env


def work_dir(stack: contextlib.ExitStack, prefix: str, keep: bool) -> Path:
    """A temporary folder for one benchmark run, removed when `stack` closes unless `keep` is asked for."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    if keep:
        print(f"==> keeping {tmp}")
    else:
        stack.callback(shutil.rmtree, tmp, True)
    return tmp


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_ports(n: int) -> list[int]:
    """n distinct free ports (each probe releases its port, so two probes may otherwise agree)."""
    ports: list[int] = []
    while len(ports) < n:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


@contextlib.contextmanager
def server(name: str, cmd: list[str], cwd: Path, log: Path, port: int, timeout: float = 900,
           env: dict[str, str] | None = None, ready_path: str = "/", pids: dict[str, int] | None = None):
    """Start a server in its own process group and kill the whole group on exit, error or not.

    Reflex prod spawns worker processes (and the shop's `serve` its payment sandbox and mail catcher);
    killing only the parent would leave them holding the port. `env` is added to `tool_env()`;
    `pids`, if given, receives name -> pid (= process group and session id).
    """
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, env=tool_env(env), stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    if pids is not None:
        pids[name] = proc.pid
    try:
        url = f"http://127.0.0.1:{port}"
        print(f"==> {name}: building and starting on {url} (log: {log})", flush=True)
        wait_http(url + ready_path, proc, log, timeout)
        if ready_path != "/":
            wait_http(url + "/", proc, log, timeout)
        yield url
    finally:
        stop(proc)


def stop(proc: subprocess.Popen) -> None:
    for sig, grace in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(grace)
            return


def wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float) -> None:
    """Poll until HTTP 200; the first build of a prod app takes tens of seconds on 2 cores."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return
        time.sleep(1)
    raise TimeoutError(f"{url} did not answer 200 within {timeout:.0f}s; see {log}")


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def init_blank(parent: Path) -> Path:
    """A fresh `reflex init --template blank` app; the folder name becomes the (valid) app name."""
    app = parent / "blank"
    app.mkdir(parents=True)
    print(f"==> reflex init --template blank in {app}", flush=True)
    subprocess.run([sys.executable, "-m", "reflex", "init", "--template", "blank"], cwd=app, env=tool_env(),
                   check=True, stdout=subprocess.DEVNULL)
    return app


def prod_cmd(port: int) -> list[str]:
    return [sys.executable, "-m", "reflex", "run", "--env", "prod", "--single-port",
            "--frontend-port", str(port), "--backend-port", str(port)]


# -- the shop, served from a copy ----------------------------------------------------------------

PROJECT_FILES = ["storefront", "assets", "alembic", "reflex.lock", "rxconfig.py", "alembic.ini", "pyproject.toml"]


def copy_project(dest: Path) -> Path:
    """The files `serve` needs, so its production build lands in dest/.web, not in the project's .web."""
    dest.mkdir(parents=True)
    for name in PROJECT_FILES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(src, dest / name)
    return dest


def shop_env(tmp: Path, copy: Path, port: int, stripe_port: int, smtp_port: int) -> dict[str, str]:
    return {
        "PYTHONPATH": str(copy),
        "REFLEX_DB_URL": f"sqlite:///{tmp / 'shop.db'}",
        "STOREFRONT_MAIL_DIR": str(tmp / "mail"),
        "STOREFRONT_LOCALSTRIPE_PORT": str(stripe_port),
        "STOREFRONT_MAIL_CAPTURE_PORT": str(smtp_port),
        "STOREFRONT_PUBLIC_URL": f"http://127.0.0.1:{port}",
        # Always the local sandbox and mail catcher, whatever the calling shell has configured.
        "STRIPE_SECRET_KEY": "", "STRIPE_PUBLISHABLE_KEY": "", "STOREFRONT_SMTP_HOST": "",
    }


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def install_sigterm_exit() -> None:
    """Turn SIGTERM into SystemExit so `finally` blocks and context managers stop the servers."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
