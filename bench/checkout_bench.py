"""Checkout benchmark: N concurrent shoppers buy a watch in Chromium; every step's latency against a
trivial event (counter += 1) on a blank Reflex app of the same version, served the same way.

Why: issue 3 asks how many checkouts the shop completes per second and how much slower each
checkout step reacts than Reflex's own floor (one event round trip that does nothing).

Run: .venv/bin/python bench/checkout_bench.py [--shoppers 8] [--rounds 2] [--clicks 40] [--think-ms 300]

Latencies are client-observed: measured inside the page, from the `click` event (a capture listener
on window) to the first DOM mutation after which the next step's element is there and visible
(a MutationObserver). That is the websocket round trip, the server's work for the event(s) and
React's commit of the new DOM; it stops short of the paint.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from importlib import metadata
from pathlib import Path

from playwright.async_api import Browser, Page, async_playwright

from _common import (run_main, BLANK_APP, CHROMIUM, CHROMIUM_ARGS, ROOT, STOCK, copy_project, cpu_by_role, cpu_delta,
                     foreign_activity, free_ports, init_blank, install_sigterm_exit, machine, pct, prepare_shop_db,
                     prod_cmd, sandbox_intents, save_logs, server, shop_env, tool_env, work_dir)

sys.path.insert(0, str(ROOT))  # for the e2e suite's test data
from tests.e2e.checkout_flow import ADDRESSES  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "checkout_bench.json"
SELF_ROLE = "bench + playwright driver"
CARD = "4242424242424242"
DESKTOP = {"width": 1280, "height": 800}
ADDRESS = ADDRESSES["CH"]  # the e2e suite's Swiss address: VAT 8.1 %, no region, deliverable
STEPS = [  # (key, what is clicked -> what must appear)
    ("add to cart", "#add-to-cart -> #cart-count changes"),
    ("cart -> information", "#next -> #email visible"),
    ("information -> details", "#next (form submit) -> #details_confirmed visible"),
    ("details -> terms", "#next -> #terms_accepted visible"),
    ("terms -> confirm", "#next -> #confirm-order visible"),
    ("confirm -> payment (place order)", "#confirm-order -> #order-reference filled"),
    ("pay -> thank-you (authorise)", "#pay -> #thank-you visible (Stripe.js token + hold + redirect)"),
    ("checkbox tick", "checkbox -> data-state=checked (3 per checkout)"),
]
# Armed before a click: records performance.now() at the click and at the first DOM mutation after which
# the condition holds; an error element that appears after the click is recorded instead.
ARM = """([kind, sel, arg, errSel]) => {
  const shown = (el) => !!el && el.checkVisibility();
  const ok = () => {
    const el = document.querySelector(sel);
    if (kind === 'visible') return shown(el);
    if (kind === 'filled') return shown(el) && el.textContent.trim() !== '';
    if (kind === 'text_not') return !!el && el.textContent !== arg;
    if (kind === 'checked') return !!el && el.getAttribute('data-state') === 'checked';
    return false;
  };
  const errorText = () => {
    for (const e of document.querySelectorAll(errSel)) if (shown(e) && e.textContent.trim()) return e.textContent.trim();
    return null;
  };
  const st = {click: null, done: null, error: null, log: (window.__vxLog || []).length};
  window.__vxT = st;
  window.addEventListener('click', () => { if (st.click === null) st.click = performance.now(); },
                          {capture: true, once: true});
  const obs = new MutationObserver(() => {
    if (st.click === null || st.done !== null || st.error !== null) return;
    if (ok()) { st.done = performance.now(); obs.disconnect(); return; }
    const err = errorText();
    if (err) { st.error = err.slice(0, 300); obs.disconnect(); }
  });
  obs.observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
}"""
# Before any page script: timestamps of every Reflex event sent (through Reflex's own instrumentation hook,
# window.__reflex_otel.onEventSend) and of every socket.io event frame received (a WebSocket subclass).
WS_LOG = """
window.__vxLog = [];
window.__reflex_otel = Object.assign(window.__reflex_otel || {}, {
  onEventSend: (ev) => { window.__vxLog.push(['s', performance.now(), ev.name]); },
});
(() => {
  const Base = window.WebSocket;
  window.WebSocket = class extends Base {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (e) => {
        if (typeof e.data === 'string' && e.data.startsWith('42')) window.__vxLog.push(['r', performance.now(), e.data.length]);
      });
    }
  };
})();
"""
ERRORS = "#checkout-message, #pay-message, .field-error, [data-sonner-toast][data-type=error]"


class StepError(RuntimeError):
    pass


async def timed(page: Page, click: str, kind: str, sel: str, arg: str = "", timeout_ms: float = 120_000,
                split: list | None = None) -> float:
    """Click `click` and return ms from the click event to the DOM showing the condition (in-page clock).

    `split`, if given, receives (before, event, chained, after) and then the raw frames:
    before = click -> first Reflex event sent (browser work, e.g. Stripe.js tokenising the card);
    event = first event sent -> its last update received (network, queueing, the server's handler, yields);
    chained = from there to the last update received when later events went out (a redirect: navigation,
    the new page's on_load events); after = last update received -> condition (React applying the delta).
    All None when no event went out.
    """
    await page.evaluate(ARM, [kind, sel, arg, ERRORS])
    await page.click(click)
    await page.wait_for_function("() => window.__vxT.done !== null || window.__vxT.error !== null",
                                 timeout=timeout_ms)
    st = await page.evaluate("() => ({...window.__vxT, frames: (window.__vxLog || []).slice(window.__vxT.log)})")
    if st["error"]:
        raise StepError(st["error"])
    if split is not None:
        frames = [f for f in st["frames"] if st["click"] <= f[1] <= st["done"]]
        sent = [f[1] for f in frames if f[0] == "s"]
        got = [f[1] for f in frames if f[0] == "r" and sent and f[1] >= sent[0]]
        if sent and got:
            later = [t for t in sent if t > sent[0]]
            first_end = max((t for t in got if not later or t < later[0]), default=sent[0])
            split.append((sent[0] - st["click"], first_end - sent[0], got[-1] - first_end, st["done"] - got[-1]))
        else:
            split.append((None, None, None, None))
        split.append([[f[0], round(f[1] - st["click"], 1), f[2]] for f in frames])
    return st["done"] - st["click"]


# -- the shop --------------------------------------------------------------------------------------


async def checkout_once(page: Page, shop: str, slug: str, think_s: float, rec: dict) -> None:
    """One purchase of one watch, as tests/e2e/checkout_flow drives it; fills rec as it goes."""

    async def step(key: str, click: str, kind: str, sel: str, arg: str = "") -> float:
        await asyncio.sleep(think_s)  # a person reads before clicking; also lets earlier events settle
        rec["step"] = key
        split: list = []
        ms = await timed(page, click, kind, sel, arg, split=split)
        rec["split"].setdefault(key, []).append(split[0])
        rec["frames"].setdefault(key, []).append(split[1])  # (sent/received, ms after the click, event/size)
        return ms

    steps, ticks = rec["steps"], rec["ticks"]
    rec["step"] = "open product page"
    start = time.perf_counter()
    await page.goto(f"{shop}/watch/{slug}")
    await page.wait_for_selector("#add-to-cart:not([disabled])")
    before = await page.inner_text("#cart-count")
    steps["add to cart"] = await step("add to cart", "#add-to-cart", "text_not", "#cart-count", before)

    rec["step"] = "open checkout"
    await page.goto(f"{shop}/checkout")
    await page.wait_for_selector("#next:not([disabled])")
    steps["cart -> information"] = await step("cart -> information", "#next", "visible", "#email")

    rec["step"] = "fill information"
    await page.select_option("#ship_country", "CH")
    await page.fill("#email", f"shopper{rec['shopper']}.r{rec['round']}@example.com")
    await page.fill("#phone", ADDRESS["phone"])
    await page.fill("#full_name", "Anna Keller")
    await page.fill("#birth_date", "1980-02-03")
    await page.fill("#ship_name", "Anna Keller")
    await page.fill("#ship_street", ADDRESS["street"])
    await page.fill("#ship_postal_code", ADDRESS["postal_code"])
    await page.fill("#ship_city", ADDRESS["city"])
    # The think time also lets the fields' blur events (set_field) go out before the submit.
    steps["information -> details"] = await step("information -> details", "#next", "visible", "#details_confirmed")

    ticks.append(await step("checkbox tick", "#details_confirmed", "checked", "#details_confirmed"))
    steps["details -> terms"] = await step("details -> terms", "#next", "visible", "#terms_accepted")
    for box in ("#terms_accepted", "#personal_use"):
        ticks.append(await step("checkbox tick", box, "checked", box))
    steps["terms -> confirm"] = await step("terms -> confirm", "#next", "visible", "#confirm-order")
    key = "confirm -> payment (place order)"
    steps[key] = await step(key, "#confirm-order", "filled", "#order-reference")
    rec["reference"] = (await page.inner_text("#order-reference")).strip()

    rec["step"] = "card form"
    shown = time.perf_counter()
    card = page.locator("#card-element")
    await card.locator("input[placeholder=number]").wait_for(state="visible")
    rec["card_form_ms"] = (time.perf_counter() - shown) * 1000
    await card.locator("input[placeholder=number]").fill(CARD)
    await card.locator("input[placeholder=exp_month]").fill("12")
    await card.locator("input[placeholder=exp_year]").fill("30")  # the sandbox's field takes two digits
    await card.locator("input[placeholder=cvc]").fill("123")
    await card.locator("input[placeholder=postal_code]").fill("12345")
    key = "pay -> thank-you (authorise)"
    steps[key] = await step(key, "#pay", "visible", "#thank-you")
    rec["thank_you_heading"] = (await page.inner_text("#order-heading")).strip()
    rec["total_ms"] = (time.perf_counter() - start) * 1000
    rec["step"] = "done"


async def shopper(browser: Browser, shop: str, idx: int, rounds: int, slug: str, think_s: float,
                  records: list[dict], timeout_ms: float, same_tab: bool = False) -> None:
    """One shopper: one browser context (one person), a new tab per purchase unless `same_tab`."""
    ctx = await browser.new_context(viewport=DESKTOP, locale="de-CH")
    ctx.set_default_timeout(timeout_ms)
    await ctx.add_init_script(WS_LOG)
    tab = await ctx.new_page() if same_tab else None
    earlier: list[str] = []
    try:
        for r in range(rounds):
            rec = {"shopper": idx, "round": r, "slug": slug, "steps": {}, "ticks": [], "split": {}, "frames": {}, "ok": False}
            records.append(rec)
            page = tab or await ctx.new_page()
            try:
                await checkout_once(page, shop, slug, think_s, rec)
                if rec.get("reference") in earlier:
                    raise StepError(f"the payment step and thank-you page show this shopper's earlier order "
                                    f"{rec['reference']} again: no new order was placed")
                earlier.append(rec.get("reference"))
                rec["ok"] = True
            except Exception as exc:  # noqa: BLE001 - a failed checkout is a result, recorded with its step
                rec["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"
                rec["url"] = page.url
                with contextlib.suppress(Exception):
                    rec["visible_messages"] = await page.eval_on_selector_all(
                        ERRORS, "els => els.filter(e => e.checkVisibility()).map(e => e.textContent.trim())")
                with contextlib.suppress(Exception):
                    shot = RESULTS.parent / f"checkout_fail_s{idx}_r{r}.png"
                    await page.screenshot(path=str(shot), full_page=True)
                    rec["screenshot"] = str(shot.relative_to(ROOT))
            finally:
                if not same_tab:
                    await page.close()
    finally:
        await ctx.close()


# -- the blank app ---------------------------------------------------------------------------------


async def blank_client(browser: Browser, url: str, clicks: int | None, warmup: int, think_s: float, out: list[float],
                       split: list, timeout_ms: float, until: asyncio.Event | None = None) -> None:
    """Click the counter `clicks` times (or until `until` is set), pausing `think_s` before each click."""
    ctx = await browser.new_context(viewport=DESKTOP, locale="de-CH")
    ctx.set_default_timeout(timeout_ms)
    await ctx.add_init_script(WS_LOG)
    try:
        page = await ctx.new_page()
        await page.goto(url)
        await page.wait_for_selector("#increment")
        k = 0
        while (k < warmup + clicks) if clicks is not None else not until.is_set():
            await asyncio.sleep(think_s)
            before = await page.inner_text("#count")
            parts: list = []
            ms = await timed(page, "#increment", "text_not", "#count", before, timeout_ms, split=parts)
            if k >= warmup:
                out.append(ms)
                split.append(parts[0])
            k += 1
    finally:
        await ctx.close()


# -- integrity of what the shop recorded -----------------------------------------------------------


def integrity(db: Path, mail_dir: Path, stripe_port: int, records: list[dict], log: Path,
              wait_outbox_s: float = 60) -> dict:
    """What the database, the sandbox, the mail catcher and the server log say after the run."""
    deadline = time.monotonic() + wait_outbox_s
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)) as con:
        while time.monotonic() < deadline:  # the outbox worker sends every 2 s
            if not con.execute("SELECT count(*) FROM outbox_email WHERE status = 'pending'").fetchone()[0]:
                break
            time.sleep(1)
        q = lambda sql, *a: con.execute(sql, a).fetchall()  # noqa: E731
        orders = {r[0]: {"status": r[1], "id": r[2]} for r in q("SELECT reference, status, id FROM shop_order")}
        auths = q("SELECT o.reference, a.status FROM payment_authorization a JOIN shop_order o ON o.id = a.order_id")
        held: dict[str, int] = {}
        attempts: dict[str, int] = {}
        for ref, status in auths:
            attempts[ref] = attempts.get(ref, 0) + 1
            held[ref] = held.get(ref, 0) + (status == "held")
        stock = q("SELECT p.reference, ? - p.stock, coalesce(sum(CASE WHEN o.id IS NULL THEN 0 ELSE l.quantity END), 0) "
                  "FROM product p "
                  "LEFT JOIN order_line l ON l.product_id = p.id LEFT JOIN shop_order o ON o.id = l.order_id "
                  "AND o.status != 'cancelled' WHERE p.active = 1 GROUP BY p.id", STOCK)
        outbox = dict(q("SELECT status, count(*) FROM outbox_email GROUP BY status"))
        webhooks = q("SELECT count(*) FROM webhook_event")[0][0]
    intents = sandbox_intents(stripe_port)
    per_order: dict[str, list[str]] = {}
    for it in intents:
        per_order.setdefault((it.get("metadata") or {}).get("order", "?"), []).append(it.get("status"))
    seen = [r["reference"] for r in records if r.get("reference")]
    completed = [r["reference"] for r in records if r["ok"]]
    log_text = log.read_text(errors="replace")
    status_counts: dict[str, int] = {}
    for o in orders.values():
        status_counts[o["status"]] = status_counts.get(o["status"], 0) + 1
    return {
        "orders_in_db": len(orders),
        "orders_by_status": status_counts,
        "references_seen_in_ui": len(seen),
        "ui_references_missing_in_db": [r for r in seen if r not in orders],
        "completed_not_awaiting_approval": [r for r in completed if orders.get(r, {}).get("status") != "awaiting_approval"],
        "orders_without_ui_reference": [r for r in orders if r not in seen],  # the warm-up order is one of these
        "orders_with_held_auth_ne_1": {r: held.get(r, 0) for r in orders
                                       if held.get(r, 0) != 1 and orders[r]["status"] != "pending_payment"},
        "orders_with_several_auth_attempts": {r: n for r, n in attempts.items() if n > 1},
        "sandbox_intents": len(intents),
        "sandbox_orders_with_several_intents": {r: s for r, s in per_order.items() if len(s) > 1},
        "sandbox_intent_statuses": {s: sum(1 for it in intents if it.get("status") == s)
                                    for s in {it.get("status") for it in intents}},
        "stock_mismatch": [{"reference": r, "taken": taken, "ordered": ordered} for r, taken, ordered in stock
                           if taken != ordered],
        "outbox": outbox,
        "emails_captured": len(list(mail_dir.glob("*.eml"))) if mail_dir.exists() else 0,
        "webhook_events": webhooks,
        "server_log": {"tracebacks": log_text.count("Traceback (most recent call last)"),
                       "database_is_locked": log_text.count("database is locked"),
                       "error_lines": sum(1 for line in log_text.splitlines() if "ERROR" in line or "Error" in line)},
    }


def problems(check: dict) -> list[str]:
    out = []
    for key in ("ui_references_missing_in_db", "completed_not_awaiting_approval", "orders_with_held_auth_ne_1",
                "orders_with_several_auth_attempts", "sandbox_orders_with_several_intents", "stock_mismatch"):
        if check[key]:
            out.append(f"{key}: {check[key]}")
    if len(check["orders_without_ui_reference"]) > 1:
        out.append(f"orders the shoppers never saw (besides the warm-up): {check['orders_without_ui_reference']}")
    if check["outbox"].get("pending") or check["outbox"].get("failed"):
        out.append(f"outbox not drained: {check['outbox']}")
    if check["emails_captured"] != check["outbox"].get("sent", 0):
        out.append(f"emails captured {check['emails_captured']} != outbox sent {check['outbox'].get('sent', 0)}")
    for k, v in check["server_log"].items():
        if v and k != "error_lines":
            out.append(f"server log: {v} x {k}")
    return out


# -- report ----------------------------------------------------------------------------------------


SPLIT = ("before_ms", "event_ms", "chained_ms", "after_ms")


def split_p50(parts: list) -> dict:
    """Medians of (before, event, chained, after) over the measurements that sent an event."""
    parts = [p for p in parts if p and p[0] is not None]
    return {k: pct([p[i] for p in parts], 50) for i, k in enumerate(SPLIT)}


def dist(values: list[float], parts: list) -> dict:
    return {"n": len(values), "p50_ms": pct(values, 50), "p95_ms": pct(values, 95),
            "max_ms": max(values) if values else None, "split_p50": split_p50(parts)}


def summarize(run: dict) -> dict:
    records = run["records"]
    ok = [r for r in records if r["ok"]]
    blank = dist(run["blank"], run["blank_split"])
    steps = {}
    for key, what in STEPS:
        if key == "checkbox tick":  # completed checkouts only: a failed one may have measured something else
            values = [t for r in ok for t in r["ticks"]]
        else:
            values = [r["steps"][key] for r in ok if key in r["steps"]]
        parts = [p for r in ok for p in r["split"].get(key, [])]
        st = {"what": what, **dist(values, parts)}
        st["x_blank_p50"] = round(st["p50_ms"] / blank["p50_ms"], 1) if st["p50_ms"] and blank["p50_ms"] else None
        steps[key] = st
    totals = [r["total_ms"] for r in ok]
    sums = [sum(r["steps"].values()) + sum(r["ticks"]) for r in ok]
    card = [r["card_form_ms"] for r in ok if "card_form_ms" in r]
    wall_s = run["wall_s"]
    probe = dist(run["probe"], run["probe_split"])
    probe["x_blank_p50"] = round(probe["p50_ms"] / blank["p50_ms"], 1) if probe["p50_ms"] and blank["p50_ms"] else None
    return {
        "checkouts_attempted": len(records), "checkouts_completed": len(ok), "wall_s": round(wall_s, 2),
        "checkouts_per_s": round(len(ok) / wall_s, 3) if wall_s else None,
        "checkout_total_ms": {"p50": pct(totals, 50), "p95": pct(totals, 95)},
        "checkout_event_latency_sum_ms": {"p50": pct(sums, 50), "p95": pct(sums, 95)},
        "card_form_ready_ms": {"p50": pct(card, 50), "p95": pct(card, 95)},
        "blank_trivial_event": blank,
        "blank_trivial_event_during_checkouts": probe,
        "steps": steps,
        "failures": [{k: r.get(k) for k in ("shopper", "round", "step", "error", "url", "visible_messages",
                                            "screenshot")} for r in records if not r["ok"]],
    }


def fmt(v, nd=0):
    return "n/a" if v is None else f"{v:,.{nd}f}"


HEADER = ["event", "n", "p50 ms", "p95 ms", "x blank p50", "p50 split: before / event / chained / after ms"]


def split_text(sp: dict) -> str:
    return " / ".join(fmt(sp[k]) for k in SPLIT)


def table_rows(s: dict) -> list[list[str]]:
    b, q = s["blank_trivial_event"], s["blank_trivial_event_during_checkouts"]
    rows = [["blank app: counter += 1", str(b["n"]), fmt(b["p50_ms"]), fmt(b["p95_ms"]), "1.0",
             split_text(b["split_p50"])],
            ["blank app: counter += 1, during the checkouts", str(q["n"]), fmt(q["p50_ms"]), fmt(q["p95_ms"]),
             fmt(q["x_blank_p50"], 1), split_text(q["split_p50"])]]
    for key, st in s["steps"].items():
        rows.append([f"shop: {key}", str(st["n"]), fmt(st["p50_ms"]), fmt(st["p95_ms"]), fmt(st["x_blank_p50"], 1),
                     split_text(st["split_p50"])])
    return rows


def summary_lines(s: dict, meta: dict) -> list[str]:
    return [
        f"{s['checkouts_completed']}/{s['checkouts_attempted']} checkouts completed by {meta['shoppers']} concurrent "
        f"shoppers x {meta['rounds']} rounds in {s['wall_s']:.1f} s wall time: "
        f"**{s['checkouts_per_s']:.3f} checkouts/s** (think time {meta['think_ms']} ms before each click).",
        f"Whole checkout (product page to thank-you, incl. think time and typing): p50 "
        f"{fmt(s['checkout_total_ms']['p50'])} ms, p95 {fmt(s['checkout_total_ms']['p95'])} ms; of which measured "
        f"event latencies p50 {fmt(s['checkout_event_latency_sum_ms']['p50'])} ms. Card form ready after the payment "
        f"step shows: p50 {fmt(s['card_form_ready_ms']['p50'])} ms (loads the sandbox's Stripe.js; not an event).",
    ]


def print_table(s: dict, meta: dict) -> None:
    rows = [HEADER] + table_rows(s)
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    for r in rows:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
    print()
    for line in summary_lines(s, meta):
        print(line.replace("**", ""))


def markdown(s: dict, meta: dict, check: dict, issues: list[str]) -> str:
    busy = ", other shop/test processes running" if meta["foreign_activity_before"] or meta["foreign_activity_after"] else ""
    out = [f"Measured {meta['date']} on {meta['machine']} (load average {meta['load_average_1min']} before, "
           f"{meta['load_average_1min_after']} after{busy}); "
           f"Reflex {meta['reflex']}, granian {meta['granian']}, bun {meta['bun']}, Chromium {meta['chromium']}, "
           f"Playwright {meta['playwright']}, "
           f"localstripe {meta['localstripe']}, Python {meta['python']}; `{meta['command']}`.", "",
           "| " + " | ".join(HEADER) + " |", "|" + "|".join(["---"] + ["---:"] * (len(HEADER) - 1)) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in table_rows(s)]
    out += [""] + [f"- {line}" for line in summary_lines(s, meta)]
    out.append("- CPU seconds during the checkout phase: "
               + ", ".join(f"{k} {v}" for k, v in meta["cpu_s_checkout_phase"].items() if v) + ".")
    sb = meta.get("sandbox_calls_idle") or {}
    if sb:
        out.append("- Payment sandbox alone (sequential, idle, p50): "
                   + ", ".join(f"{k} {v['p50_ms']} ms" for k, v in sb.items()) + ".")
    out.append(f"- Integrity: {check['orders_in_db']} orders in the DB ({check['orders_by_status']}), "
               f"{check['sandbox_intents']} payment intents in the sandbox, outbox {check['outbox']}, "
               f"{check['emails_captured']} emails captured; "
               + ("no problems found." if not issues else "PROBLEMS: " + "; ".join(issues)))
    if s["failures"]:
        out.append("- Failed checkouts: " + "; ".join(
            f"shopper {f['shopper']} round {f['round']} at '{f['step']}': {f['error']}" for f in s["failures"]))
    return "\n".join(out)


def keep_logs(tmp: Path) -> None:
    """Server logs to bench/results/checkout_bench_logs/ (replacing the previous run's)."""
    dest = RESULTS.parent / "checkout_bench_logs"
    save_logs(tmp, dest)
    print(f"==> server logs in {dest.relative_to(ROOT)}/", flush=True)


# -- main ------------------------------------------------------------------------------------------


async def run_browser(args, blank_url: str, shop_url: str, products: list[dict], roles: dict[int, str]) -> dict:
    think_s = args.think_ms / 1000
    timeout = args.step_timeout * 1000
    # SIGTERM cancels the run, so the browser closes in order before main() stops the servers.
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, asyncio.current_task().cancel)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            print("==> warm-up: one uncounted checkout and a few blank clicks", flush=True)
            warm: list[dict] = []
            await shopper(browser, shop_url, -1, 1, products[0]["slug"], think_s, warm, timeout)
            if not warm[0]["ok"]:
                raise RuntimeError(f"warm-up checkout failed at '{warm[0]['step']}': {warm[0].get('error')}")
            await blank_client(browser, blank_url, 0, 5, 0, [], [], timeout)

            print(f"==> blank app: {args.shoppers} concurrent clients x {args.clicks} clicks", flush=True)
            blank: list[float] = []
            blank_split: list = []
            cpu0 = cpu_by_role(roles, SELF_ROLE)
            t0 = time.perf_counter()
            await asyncio.gather(*(blank_client(browser, blank_url, args.clicks, 3, think_s, blank, blank_split,
                                                timeout) for _ in range(args.shoppers)))
            blank_wall = time.perf_counter() - t0
            cpu_blank = cpu_delta(cpu0, cpu_by_role(roles, SELF_ROLE))

            print(f"==> shop: {args.shoppers} concurrent shoppers x {args.rounds} checkouts "
                  "(and one client clicking the blank app's counter meanwhile)", flush=True)
            records: list[dict] = []
            probe: list[float] = []
            probe_split: list = []
            done = asyncio.Event()
            cpu0 = cpu_by_role(roles, SELF_ROLE)
            t0 = time.perf_counter()
            probing = asyncio.create_task(blank_client(browser, blank_url, None, 0, think_s, probe, probe_split,
                                                       timeout, until=done))
            try:
                await asyncio.gather(*(shopper(browser, shop_url, i, args.rounds,
                                               products[i % len(products)]["slug"], think_s, records, timeout,
                                               args.same_tab) for i in range(args.shoppers)))
                wall = time.perf_counter() - t0
            finally:
                done.set()
                await probing
            cpu_shop = cpu_delta(cpu0, cpu_by_role(roles, SELF_ROLE))
            return {"blank": blank, "blank_split": blank_split, "blank_wall_s": blank_wall, "records": records,
                    "wall_s": wall, "probe": probe, "probe_split": probe_split, "warmup": warm,
                    "cpu_blank": cpu_blank, "cpu_shop": cpu_shop, "chromium": browser.version}
        finally:
            await browser.close()


def sandbox_calls(stripe_port: int, repeats: int = 5) -> dict[str, dict]:
    """The payment sandbox's own cost, without browser or Reflex: the calls of one card hold, in sequence.

    Stripe.js's createToken (from the browser, publishable key), then what `payment.authorize` asks:
    retrieve the token, create a customer with the card, create and confirm a manual-capture intent.
    """
    from storefront.adapters.stripe_gateway import StripeGateway  # the project's own gateway code
    from storefront.domain.money import Money

    base = f"http://127.0.0.1:{stripe_port}"
    gw = StripeGateway("sk_test_local", "whsec_bench", api_base=base, sandbox=True)
    timings: dict[str, list[float]] = {}

    def clock(name, fn):
        t = time.perf_counter()
        out = fn()
        timings.setdefault(name, []).append((time.perf_counter() - t) * 1000)
        return out

    form = urllib.parse.urlencode({"card[number]": CARD, "card[exp_month]": "12", "card[exp_year]": "2030",
                                   "card[cvc]": "123", "key": "pk_test_local"}).encode()  # as its Stripe.js sends
    for i in range(repeats):
        req = urllib.request.Request(f"{base}/v1/tokens", data=form)
        token = clock("tokens.create (browser)", lambda: json.load(urllib.request.urlopen(req, timeout=30)))["id"]
        clock("tokens.retrieve", lambda: gw.card_of_token(token))
        saved = clock("customers.create", lambda: gw.save_card(token, f"bench{i}@example.com", "Bench", f"b{i}"))
        clock("payment_intents.create (confirm)", lambda: gw.authorize(
            Money(1_000_000, "CHF"), saved.customer_id, saved.card_id, idempotency_key=f"bench-{i}"))
    out = {name: {"p50_ms": round(pct(v, 50), 1), "max_ms": round(max(v), 1)} for name, v in timings.items()}
    out["sequence"] = {"p50_ms": round(pct([sum(v[i] for v in timings.values()) for i in range(repeats)], 50), 1)}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shoppers", type=int, default=8, help="concurrent shoppers (and blank-app clients)")
    parser.add_argument("--rounds", type=int, default=2, help="checkouts per shopper, one after the other")
    parser.add_argument("--clicks", type=int, default=40, help="measured clicks per blank-app client")
    parser.add_argument("--think-ms", type=int, default=300, help="pause before each measured click (both apps)")
    parser.add_argument("--step-timeout", type=float, default=120, help="seconds before a step counts as failed")
    parser.add_argument("--same-tab", action="store_true",
                        help="each shopper's purchases in one tab (one Reflex session) instead of a new tab each")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, DB) and print it")
    args = parser.parse_args()
    install_sigterm_exit()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    for old in RESULTS.parent.glob("checkout_fail_*.png"):
        old.unlink()
    load_before = round(os.getloadavg()[0], 2)
    others = foreign_activity()
    if others:
        print("!! other shop servers, test runs or browsers are running; the figures will be noisy:\n   "
              + "\n   ".join(others), flush=True)

    with contextlib.ExitStack() as stack:
        tmp = work_dir(stack, "checkout_bench-", args.keep)
        stack.callback(keep_logs, tmp)  # runs before the folder is removed, also on error
        blank_port, shop_port, stripe_port, smtp_port = free_ports(4)
        copy = copy_project(tmp / "shop")
        env = shop_env(tmp, copy, shop_port, stripe_port, smtp_port)
        print(f"==> shop copy in {copy}: migrate, seed, stock := {STOCK}", flush=True)
        products = prepare_shop_db(copy, env)
        if not products:
            sys.exit("!! no active product with a CHF price in the seed")

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
        roles = {pids["blank app"]: "blank app server", pids["storefront"]: "shop server (reflex + granian)"}

        try:
            run = asyncio.run(run_browser(args, blank_url, shop_url, products, roles))
        except asyncio.CancelledError:
            print("!! terminated: stopping the servers", flush=True)
            sys.exit(143)
        finally:
            install_sigterm_exit()  # the closed event loop reset SIGTERM to its default (instant death)
        print("==> checking orders, holds, stock and emails", flush=True)
        check = integrity(tmp / "shop.db", tmp / "mail", stripe_port, run["records"] + run["warmup"], shop_log)
        issues = problems(check)
        others_after = foreign_activity()
        print("==> timing the payment sandbox's calls on their own", flush=True)
        try:
            sandbox = sandbox_calls(stripe_port)
        except Exception as exc:  # noqa: BLE001 - a side measurement; the run's figures stand without it
            sandbox = {"error": f"{type(exc).__name__}: {exc}"}

    summary = summarize(run)
    meta = {"date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(),
            "load_average_1min": load_before, "load_average_1min_after": round(os.getloadavg()[0], 2),
            "foreign_activity_before": others, "foreign_activity_after": others_after, "reflex": metadata.version("reflex"),
            "playwright": metadata.version("playwright"), "localstripe": metadata.version("localstripe"),
            "python": sys.version.split()[0], "chromium": run["chromium"], "granian": metadata.version("granian"),
            "bun": subprocess.run(["bun", "--version"], env=tool_env(), capture_output=True, text=True).stdout.strip(),
            "command": ".venv/bin/python bench/checkout_bench.py " + " ".join(sys.argv[1:]),
            "shoppers": args.shoppers, "rounds": args.rounds, "same_tab": args.same_tab, "clicks": args.clicks,
            "think_ms": args.think_ms,
            "blank_phase_wall_s": round(run["blank_wall_s"], 2),
            "cpu_s_blank_phase": run["cpu_blank"], "cpu_s_checkout_phase": run["cpu_shop"],
            "sandbox_calls_idle": sandbox if "error" not in sandbox else None, "sandbox_calls_error": sandbox.get("error"),
            "watches": [p["slug"] for p in products][:args.shoppers],
            "latency": "client-observed, in-page: click event -> first DOM mutation showing the next step"}
    RESULTS.write_text(json.dumps({"meta": meta, "summary": summary, "integrity": check, "problems": issues,
                                   "records": run["records"], "blank_ms": run["blank"],
                                   "blank_during_checkouts_ms": run["probe"]}, indent=2) + "\n")
    print()
    print_table(summary, meta)
    print(f"\nCPU s, blank phase: {run['cpu_blank']}\nCPU s, checkout phase: {run['cpu_shop']}")
    print(f"Payment sandbox alone: {sandbox}")
    print("Integrity: " + ("no problems found" if not issues else "PROBLEMS:\n  " + "\n  ".join(issues)))
    for f in summary["failures"]:
        print(f"!! failed: shopper {f['shopper']} round {f['round']} at '{f['step']}': {f['error']}")
    print(f"\nJSON: {RESULTS.relative_to(ROOT)}\n\n--- Markdown ---\n{markdown(summary, meta, check, issues)}")
    return 1 if issues or summary["failures"] else 0


if __name__ == "__main__":
    run_main(main)
