"""Capacity over the websocket (issue 12 section 1): simulated shoppers, no browsers, buy watches at rising
levels of concurrency while one trivial event every 200 ms probes the shop and a blank Reflex app.

Why: checkout_bench.py drives 8 Chromium tabs and reports their pace; on 2 cores the browsers use more CPU
than the shop. Here each shopper is a socket speaking Reflex's protocol as the built frontend does
(reflex_client.py), so the machine's CPU goes to the servers, and the shop's capacity shows: completed
checkouts per second, each step's latency, and the CPU seconds each process spends per checkout.

Run: .venv/bin/python bench/load_bench.py [--levels 1,25,75,150] [--duration 60] [--warmup 20] [--think 1.0]
                                          [--search] [--workers N] [--keep]
Production mode's parts: `--workers 2` runs the shop with two workers and a Redis of its own for their state;
under `bash scripts/with-postgres.sh` the shop's database is a fresh one on that PostgreSQL (dropped after).

Each shopper is one person (cookies, localStorage) buying one watch after another, each purchase in a new
tab (a new Reflex session): product page (document + hydrate + on_load), add to cart, checkout page
(document + hydrate + on_load), the six steps (every field typed sends its blur event, as the page does),
a card token from the payment sandbox (POST /v1/tokens with the publishable key, as its Stripe.js does),
pay, the redirect followed to the order page (a client-side navigation). Between actions a think time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import aiohttp

from _common import (run_main, BLANK_APP, ROOT, STOCK, Redis, copy_project, cpu_by_role, cpu_delta, rss_mb_by_role, save_logs, foreign_activity, free_ports,
                     init_blank, install_sigterm_exit, machine, machine_busy_s, pct, prepare_shop_db, prod_cmd,
                     sandbox_intents, server, shop_env, work_dir)
from reflex_client import Browser, Frontend, StepFailed, Tab, redirected, says, sets

sys.path.insert(0, str(ROOT))  # for the e2e suite's test data and the sandbox's keys
from storefront.adapters import sandbox  # noqa: E402
from tests import throwaway_db  # noqa: E402
from tests.e2e.checkout_flow import ADDRESSES  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "load_bench.json"
SELF_ROLE = "load generator (this process)"
SHOP_ROLE, SANDBOX_ROLE, BLANK_ROLE = "shop backend", "localstripe (payment sandbox)", "blank app"
ADDRESS = ADDRESSES["CH"]  # the e2e suite's Swiss address: VAT 8.1 %, no region, deliverable
CARD = {"number": "4242424242424242", "exp_month": "12", "exp_year": "2030", "cvc": "123"}
HEADERS = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) load_bench", "Accept-Language": "de-CH"}
PAID = ("awaiting_approval", "compliance_review", "approved", "partially_shipped", "shipped")
PROBE_EVERY_S = 0.2
# Every shopper comes from 127.0.0.1 and leaves an unpaid order behind whenever a level ends mid-checkout: the
# per-address limits (tests/e2e/conftest.py lifts them the same way) would refuse the load, not measure it.
LIMITS_OVERRIDES = {
    "open_unpaid_orders": {"per_ip": 100_000, "per_email": 100_000},
    "rates": {"order_confirmations_per_ip": "100000 per minute", "payment_attempts_per_ip": "100000 per minute"},
}
STEPS = [  # (key, what ends it), in the order a checkout meets them
    ("product page", "GET /watch/<slug>, connect + hydrate, on_load: the product in a delta"),
    ("add to cart", "add_to_cart(form) -> cart_count set"),
    ("checkout page", "GET /checkout, connect + hydrate, on_load: CheckoutState.load's delta"),
    ("cart -> information", "continue_from_cart -> step 2"),
    ("type a field (blur)", "set_field(name, value) -> form[name] (8 per checkout, not awaited by the shopper)"),
    ("information -> details", "submit_info(form) -> step 3"),
    ("checkbox tick", "set_details_confirmed / set_terms_accepted / set_personal_use -> ticked (3 per checkout)"),
    ("details -> terms", "confirm_details -> step 4"),
    ("terms -> confirm", "accept_terms -> step 5"),
    ("place order", "place_order -> order_reference set"),
    ("card token (sandbox)", "POST sandbox /v1/tokens (publishable key) -> token"),
    ("pay -> redirect", "pay(token) -> _redirect (hold taken)"),
    ("order page", "update_vars_internal + on_load_internal -> the order in a delta"),
]


# -- the run's setup -------------------------------------------------------------------------------


@dataclass(frozen=True)
class States:
    """Full state names of the shop, read from its built frontend."""

    shop: str
    product: str
    checkout: str
    order: str

    @classmethod
    def of(cls, fe: Frontend) -> States:
        return cls(fe.state("___shop_state"), fe.state("___product_state"), fe.state("___checkout_state"),
                   fe.state("___order_status_state"))


@dataclass
class Env:
    shop_url: str
    blank_url: str
    stripe_url: str
    shop: Frontend
    blank: Frontend
    names: States
    slugs: list[str]
    think_s: float
    jitter: float
    step_timeout_s: float

    def browser(self) -> Browser:
        return Browser(self.shop_url, self.shop, HEADERS)

    async def think(self) -> None:
        """A person reads, moves and types: `think` seconds on average, +/- `jitter` of it."""
        await asyncio.sleep(self.think_s * random.uniform(1 - self.jitter, 1 + self.jitter))


@dataclass
class Record:
    """One checkout: its steps (name, start in perf_counter seconds, latency in ms) and how it ended."""

    shopper: int
    started: float
    steps: list[tuple[str, float, float]] = field(default_factory=list)
    step: str = ""
    ok: bool = False
    ended: float | None = None
    error: str = ""
    abandoned: bool = False
    reference: str = ""
    status: str = ""

    async def time(self, key: str, work) -> object:
        """Run `work` (a coroutine giving (latency_s, result)) as step `key`; returns the result."""
        self.step = key
        start = time.perf_counter()
        latency, result = await work
        self.steps.append((key, start, latency * 1000))
        return result


# -- one checkout ------------------------------------------------------------------------------------


async def checkout_once(env: Env, b: Browser, rec: Record, slug: str, email: str) -> None:
    """One purchase in a new tab, step by step as the built frontend sends it; fills `rec`."""
    n, tab, limit = env.names, Tab(b), env.step_timeout_s
    checkout = n.checkout
    try:
        await env.think()
        await rec.time("product page", page_load(tab, f"/watch/{slug}", {"slug": slug}, limit,
                                                 sets(n.product, "product", bool), says(n.product, "not_found")))
        await env.think()
        await rec.time("add to cart", event(tab, f"{n.product}.add_to_cart",
                                            {"form_data": {"__reflex_form_data__": [["quantity", "1"]]}}, limit,
                                            sets(n.shop, "cart_count", lambda v: v >= 1)))
        await env.think()
        await rec.time("checkout page", page_load(tab, "/checkout", {}, limit, sets(checkout, "draft"),
                                                  says(checkout, "message_code")))
        await env.think()
        await rec.time("cart -> information", event(tab, f"{checkout}.continue_from_cart", None, limit,
                                                    step_is(checkout, 2), says(checkout, "message_code")))
        await fill_information(env, tab, rec, email)
        for key, tick, var, next_handler, next_step in (
                ("details_confirmed", "set_details_confirmed", "details_confirmed", None, None),
                ("details -> terms", None, None, "confirm_details", 4),
                ("terms_accepted", "set_terms_accepted", "terms_accepted", None, None),
                ("personal_use", "set_personal_use", "personal_use", None, None),
                ("terms -> confirm", None, None, "accept_terms", 5)):
            await env.think()
            if tick:
                await rec.time("checkbox tick", event(tab, f"{checkout}.{tick}", {"value": True}, limit,
                                                      sets(checkout, var, lambda v: v is True)))
            else:
                await rec.time(key, event(tab, f"{checkout}.{next_handler}", None, limit, step_is(checkout, next_step),
                                          says(checkout, "message_code")))
        await env.think()
        placed = await rec.time("place order", event(tab, f"{checkout}.place_order", None, limit,
                                                     sets(checkout, "order_reference", bool),
                                                     says(checkout, "message_code")))
        rec.reference = placed["delta"][checkout]["order_reference_rx_state_"]
        await env.think()  # typing the card
        token = await rec.time("card token (sandbox)", card_token(b, env.stripe_url, limit))
        paid = await rec.time("pay -> redirect", event(tab, f"{checkout}.pay", {"result": json.dumps(
            {"token": token}, separators=(",", ":"))}, limit, redirected, says(checkout, "pay_code")))
        path = next(e["payload"]["path"] for e in paid["events"] if e.get("name") == "_redirect")
        shown = await rec.time("order page", navigation(tab, path, {"reference": rec.reference}, limit,
                                                        sets(n.order, "order", lambda o: bool(o) and o.get(
                                                            "reference") == rec.reference),
                                                        says(n.order, "not_found")))
        rec.status = shown["delta"][n.order]["order_rx_state_"]["status"]
        rec.ok, rec.ended = True, time.perf_counter()
    finally:
        await tab.close()


async def fill_information(env: Env, tab: Tab, rec: Record, email: str) -> None:
    """Type the fields one by one, a think time each (each blur sends set_field, not awaited), then submit the
    form: the last field's blur and the submit leave together, as when the shopper clicks Continue from it."""
    checkout, limit = env.names.checkout, env.step_timeout_s
    typed = {"email": email, "phone": ADDRESS["phone"], "full_name": "Anna Keller", "birth_date": "1980-02-03",
             "ship_name": "Anna Keller", "ship_street": ADDRESS["street"], "ship_postal_code": ADDRESS["postal_code"],
             "ship_city": ADDRESS["city"]}
    blurs = []
    for name, value in typed.items():
        await env.think()
        answered = tab.expect(sets(checkout, "form", lambda f, k=name, v=value: f.get(k) == v))
        blurs.append((await tab.emit(f"{checkout}.set_field", {"name": name, "value": value}), answered))
    # The form's named fields as encodeFormDataArgs sends them (the hidden billing fields as null).
    form = [["email", email], ["phone", typed["phone"]], ["full_name", "Anna Keller"], ["birth_date", "1980-02-03"],
            ["ship_country", "CH"], ["ship_name", "Anna Keller"], ["ship_street", typed["ship_street"]],
            ["ship_postal_code", typed["ship_postal_code"]], ["ship_city", typed["ship_city"]], ["ship_area", None],
            *[[f"bill_{f}", None] for f in ("country", "name", "street", "postal_code", "city", "area")]]
    await rec.time("information -> details", event(tab, f"{checkout}.submit_info",
                                                   {"form_data": {"__reflex_form_data__": form}}, limit,
                                                   step_is(checkout, 3), says(checkout, "message_code")))
    for sent, answered in blurs:  # answered before the submit's step change: the server runs them in order
        done, _update = await asyncio.wait_for(answered, limit)
        rec.steps.append(("type a field (blur)", sent, (done - sent) * 1000))


