"""Sanctions screening speed (PAY-7): names screened against a synthetic list of N entries.

    python bench/screening.py [N]

Prints the one-off `prepare` time and per-name screening times (median and worst) so the figure
can be copied to docs/. Synthetic names are random syllables; a quarter of entries carry two aliases.
"""

from __future__ import annotations

import random
import statistics
import sys
import time

from storefront.domain.screening import SdnEntry, prepare, screen

SYLLABLES = ["ka", "ro", "vi", "dra", "mel", "tor", "san", "ul", "bek", "shi", "nov", "ar", "ez", "lin", "mu", "ha"]


def word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()


def synthetic(n: int, rng: random.Random) -> list[SdnEntry]:
    entries = []
    for i in range(n):
        if rng.random() < 0.7:
            name = f"{word(rng).upper()}, {word(rng)} {word(rng) if rng.random() < 0.4 else ''}".strip()
            kind = "individual"
        else:
            name = f"{word(rng).upper()} {rng.choice(['TRADING LLC', 'HOLDINGS LTD', 'SHIPPING CO', 'GROUP'])}"
            kind = "entity"
        aliases = tuple(f"{word(rng).upper()}, {word(rng)}" for _ in range(2)) if rng.random() < 0.25 else ()
        entries.append(SdnEntry(str(i), name, aliases, "SDGT", kind))
    return entries


def main(n: int = 10_000, names: int = 200) -> None:
    rng = random.Random(7)
    entries = synthetic(n, rng)
    started = time.perf_counter()
    listed = prepare(entries)
    prepare_ms = (time.perf_counter() - started) * 1000
    queries = [f"{word(rng)} {word(rng)}" for _ in range(names)] + ["José Müller", "Milan Drakovic"]
    queries += [e.name for e in rng.sample(entries, 20)]
    timings = []
    for q in queries:
        started = time.perf_counter()
        screen(q, listed)
        timings.append((time.perf_counter() - started) * 1000)
    print(f"entries={n} names_screened={len(listed.forms)} prepare={prepare_ms:.0f} ms")
    print(f"per name: median={statistics.median(timings):.2f} ms  p95={sorted(timings)[int(len(timings) * .95)]:.2f} ms"
          f"  max={max(timings):.2f} ms  ({len(queries)} names)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
