"""Lighthouse benchmark: the shop's pages against a blank Reflex app, phone and desktop (issue 8).

Why: issue 8 asks for Lighthouse performance >= 0.90 in every run on home, product, cart and checkout,
accessibility, best practices and SEO >= 0.95, CLS <= 0.1 and LCP <= 1.2x a blank Reflex app. Lighthouse's
figures depend on the machine, so each one is also given beside a blank app (`reflex init --template blank`)
of the same Reflex version, built and served in production mode in the same run. Goals are reported, not
asserted: no timing thresholds in tests.

Run: .venv/bin/python bench/lighthouse_bench.py [--runs 3] [--viewports phone,desktop] [--quick] [--keep]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from _common import (CHROMIUM, ROOT, copy_project, work_dir, free_ports, init_blank, install_sigterm_exit, machine, prod_cmd,
                     server, shop_env, tool_env)

RESULTS = ROOT / "bench" / "results" / "lighthouse_bench.json"
REPORTS = ROOT / "bench" / "results" / "lighthouse"
# Lighthouse 12 from the npm registry, in a folder of its own (its own package.json, so npm does not
# walk up into .tools/ and prune the pinned bun there).
LH_DIR = ROOT / ".tools" / "lighthouse"
LH_PACKAGE = "lighthouse@12"
LH_CLI = LH_DIR / "node_modules" / "lighthouse" / "cli" / "index.js"
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu"
CATEGORIES = ["performance", "accessibility", "best-practices", "seo"]
SCORE_NAMES = {"performance": "perf", "accessibility": "a11y", "best-practices": "bp", "seo": "seo"}
VIEWPORTS = {"phone": [], "desktop": ["--preset=desktop"]}  # phone = Lighthouse's default (mobile) form factor
GOALS = {"performance": 0.90, "accessibility": 0.95, "best-practices": 0.95, "seo": 0.95, "cls": 0.1,
         "lcp_ratio": 1.2}


# -- tools ------------------------------------------------------------------------------------------


def ensure_lighthouse() -> str:
    """Install Lighthouse 12 into .tools/lighthouse once (npm registry); returns its version."""
    if not LH_CLI.exists():
        print(f"==> npm install {LH_PACKAGE} into {LH_DIR.relative_to(ROOT)}", flush=True)
        LH_DIR.mkdir(parents=True, exist_ok=True)
        pkg = LH_DIR / "package.json"
        if not pkg.exists():
            pkg.write_text('{"name": "bench-lighthouse", "private": true}\n')
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", LH_PACKAGE],
                       cwd=LH_DIR, check=True)
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout.strip()
    if not node.startswith("v20."):
        print(f"!! Node {node}: this benchmark was set up with Node 20", flush=True)
    return subprocess.run(["node", str(LH_CLI), "--version"], capture_output=True, text=True,
                          check=True).stdout.strip()


# -- the shop ---------------------------------------------------------------------------------------


def prepare_shop_db(copy: Path, env: dict[str, str], db: Path) -> str | None:
    """migrate and seed the shop's own database; returns a product page path (first active watch)."""
    for cmd in ("migrate", "seed"):
        subprocess.run([sys.executable, "-m", "storefront", cmd], cwd=copy, env=tool_env(env), check=True,
                       stdout=subprocess.DEVNULL)
    with contextlib.closing(sqlite3.connect(db)) as con:
        row = con.execute("SELECT slug FROM product WHERE active = 1 ORDER BY reference LIMIT 1").fetchone()
    return f"/watch/{row[0]}" if row else None


# -- Lighthouse -------------------------------------------------------------------------------------


def lighthouse(url: str, viewport: str, out: Path) -> dict:
    """One Lighthouse run (its own Chromium with a fresh profile: cold cache, no cookies); key figures."""
    cmd = ["node", str(LH_CLI), url, "--output=json", f"--output-path={out}", "--quiet",
           f"--chrome-flags={CHROME_FLAGS}", f"--only-categories={','.join(CATEGORIES)}", *VIEWPORTS[viewport]]
    proc = subprocess.run(cmd, env={**os.environ, "CHROME_PATH": CHROMIUM}, capture_output=True, text=True,
                          timeout=300)
    if proc.returncode or not out.exists():
        raise RuntimeError(f"lighthouse failed on {url} ({viewport}): {proc.stderr[-2000:]}")
    return figures(json.loads(out.read_text()))


def figures(report: dict) -> dict:
    audits = report["audits"]

    def num(key):
        return audits.get(key, {}).get("numericValue")

    requests = audits.get("network-requests", {}).get("details", {}).get("items", [])
    js_bytes = sum(r.get("transferSize", 0) for r in requests if r.get("resourceType") == "Script")
    failing = {}
    for cat in CATEGORIES[1:]:  # what keeps accessibility, best practices and SEO below 1
        for ref in report["categories"][cat]["auditRefs"]:
            a = audits.get(ref["id"], {})
            if ref.get("weight", 0) > 0 and a.get("score") is not None and a["score"] < 1:
                failing.setdefault(cat, []).append(ref["id"])
    lcp_el = audits.get("largest-contentful-paint-element", {}).get("details", {}).get("items", [])
    with contextlib.suppress(Exception):
        lcp_el = lcp_el[0]["items"][0]["node"]["snippet"][:120]
    return {
        "scores": {c: report["categories"][c]["score"] for c in CATEGORIES},
        "js_bytes": js_bytes, "lcp_ms": num("largest-contentful-paint"), "cls": num("cumulative-layout-shift"),
        "fcp_ms": num("first-contentful-paint"), "speed_index_ms": num("speed-index"),
        "tbt_ms": num("total-blocking-time"), "lcp_element": lcp_el if isinstance(lcp_el, str) else None,
        "failing": failing, "warnings": report.get("runWarnings", []),
    }


