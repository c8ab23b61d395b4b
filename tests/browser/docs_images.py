"""The docs' screenshots, taken by the browser tests and written only when asked for."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

#: Where the docs keep their screenshots.
DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"


def for_docs(source: Path, name: str) -> Path | None:
    """Copy a screenshot to ``docs/images/<name>.png`` when ``PERSONALIZE_DOCS_IMAGES=1``.

    ``make docs-images`` sets it; a plain test run leaves the docs alone, so running the suite
    never changes tracked files.

    Args:
        source: the screenshot (under ``tests/artifacts/``).
        name: the docs image's name, without ``.png``.

    Returns:
        The docs image written, or None when not asked for.
    """
    if os.environ.get("PERSONALIZE_DOCS_IMAGES") != "1":
        return None
    DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
    target = DOCS_IMAGES / f"{name}.png"
    shutil.copyfile(source, target)
    return target