def step_is(state: str, step: int):
    return sets(state, "step", lambda v: v == step)


async def event(tab: Tab, name: str, payload: dict | None, limit: float, ok, fail=None):
    """(latency, update): from the emit to the update passing `ok`."""
    answered = tab.expect(ok, fail)
    sent = await tab.emit(name, payload)
    done, update = await asyncio.wait_for(answered, limit)
    return done - sent, update


async def page_load(tab: Tab, address: str, params: dict, limit: float, ok, fail=None):
    start = time.perf_counter()
    done, update = await asyncio.wait_for(tab.load(address, params, ok, fail), limit)
    return done - start, update


async def navigation(tab: Tab, address: str, params: dict, limit: float, ok, fail=None):
    start = time.perf_counter()
    done, update = await asyncio.wait_for(tab.navigate(address, params, ok, fail), limit)
    return done - start, update


async def card_token(b: Browser, stripe_url: str, limit: float):
    """The sandbox's Stripe.js createToken(): the card fields and the publishable key, form-encoded, unescaped."""
    body = "&".join([*(f"card[{k}]={v}" for k, v in CARD.items()), f"key={sandbox.PUBLISHABLE_KEY}",
                     "payment_user_agent=localstripe"])
    start = time.perf_counter()
    async with b.http.post(f"{stripe_url}/v1/tokens", data=body, timeout=aiohttp.ClientTimeout(total=limit),
                           headers={"Content-Type": "application/x-www-form-urlencoded"}) as r:
        token = await r.json(content_type=None)
    if r.status != 200 or "id" not in token:
        raise StepFailed(f"the sandbox gave no token: {r.status} {str(token)[:200]}")
    return time.perf_counter() - start, token["id"]


