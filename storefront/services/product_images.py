"""Photographs staff upload for a watch: checked, cropped square, resized, stored where the shop serves them.

Checks, each refused with a code before anything is written: at most `max_bytes` (rules/catalogue.toml
[images]); a PNG, JPEG or WebP by its content (Pillow reads the file; the name and the browser's type
are not believed); at most 50 megapixels (a "decompression bomb" is refused before it is decoded); at
least `min_side_px` on each side, so no page shows an upscaled picture. The picture is turned upright
(EXIF), cropped to the centred square the pages show and saved as WebP in each of `sizes`: 960 px for the
product page's 480 px box on high-density screens, 480 px for the listing cards. The file names carry a
digest of the upload, so a name never changes content (served as immutable) and uploading the same file
twice adds nothing.

Files go to `settings.media_dir / "products"`, served by GET /api/media/products/<name> (storefront/api.py).
The product's `images` holds the large size's path; `card_image` gives the small one for listings.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from storefront.domain.errors import ErrorCode, Refusal
from storefront.rules import load
from storefront.settings import get_settings

URL_PREFIX = "api/media/products/"
NAME = re.compile(r"[a-z0-9-]{1,80}-[0-9]{2,4}\.webp")
FORMATS = {"PNG", "JPEG", "WEBP"}
MAX_PIXELS = 50_000_000


def directory() -> Path:
    return get_settings().media_dir / "products"


def _rules() -> dict:
    return load("catalogue")["images"]


def store(data: object, reference: str) -> str | Refusal:
    """The stored large image's path (as in `product.images`), or why the upload is refused."""
    rules = _rules()
    if not isinstance(data, (bytes, bytearray)) or not data:
        return Refusal(ErrorCode.IMAGE_TYPE_INVALID)
    if len(data) > rules["max_bytes"]:
        return Refusal(ErrorCode.IMAGE_TOO_LARGE, {"limit": rules["max_bytes"] // 1_000_000})
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind, (width, height) = probe.format, probe.size
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return Refusal(ErrorCode.IMAGE_TYPE_INVALID)
    if kind not in FORMATS:
        return Refusal(ErrorCode.IMAGE_TYPE_INVALID)
    if width * height > MAX_PIXELS:
        return Refusal(ErrorCode.IMAGE_TOO_LARGE, {"limit": rules["max_bytes"] // 1_000_000})
    smallest = rules["min_side_px"]
    if min(width, height) < smallest:
        return Refusal(ErrorCode.IMAGE_TOO_SMALL, {"width": width, "height": height, "min": smallest})
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            picture = ImageOps.exif_transpose(img).convert("RGBA" if img.mode in ("RGBA", "LA", "P") else "RGB")
    except (OSError, ValueError, Image.DecompressionBombError):  # truncated or corrupt past its header
        return Refusal(ErrorCode.IMAGE_TYPE_INVALID)
    digest = hashlib.sha256(data).hexdigest()[:16]
    stem = re.sub(r"[^a-z0-9]+", "-", reference.lower()).strip("-")[:40] + "-" + digest
    folder = directory()
    folder.mkdir(parents=True, exist_ok=True)
    for size in rules["sizes"]:
        target = folder / f"{stem}-{size}.webp"
        if target.exists():
            continue
        square = ImageOps.fit(picture, (size, size), Image.Resampling.LANCZOS)
        partial = target.with_suffix(".part")
        square.save(partial, "WEBP", quality=85, method=4)
        os.replace(partial, target)  # a reader never sees half a file
    return f"{URL_PREFIX}{stem}-{max(rules['sizes'])}.webp"


def card_image(path: str) -> str:
    """The listing cards' size of an uploaded photograph (a demo SVG is the same file at any size)."""
    sizes = _rules()["sizes"]
    if path.startswith(URL_PREFIX) and path.endswith(f"-{max(sizes)}.webp"):
        return path[: -len(f"-{max(sizes)}.webp")] + f"-{min(sizes)}.webp"
    return path


def card_srcset(path: str) -> str:
    """Every size of an uploaded photograph for a card's `srcset`, so a phone, where a card is the screen's
    width, takes the large one instead of enlarging the card size; "" for a demo SVG (sharp at any size)."""
    sizes = _rules()["sizes"]
    if not (path.startswith(URL_PREFIX) and path.endswith(f"-{max(sizes)}.webp")):
        return ""
    stem = path[: -len(f"-{max(sizes)}.webp")]
    return ", ".join(f"/{stem}-{size}.webp {size}w" for size in sorted(sizes))


def file_for(name: str) -> Path | None:
    """The stored file a request names, if the name is one this module makes and the file exists."""
    if not isinstance(name, str) or not NAME.fullmatch(name):
        return None
    path = directory() / name
    return path if path.is_file() else None
