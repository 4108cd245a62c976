"""Page-load benchmark: the shop's production build against a blank Reflex app of the same version.

Why: issue 2 asks that the shop costs the visitor little more than Reflex itself does. Absolute
numbers depend on the machine, so every figure is also given as a ratio to a blank app
(`reflex init --template blank`) built and served the same way on the same machine at the same time.
Goals (reported, not asserted): JS bytes <= 1.3x blank, LCP <= 1.2x blank.

Run: .venv/bin/python bench/page_bench.py [--loads 7] [--product-path /watch/<slug>] [--self-test]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

from _common import (CHROMIUM, CHROMIUM_ARGS, ROOT, free_ports, http_status, init_blank, install_sigterm_exit,
                     machine, prod_cmd, server, tool_env)

RESULTS = ROOT / "bench" / "results" / "page_bench.json"
DEFAULT_PRODUCT = "/watch/meridienne-38-steel"
GOALS = {"js_bytes": 1.3, "lcp_ms": 1.2}
SETTLE_MS = 500  # after networkidle: lets a late hydration paint become the LCP candidate

# Registered before any page script so that LCP entries from the very first paint are buffered.
LCP_OBSERVER = """
window.__lcp = null;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const el = e.element;
    window.__lcp = {ms: e.startTime, element: e.url || (el ? el.tagName + ": " + el.textContent.slice(0, 40) : "?")};
  }
}).observe({type: "largest-contentful-paint", buffered: true});
"""


def load_once(browser: Browser, url: str) -> dict:
    """One cold load: new context (empty cache, no cookies), 1280x800."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        page.add_init_script(LCP_OBSERVER)
        responses = []
        page.on("response", lambda r: responses.append(r))
        page.goto(url, wait_until="load")
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(SETTLE_MS)
        js_bytes = 0
        for r in responses:
            if r.request.resource_type == "script":
                js_bytes += encoded_size(r)
        fcp = page.evaluate("performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null")
        lcp = page.evaluate("window.__lcp") or {}
        links = page.eval_on_selector_all("a[href^='/watch/']", "els => els.map(e => e.getAttribute('href'))")
        return {"js_bytes": js_bytes, "fcp_ms": fcp, "lcp_ms": lcp.get("ms"), "lcp_element": lcp.get("element"),
                "watch_links": links}
    finally:
        context.close()


def encoded_size(response) -> int:
    """Bytes of the body as sent (gzip), from Chromium's network events; Content-Length if unavailable."""
    with contextlib.suppress(Exception):
        size = response.request.sizes()["responseBodySize"]
        if size > 0:
            return size
    return int(response.headers.get("content-length") or 0)


def measure(browser: Browser, pages: dict[str, str], loads: int) -> dict[str, dict]:
    """Interleave pages round-robin, rotating who goes first, so drift and order effects hit every page alike.

    One uncounted warm-up load per page first: it takes server-side first-request costs
    (imports, DB connection, OS file cache) out of the figures; the browser cache is cold every time.
    """
    runs: dict[str, list[dict]] = {name: [] for name in pages}
    for name, url in pages.items():
        load_once(browser, url)
    order = list(pages.items())
    for i in range(loads):
        for name, url in order[i % len(order):] + order[:i % len(order)]:
            runs[name].append(load_once(browser, url))
        print(f"    load {i + 1}/{loads} done", flush=True)
    return {name: summarize(url, runs[name]) for name, url in pages.items()}


def summarize(url: str, runs: list[dict]) -> dict:
    def med(key):
        values = [r[key] for r in runs if r[key] is not None]
        return statistics.median(values) if values else None
    keys = ("js_bytes", "fcp_ms", "lcp_ms")
    return {"url": url, **{k: med(k) for k in keys},
            "runs": [{k: r[k] for k in (*keys, "lcp_element")} for r in runs]}


def ratio(value, base):
    return round(value / base, 2) if value is not None and base else None


def add_ratios(results: dict[str, dict], baseline: str) -> None:
    base = results[baseline]
    for r in results.values():
        r["ratio"] = {k: ratio(r[k], base[k]) for k in ("js_bytes", "fcp_ms", "lcp_ms")}


def fmt(v, nd=0):
    return "n/a" if v is None else f"{v:,.{nd}f}"


def table_rows(results: dict[str, dict]) -> list[list[str]]:
    rows = []
    for name, r in results.items():
        rows.append([name, fmt(r["js_bytes"]), fmt(r["ratio"]["js_bytes"], 2), fmt(r["fcp_ms"]),
                     fmt(r["ratio"]["fcp_ms"], 2), fmt(r["lcp_ms"]), fmt(r["ratio"]["lcp_ms"], 2)])
    return rows


HEADER = ["page", "JS bytes", "x blank", "FCP ms", "x blank", "LCP ms", "x blank"]


def print_table(results: dict[str, dict]) -> None:
    rows = [HEADER] + table_rows(results)
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    for row in rows:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))