async def shopper(env: Env, idx: int, start_at: float, records: list[Record]) -> None:
    """One person buying watch after watch until cancelled; after a failure, a new person takes over (fresh
    cookies and storage), so a half-done cart never spoils the next purchase."""
    await asyncio.sleep(max(0.0, start_at - time.perf_counter()))
    b = env.browser()
    slug = env.slugs[idx % len(env.slugs)]
    try:
        while True:
            rec = Record(idx, time.perf_counter())
            records.append(rec)
            try:
                await checkout_once(env, b, rec, slug, f"shopper{idx}@load.example.com")
            except asyncio.CancelledError:
                rec.abandoned = True
                raise
            except (StepFailed, asyncio.TimeoutError, aiohttp.ClientError, OSError, KeyError) as exc:
                rec.error, rec.ended = f"{type(exc).__name__}: {str(exc)[:300]}", time.perf_counter()
                await b.close()
                b = env.browser()
    finally:
        await b.close()


# -- the probes ----------------------------------------------------------------------------------------


async def probe(tab: Tab, name: str, payloads: list[dict | None], ok_for, out: list[tuple[float, float]],
                limit: float) -> None:
    """Every 200 ms one trivial event, waiting for its answer (a late answer delays the next probe, no more)."""
    k, due = 0, time.perf_counter()
    while True:
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        payload = payloads[k % len(payloads)]
        latency, _ = await event(tab, name, payload, limit, ok_for(payload))
        out.append((due, latency * 1000))
        k, due = k + 1, max(due + PROBE_EVERY_S, time.perf_counter())


async def shop_probe(env: Env, out: list) -> None:
    """The shop's cheapest handler that changes something: the quantity field of a product page (1, 2, 1, ...)."""
    b = env.browser()
    tab = Tab(b)
    try:
        p = env.names.product
        await tab.load(f"/watch/{env.slugs[0]}", {"slug": env.slugs[0]}, sets(p, "product", bool))
        await probe(tab, f"{p}.set_quantity", [{"value": 2}, {"value": 1}],
                    lambda pl: sets(p, "quantity", lambda v, q=str(pl["value"]): v == q), out, env.step_timeout_s)
    finally:
        await tab.close()
        await b.close()


async def blank_probe(env: Env, out: list) -> None:
    """The blank app's counter += 1."""
    b = Browser(env.blank_url, env.blank, HEADERS)
    tab = Tab(b)
    try:
        await tab.load("/", {})
        counter = env.blank.state_with_var("count")
        await probe(tab, f"{counter}.increment", [None], lambda _: sets(counter, "count"), out, env.step_timeout_s)
    finally:
        await tab.close()
        await b.close()


# -- a level -------------------------------------------------------------------------------------------


