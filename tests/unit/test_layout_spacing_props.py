"""Radix spacing is the `spacing` prop: in Reflex 0.10 `gap="3"` on rx.flex/rx.grid is a CSS property, rendered
as `gap: 3` (no unit), which the browser drops, so the elements touch. Seen on the phone tap-target test:
every flex row and grid had lost its spacing."""

import re
from pathlib import Path

import reflex as rx

SOURCE = Path(__file__).resolve().parents[2] / "storefront"
TOKEN_GAP = re.compile(r"\bgap=\"\d\"")


def test_spacing_prop_renders_the_radix_gap_and_css_gap_token_does_not():
    assert 'gap:"3"' in str(rx.flex("x", spacing="3").render()["props"])
    assert "css" in str(rx.flex("x", gap="3").render()["props"])  # the reason for the rule below


def test_no_layout_uses_a_spacing_token_as_css_gap():
    found = [f"{path.relative_to(SOURCE.parent)}:{n}: {line.strip()}"
             for path in sorted(SOURCE.rglob("*.py"))
             for n, line in enumerate(path.read_text().splitlines(), 1) if TOKEN_GAP.search(line)]
    assert not found, "use spacing=\"N\" (Radix scale) or a CSS length, not gap=\"N\":\n" + "\n".join(found)
