"""Faults survived (issue 12 section 3): shoppers keep buying while the production stack is hurt, one fault after
another, then the database, the payment sandbox and the mail catcher are counted.

Why: a launch is when a worker runs out of memory, Redis or PostgreSQL restarts, the mail relay goes away or the
payment provider slows down. What matters then is that nothing is lost or doubled: every shopper who saw a
confirmation has a paid order, no order holds a card twice, every confirmation email is delivered once (by
distinct Message-ID: SMTP itself may deliver one twice), stock adds up.

Run: bash scripts/with-postgres.sh .venv/bin/python bench/fault_bench.py [--checkouts 1000] [--shoppers 40]
     [--workers 2] [--gap 40] [--smtp-down 300] [--payment-delay 10] [--payment-slow-for 60] [--keep]

The stack is production mode's, without the TLS proxy (faults here are not about TLS): PostgreSQL (the
cluster of scripts/with-postgres.sh, restarted with pg_ctl), Redis (appendonly, restarted), the shop with
`--workers` granian workers (STOREFRONT_WORKERS), its mail catcher, and the payment sandbox behind a proxy
that can hold every request to the provider for `--payment-delay` seconds. The shoppers are load_bench's: each
socket speaks Reflex's protocol as the built frontend does; a shopper whose step fails starts over as a new
person (a real browser would reconnect; a new person is the harder case: the old order is left unpaid).

Faults, in this order, `--gap` seconds apart (shoppers buy throughout): kill -9 one shop worker; restart Redis;
restart PostgreSQL; stop the SMTP server for `--smtp-down` seconds; delay the payment provider. Then buying
goes on until `--checkouts` purchases have completed since the start, the outbox is drained, and the counts
are printed. Exit status 1 if any count is not zero.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from _common import (run_main, ROOT, Redis, _processes, copy_project, free_ports, install_sigterm_exit, machine, prepare_shop_db,
                     save_logs, server, shop_env, work_dir)
from load_bench import LIMITS_OVERRIDES, Env, Record, States, integrity, problems, shopper
from reflex_client import Frontend

sys.path.insert(0, str(ROOT))
from storefront.adapters import localstripe_server  # noqa: E402
from tests import throwaway_db  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "fault_bench.json"
LOOPBACK = "127.0.0.1"


# -- the parts that are hurt ---------------------------------------------------------------------------


class DelayProxy:
    """TCP proxy to the payment sandbox: with `delay_s` set, each request waits that long before it is passed on
    (a slow provider), responses are not held. Runs in a thread of its own, so the shop can use it at start."""

    def __init__(self, port: int, target_port: int):
        self.port, self.target_port, self.delay_s = port, target_port, 0.0
        self.loop = asyncio.new_event_loop()
        self.delayed_requests = 0
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        asyncio.run_coroutine_threadsafe(asyncio.start_server(self._client, LOOPBACK, port), self.loop).result(10)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(LOOPBACK, self.target_port)
        except OSError:
            writer.close()
            return
        answered = [True]  # the next bytes from the client begin a request

        async def pump(src, dst, requests: bool) -> None:
            try:
                while data := await src.read(65536):
                    if requests and answered[0] and self.delay_s:
                        self.delayed_requests += 1
                        await asyncio.sleep(self.delay_s)
                    answered[0] = not requests
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pump(reader, up_writer, True), pump(up_reader, writer, False))


def postgres_restart() -> str:
    """pg_ctl restart (fast: open connections are cut) of the cluster scripts/with-postgres.sh started."""
    data = Path(os.environ.get("STOREFRONT_PG_DIR", "/tmp/storefront-pg")) / "data"
    bindir = next(p for p in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True) if (p / "pg_ctl").exists())
    owner = data.owner()
    cmd = [str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "-t", "60", "restart"]
    if os.getuid() == 0 and owner != "root":
        cmd = ["runuser", "-u", owner, "--", *cmd]
    subprocess.run(cmd, check=True, cwd="/", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return "PostgreSQL restarted (pg_ctl restart -m fast: every connection cut)"


def shop_processes(shop_pid: int) -> dict[int, str]:
    """pid -> command line of the shop's process tree."""
    procs, tree = _processes(), {}
    for pid, (_ppid, cmd) in procs.items():
        node, hops = pid, 0
        while node != shop_pid and node in procs and hops < 32:
            node, hops = procs[node][0], hops + 1
        if node == shop_pid:
            tree[pid] = cmd
    return tree


def kill_a_worker(shop_pid: int) -> str:
    """kill -9 one granian worker (a child of granian's main process)."""
    tree = shop_processes(shop_pid)
    procs = _processes()
    workers = [pid for pid, cmd in tree.items() if "granian" in cmd and "granian" in procs.get(procs[pid][0], (0, ""))[1]]
    if not workers:
        raise RuntimeError("no granian worker found in the shop's process tree")
    os.kill(workers[0], signal.SIGKILL)
    return f"kill -9 worker pid {workers[0]} (of {len(workers)})"


