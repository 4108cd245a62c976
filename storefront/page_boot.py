"""Built pages paint first and start their scripts after: a rewrite of the prerendered HTML after `reflex export`.

React Router's prerendered page loads its scripts from the first bytes: a `modulepreload` link per module in the
head (at high priority, competing with the stylesheet and the hero image for a phone's bandwidth) and an inline
module that imports them and hydrates. On a slow phone the page is already whole in its HTML, yet its first paint
waited for the scripts: Lighthouse measured first paint at 1.2 to 2.3 s after the scripts ran, against 0.2 s once
they start after it (docs/benchmarks.md, issue 8). The rewrite moves the module list into a JSON element and
loads `assets/hydrate_after_paint.js` instead, which starts the same modules, in the same order, once the page
has been painted. A page whose boot script is not in the expected form is left unchanged.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

BOOT_SCRIPT = "/hydrate_after_paint.js"
MODULES_ELEMENT_ID = "page-modules"

_PRELOAD = re.compile(r'<link rel="modulepreload"[^>]*? href="([^"]+)"[^>]*/>')
_BOOT = re.compile(r'<script type="module" async="">(.*?)</script>', re.S)
_SIDE_EFFECT = re.compile(r'import "([^"]+)";')
_ROUTE_IMPORT = re.compile(r'import \* as (route\d+) from "([^"]+)";')
_ROUTE_TABLE = re.compile(r'window\.__reactRouterRouteModules = (\{[^}]*\});')
_ENTRY = re.compile(r'import\("([^"]+)"\);')
_BODY = re.compile(r"<body\b[^>]*>")
_NOT_PAINTED = re.compile(r"<(script|style|template)\b.*?</\1>", re.S)
_CHUNK_IMPORT = re.compile(r'(?:from|import)\s*"\./([\w.~-]+\.js)"')


def _boot_modules(script: str) -> dict | None:
    """The modules of React Router's inline boot script, or None if it holds anything else."""
    side_effects = _SIDE_EFFECT.findall(script)
    imports = _ROUTE_IMPORT.findall(script)
    table = _ROUTE_TABLE.search(script)
    entry = _ENTRY.findall(script)
    rest = _ENTRY.sub("", _ROUTE_TABLE.sub("", _ROUTE_IMPORT.sub("", _SIDE_EFFECT.sub("", script))))
    if table is None or len(entry) != 1 or rest.strip():
        return None
    route_ids = {name: json.loads(key) for key, name in re.findall(r'("(?:[^"\\]|\\.)*"):(route\d+)', table.group(1))}
    if not imports or {name for name, _ in imports} != set(route_ids):
        return None
    # In the order of the import statements: the order in which the modules were evaluated.
    return {"first": side_effects, "routes": [[route_ids[name], url] for name, url in imports], "entry": entry[0]}


def chunk_imports(assets_dir: Path) -> dict[str, list[str]]:
    """Each built script's static imports, by URL (the bundler writes them as `from"./name.js"`)."""
    return {f"/assets/{chunk.name}": [f"/assets/{name}" for name in _CHUNK_IMPORT.findall(chunk.read_text("utf-8"))]
            for chunk in sorted(assets_dir.glob("*.js"))}


def evaluation_steps(modules: dict, imports: dict[str, list[str]]) -> list[str]:
    """The modules to evaluate one at a time before the entry, each after those it imports.

    Importing the root module evaluates its whole graph, about 1 MB of scripts, in one task: 300 ms of blocked
    main thread on Lighthouse's phone. One import per task, in dependency order, leaves each task small. The entry
    hydrates when evaluated, so it stays last (its own imports are evaluated before it like the rest)."""
    entry = modules["entry"]
    steps: list[str] = []
    seen: set[str] = {entry}

    def visit(url: str) -> None:
        if url in seen:
            return
        seen.add(url)
        for dependency in imports.get(url, []):
            visit(dependency)
        steps.append(url)

    for url in [*modules["first"], *imports.get(entry, []), *(route for _, route in modules["routes"])]:
        visit(url)
    return steps


def paints_content(html: str) -> bool:
    """Whether the page's body has text or an image to paint before its scripts run. The shell of a dynamic route
    (React Router's SPA fallback: the order pages) has none, and a browser reports no first contentful paint to
    wait for; such a page starts its scripts at once."""
    opening = _BODY.search(html)
    body = _NOT_PAINTED.sub("", html[opening.end():] if opening else html)
    return bool(re.search(r"<(img|svg)\b", body) or re.sub(r"<[^>]*>", "", body).strip())


def hydrate_after_paint(html: str, imports: dict[str, list[str]] | None = None) -> str | None:
    """The page with its scripts started after its first paint; None when the page is not in the expected form."""
    boot = _BOOT.search(html)
    modules = _boot_modules(boot.group(1)) if boot else None
    if modules is None:
        return None
    modules["preload"] = _PRELOAD.findall(html)
    modules["steps"] = evaluation_steps(modules, imports or {})
    modules["paints"] = paints_content(html)
    data = json.dumps(modules, separators=(",", ":")).replace("</", "<\\/")
    replacement = (f'<script type="application/json" id="{MODULES_ELEMENT_ID}">{data}</script>'
                   f'<script type="module" src="{BOOT_SCRIPT}"></script>')
    html = html[:boot.start()] + replacement + html[boot.end():]
    return _PRELOAD.sub("", html)


def rewrite_built_pages(static_dir: Path) -> tuple[int, list[str]]:
    """Rewrites every built page in place (and its precompressed copy); returns how many pages changed and the
    pages left as they were."""
    changed, unchanged = 0, []
    imports = chunk_imports(static_dir / "assets")
    for page in sorted(static_dir.rglob("*.html")):
        rewritten = hydrate_after_paint(page.read_text(encoding="utf-8"), imports)
        if rewritten is None:
            unchanged.append(str(page.relative_to(static_dir)))
            continue
        page.write_text(rewritten, encoding="utf-8")
        compressed = page.with_name(page.name + ".gz")
        if compressed.exists():
            compressed.write_bytes(gzip.compress(rewritten.encode("utf-8"), compresslevel=9, mtime=0))
        changed += 1
    return changed, unchanged
