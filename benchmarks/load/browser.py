"""One simulated visitor's browser: its headers, its cookies, and every request recorded.

Cookies are kept per visitor (a returning visitor keeps them across visits); the shared aiohttp
session keeps none. The CSRF cookie is made up by the client, as Django accepts any 32
character token whose cookie and header agree, so a visitor can post without loading a form
first.
"""

from __future__ import annotations

import asyncio
import secrets
import string
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp

from benchmarks.load.recorder import Recorder, Sample

_TOKEN_CHARACTERS = string.ascii_letters + string.digits


def csrf_token() -> str:
    """A CSRF secret Django accepts (32 letters and digits)."""
    return "".join(secrets.choice(_TOKEN_CHARACTERS) for _ in range(32))


class Browser:
    """A visitor: headers sent with every request and the cookies the site set.

    Args:
        session: the shared aiohttp session (its cookie jar is a dummy).
        base: ``http://127.0.0.1:<port>``.
        recorder: where each request is recorded.
        visitor: the visitor class, recorded with each request.
        headers: sent with every request (User-Agent, CF-IPCountry, …).
        counted: whether the package counts this visitor's impressions (bots and editors
            viewing as a segment are not counted).
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base: str,
        recorder: Recorder,
        visitor: str,
        headers: Mapping[str, str],
        *,
        counted: bool = True,
    ) -> None:
        self.session = session
        self.base = base
        self.recorder = recorder
        self.visitor = visitor
        self.headers = dict(headers)
        self.counted = counted
        self.cookies: dict[str, str] = {}

    def with_csrf(self) -> str:
        """Make sure the visitor has a CSRF cookie; returns the token for the header."""
        token = self.cookies.get("csrftoken")
        if not token:
            token = self.cookies["csrftoken"] = csrf_token()
        return token

    def _headers(self, extra: Mapping[str, str] | None) -> dict[str, str]:
        headers = {**self.headers, **(extra or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        return headers

    def _keep_cookies(self, response: aiohttp.ClientResponse) -> None:
        for name, morsel in response.cookies.items():
            if morsel["max-age"] == "0" or (not morsel.value and morsel["expires"]):
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = morsel.coded_value

    async def request(
        self,
        method: str,
        path: str,
        *,
        kind: str,
        page_id: int | None = None,
        impressions: int | Callable[[bytes], int] = 0,
        headers: Mapping[str, str] | None = None,
        **body: Any,
    ) -> tuple[int, bytes]:
        """Send a request and record it.

        Args:
            method, path: what to request.
            kind: the request kind recorded (:class:`~.recorder.Sample`).
            page_id: the page delivered, for the expected impressions per page.
            impressions: impressions a delivered answer (200) counts, or a function of its body.
            headers: extra headers for this request.
            body: ``data=`` or ``json=`` for aiohttp.

        Returns:
            The status (0 without an answer) and the body.
        """
        start = self.recorder.now()
        status, content, error = 0, b"", ""
        try:
            async with self.session.request(
                method,
                self.base + path,
                headers=self._headers(headers),
                allow_redirects=False,
                **body,
            ) as response:
                content = await response.read()
                status = response.status
                self._keep_cookies(response)
        except TimeoutError:
            error = "timeout"
        except aiohttp.ClientError as exc:
            error = type(exc).__name__
        except asyncio.CancelledError:
            error = "cancelled"
            raise
        finally:
            expected = 0
            if status == 200 and self.counted:
                expected = impressions(content) if callable(impressions) else impressions
            sample = Sample(start, self.recorder.now(), kind, self.visitor, status, error, expected)
            self.recorder.add(sample, page_id)
        return status, content