def measure(pages: dict[str, str], viewports: list[str], runs: int, reports: Path) -> dict:
    """runs x (every page x viewport), the pages interleaved so that drift on the machine hits them alike."""
    out: dict[str, dict[str, list[dict]]] = {name: {v: [] for v in viewports} for name in pages}
    total = runs * len(pages) * len(viewports)
    done = 0
    for i in range(runs):
        for viewport in viewports:
            for name, url in pages.items():
                file = reports / f"{slug(name)}-{viewport}-{i + 1}.json"
                result = lighthouse(url, viewport, file)
                out[name][viewport].append(result)
                done += 1
                s = result["scores"]
                print(f"    [{done}/{total}] {name:<12} {viewport:<7} perf {s['performance']:.2f}  "
                      f"LCP {result['lcp_ms']:,.0f} ms  CLS {result['cls']:.3f}  JS {result['js_bytes']:,} B",
                      flush=True)
    return out


def slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name).strip("-") or "home"


# -- summary ----------------------------------------------------------------------------------------


def summarize(runs: list[dict]) -> dict:
    """Median of each figure, and the worst run (lowest score, highest LCP and CLS)."""
    def med(values):
        values = [v for v in values if v is not None]
        return statistics.median(values) if values else None

    keys = ("js_bytes", "lcp_ms", "cls", "fcp_ms", "speed_index_ms", "tbt_ms")
    s = {k: med([r[k] for r in runs]) for k in keys}
    s["scores"] = {c: med([r["scores"][c] for r in runs]) for c in CATEGORIES}
    s["worst"] = {"lcp_ms": max(r["lcp_ms"] for r in runs), "cls": max(r["cls"] for r in runs),
                  **{c: min(r["scores"][c] for r in runs) for c in CATEGORIES}}
    s["all"] = {"performance": [r["scores"]["performance"] for r in runs], "cls": [round(r["cls"], 3) for r in runs],
                "lcp_ms": [round(r["lcp_ms"]) for r in runs]}
    s["failing"] = sorted({f"{c}: {a}" for r in runs for c, ids in r["failing"].items() for a in ids})
    s["lcp_elements"] = sorted({r["lcp_element"] for r in runs if r["lcp_element"]})
    return s


def ratio(value, base):
    return round(value / base, 2) if value is not None and base else None


def fmt(v, nd=0):
    return "n/a" if v is None else f"{v:,.{nd}f}"


def triple(shop, blank, nd):
    return f"{fmt(shop, nd)} / {fmt(blank, nd)} / {fmt(ratio(shop, blank), 2)}"


HEADER = ["page", "viewport", "JS bytes", "LCP ms", "CLS", "performance", "accessibility", "best practices", "SEO",
          "worst run: perf / LCP ms / CLS"]


def table_rows(summary: dict, blank: str) -> list[list[str]]:
    rows = []
    for name, by_viewport in summary.items():
        if name == blank:
            continue
        for viewport, s in by_viewport.items():
            b = summary[blank][viewport]
            w = s["worst"]
            rows.append([name, viewport, triple(s["js_bytes"], b["js_bytes"], 0), triple(s["lcp_ms"], b["lcp_ms"], 0),
                         triple(s["cls"], b["cls"], 3),
                         *[triple(s["scores"][c], b["scores"][c], 2) for c in CATEGORIES],
                         f"{w['performance']:.2f} / {w['lcp_ms']:,.0f} / {w['cls']:.3f}"])
    return rows


def verdicts(summary: dict, blank: str) -> list[str]:
    lines = []
    for name, by_viewport in summary.items():
        if name == blank:
            continue
        for viewport, s in by_viewport.items():
            w, b = s["worst"], summary[blank][viewport]
            misses = [f"{c} {w[c]:.2f} < {GOALS[c]}" for c in CATEGORIES if w[c] < GOALS[c]]
            if w["cls"] > GOALS["cls"]:
                misses.append(f"CLS {w['cls']:.3f} > {GOALS['cls']}")
            lcp_r = ratio(w["lcp_ms"], b["lcp_ms"])
            if lcp_r is not None and lcp_r > GOALS["lcp_ratio"]:
                misses.append(f"worst LCP {lcp_r:.2f}x blank > {GOALS['lcp_ratio']}")
            failing = f" (audits below 1: {', '.join(s['failing'])})" if s["failing"] else ""
            lines.append(f"- {name}, {viewport}: " + ("all goals met" if not misses else "MISSED " + "; ".join(misses))
                         + failing)
    return lines