async def run_level(env: Env, shoppers: int, warmup_s: float, warmup_max_s: float, duration_s: float,
                    roles: dict[int, str]) -> dict:
    """`shoppers` start spread over `warmup_s`; the warm-up lasts until every one of them has ended a purchase
    (at most `warmup_max_s`): the load is then the level's, not a first wave's. The measured window lasts
    `duration_s`, or one purchase (the warm-up's median) if that is longer: shoppers who started together
    stay roughly in step, and a window shorter than their cycle would fall between their completions. Then
    all stop (a purchase in progress is abandoned, as a closed tab). Only what starts (steps) or ends
    (purchases) inside the window counts; CPU is read at its two ends."""
    records: list[Record] = []
    shop_probes: list[tuple[float, float]] = []
    blank_probes: list[tuple[float, float]] = []
    t0 = time.perf_counter()
    tasks = [asyncio.create_task(shop_probe(env, shop_probes)), asyncio.create_task(blank_probe(env, blank_probes))]
    tasks += [asyncio.create_task(shopper(env, i, t0 + random.uniform(0, warmup_s), records)) for i in range(shoppers)]
    try:
        await asyncio.sleep(warmup_s)
        while len({r.shopper for r in records if r.ended}) < shoppers and time.perf_counter() < t0 + warmup_max_s:
            await asyncio.sleep(0.5)
        start, cpu0, busy0 = time.perf_counter(), cpu_by_role(roles, SELF_ROLE), machine_busy_s()
        await asyncio.sleep(max(duration_s, pct([r.ended - r.started for r in records if r.ok], 50) or 0))
        end, cpu1, busy1 = time.perf_counter(), cpu_by_role(roles, SELF_ROLE), machine_busy_s()
        rss = rss_mb_by_role(roles, SELF_ROLE)
    finally:
        for t in tasks:
            t.cancel()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    broken = [repr(o) for o in outcomes if isinstance(o, BaseException) and not isinstance(o, asyncio.CancelledError)]
    return {"warmup_s": round(start - t0, 1), "rss_mb": rss, "tabs_opened": len(records), **summarize_level(
        shoppers, start, end, records, shop_probes, blank_probes, cpu_delta(cpu0, cpu1), busy1 - busy0, broken)}


def dist(values: list[float]) -> dict:
    return {"n": len(values), "p50_ms": rnd(pct(values, 50)), "p95_ms": rnd(pct(values, 95)),
            "max_ms": rnd(max(values)) if values else None}


def rnd(v: float | None, nd: int = 1) -> float | None:
    return None if v is None else round(v, nd)


def summarize_level(shoppers: int, start: float, end: float, records: list[Record], shop_probes: list,
                    blank_probes: list, cpu: dict[str, float], machine_busy: float, broken: list[str]) -> dict:
    inside = lambda t: t is not None and start <= t < end  # noqa: E731
    window = end - start
    done = [r for r in records if r.ok and inside(r.ended)]
    failed = [r for r in records if r.error and inside(r.ended)]
    steps = {key: dist([ms for r in records for k, t, ms in r.steps if k == key and inside(t)]) for key, _ in STEPS}
    shop = dist([ms for t, ms in shop_probes if inside(t)])
    blank = dist([ms for t, ms in blank_probes if inside(t)])
    ours = sum(cpu.values())
    per_checkout = {role: round(cpu.get(role, 0.0) / len(done), 4) if done else None for role in (SHOP_ROLE, SANDBOX_ROLE)}
    errors: dict[str, int] = {}
    for r in failed:
        errors[f"{r.step}: {r.error[:160]}"] = errors.get(f"{r.step}: {r.error[:160]}", 0) + 1
    return {
        "shoppers": shoppers, "window_s": round(window, 1), "checkouts_completed": len(done),
        "checkouts_failed": len(failed), "checkouts_per_s": round(len(done) / window, 3),
        "checkout_wall_s": {"p50": rnd(pct([r.ended - r.started for r in done], 50), 2),
                            "p95": rnd(pct([r.ended - r.started for r in done], 95), 2)},
        "steps": steps,
        "worst_step_p95": max(((k, s["p95_ms"]) for k, s in steps.items() if s["p95_ms"] is not None),
                              key=lambda kv: kv[1], default=(None, None)),
        "probe_shop": shop, "probe_blank": blank,
        "probe_p95_ratio": rnd(shop["p95_ms"] / blank["p95_ms"], 2) if shop["p95_ms"] and blank["p95_ms"] else None,
        "probe_p50_ratio": rnd(shop["p50_ms"] / blank["p50_ms"], 2) if shop["p50_ms"] and blank["p50_ms"] else None,
        "cpu_s": cpu, "cpu_s_other_processes": round(max(0.0, machine_busy - ours), 2),
        "cpu_s_per_checkout": per_checkout,
        "errors": errors, "references": [r.reference for r in records if r.ok],
        "statuses": {s: sum(1 for r in done if r.status == s) for s in {r.status for r in done}},
        "broken_tasks": broken, "load_average_1min": round(os.getloadavg()[0], 2),
    }


