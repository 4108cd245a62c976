"""Management page read models on a big order book (issue 9 § 7): list pages, filters, sorts, deep pages,
one order in full and the work queues, timed through the real functions of services/admin_orders.py.

    bash scripts/with-postgres.sh .venv/bin/python bench/admin_bench.py --orders 1000000
    .venv/bin/python bench/admin_bench.py --sqlite --orders 100000

A throwaway database (PostgreSQL: a new database on the server of REFLEX_DB_URL, dropped at the end;
SQLite: a file in a temporary folder) is migrated with the project's Alembic to the revision *before* the
admin indexes, bulk-loaded (COPY / executemany), measured ("before"), upgraded to head (the index
migration, timed), analysed and measured again ("after"). Figures are printed, not asserted; see
bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

INDEX_REVISION = "c0d1e2f3a4b5"  # alembic/versions/c0d1e2f3a4b5_admin_list_indexes.py
DB_PREFIX = "storefront_admin_bench_"

COUNTRIES = ["CH"] * 30 + ["DE"] * 18 + ["FR"] * 14 + ["IT"] * 9 + ["GB"] * 8 + ["AT"] * 6 + ["NL"] * 4 + \
    ["BE"] * 3 + ["ES"] * 3 + ["SE"] * 2 + ["LU", "DK", "IE"]
CURRENCY = {"CH": "CHF", "GB": "GBP"}
OPEN = ["awaiting_approval"] * 50 + ["approved"] * 25 + ["partially_shipped"] * 8 + ["compliance_review"] * 7 + \
    ["pending_payment"] * 10


# -- data ---------------------------------------------------------------------------------------------

def ts(moment: datetime) -> str:
    """UTC as text that both drivers accept and SQLAlchemy's SQLite DateTime writes (comparisons are textual
    there); PostgreSQL's timestamptz reads it in the session's time zone, set to UTC for the load."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


