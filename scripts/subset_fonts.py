"""Rebuild the fonts in storefront/fonts/ that the PDF documents embed (services/documents.py).

    python scripts/subset_fonts.py /usr/share/fonts/truetype/dejavu /path/to/ipaexg.ttf

Sources: DejaVu Sans and DejaVu Sans Bold (Debian fonts-dejavu-core; Bitstream Vera licence, DejaVu
changes public domain) for Latin with diacritics, Greek and Cyrillic; IPAex Gothic (Debian
fonts-ipaexfont-gothic, IPA Font License v1.0) for Japanese. Both are cut down to what customer names
and addresses use, to keep the repository small: DejaVu to the Latin, Greek, Cyrillic and punctuation
blocks, IPAex to the kana and the JIS X 0208 kanji (levels 1 and 2, which cover the name kanji).

The IPAex subset is a Derived Program under the IPA Font License: it is renamed ("Storefront JP
Gothic"; the licence forbids the original name), distributed under the same licence
(storefront/fonts/LICENSE-IPA-Font.txt), and this script is the means to rebuild it or to replace it
with the original: point FONTS["jp"] in services/documents.py at ipaexg.ttf itself.
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

OUT = Path(__file__).resolve().parent.parent / "storefront" / "fonts"
LATIN_GREEK_CYRILLIC = [(0x20, 0x36F), (0x370, 0x3FF), (0x400, 0x52F), (0x1E00, 0x1FFF), (0x2000, 0x206F),
                        (0x20A0, 0x20CF), (0x2100, 0x218F)]


def jis_x_0208() -> list[int]:
    ranges = list(range(0x3000, 0x3100)) + list(range(0x4E00, 0xA000)) + list(range(0xFF00, 0xFFF0))
    keep = []
    for cp in ranges:
        try:
            chr(cp).encode("shift_jis")
        except UnicodeEncodeError:
            continue
        keep.append(cp)
    return keep


def _subset(source: Path, target: Path, unicodes: list[int], rename: dict[int, str] | None = None) -> None:
    options = subset.Options()
    options.name_IDs, options.name_languages, options.name_legacy = ["*"], ["*"], True
    options.hinting, options.notdef_outline = False, True
    # No OpenType layout tables: fpdf2 does not shape text unless told to, and subsetting them again for every
    # document cost a third of a PDF's CPU (docs/benchmarks.md, "Order documents").
    options.layout_features = []
    options.drop_tables += ["GDEF", "GPOS", "GSUB", "MATH", "BASE"]
    font = TTFont(source)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=unicodes)
    subsetter.subset(font)
    for record in font["name"].names if rename else ():
        if record.nameID in rename:
            record.string = rename[record.nameID]
    font.save(target)


def main(dejavu_dir: str, ipaex: str) -> None:
    latin = [cp for start, end in LATIN_GREEK_CYRILLIC for cp in range(start, end + 1)]
    _subset(Path(dejavu_dir) / "DejaVuSans.ttf", OUT / "DejaVuSans-subset.ttf", latin)
    _subset(Path(dejavu_dir) / "DejaVuSans-Bold.ttf", OUT / "DejaVuSans-Bold-subset.ttf", latin)
    _subset(Path(ipaex), OUT / "StorefrontJPGothic.ttf", jis_x_0208(),
            {1: "Storefront JP Gothic", 3: "StorefrontJPGothic-subset", 4: "Storefront JP Gothic",
             6: "StorefrontJPGothic", 16: "Storefront JP Gothic", 17: "Regular"})


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
