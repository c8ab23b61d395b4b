"""Which link targets the demo's editors may enter: web pages, e-mail, phone, site paths.

A link's URL ends up in an ``href``. Escaping keeps it from breaking out of the attribute, but
a ``javascript:`` or ``data:`` URL runs script when clicked however well it is escaped, so the
scheme itself is checked: when the editor saves (a validation error on the field) and again
when the page is rendered (content saved before the check, or imported, renders no link).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

#: The URL schemes a link may use; anything else is refused.
ALLOWED_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
#: What browsers drop from a URL before reading its scheme (``java\tscript:`` is ``javascript:``).
_IGNORED = re.compile(r"[\x00-\x20\x7f]")
#: Why a link was refused (shown to editors).
INVALID_LINK = (
    "Enter a path on this site (/journal/) or a URL starting with http://, https://, mailto: "
    "or tel:."
)


def safe_link(url: object) -> str | None:
    """``url`` when a browser would open it as a page, e-mail or call, else None.

    Relative paths (``/journal/``, ``journal/``, ``?page=2``, ``#top``) and ``http``, ``https``,
    ``mailto`` and ``tel`` URLs are safe; other schemes (``javascript:``, ``data:``,
    ``vbscript:``), protocol-relative URLs (``//host``) and backslashes are not.
    """
    if not isinstance(url, str) or not url.strip():
        return None
    seen = _IGNORED.sub("", url)
    if "\\" in seen or seen.startswith("//"):
        return None
    try:
        scheme = urlsplit(seen).scheme
    except ValueError:
        return None
    if scheme and scheme.lower() not in ALLOWED_SCHEMES:
        return None
    return url.strip()