async def run_levels(env: Env, args, roles: dict[int, str]) -> tuple[list[dict], list[str]]:
    """A warm-up checkout, the asked levels, then (--search) more shoppers while throughput still grows."""
    b = env.browser()
    warm = Record(-1, time.perf_counter())
    try:
        await checkout_once(env, b, warm, env.slugs[0], "warmup@load.example.com")
    except (StepFailed, asyncio.TimeoutError, aiohttp.ClientError, OSError, KeyError) as exc:
        raise SystemExit(f"!! the warm-up checkout failed at '{warm.step}': {type(exc).__name__}: {exc}") from exc
    finally:
        await b.close()
    results: list[dict] = []
    if args.idle:
        results.append(await level(env, 0, args, roles, warmup_s=3, duration_s=args.idle))
    for n in args.levels:
        results.append(await level(env, n, args, roles))
    if args.search:
        best = max(results, key=lambda r: r["checkouts_per_s"])
        n = best["shoppers"]
        while (n := int(n * 1.5)) <= args.search_max:
            r = await level(env, n, args, roles, search=True)
            results.append(r)
            if r["checkouts_per_s"] < best["checkouts_per_s"] * 1.05 or r["checkouts_failed"] > r["checkouts_completed"] / 10:
                break
            best = r
    add_net_cpu(results)
    add_memory_per_tab(results)
    return results, [warm.reference]


def add_memory_per_tab(results: list[dict]) -> None:
    """Memory per shopper session: every purchase opens a tab, whose state the shop keeps for the retention
    period (an hour), so the shop's resident memory above its idle level, divided by the tabs opened so far,
    is what one session costs it."""
    idle = next((r for r in results if r["shoppers"] == 0), None)
    tabs = 1  # the warm-up purchase
    for r in results:
        tabs += r["tabs_opened"]
        r["tabs_so_far"] = tabs
        grown = r["rss_mb"].get(SHOP_ROLE, 0.0) - idle["rss_mb"].get(SHOP_ROLE, 0.0) if idle else None
        r["shop_kb_per_tab"] = round(grown * 1024 / tabs, 1) if grown is not None and r["shoppers"] else None
        print(f"    memory at {r['shoppers']} shoppers: shop {r['rss_mb'].get(SHOP_ROLE)} MB resident after "
              f"{tabs} tabs" + (f", {r['shop_kb_per_tab']} KB per tab above idle" if r["shop_kb_per_tab"] else ""),
              flush=True)


async def level(env: Env, n: int, args, roles: dict[int, str], search: bool = False,
                warmup_s: float | None = None, duration_s: float | None = None) -> dict:
    warmup_s = args.warmup if warmup_s is None else warmup_s
    duration_s = args.duration if duration_s is None else duration_s
    print(f"==> {n} shoppers: warm-up (at least {warmup_s:.0f} s, until each has ended a purchase), "
          f"{duration_s:.0f} s measured (or one purchase's time if longer)" + (" (throughput search)" if search else " (idle: the probes alone)"
                                            if not n else ""), flush=True)
    r = await run_level(env, n, warmup_s, args.warmup_max, duration_s, roles)
    r["search"] = search
    r["foreign_activity"] = foreign_activity()
    print("    " + level_line(r), flush=True)
    if r["cpu_s_other_processes"] > 0.2 * (os.cpu_count() or 1) * r["window_s"]:
        print(f"!! other processes used {r['cpu_s_other_processes']:.0f} CPU-s of this level's window: noisy figures "
              f"{r['foreign_activity'] or ''}", flush=True)
    await asyncio.sleep(args.settle)  # the abandoned checkouts' last events drain before the next level
    return r


def add_net_cpu(results: list[dict]) -> None:
    """CPU per checkout without what the shop spends anyway (the probes, its background jobs), as measured
    with no shoppers: at low levels that idle cost, spread over a few checkouts, would hide the checkouts' own."""
    idle = next((r for r in results if r["shoppers"] == 0), None)
    for r in results:
        done = r["checkouts_completed"]
        r["cpu_s_per_checkout_net_of_idle"] = {
            role: round((r["cpu_s"].get(role, 0.0) - idle["cpu_s"].get(role, 0.0) / idle["window_s"] * r["window_s"])
                        / done, 4) if idle and done else None for role in (SHOP_ROLE, SANDBOX_ROLE)}


# -- integrity -------------------------------------------------------------------------------------------


