"""Helpers shared by the benchmarks: tool environment, free ports, servers in their own process group,
the blank Reflex app they are compared against, and the Chromium they are measured in."""

from __future__ import annotations

import contextlib
import json
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
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
STOCK = 10_000  # every active watch, so that no shopper meets "sold out"
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


def run_main(main) -> None:
    """Exit with main's status; Ctrl-C ends the run quietly (the servers' process groups are killed on the way)."""
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("!! interrupted; servers stopped", file=sys.stderr)
        sys.exit(130)


def install_sigterm_exit() -> None:
    """Turn SIGTERM into SystemExit so `finally` blocks and context managers stop the servers."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def pct(values: list[float], q: float) -> float | None:
    """Percentile by linear interpolation between closest ranks (q in 0..100)."""
    if not values:
        return None
    v = sorted(values)
    k = (len(v) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


# -- the apps compared ---------------------------------------------------------------------------

BLANK_APP = '''"""Blank Reflex app (from `reflex init --template blank`) plus one trivial event, for the benchmarks."""

import reflex as rx


class State(rx.State):
    count: int = 0

    @rx.event
    def increment(self):
        self.count += 1


def index() -> rx.Component:
    return rx.container(
        rx.color_mode.button(position="top-right"),
        rx.vstack(
            rx.heading("Welcome to Reflex!", size="9"),
            rx.text(State.count, id="count", size="5"),
            rx.button("Increment", on_click=State.increment, id="increment"),
            spacing="5",
            justify="center",
            min_height="85vh",
        ),
    )


app = rx.App()
app.add_page(index)
'''


def prepare_shop_db(copy: Path, env: dict[str, str]) -> list[dict]:
    """migrate, seed, then generous stock so that no shopper meets "sold out"; returns the watches to buy.
    The database is env's REFLEX_DB_URL (SQLite or PostgreSQL)."""
    from sqlalchemy import create_engine, text

    for cmd in ("migrate", "seed"):
        subprocess.run([sys.executable, "-m", "storefront", cmd], cwd=copy, env=tool_env(env), check=True,
                       stdout=subprocess.DEVNULL)
    engine = create_engine(env["REFLEX_DB_URL"])
    try:
        with engine.begin() as con:
            con.execute(text("UPDATE product SET stock = :stock WHERE active = true"), {"stock": STOCK})
            rows = con.execute(text(
                "SELECT p.id, p.reference, p.slug, p.max_per_order FROM product p JOIN product_price pp "
                "ON pp.product_id = p.id AND pp.currency = 'CHF' WHERE p.active = true ORDER BY p.reference")).all()
    finally:
        engine.dispose()
    return [dict(id=r[0], reference=r[1], slug=r[2], max_per_order=r[3]) for r in rows]


@dataclass
class Redis:
    """A redis-server of the benchmark's own on loopback: the state of several shop workers (append-only file,
    so a restart keeps it)."""

    port: int
    directory: Path
    proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
             "--appendonly", "yes", "--save", ""], stdout=(self.directory / "redis.log").open("ab"),
            stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 20
        while subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True,
                             text=True).stdout.strip() != "PONG":
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not answer")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: Redis writes its append-only file and exits
            self.proc.wait(30)

    def restart(self) -> str:
        self.stop()
        self.start()
        return "redis-server stopped (SIGTERM) and started again on the same append-only file"


# -- CPU per process tree, and what else runs on the machine -------------------------------------


def _roles_of_processes(roots: dict[int, str], self_role: str) -> dict[int, str]:
    """pid -> role for the descendants of `roots` (pid -> role) and of this process (`self_role`). Other
    processes on the machine (another test run, say) are left out. Within a tree, the payment sandbox, the mail
    catcher and Chromium are told apart by command line."""
    parents = _processes()
    roots = {**roots, os.getpid(): self_role}
    roles: dict[int, str] = {}
    for pid, (_ppid, cmd) in parents.items():
        node, seen = pid, 0
        while node not in roots and node in parents and seen < 64:
            node, seen = parents[node][0], seen + 1
        if node not in roots:
            continue
        role = roots[node]
        if "localstripe_server" in cmd:
            role = "localstripe (payment sandbox)"
        elif "mail_capture" in cmd:
            role = "mail catcher"
        elif "chrom" in cmd.split(" ")[0]:
            role = "chromium (all shoppers)"
        roles[pid] = role
    return roles


def cpu_by_role(roots: dict[int, str], self_role: str) -> dict[str, float]:
    """CPU seconds (user + system) used so far by our process trees, by role."""
    tick = os.sysconf("SC_CLK_TCK")
    totals: dict[str, float] = {}
    for pid, role in _roles_of_processes(roots, self_role).items():
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        # utime + stime, plus cutime + cstime: the time of children that ended and were reaped (Chromium's
        # renderers of closed tabs), so it is not lost.
        totals[role] = totals.get(role, 0.0) + sum(int(f) for f in fields[11:15]) / tick
    return totals


def rss_mb_by_role(roots: dict[int, str], self_role: str) -> dict[str, float]:
    """Resident memory (MB) of our process trees now, by role."""
    page = os.sysconf("SC_PAGE_SIZE")
    totals: dict[str, float] = {}
    for pid, role in _roles_of_processes(roots, self_role).items():
        try:
            resident = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
        totals[role] = round(totals.get(role, 0.0) + resident * page / 2**20, 1)
    return totals


def _processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command line) of every process on the machine now."""
    found: dict[int, tuple[int, str]] = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        found[int(pid)] = (int(stat[stat.rindex(")") + 2:].split()[1]), cmd)
    return found


def foreign_activity() -> list[str]:
    """Shop servers, test runs and browsers on this machine that are not ours: they make the figures noisy."""
    mine = {os.getpid()}
    found = []
    for pid, (ppid, cmd) in sorted(_processes().items()):
        if ppid in mine or pid in mine:
            mine.add(pid)
            continue
        if any(w in cmd for w in ("storefront serve", "pytest", "reflex run")) or cmd.startswith("/usr/lib/chromium/chromium "):
            found.append(cmd[:100])
    return [c for c in found if "--type=" not in c]


def save_logs(tmp: Path, dest: Path) -> None:
    """The run's server logs (and the sandbox's) to `dest`, replacing the previous run's."""
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    for log in [*tmp.glob("*.log"), tmp / "shop" / "var" / "localstripe.log"]:
        if log.exists():
            shutil.copy(log, dest / log.name)


def cpu_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {k: round(after.get(k, 0.0) - before.get(k, 0.0), 2) for k in sorted(set(before) | set(after))}


def machine_busy_s() -> float:
    """CPU seconds all cores have spent busy since boot (/proc/stat): what ours leave of it is other processes'."""
    fields = [int(f) for f in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle, iowait = fields[3], fields[4]
    return (sum(fields[:8]) - idle - iowait) / os.sysconf("SC_CLK_TCK")


# -- the payment sandbox -------------------------------------------------------------------------


def sandbox_intents(stripe_port: int) -> list[dict]:
    """Every payment intent the local sandbox holds, page by page (100 a page, as its API allows)."""
    out, after = [], None
    while True:
        q = {"limit": "100", **({"starting_after": after} if after else {})}
        req = urllib.request.Request(f"http://127.0.0.1:{stripe_port}/v1/payment_intents?{urllib.parse.urlencode(q)}",
                                     headers={"Authorization": "Bearer sk_test_local"})
        with urllib.request.urlopen(req, timeout=30) as r:
            page = json.load(r)
        out += page["data"]
        if not page.get("has_more") or not page["data"]:
            return out
        after = page["data"][-1]["id"]