class Book:
    """Rows of every table, generated in id order from one seed; `emit` receives (table, columns, rows)."""

    def __init__(self, orders: int, now: datetime, seed: int = 9) -> None:
        self.n = orders
        self.now = now
        self.rng = random.Random(seed)
        self.terms_id = 1
        self.product_ids: list[int] = []
        self.staff_id = 1
        self.sample: dict[str, object] = {}
        self.renewal_rng = random.Random(seed + 1)

    def renewals(self, status: str, age_days: float, failed: bool) -> list[str]:
        """Renewal events after an order's first ones: a third of the shipped orders had their hold renewed,
        one in a hundred after a failed renewal the client authorised again; half the open orders older than
        6 days were renewed. Of the open orders whose renewal failed, 40 % were authorised again since (they
        leave the failed-renewal queue), and a quarter of those failed once more (back in it)."""
        rng = self.renewal_rng
        ok, failure = "payment_reauthorized", "payment_reauthorization_failed"
        if status == "shipped":
            roll = rng.random()
            return [failure, ok] if roll < 0.01 else [ok] if roll < 0.33 else []
        if status in ("awaiting_approval", "approved", "partially_shipped", "compliance_review"):
            if failed:
                return ([ok, failure] if rng.random() < 0.25 else [ok]) if rng.random() < 0.4 else []
            return [ok] if age_days > 6 and rng.random() < 0.5 else []
        return []

    def generate(self, emit, batch: int = 20000) -> dict[str, int]:
        rng, now = self.rng, self.now
        counts = dict.fromkeys(["shop_order", "order_line", "order_event", "payment_authorization",
                                "outbox_email", "refund"], 0)
        span = 3 * 365 * 86400  # three years of orders, uniform, the newest a few minutes old
        start = now - timedelta(seconds=span)
        addr = json.dumps({"line1": "Rue du Marché 1", "postcode": "1204", "city": "Genève", "country": "CH"})
        screening = json.dumps({"verdict": "clear"})
        empty = "{}"
        line_id = event_id = hold_id = email_id = refund_id = 0
        bufs: dict[str, list[tuple]] = {k: [] for k in counts}

        def flush(force: bool = False) -> None:  # every table at once, parents first (foreign keys)
            if not force and len(bufs["shop_order"]) < batch:
                return
            for table, rows in bufs.items():
                if rows:
                    emit(table, COLUMNS[table], rows)
                    counts[table] += len(rows)
                    bufs[table] = []

        offsets = sorted(rng.randrange(span) for _ in range(self.n))
        customers = max(1, self.n // 3)
        for i, off in enumerate(offsets, start=1):
            placed = start + timedelta(seconds=off, microseconds=rng.randrange(1_000_000))
            age_days = (now - placed).total_seconds() / 86400
            if age_days < 20:
                status = rng.choice(OPEN)
            else:
                status = "cancelled" if rng.random() < 0.07 else "shipped"
            country = rng.choice(COUNTRIES)
            currency = CURRENCY.get(country, "EUR")
            ref = f"W-{i:08d}"
            email = f"client{rng.randrange(customers)}@example.com"
            nlines = rng.choice((1, 1, 1, 2, 2, 3))
            subtotal = 0
            lines = []
            for _ in range(nlines):
                line_id += 1
                pid = rng.choice(self.product_ids)
                price = rng.choice((450000, 790000, 1250000, 2890000))
                qty = 1
                subtotal += price * qty
                shipped = qty if status == "shipped" else 0
                cancelled = qty if status == "cancelled" else 0
                lines.append((str(line_id), str(i), str(pid), f"VX-{pid:04d}", f"Watch {pid}", str(qty), str(price),
                              str(shipped), str(cancelled)))
            bufs["order_line"].extend(lines)
            shipping = 0
            total = subtotal + shipping
            ship_by = (placed + timedelta(days=7)).date()
            bufs["shop_order"].append((
                str(i), ref, f"tok{i}", f"ck{i}", status, "web", country, currency,
                "en_" + country, email, "+41 22 000 00 00", f"Client {i}", "1980-05-17", addr, addr,
                str(subtotal), str(shipping), None, "0", str(total), ship_by.isoformat(), str(self.terms_id),
                "0" * 64, ts(placed), "127.0.0.1", None, "bench", "1", screening, None, None, ts(placed), ts(placed)))
            # holds: the live one, sometimes an earlier lapsed one
            holds = []
            if rng.random() < 0.25:
                hold_id += 1
                holds.append((str(hold_id), str(i), f"idem{hold_id}", f"pi_{hold_id}", "expired", str(total), currency,
                              "0", "0", "visa", "4242", ts(placed - timedelta(days=1)), ts(placed), ts(placed)))
            hold_id += 1
            live = {"shipped": "captured", "cancelled": "released", "pending_payment": "declined"}.get(status, "held")
            capture_before = placed + timedelta(days=7)
            captured = str(total) if live == "captured" else "0"
            holds.append((str(hold_id), str(i), f"idem{hold_id}", f"pi_{hold_id}", live, str(total), currency,
                          captured, "0", "visa", "4242", ts(capture_before), ts(placed), ts(placed)))
            bufs["payment_authorization"].extend(holds)
            # events: 3 to 6, by what happened to the order
            types = ["order_placed", "terms_accepted", "payment_authorized"]
            if status == "shipped":
                types += ["approved", "handed_to_carrier", "shipped"]
            elif status == "cancelled":
                types += ["cancelled", "payment_released"]
            elif status == "approved":
                types += ["approved"]
            elif status == "partially_shipped":
                types += ["approved", "partially_shipped"]
            elif status == "compliance_review":
                types += ["compliance_hold"]
            if status in ("awaiting_approval", "approved") and rng.random() < 0.02:
                types.append("payment_reauthorization_failed")
            elif len(types) < 6 and rng.random() < 0.3:
                types.append("email_queued")
            for k, kind in enumerate(types[:6]):
                event_id += 1
                bufs["order_event"].append((str(event_id), str(i), kind, ts(placed + timedelta(minutes=k)),
                                            "system", empty))
            # hold renewals after those (their own random sequence: every other row is as before they existed)
            renewed_at = min(placed + timedelta(days=6), now - timedelta(hours=1))
            for k, kind in enumerate(self.renewals(status, age_days, "payment_reauthorization_failed" in types)):
                event_id += 1
                bufs["order_event"].append((str(event_id), str(i), kind, ts(renewed_at + timedelta(minutes=k)),
                                            "system", empty))
            # emails: the confirmation of one order in five; a few failed
            if rng.random() < 0.2 or i % 5000 == 0:
                email_id += 1
                failed = i % 5000 == 0
                bufs["outbox_email"].append((
                    str(email_id), f"order_received:{ref}", str(i), "order_received", email, f"Your order {ref}",
                    "text", "<p>html</p>", "failed" if failed else "sent", "5" if failed else "1",
                    ts(placed), "SMTP 550" if failed else "", ts(placed), None if failed else ts(placed)))
            # refunds: one shipped order in a hundred; a few await the second approval
            if status == "shipped" and rng.random() < 0.01:
                refund_id += 1
                requested = rng.random() < 0.02
                bufs["refund"].append((
                    str(refund_id), str(i), "1", str(hold_id), str(total // 10), currency, "goodwill", empty,
                    "requested" if requested else "succeeded", str(self.staff_id), ts(placed + timedelta(days=9))))
            if i == self.n // 2:
                self.sample = {"reference": ref, "email": email, "country": country}
            flush()
        flush(force=True)
        return counts


COLUMNS = {
    "shop_order": ["id", "reference", "access_token", "checkout_key", "status", "channel", "country", "currency",
                   "locale", "email", "phone", "full_name", "birth_date", "shipping_address", "billing_address",
                   "subtotal_minor", "shipping_minor", "vat_rate", "vat_minor", "total_minor", "ship_by",
                   "terms_version_id", "terms_content_hash", "terms_accepted_at", "accepted_ip", "browser_hash",
                   "accepted_user_agent", "personal_use_declared", "screening", "payment_customer_id",
                   "payment_deadline", "placed_at", "updated_at"],
    "order_line": ["id", "order_id", "product_id", "reference", "name", "quantity", "unit_price_minor",
                   "quantity_shipped", "quantity_cancelled"],
    "payment_authorization": ["id", "order_id", "idempotency_key", "intent_id", "status", "amount_minor", "currency",
                              "captured_minor", "refunded_minor", "brand", "last4", "capture_before", "created_at",
                              "updated_at"],
    "order_event": ["id", "order_id", "type", "at", "actor", "data"],
    "outbox_email": ["id", "dedup_key", "order_id", "kind", "recipient", "subject", "text_body", "html_body",
                     "status", "attempts", "next_attempt_at", "last_error", "created_at", "sent_at"],
    "refund": ["id", "order_id", "number", "authorization_id", "amount_minor", "currency", "reason_code", "lines",
               "status", "requested_by", "created_at"],
}


def check_columns(engine) -> None:
    """Every NOT NULL column without a server default must be loaded: say which, if the schema moved on."""
    from sqlalchemy import inspect

    insp = inspect(engine)
    for table, cols in COLUMNS.items():
        missing = [c["name"] for c in insp.get_columns(table)
                   if c["name"] not in cols and not c["nullable"] and c.get("default") is None]
        if missing:
            raise SystemExit(f"{table}: the benchmark does not fill {missing}; update COLUMNS and Book.generate")


def reference_rows(engine, book: Book, now: datetime) -> None:
    """A terms version, a collection and a few products, one member of staff: through the ORM (few rows)."""
    from sqlmodel import Session

    from storefront.adapters.tables import Collection, Product, StaffUser, TermsVersion

    with Session(engine) as s:
        terms = TermsVersion(version="2026-01", title="Terms", body="...", content_hash="0" * 64,
                             published_at=now - timedelta(days=4 * 365))
        col = Collection(slug="bench", name="Bench")
        staff = StaffUser(email="bench@example.com", role="admin", password_hash="x")
        s.add_all([terms, col, staff])
        s.flush()
        products = [Product(reference=f"VX-B{k}", slug=f"bench-{k}", name=f"Bench {k}", collection_id=col.id,
                            case_material="steel", diameter_mm="40.0", movement="automatic",
                            water_resistance_m=100, images=[], stock=10) for k in range(6)]
        s.add_all(products)
        s.flush()
        book.terms_id, book.staff_id = terms.id, staff.id
        book.product_ids = [p.id for p in products]
        s.commit()


def load_postgres(engine, book: Book) -> dict[str, int]:
    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        with conn.cursor() as cur:
            cur.execute("SET TIME ZONE 'UTC'")  # the naive text of ts() is UTC

            def emit(table, cols, rows):
                buf = io.StringIO()
                for row in rows:
                    buf.write("\t".join("\\N" if v is None else v for v in row))
                    buf.write("\n")
                with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                    copy.write(buf.getvalue())
            counts = book.generate(emit)
            for table in COLUMNS:
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT coalesce(max(id), 1) FROM {table}))")
        conn.commit()
    finally:
        raw.close()
    return counts