def integrity(db_url: str, mail_dir: Path, stripe_port: int, seen: list[str], log: Path, wait_outbox_s: float) -> dict:
    """What the database, the payment sandbox and the mail catcher hold once the run is over."""
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    try:
        with engine.connect() as con:
            q = lambda sql, **a: con.execute(text(sql), a).all()  # noqa: E731
            deadline = time.monotonic() + wait_outbox_s
            while time.monotonic() < deadline and q("SELECT count(*) FROM outbox_email WHERE status = 'pending'")[0][0]:
                con.rollback()  # a fresh snapshot at the next count
                time.sleep(2)  # the outbox worker sends every 2 s
            orders = {ref: status for ref, status in q("SELECT reference, status FROM shop_order")}
            held = dict(q("SELECT o.reference, count(a.id) FROM shop_order o LEFT JOIN payment_authorization a "
                          "ON a.order_id = o.id AND a.status = 'held' GROUP BY o.id, o.reference"))
            lines = dict(q("SELECT o.reference, count(l.id) FROM shop_order o LEFT JOIN order_line l "
                           "ON l.order_id = o.id GROUP BY o.id, o.reference"))
            mails = dict(q("SELECT o.reference, count(e.id) FROM shop_order o LEFT JOIN outbox_email e "
                           "ON e.order_id = o.id AND e.kind = 'order_confirmation' GROUP BY o.id, o.reference"))
            stock = q("SELECT p.reference, :stock - p.stock, coalesce(sum(CASE WHEN o.id IS NULL THEN 0 "
                      "ELSE l.quantity END), 0) FROM product p LEFT JOIN order_line l ON l.product_id = p.id "
                      "LEFT JOIN shop_order o ON o.id = l.order_id AND o.status != 'cancelled' WHERE p.active = true "
                      "GROUP BY p.id, p.reference, p.stock", stock=STOCK)
            outbox = dict(q("SELECT status, count(*) FROM outbox_email WHERE kind = 'order_confirmation' "
                            "GROUP BY status"))
            sent_ids = {row[0] for row in q("SELECT id FROM outbox_email WHERE status = 'sent'")}
    finally:
        engine.dispose()
    paid = {ref for ref, status in orders.items() if status in PAID}
    per_order: dict[str, int] = {}
    for intent in sandbox_intents(stripe_port):
        ref = (intent.get("metadata") or {}).get("order", "?")
        per_order[ref] = per_order.get(ref, 0) + 1
    captured = captured_messages(mail_dir)
    log_text = log.read_text(errors="replace")
    by_status: dict[str, int] = {}
    for status in orders.values():
        by_status[status] = by_status.get(status, 0) + 1
    return {
        "orders": len(orders), "orders_by_status": by_status, "paid_orders": len(paid),
        "paid_without_exactly_one_hold": {r: held[r] for r in paid if held[r] != 1},
        "unpaid_with_a_hold": {r: held[r] for r in orders if r not in paid and held[r]},
        "orders_without_lines": [r for r in orders if not lines[r]],
        "stock_mismatch": [{"product": p, "taken": taken, "in_orders": ordered} for p, taken, ordered in stock
                           if taken != ordered],
        "paid_without_exactly_one_confirmation": {r: mails[r] for r in paid if mails[r] != 1},
        "unpaid_with_a_confirmation": [r for r in orders if r not in paid and mails[r]],
        "confirmations_by_status": outbox,
        "emails_captured": sum(captured.values()),
        "emails_sent_not_captured": sorted(i for i in sent_ids if _message_id(i) not in captured),
        "emails_delivered_twice_same_message_id": sum(1 for n in captured.values() if n > 1),
        "shown_paid_not_paid_in_db": [r for r in seen if r not in paid],
        "sandbox_orders_with_several_intents": {r: k for r, k in per_order.items() if k > 1},
        "server_log": {"tracebacks": log_text.count("Traceback (most recent call last)"),
                       "database_is_locked": log_text.count("database is locked"),
                       # Reflex's warning: "Lock for token ... was held too long time_taken=..."
                       "lock_warnings": log_text.count("was held too long"),
                       "lock_expired": log_text.count("LockExpiredError")},
    }


def _message_id(outbox_id) -> str:
    """The Message-ID the shop gives an outbox row (storefront/adapters/mailer.message_id_for), without its domain."""
    return f"<outbox-{outbox_id}@"


def captured_messages(mail_dir: Path) -> dict[str, int]:
    """How many times each Message-ID (up to its '@') reached the mail catcher: SMTP may deliver one twice."""
    from email.parser import BytesHeaderParser

    counts: dict[str, int] = {}
    for eml in mail_dir.glob("*.eml") if mail_dir.exists() else ():
        with eml.open("rb") as f:
            mid = (BytesHeaderParser().parse(f).get("Message-ID") or "").strip()
        key = mid.partition("@")[0] + "@"
        counts[key] = counts.get(key, 0) + 1
    return counts


def problems(check: dict) -> list[str]:
    out = [f"{k}: {str(check[k])[:300]}" for k in (
        "paid_without_exactly_one_hold", "unpaid_with_a_hold", "orders_without_lines", "stock_mismatch",
        "paid_without_exactly_one_confirmation", "unpaid_with_a_confirmation", "shown_paid_not_paid_in_db",
        "sandbox_orders_with_several_intents", "emails_sent_not_captured") if check[k]]
    sent = check["confirmations_by_status"].get("sent", 0)
    if sent != check["paid_orders"]:
        out.append(f"confirmations sent {sent} != paid orders {check['paid_orders']} ({check['confirmations_by_status']})")
    out += [f"server log: {v} x {k}" for k, v in check["server_log"].items() if v]
    return out


# -- report ----------------------------------------------------------------------------------------------


def fmt(v, nd=0) -> str:
    return "n/a" if v is None else f"{v:,.{nd}f}"


def level_line(r: dict) -> str:
    cpu = r["cpu_s"]
    return (f"{r['checkouts_completed']} checkouts ({r['checkouts_failed']} failed) = {r['checkouts_per_s']:.2f}/s; "
            f"place order p95 {fmt(r['steps']['place order']['p95_ms'])} ms, pay p95 "
            f"{fmt(r['steps']['pay -> redirect']['p95_ms'])} ms; probe p95 shop {fmt(r['probe_shop']['p95_ms'])} / "
            f"blank {fmt(r['probe_blank']['p95_ms'])} ms; CPU s shop {fmt(cpu.get(SHOP_ROLE), 1)}, sandbox "
            f"{fmt(cpu.get(SANDBOX_ROLE), 1)}, generator {fmt(cpu.get(SELF_ROLE), 1)}")


