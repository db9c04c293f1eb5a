"""The built editor bundle: which files the page loads, read from Vite's manifest.

`npm run build` writes the bundle into static/frontend/app/ with content-hashed names and
a manifest.json naming them; the bundle is committed, so running NodeFlow needs no Node.js.
"""

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.conf import settings

APP_DIR = Path(__file__).resolve().parent / "static" / "frontend" / "app"
MANIFEST = APP_DIR / "manifest.json"
STATIC_PREFIX = "frontend/app/"
ENTRY = "src/main.tsx"


class BundleMissing(RuntimeError):
    """The bundle has not been built (frontend/static/frontend/app/manifest.json is absent)."""


@dataclass(frozen=True)
class Bundle:
    """Static paths (relative to STATIC_URL) of the entry script, its CSS and the chunks it imports."""

    script: str
    styles: tuple
    preloads: tuple


def _read(manifest_path):
    try:
        manifest = json.loads(manifest_path.read_text())
    except FileNotFoundError:
        raise BundleMissing(
            f"{manifest_path} is missing: build the editor with `cd frontend && npm ci && npm run build`"
        ) from None
    entry = manifest[ENTRY]
    preloads, styles, seen = [], list(entry.get("css", [])), set()

    def walk(key):
        for name in manifest[key].get("imports", []):
            if name in seen:
                continue
            seen.add(name)
            preloads.append(STATIC_PREFIX + manifest[name]["file"])
            styles.extend(manifest[name].get("css", []))
            walk(name)

    walk(ENTRY)
    return Bundle(
        script=STATIC_PREFIX + entry["file"],
        styles=tuple(STATIC_PREFIX + path for path in dict.fromkeys(styles)),
        preloads=tuple(preloads),
    )


@lru_cache(maxsize=1)
def _cached(manifest_path):
    return _read(manifest_path)


def bundle():
    """The entry's files; re-read on every call when DEBUG (the bundle may be rebuilt meanwhile)."""
    return _read(MANIFEST) if settings.DEBUG else _cached(MANIFEST)
