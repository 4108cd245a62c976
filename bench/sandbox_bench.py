"""Payment sandbox CPU per checkout as its store grows (issue 12 § 2: "constant as its store grows").

    .venv/bin/python bench/sandbox_bench.py [--checkouts 3000] [--every 500]

Starts the sandbox as `make run` does (loopback, with a state file) and drives it through the shop's own
gateway (services' StripeGateway: save the card, hold the amount), one checkout after another. After every
`--every` checkouts it prints the sandbox process's CPU seconds per checkout over that stretch (utime + stime
from /proc), the number of objects in its store, and the state file's size. A cost per call that grew with the
history would show as a rising column.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import stripe

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from storefront.adapters import localstripe_server, sandbox  # noqa: E402
from storefront.adapters.stripe_gateway import StripeGateway  # noqa: E402
from storefront.domain.money import Money  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "sandbox_bench.json"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checkouts", type=int, default=3000)
    parser.add_argument("--every", type=int, default=500)
    parser.add_argument("--in-memory", action="store_true", help="no state file (what growth is left is not the saving)")
    args = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp) / "localstripe.pickle"
        with localstripe_server.start(localstripe_server.free_port(), state_file=None if args.in_memory else state) as handle:
            gateway = StripeGateway(sandbox.SECRET_KEY, "whsec_bench", api_base=handle.url, sandbox=True)
            raw = stripe.StripeClient(sandbox.SECRET_KEY, base_addresses={"api": handle.url}, max_network_retries=0)
            pid = handle._process.pid
            before, started = cpu_seconds(pid), time.monotonic()
            for n in range(1, args.checkouts + 1):
                token = raw.v1.tokens.create(params={"card": {"number": "4242424242424242", "exp_month": 12,
                                                              "exp_year": 2030, "cvc": "123"}}).id
                card = gateway.save_card(token, f"client{n}@example.com", "Bench Client", f"bench-save-{n}")
                gateway.authorize(Money(1_250_000, "CHF"), card.customer_id, card.card_id, f"bench-hold-{n}")
                if n % args.every == 0:
                    after, now = cpu_seconds(pid), time.monotonic()
                    row = {"checkouts": n, "sandbox_cpu_s_per_checkout": round((after - before) / args.every, 4),
                           "wall_s_per_checkout": round((now - started) / args.every, 4),
                           "state_file_kb": state.stat().st_size // 1024 if state.exists() else 0}
                    rows.append(row)
                    print(json.dumps(row), flush=True)
                    before, started = after, now
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"rows": rows, "save_every_seconds": localstripe_server.SAVE_EVERY_SECONDS},
                                  indent=2))


if __name__ == "__main__":
    main()