LEVEL_HEADER = ["shoppers", "checkouts/s", "done / failed", "worst step p95 ms", "probe p50 ms shop / blank",
                "probe p95 ms shop / blank (x)", "CPU s shop / sandbox / mail / blank / generator / others",
                "CPU s per checkout shop / sandbox (net of idle)"]


def level_rows(results: list[dict]) -> list[list[str]]:
    rows = []
    for r in results:
        cpu, per, net = r["cpu_s"], r["cpu_s_per_checkout"], r["cpu_s_per_checkout_net_of_idle"]
        worst = r["worst_step_p95"]
        label = "0 (idle)" if not r["shoppers"] else f"{r['shoppers']}{' (search)' if r['search'] else ''}"
        rows.append([
            label, f"{r['checkouts_per_s']:.2f}",
            f"{r['checkouts_completed']} / {r['checkouts_failed']}", f"{fmt(worst[1])} ({worst[0]})" if worst[0] else "n/a",
            f"{fmt(r['probe_shop']['p50_ms'])} / {fmt(r['probe_blank']['p50_ms'])}",
            f"{fmt(r['probe_shop']['p95_ms'])} / {fmt(r['probe_blank']['p95_ms'])} ({fmt(r['probe_p95_ratio'], 1)}x)",
            " / ".join(fmt(cpu.get(k), 1) for k in (SHOP_ROLE, SANDBOX_ROLE, "mail catcher", BLANK_ROLE, SELF_ROLE))
            + f" / {fmt(r['cpu_s_other_processes'], 1)}",
            f"{fmt(per[SHOP_ROLE], 3)} / {fmt(per[SANDBOX_ROLE], 3)} "
            f"({fmt(net[SHOP_ROLE], 3)} / {fmt(net[SANDBOX_ROLE], 3)})"])
    return rows


def step_rows(results: list[dict]) -> tuple[list[str], list[list[str]]]:
    results = [r for r in results if r["shoppers"]]
    header = ["step (p50 / p95 ms)"] + [f"{r['shoppers']} shoppers" for r in results]
    rows = [[key] + [f"{fmt(r['steps'][key]['p50_ms'])} / {fmt(r['steps'][key]['p95_ms'])}" for r in results]
            for key, _ in STEPS]
    rows.append(["whole checkout, incl. think times (s)"] + [
        f"{fmt(r['checkout_wall_s']['p50'], 1)} / {fmt(r['checkout_wall_s']['p95'], 1)}" for r in results])
    return header, rows


def print_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, *rows]:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))


def md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|",
            *["| " + " | ".join(r) + " |" for r in rows]]


def markdown(results: list[dict], meta: dict, check: dict, issues: list[str]) -> str:
    out = [f"Measured {meta['date']} on {meta['machine']}; Reflex {meta['reflex']}, granian {meta['granian']}, "
           f"localstripe {meta['localstripe']}, Python {meta['python']}; think time {meta['think_s']} s "
           f"(+/- {int(meta['jitter'] * 100)} %), shoppers started over {meta['warmup_s']:.0f} s; each level "
           f"measured once each shopper had ended a purchase, for {meta['duration_s']:.0f} s or one purchase's "
           "time if longer (warm-up + window: " + ", ".join(f"{r['warmup_s']:.0f} + {r['window_s']:.0f} s"
                                                          for r in results if r["shoppers"]) + f"); `{meta['command']}`.", ""]
    out += md_table(LEVEL_HEADER, level_rows(results)) + [""]
    out += md_table(*step_rows(results)) + [""]
    out.append(f"Integrity after the run: {check['orders']} orders ({check['orders_by_status']}), "
               f"{check['paid_orders']} paid, confirmations {check['confirmations_by_status']}, "
               f"{check['emails_captured']} emails captured; "
               + ("no problems found." if not issues else "PROBLEMS: " + "; ".join(issues)))
    for r in results:
        if r["errors"]:
            out.append(f"- Failures at {r['shoppers']} shoppers: " + "; ".join(f"{k} (x{v})" for k, v in r["errors"].items()))
    return "\n".join(out)