def print_table(rows: list[list[str]]) -> None:
    table = [HEADER] + rows
    widths = [max(len(r[i]) for r in table) for i in range(len(HEADER))]
    for r in table:
        print("  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))


def markdown(rows: list[list[str]], meta: dict, lines: list[str]) -> str:
    out = [f"Measured {meta['date']} on {meta['machine']} (load average {meta['load_average_1min']} before, "
           f"{meta['load_average_1min_after']} after); Reflex {meta['reflex']}, Lighthouse {meta['lighthouse']}, "
           f"Node {meta['node']}, {meta['chromium']}; {meta['runs']} run(s) per page and viewport, medians; "
           f"code: {meta['commit']}{' plus uncommitted changes' if meta['dirty'] else ''}. "
           "Each cell: shop / blank / ratio.", "",
           "| " + " | ".join(HEADER) + " |", "|" + "|".join(["---", "---"] + ["---:"] * (len(HEADER) - 2)) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out + [""] + lines)


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()


# -- main -------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs per page and viewport")
    parser.add_argument("--viewports", default="phone,desktop", help="phone (Lighthouse's mobile preset), desktop")
    parser.add_argument("--pages", default="home,watches,product,cart,checkout",
                        help="which shop pages (home, watches, product, cart, checkout)")
    parser.add_argument("--quick", action="store_true", help="one run, phone only: for iterating")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (DB, logs) and print it")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.viewports = 1, "phone"
    viewports = [v.strip() for v in args.viewports.split(",") if v.strip()]
    unknown = set(viewports) - set(VIEWPORTS)
    if unknown:
        sys.exit(f"unknown viewport(s): {', '.join(sorted(unknown))}")
    install_sigterm_exit()
    lh_version = ensure_lighthouse()
    load_before = round(os.getloadavg()[0], 2)
    shutil.rmtree(REPORTS, ignore_errors=True)
    REPORTS.mkdir(parents=True)

    with contextlib.ExitStack() as stack:
        tmp = work_dir(stack, "lighthouse_bench-", args.keep)
        blank_port, shop_port, stripe_port, smtp_port = free_ports(4)
        # The shop runs from a copy with its own database and ports, so its production build lands in the
        # copy's .web/ and neither the e2e suite nor a `make run` on the project's .web/ is disturbed.
        copy = copy_project(tmp / "shop")
        env = shop_env(tmp, copy, shop_port, stripe_port, smtp_port)
        print(f"==> shop copy in {copy}: migrate, seed", flush=True)
        product = prepare_shop_db(copy, env, tmp / "shop.db")
        blank_app = init_blank(tmp / "blank-app")
        blank_url = stack.enter_context(server(
            "blank app", prod_cmd(blank_port), blank_app, tmp / "blank.log", blank_port,
            env={"REFLEX_DB_URL": f"sqlite:///{tmp / 'blank.db'}"}))
        shop_url = stack.enter_context(server(
            "storefront", [sys.executable, "-m", "storefront", "serve", "--port", str(shop_port)], copy,
            tmp / "shop.log", shop_port, env=env, ready_path="/api/health"))

        paths = {"home": "/", "watches": "/watches", "product": product, "cart": "/cart", "checkout": "/checkout"}
        pages = {"blank /": blank_url + "/"}
        for name in [p.strip() for p in args.pages.split(",") if p.strip()]:
            if paths.get(name):
                pages[name] = shop_url + paths[name]
            else:
                print(f"!! no page {name!r}: skipped", flush=True)
        print(f"==> Lighthouse {lh_version}: {len(pages)} pages x {len(viewports)} viewport(s) x {args.runs} run(s)",
              flush=True)
        raw = measure(pages, viewports, args.runs, REPORTS)

    summary = {name: {v: summarize(runs) for v, runs in by_v.items()} for name, by_v in raw.items()}
    chromium = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True).stdout.strip()
    meta = {"date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(),
            "load_average_1min": load_before, "load_average_1min_after": round(os.getloadavg()[0], 2),
            "reflex": metadata.version("reflex"), "lighthouse": lh_version,
            "node": subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip(),
            "chromium": chromium, "chrome_flags": CHROME_FLAGS, "runs": args.runs, "viewports": viewports,
            "commit": git("rev-parse", "--short", "HEAD"), "dirty": bool(git("status", "--porcelain", "storefront",
                                                                             "assets")),
            "pages": pages, "goals": GOALS,
            "js_bytes_source": "Lighthouse network-requests: transferSize of Script resources (as sent, gzip)"}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"meta": meta, "summary": summary, "runs": raw}, indent=2) + "\n")

    rows = table_rows(summary, "blank /")
    lines = verdicts(summary, "blank /")
    print()
    print_table(rows)
    print("\n" + "\n".join(lines))
    print(f"\nJSON: {RESULTS.relative_to(ROOT)}; reports: {REPORTS.relative_to(ROOT)}/\n\n--- Markdown ---\n"
          f"{markdown(rows, meta, lines)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
