"""Pages as a browser shows them: with their per-visitor fragments fetched and put in place."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

PLACEHOLDER = re.compile(r'<div data-pz-fragment="([^"]+)"[^>]*></div>')


def with_fragments(client: Any, response: Any) -> str:
    """The page's HTML with each ``{% personalize_fragment %}`` filled as fragments.js does."""
    html: str = response.content.decode()
    request = response.wsgi_request
    page = request.get_full_path()
    # The browser's own headers go with its fetch (cookies come from the client's jar).
    same = {
        key: value
        for key, value in request.META.items()
        if key.startswith("HTTP_") and key not in ("HTTP_COOKIE", "HTTP_HOST")
    }
    same["REMOTE_ADDR"] = request.META.get("REMOTE_ADDR", "127.0.0.1")

    def fill(match: re.Match[str]) -> str:
        fragment = client.get(unescape(match.group(1)), {"next": page}, **same)
        assert fragment.status_code == 200, fragment.status_code
        return str(fragment.content.decode())

    return PLACEHOLDER.sub(fill, html)