# -- main ------------------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", type=lambda s: [int(x) for x in s.split(",")], default=[1, 25, 75, 150],
                        help="concurrent shoppers per level, comma-separated (default 1,25,75,150)")
    parser.add_argument("--duration", type=float, default=60,
                        help="measured seconds per level, at least; longer if a purchase takes longer (default 60)")
    parser.add_argument("--warmup", type=float, default=20,
                        help="seconds over which a level's shoppers start; the warm-up then lasts until each "
                             "has ended a purchase (default 20)")
    parser.add_argument("--warmup-max", type=float, default=300, help="longest warm-up of a level (default 300 s)")
    parser.add_argument("--idle", type=float, default=15,
                        help="seconds measured first with the probes alone, the shop's idle cost (default 15; 0: none)")
    parser.add_argument("--settle", type=float, default=3, help="pause between levels (default 3 s)")
    parser.add_argument("--think", type=float, default=1.0, help="mean think time between actions (default 1 s)")
    parser.add_argument("--jitter", type=float, default=0.5, help="think time +/- this fraction (default 0.5)")
    parser.add_argument("--step-timeout", type=float, default=120, help="seconds before a step counts as failed")
    parser.add_argument("--search", action="store_true",
                        help="after the levels, 1.5x more shoppers per level while checkouts/s still grows by 5 %%")
    parser.add_argument("--search-max", type=int, default=600, help="most shoppers the search tries (default 600)")
    parser.add_argument("--workers", type=int, default=1,
                        help="shop workers; more than one runs Redis for their state (default 1: the default setup)")
    parser.add_argument("--redis", action="store_true",
                        help="the tabs' states in Redis even with one worker (the baseline of --workers 2)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, DB) and print it")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    install_sigterm_exit()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    others = foreign_activity()
    if others:
        print("!! other shop servers, test runs or browsers are running; the figures will be noisy:\n   "
              + "\n   ".join(others), flush=True)
    load_before = round(os.getloadavg()[0], 2)
    with contextlib.ExitStack() as stack:
        tmp = work_dir(stack, "load_bench-", args.keep)
        stack.callback(save_logs, tmp, RESULTS.parent / "load_bench_logs")
        blank_port, shop_port, stripe_port, smtp_port = free_ports(4)
        copy = copy_project(tmp / "shop")
        env = {**shop_env(tmp, copy, shop_port, stripe_port, smtp_port),
               "STOREFRONT_LIMITS_OVERRIDES": json.dumps(LIMITS_OVERRIDES)}
        given_db = os.environ.get("REFLEX_DB_URL", "")
        if throwaway_db.is_postgres(given_db):  # under scripts/with-postgres.sh: a fresh database there, dropped after
            env["REFLEX_DB_URL"] = throwaway_db.own_database(given_db, tmp)
            stack.callback(throwaway_db.drop, env["REFLEX_DB_URL"], given_db)
        if args.workers > 1 or args.redis:
            redis = Redis(free_ports(1)[0], tmp / "redis")
            redis.start()
            stack.callback(redis.stop)
            env.update(STOREFRONT_WORKERS=str(args.workers), REFLEX_REDIS_URL=f"redis://127.0.0.1:{redis.port}/0")
        print(f"==> shop copy in {copy}: migrate, seed, stock := {STOCK}", flush=True)
        products = prepare_shop_db(copy, env)
        blank_app = init_blank(tmp / "blank-app")
        (blank_app / "blank" / "blank.py").write_text(BLANK_APP)
        pids: dict[str, int] = {}
        blank_url = stack.enter_context(server(
            "blank app", prod_cmd(blank_port), blank_app, tmp / "blank.log", blank_port,
            env={"REFLEX_DB_URL": f"sqlite:///{tmp / 'blank.db'}"}, pids=pids))
        shop_log = tmp / "shop.log"
        shop_url = stack.enter_context(server(
            "storefront", [sys.executable, "-m", "storefront", "serve", "--port", str(shop_port)], copy, shop_log,
            shop_port, env=env, ready_path="/api/health", pids=pids))
        roles = {pids["blank app"]: BLANK_ROLE, pids["storefront"]: SHOP_ROLE}
        shop_fe = Frontend.read(copy)
        run_env = Env(shop_url, blank_url, f"http://127.0.0.1:{stripe_port}", shop_fe, Frontend.read(blank_app),
                      States.of(shop_fe), [p["slug"] for p in products], args.think, args.jitter, args.step_timeout)
        results, warm_refs = asyncio.run(run_levels(run_env, args, roles))
        print("==> integrity: orders, holds, lines, stock, confirmation emails (waits for the outbox)", flush=True)
        seen = warm_refs + [ref for r in results for ref in r["references"]]
        check = integrity(env["REFLEX_DB_URL"], tmp / "mail", stripe_port, seen, shop_log, wait_outbox_s=180)
    issues = problems(check)
    meta = {"date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(),
            "load_average_1min_before": load_before, "foreign_activity": others, "reflex": metadata.version("reflex"),
            "granian": metadata.version("granian"), "localstripe": metadata.version("localstripe"),
            "python": sys.version.split()[0], "think_s": args.think, "jitter": args.jitter,
            "warmup_s": args.warmup, "duration_s": args.duration, "workers": args.workers, "redis": args.workers > 1 or args.redis,
            "database": env["REFLEX_DB_URL"].split(":")[0],
            "command": ".venv/bin/python bench/load_bench.py " + " ".join(sys.argv[1:]), "steps": dict(STEPS),
            "probe": "every 200 ms: shop ProductState.set_quantity (1 <-> 2) on a product page; blank counter += 1"}
    for r in results:
        r.pop("references")
    RESULTS.write_text(json.dumps({"meta": meta, "levels": results, "integrity": check, "problems": issues},
                                  indent=2) + "\n")
    print()
    print_table(LEVEL_HEADER, level_rows(results))
    print()
    print_table(*step_rows(results))
    print("\nIntegrity: " + ("no problems found" if not issues else "PROBLEMS:\n  " + "\n  ".join(issues)))
    print(f"\nJSON: {RESULTS.relative_to(ROOT)}\n\n--- Markdown ---\n{markdown(results, meta, check, issues)}")
    return 1 if issues else 0


if __name__ == "__main__":
    run_main(main)
