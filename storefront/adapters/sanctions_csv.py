"""Reads the OFAC SDN list in its published CSV form (sdn.csv + alt.csv) into SdnEntry values (PAY-7).

The files have no header; "-0-" (often padded with spaces) stands for an empty field; they are
single-byte Windows text with the odd byte outside cp1252, and end with a DOS end-of-file byte
(0x1A). The reader is lenient about all of that so a fresh download loads without hand edits.
sdn.csv:  ent_num, SDN_Name, SDN_Type, Program, Title, Call_Sign, Vess_type, Tonnage, GRT,
          Vess_flag, Vess_owner, Remarks      (SDN_Type "-0-" means an entity)
alt.csv:  ent_num, alt_num, alt_type, alt_name, alt_remarks
"""

from __future__ import annotations

import csv
import io
from importlib import resources
from pathlib import Path

from storefront.domain.screening import SdnEntry

NULL = "-0-"
EOF_BYTE = "\x1a"


def sample_dir() -> Path:
    """The fictional sample list shipped for development and tests."""
    return Path(str(resources.files("storefront") / "seed" / "sanctions"))


def decode(raw: bytes) -> str:
    for encoding in ("utf-8", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")  # every byte maps; cp1252's five undefined bytes become C1 controls


def _field(value: str) -> str:
    value = value.strip()
    return "" if value == NULL else value


def _rows(text: str) -> list[list[str]]:
    text = text.lstrip("\ufeff").replace(EOF_BYTE, "")
    rows = []
    for row in csv.reader(io.StringIO(text)):
        cells = [_field(cell) for cell in row]
        if cells and cells[0].isdigit():
            rows.append(cells)
    return rows


def parse_alt(text: str) -> dict[str, list[str]]:
    """ent_num -> alternate names, in the list's alt_num order."""
    found: dict[str, list[tuple[int, str]]] = {}
    for cells in _rows(text):
        cells += [""] * (5 - len(cells))
        ent_num, alt_num, _alt_type, alt_name = cells[:4]
        if alt_name:
            found.setdefault(ent_num, []).append((int(alt_num) if alt_num.isdigit() else 0, alt_name))
    return {ent: [name for _, name in sorted(names)] for ent, names in found.items()}


def parse_sdn(text: str, aliases: dict[str, list[str]] | None = None) -> list[SdnEntry]:
    aliases = aliases or {}
    entries = []
    for cells in _rows(text):
        cells += [""] * (12 - len(cells))
        ent_num, name, sdn_type, program = cells[:4]
        if not name:
            continue
        entries.append(SdnEntry(
            uid=ent_num,
            name=name,
            aliases=tuple(dict.fromkeys(a for a in aliases.get(ent_num, ()) if a != name)),
            programs="; ".join(p.strip() for p in program.split("] [") if p.strip()),  # "SDGT] [IRAN"
            kind=sdn_type.casefold() or "entity",
        ))
    return entries


def load_sdn(sdn_path: Path | str, alt_path: Path | str | None = None) -> list[SdnEntry]:
    aliases = parse_alt(decode(Path(alt_path).read_bytes())) if alt_path else {}
    return parse_sdn(decode(Path(sdn_path).read_bytes()), aliases)


def load_sample() -> list[SdnEntry]:
    return load_sdn(sample_dir() / "sdn.csv", sample_dir() / "alt.csv")
