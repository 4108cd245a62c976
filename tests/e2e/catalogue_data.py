"""Pick demo watches by their properties (not by hard-coded references) from the seed file."""

import json
from pathlib import Path

SEED = json.loads((Path(__file__).resolve().parents[2] / "storefront/seed/catalogue.json").read_text())


def product(**where):
    def ok(p):
        return all(fn(p) if callable(fn) else p[key] == fn for key, fn in where.items())

    return next(p for p in SEED["products"] if ok(p))


def limited():
    """An active watch with more stock than its per-order limit (>= 2)."""
    return product(active=True, stock=lambda p: p["stock"] > p["max_per_order"] >= 2)


def inactive():
    return product(active=False)