@dataclass
class MailCatcher:
    """The shop's mail catcher, taken away and put back with the same command line."""

    shop_pid: int
    cmd: list[str] = field(default_factory=list)
    proc: subprocess.Popen | None = None

    def stop(self) -> str:
        pid = next(p for p, c in shop_processes(self.shop_pid).items() if "mail_capture" in c)
        self.cmd = Path(f"/proc/{pid}/cmdline").read_bytes().rstrip(b"\0").decode().split("\0")
        os.kill(pid, signal.SIGTERM)
        return f"SMTP server (pid {pid}) stopped"

    def start(self) -> str:
        self.proc = subprocess.Popen(self.cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        return "SMTP server started again"

    def close(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()


# -- the run ---------------------------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    what: str = ""
    start: float = 0.0
    end: float = 0.0


async def faults(args, shop_pid: int, redis: Redis, proxy: DelayProxy, mail: MailCatcher,
                 phases: list[Phase]) -> None:
    async def phase(name: str, act, hold_s: float = 0.0, undo=None) -> None:
        p = Phase(name, start=time.perf_counter())
        phases.append(p)
        p.what = await asyncio.to_thread(act)
        print(f"==> {time.strftime('%H:%M:%S')} fault: {p.what}", flush=True)
        if hold_s:
            await asyncio.sleep(hold_s)
            if undo is not None:
                p.what += "; " + await asyncio.to_thread(undo)
        await asyncio.sleep(args.gap)
        p.end = time.perf_counter()

    phases.append(Phase("before the faults", "none", time.perf_counter()))
    await asyncio.sleep(args.gap)
    phases[-1].end = time.perf_counter()
    await phase("worker killed", lambda: kill_a_worker(shop_pid))
    await phase("Redis restarted", redis.restart)
    await phase("PostgreSQL restarted", postgres_restart)
    await phase("SMTP down", mail.stop, args.smtp_down, mail.start)

    def slow() -> str:
        proxy.delay_s = args.payment_delay
        return f"payment provider delayed {args.payment_delay:.0f} s per request"

    def fast() -> str:
        proxy.delay_s = 0.0
        return f"delay lifted ({proxy.delayed_requests} requests delayed)"

    await phase("payment provider slow", slow, args.payment_slow_for, fast)


async def run(args, env: Env, shop_pid: int, redis: Redis, proxy: DelayProxy, mail: MailCatcher) -> dict:
    records: list[Record] = []
    phases: list[Phase] = []
    t0 = time.perf_counter()
    tasks = [asyncio.create_task(shopper(env, i, t0 + i * 0.25, records)) for i in range(args.shoppers)]
    fault_task = asyncio.create_task(faults(args, shop_pid, redis, proxy, mail, phases))
    try:
        await fault_task
        phases.append(Phase("after the faults", "none", time.perf_counter()))
        while sum(r.ok for r in records) < args.checkouts:
            await asyncio.sleep(1)
        phases[-1].end = time.perf_counter()
    finally:
        fault_task.cancel()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    rows = []
    for p in phases:
        inside = [r for r in records if r.ended and p.start <= r.ended < (p.end or float("inf"))]
        rows.append({"phase": p.name, "what": p.what, "seconds": round((p.end or time.perf_counter()) - p.start),
                     "checkouts": sum(r.ok for r in inside), "failed_purchases": sum(1 for r in inside if r.error),
                     "errors": sorted({r.error.split(":")[0] + " at " + r.step for r in inside if r.error})[:5]})
    return {"phases": rows, "seen": [r.reference for r in records if r.ok], "completed": sum(r.ok for r in records),
            "failed": sum(1 for r in records if r.error), "seconds": round(time.perf_counter() - t0)}


def counts(check: dict) -> dict[str, int]:
    """The figures the issue asks for, from load_bench.integrity's findings."""
    return {
        "orders lost (confirmation seen, no paid order)": len(check["shown_paid_not_paid_in_db"]),
        "duplicate holds (orders with more than one)": len(check["paid_without_exactly_one_hold"])
        + len(check["sandbox_orders_with_several_intents"]),
        "holds on unpaid orders": len(check["unpaid_with_a_hold"]),
        "lost emails (confirmation not sent, or sent and not received)": len(check["emails_sent_not_captured"])
        + sum(1 for n in check["paid_without_exactly_one_confirmation"].values() if n == 0),
        "duplicate emails (two confirmations for one order)": sum(
            1 for n in check["paid_without_exactly_one_confirmation"].values() if n > 1),
        "stock mismatches": len(check["stock_mismatch"]),
    }


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--checkouts", type=int, default=1000, help="completed purchases, at least (default 1000)")
    p.add_argument("--shoppers", type=int, default=40, help="concurrent shoppers (default 40)")
    p.add_argument("--workers", type=int, default=2, help="shop workers (default 2)")
    p.add_argument("--gap", type=float, default=40, help="seconds of buying after each fault (default 40)")
    p.add_argument("--smtp-down", type=float, default=300, help="seconds the SMTP server is away (default 300)")
    p.add_argument("--payment-delay", type=float, default=10, help="seconds each provider request waits (10)")
    p.add_argument("--payment-slow-for", type=float, default=60, help="seconds the provider stays slow (60)")
    p.add_argument("--think", type=float, default=1.0, help="mean think time between actions (default 1 s)")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder (logs) and print it")
    return p.parse_args()


def main() -> int:
    args = parse_args()
    install_sigterm_exit()
    if "postgresql" not in os.environ.get("REFLEX_DB_URL", ""):
        print("run under scripts/with-postgres.sh (see the docstring): the faults include a PostgreSQL restart",
              file=sys.stderr)
        return 2
    if not shutil.which("redis-server"):
        print("redis-server is missing: apt-get install redis-server (make production installs it)", file=sys.stderr)
        return 2
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        tmp = work_dir(stack, "fault_bench-", args.keep)
        stack.callback(save_logs, tmp, RESULTS.parent / "fault_bench_logs")
        shop_port, stripe_port, sandbox_port, smtp_port, redis_port = free_ports(5)
        redis = Redis(redis_port, tmp / "redis")
        redis.start()
        stack.callback(redis.stop)
        sandbox = localstripe_server.start(sandbox_port, state_file=tmp / "localstripe.pickle",
                                           log_file=tmp / "localstripe.log")
        stack.callback(sandbox.stop)
        proxy = DelayProxy(stripe_port, sandbox_port)
        copy = copy_project(tmp / "shop")
        db_url = throwaway_db.own_database(os.environ["REFLEX_DB_URL"], tmp)  # a fresh database, dropped after
        stack.callback(throwaway_db.drop, db_url, os.environ["REFLEX_DB_URL"])
        env = {**shop_env(tmp, copy, shop_port, stripe_port, smtp_port), "REFLEX_DB_URL": db_url, "REFLEX_REDIS_URL": f"redis://{LOOPBACK}:{redis_port}/0",
               "STOREFRONT_WORKERS": str(args.workers), "STOREFRONT_LIMITS_OVERRIDES": json.dumps(LIMITS_OVERRIDES)}
        print(f"==> shop copy in {copy}: migrate, seed (PostgreSQL), stock", flush=True)
        products = prepare_shop_db(copy, env)
        pids: dict[str, int] = {}
        shop_log = tmp / "shop.log"
        shop_url = stack.enter_context(server(
            "storefront", [sys.executable, "-m", "storefront", "serve", "--port", str(shop_port)], copy, shop_log,
            shop_port, env=env, ready_path="/api/health", pids=pids))
        mail = MailCatcher(pids["storefront"])
        stack.callback(mail.close)
        fe = Frontend.read(copy)
        run_env = Env(shop_url, shop_url, f"http://{LOOPBACK}:{stripe_port}", fe, fe, States.of(fe),
                      [p["slug"] for p in products], args.think, 0.5, 120)
        outcome = asyncio.run(run(args, run_env, pids["storefront"], redis, proxy, mail))
        print("==> integrity: orders, holds, stock, emails (waits for the outbox to drain)", flush=True)
        check = integrity(env["REFLEX_DB_URL"], tmp / "mail", sandbox_port, outcome.pop("seen"), shop_log,
                          wait_outbox_s=300)
    figures = counts(check)
    issues = problems(check)
    meta = {"date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(),
            "command": "bash scripts/with-postgres.sh .venv/bin/python bench/fault_bench.py " + " ".join(sys.argv[1:]),
            "shoppers": args.shoppers, "workers": args.workers}
    RESULTS.write_text(json.dumps({"meta": meta, "run": outcome, "counts": figures, "integrity": check,
                                   "problems": issues}, indent=2) + "\n")
    print(f"\n{outcome['completed']} purchases completed, {outcome['failed']} failed and started over, "
          f"in {outcome['seconds']} s ({check['paid_orders']} paid orders in the database)\n")
    print("| phase | what | s | checkouts | failed purchases | errors seen by shoppers |\n|---|---|---|---|---|---|")
    for r in outcome["phases"]:
        print(f"| {r['phase']} | {r['what']} | {r['seconds']} | {r['checkouts']} | {r['failed_purchases']} | "
              f"{'; '.join(r['errors']) or '-'} |")
    print("\n| count | value |\n|---|---|")
    for name, value in figures.items():
        print(f"| {name} | {value} |")
    print("\nOther findings: " + ("none" if not issues else "\n  " + "\n  ".join(issues)))
    print(f"JSON: {RESULTS.relative_to(ROOT)}")
    return 1 if any(figures.values()) or issues else 0


if __name__ == "__main__":
    run_main(main)
