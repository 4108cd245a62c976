"""Business rules held as data: one TOML file per subject, loaded once into frozen values.

Everything a merchant or compliance officer may need to change (markets, ages, rates, brands,
thresholds) is written here and nowhere else; code reads it through these loaders.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

RULES_DIR = Path(__file__).resolve().parent


@lru_cache
def load(name: str) -> dict[str, Any]:
    """The parsed content of `rules/<name>.toml`."""
    with open(RULES_DIR / f"{name}.toml", "rb") as fh:
        return tomllib.load(fh)