def load_sqlite(engine, book: Book) -> dict[str, int]:
    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        conn.execute("BEGIN")

        def emit(table, cols, rows):
            conn.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", rows)
            if table == "refund":  # commit after each batch of orders and their rows
                conn.execute("COMMIT")
                conn.execute("BEGIN")
        counts = book.generate(emit, batch=20000)
        conn.execute("COMMIT")
    finally:
        raw.close()
    return counts


def analyse(engine, postgres: bool) -> None:
    if postgres:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()


# -- measuring ----------------------------------------------------------------------------------------

class Counter:
    def __init__(self, engine) -> None:
        from sqlalchemy import event

        self.n = 0
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *_args) -> None:
        self.n += 1


def timed(fn, counter: Counter, runs: int, warmup: int) -> tuple[float, float, int, int]:
    for _ in range(warmup):
        fn()
    times, queries = [], set()
    for _ in range(runs):
        before = counter.n
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
        queries.add(counter.n - before)
    times.sort()
    p95 = times[min(len(times) - 1, max(0, round(0.95 * len(times)) - 1))]
    return statistics.median(times), p95, min(queries), max(queries)


def cases(uow, engine, book: Book, now: datetime) -> list[tuple[str, object]]:
    from sqlalchemy import text

    from storefront.adapters.tables import Order
    from storefront.services import admin_orders as ao

    F = ao.OrderFilters
    n = book.n
    with engine.connect() as conn:  # the cursor of the order at the 90th percentile of the newest-first list
        row = conn.execute(text("SELECT placed_at, id FROM shop_order ORDER BY placed_at DESC, id DESC "
                                "LIMIT 1 OFFSET :k"), {"k": int(n * 0.9)}).one()
        mid = conn.execute(text("SELECT placed_at FROM shop_order WHERE id = :i"), {"i": n // 2}).scalar_one()
    placed = row[0] if isinstance(row[0], datetime) else datetime.fromisoformat(row[0]).replace(tzinfo=timezone.utc)
    deep = ao._cursor(Order(placed_at=placed, id=row[1]))
    deep_shipped = ao.order_page(uow, F(status="shipped"), deep).next_cursor
    mid = mid if isinstance(mid, datetime) else datetime.fromisoformat(mid)
    week = F(placed_from=mid.date(), placed_to=mid.date() + timedelta(days=6))
    s = book.sample
    return [
        ("list, first page (newest)", lambda: ao.order_page(uow, F())),
        ("list, first page (oldest)", lambda: ao.order_page(uow, F(sort="oldest"))),
        ("list, deep page (90th percentile cursor)", lambda: ao.order_page(uow, F(), deep)),
        ("list, deep page, oldest (10th pct cursor)", lambda: ao.order_page(uow, F(sort="oldest"), deep)),
        ("status = shipped", lambda: ao.order_page(uow, F(status="shipped"))),
        ("status = shipped, deep page", lambda: ao.order_page(uow, F(status="shipped"), deep_shipped)),
        ("status = awaiting_approval", lambda: ao.order_page(uow, F(status="awaiting_approval"))),
        ("status = compliance_review, oldest",
         lambda: ao.order_page(uow, F(status="compliance_review", sort="oldest"))),
        ("status = cancelled, oldest", lambda: ao.order_page(uow, F(status="cancelled", sort="oldest"))),
        ("country = CH", lambda: ao.order_page(uow, F(country="CH"))),
        ("country = IE (rare), oldest", lambda: ao.order_page(uow, F(country="IE", sort="oldest"))),
        ("date range (one week)", lambda: ao.order_page(uow, week)),
        ("date range (one week), oldest", lambda: ao.order_page(uow, F(placed_from=week.placed_from,
                                                                       placed_to=week.placed_to, sort="oldest"))),
        ("status + country + range", lambda: ao.order_page(uow, F(status="shipped", country="DE",
                                                                  placed_from=week.placed_from,
                                                                  placed_to=week.placed_to))),
        ("reference", lambda: ao.order_page(uow, F(reference=str(s["reference"])))),
        ("email", lambda: ao.order_page(uow, F(email=str(s["email"])))),
        ("order detail (with personal data)",
         lambda: ao.order_detail(uow, str(s["reference"]), with_personal_data=True)),
        ("work queues", lambda: ao.work_queues(uow, now)),
    ]


def walk(uow, counter: Counter, pages: int) -> tuple[float, float, int, int]:
    """Follow next_cursor page after page, as a clerk paging through would: each page's time and queries."""
    from storefront.services import admin_orders as ao

    cursor, times, queries = "", [], set()
    for _ in range(pages):
        before = counter.n
        t0 = time.perf_counter()
        page = ao.order_page(uow, ao.OrderFilters(), cursor)
        times.append((time.perf_counter() - t0) * 1000)
        queries.add(counter.n - before)
        cursor = page.next_cursor
        if not cursor:
            break
    times.sort()
    return statistics.median(times), times[max(0, round(0.95 * len(times)) - 1)], min(queries), max(queries)


def measure(stage: str, uow, engine, counter, book, now, runs, warmup, pages) -> dict[str, list]:
    print(f"\n==> {stage}: {runs} runs each after {warmup} warm-up", flush=True)
    out = {}
    for name, fn in cases(uow, engine, book, now):
        try:
            p50, p95, qmin, qmax = timed(fn, counter, runs, warmup)
        except Exception as exc:  # a read model that fails is reported, and the others still measured
            out[name] = ["error", f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}", 0, 0]
            print(f"  {name:46s} ERROR {out[name][1]}", flush=True)
            continue
        out[name] = [round(p50, 2), round(p95, 2), qmin, qmax]
        print(f"  {name:46s} p50 {p50:8.2f} ms  p95 {p95:8.2f} ms  queries {qmin}" +
              (f"-{qmax}" if qmax != qmin else ""), flush=True)
    p50, p95, qmin, qmax = walk(uow, counter, pages)
    name = f"list, pages 1-{pages} followed one by one"
    out[name] = [round(p50, 2), round(p95, 2), qmin, qmax]
    print(f"  {name:46s} p50 {p50:8.2f} ms  p95 {p95:8.2f} ms  queries {qmin}" +
          (f"-{qmax}" if qmax != qmin else ""), flush=True)
    return out


# -- the database -------------------------------------------------------------------------------------

def postgres_database(given: str, reuse: str = "") -> tuple[str, object]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(given)
    if reuse and not reuse.startswith(DB_PREFIX):
        raise SystemExit(f"--reuse takes a database this benchmark made ({DB_PREFIX}...), not {reuse!r}")
    name = reuse or DB_PREFIX + secrets.token_hex(4)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    if not reuse:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False), drop


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--orders", type=int, default=100_000)
    ap.add_argument("--sqlite", action="store_true", help="SQLite in a temporary folder (default: PostgreSQL)")
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--pages", type=int, default=200, help="pages followed one by one by cursor")
    ap.add_argument("--stage", choices=["both", "after"], default="both",
                    help="both: measure before and after the index migration; after: load at head, measure once")
    ap.add_argument("--keep", action="store_true", help="keep the database")
    ap.add_argument("--reuse", metavar="DATABASE", default="",
                    help="PostgreSQL: measure (at head) a database an earlier run loaded and left behind "
                         "(--keep, or an interrupted run) instead of loading a new one; dropped at the end "
                         "unless --keep")
    args = ap.parse_args()

    stack = contextlib.ExitStack()
    with stack:
        given = os.environ.get("REFLEX_DB_URL", "")
        if args.sqlite:
            tmp = Path(tempfile.mkdtemp(prefix="admin-bench-"))
            if not args.keep:
                stack.callback(shutil.rmtree, tmp, True)
            url = f"sqlite:///{tmp / 'bench.db'}"
        else:
            if not given.startswith("postgresql"):
                print("PostgreSQL: run under scripts/with-postgres.sh (REFLEX_DB_URL), or pass --sqlite",
                      file=sys.stderr)
                return 2
            url, drop = postgres_database(given, args.reuse)
            if not args.keep:
                stack.callback(drop)
        print(f"==> database {url}", flush=True)
        os.environ["REFLEX_DB_URL"] = url
        os.environ.pop("STOREFRONT_DATABASE_URL", None)
        os.environ.setdefault("STOREFRONT_SECRET_KEY", "admin-bench-not-a-secret")

        from alembic import command
        from alembic.config import Config
        from alembic.script import ScriptDirectory

        from storefront.adapters.db import get_engine
        from storefront.services.unit_of_work import UnitOfWork

        engine = get_engine(url)
        stack.callback(engine.dispose)
        postgres = engine.dialect.name == "postgresql"
        cfg = Config(str(ROOT / "alembic.ini"))
        before_rev = ScriptDirectory.from_config(cfg).get_revision(INDEX_REVISION).down_revision
        target = before_rev if args.stage == "both" and not args.reuse else "head"
        t0 = time.perf_counter()
        command.upgrade(cfg, target)
        print(f"==> migrated to {target} in {time.perf_counter() - t0:.1f} s", flush=True)
        check_columns(engine)

        now = datetime(2026, 11, 26, 12, 0, 0, tzinfo=timezone.utc)
        book = Book(args.orders, now)
        if args.reuse:  # the rows are there: only the sample the filters look for
            from sqlalchemy import text
            with engine.connect() as conn:
                n = conn.execute(text("SELECT max(id) FROM shop_order")).scalar_one()
                ref, email, country = conn.execute(text("SELECT reference, email, country FROM shop_order "
                                                        "WHERE id = :i"), {"i": n // 2}).one()
                counts = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in COLUMNS}
            book.n, book.sample = n, {"reference": ref, "email": email, "country": country}
            load_s = 0.0
            analyse(engine, postgres)
            args.stage = "after"
        else:
            reference_rows(engine, book, now)
            t0 = time.perf_counter()
            counts = (load_postgres if postgres else load_sqlite)(engine, book)
            load_s = time.perf_counter() - t0
            print(f"==> loaded in {load_s:.1f} s: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()), flush=True)
            t0 = time.perf_counter()
            analyse(engine, postgres)
            print(f"==> {'VACUUM ANALYZE' if postgres else 'ANALYZE'} in {time.perf_counter() - t0:.1f} s",
                  flush=True)

        counter = Counter(engine)
        uow = UnitOfWork(engine)
        result = {"orders": book.n, "counts": counts, "load_s": round(load_s, 1),
                  "database": engine.dialect.name, "machine": f"{os.cpu_count()} cores, {platform.release()}"}
        if postgres:
            with engine.connect() as conn:
                result["server"] = conn.exec_driver_sql("SHOW server_version").scalar()
        stages = {}
        if args.stage == "both":
            stages["before"] = measure("before the index migration", uow, engine, counter, book, now,
                                       args.runs, args.warmup, args.pages)
            t0 = time.perf_counter()
            command.upgrade(cfg, "head")
            result["index_migration_s"] = round(time.perf_counter() - t0, 1)
            print(f"==> upgraded to head (the indexes) in {result['index_migration_s']} s", flush=True)
            analyse(engine, postgres)
        stages["after"] = measure("at head", uow, engine, counter, book, now, args.runs, args.warmup, args.pages)
        result["stages"] = stages
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            result["commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                                              capture_output=True).stdout.strip()

        print("\n| page | " + " | ".join(f"{s} p50 ms | {s} p95 ms | queries" for s in stages) + " |")
        print("|---|" + "---:|---:|---:|" * len(stages))
        for name in stages["after"]:
            cells = []
            for st in stages.values():
                p50, p95, qmin, qmax = st[name]
                if p50 == "error":
                    cells += ["error", "error", "-"]
                    continue
                cells += [f"{p50:.1f}", f"{p95:.1f}", f"{qmin}" + (f"-{qmax}" if qmax != qmin else "")]
            print(f"| {name} | " + " | ".join(cells) + " |")
        out = ROOT / "bench" / "results" / f"admin_bench_{engine.dialect.name}_{book.n}.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(result, indent=1, default=str))
        print(f"==> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