def verdicts(results: dict[str, dict], baseline: str) -> list[str]:
    lines = []
    for name, r in results.items():
        if name == baseline:
            continue
        for key, goal in GOALS.items():
            got = r["ratio"][key]
            ok = "n/a" if got is None else ("met" if got <= goal else "MISSED")
            lines.append(f"- {name}: {key} ratio {fmt(got, 2)} (goal <= {goal}) — {ok}")
    return lines


def markdown(results: dict[str, dict], meta: dict, baseline: str) -> str:
    out = [f"Measured {meta['date']} on {meta['machine']} (load average {meta['load_average_1min']}); "
           f"Reflex {meta['reflex']}, Chromium {meta['chromium']}, Playwright {meta['playwright']}; "
           f"median of {meta['loads']} cold loads each.", "",
           "| " + " | ".join(HEADER) + " |", "|" + "|".join(["---"] + ["---:"] * 6) + "|"]
    out += ["| " + " | ".join(row) + " |" for row in table_rows(results)]
    return "\n".join(out + [""] + verdicts(results, baseline))


def prepare_shop() -> bool:
    """Run the project's idempotent setup only on an environment it already built once.

    Without a stamp, setup.sh would (re)install the virtualenv under whoever is using it; skip instead.
    """
    if not list((ROOT / ".venv").glob(".stamp-*")):
        print("!! skipping the storefront: no .venv/.stamp-* (run `bash scripts/setup.sh` or `make run` once)",
              flush=True)
        return False
    rc = subprocess.run(["bash", "scripts/setup.sh"], cwd=ROOT, env=tool_env()).returncode
    if rc:
        sys.exit(f"!! scripts/setup.sh failed (exit {rc}): the storefront cannot be served")
    return True


def pick_product(shop: str, asked: str | None, home_links: list[str]) -> str | None:
    """An explicit --product-path wins; else the default slug if the home page links it, else its first watch."""
    if asked:
        return asked
    if DEFAULT_PRODUCT in home_links or (not home_links and http_status(shop + DEFAULT_PRODUCT) == 200):
        return DEFAULT_PRODUCT
    if home_links:
        print(f"    {DEFAULT_PRODUCT} not linked from the home page; using {home_links[0]}")
        return home_links[0]
    print("!! no product page found: measuring the home pages only")
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loads", type=int, default=7, help="cold loads per page (median reported)")
    parser.add_argument("--product-path", help=f"product page to measure (default {DEFAULT_PRODUCT} "
                                               "or the first /watch/ link on the home page)")
    parser.add_argument("--self-test", action="store_true",
                        help="serve a second blank app in place of the shop: ratios should be ~1.0 (noise level)")
    args = parser.parse_args()
    install_sigterm_exit()  # so `finally` blocks stop the servers

    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="page_bench-")))
        with_shop = not args.self_test and prepare_shop()  # first: fail before the slow builds
        blank_port, shop_port = free_ports(2)
        blank_url = stack.enter_context(
            server("blank app", prod_cmd(blank_port), init_blank(tmp / "a"), tmp / "blank.log", blank_port))
        pages = {"blank /": blank_url + "/"}
        shop_url = None
        if args.self_test:
            shop_url = stack.enter_context(
                server("second blank app", prod_cmd(shop_port), init_blank(tmp / "b"), tmp / "b.log", shop_port))
        elif with_shop:
            cmd = [sys.executable, "-m", "storefront", "serve", "--port", str(shop_port)]
            shop_url = stack.enter_context(server("storefront", cmd, ROOT, tmp / "shop.log", shop_port))

        pw = stack.enter_context(sync_playwright())
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        stack.callback(browser.close)
        if shop_url:
            pages["blank #2 /" if args.self_test else "shop /"] = shop_url + "/"
        if shop_url and not args.self_test:
            product = pick_product(shop_url, args.product_path, load_once(browser, shop_url + "/")["watch_links"])
            if product:
                pages[f"shop {product}"] = shop_url + product
        print(f"==> measuring {len(pages)} pages x {args.loads} cold loads", flush=True)
        results = measure(browser, pages, args.loads)
        chromium_version = browser.version

    add_ratios(results, "blank /")
    meta = {"date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": machine(),
            "reflex": metadata.version("reflex"), "playwright": metadata.version("playwright"),
            "chromium": chromium_version, "loads": args.loads, "self_test": args.self_test,
            "load_average_1min": round(os.getloadavg()[0], 2),  # other work on the machine skews paint times
            "js_bytes_source": "Playwright request.sizes().responseBodySize (encoded, as sent), "
                               "Content-Length when zero", "goals": GOALS}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"meta": meta, "pages": results}, indent=2) + "\n")

    print()
    print_table(results)
    print(f"\nJSON: {RESULTS.relative_to(ROOT)}\n\n--- Markdown ---\n{markdown(results, meta, 'blank /')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
