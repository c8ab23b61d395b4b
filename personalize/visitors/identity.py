"""The visitor id cookie: who an anonymous, consenting visitor is from one request to the next.

After consent to personalization an anonymous visitor gets a random id in a signed first-party
cookie; their profile is stored under it. What happens to it at login and logout is
:mod:`personalize.tracking.login`.

A visitor id minted in a request is not trusted to last until the browser sends it back: a
client that keeps no cookies (a scraper, a forged consent cookie) would otherwise leave a
profile row and per-visitor cache keys behind on every request. What the first request would
have stored (when it happened, the page it showed, the visitor's analytics state) rides in the
signed cookie instead (:class:`VisitorCookie`) and is stored once the cookie comes back.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest, HttpResponse

from personalize.conf import personalize_settings
from personalize.profiles.store import valid_visitor_id
from personalize.signals.consent import dump_consent_cookie
from personalize.signing import sign, unsign

logger = logging.getLogger(__name__)

_SALT = "personalize.visitors.visitor"


#: Most analytics fields a visitor cookie carries, and the longest JSON it may hold (the signed
#: value stays under :data:`personalize.signing.MAX_LENGTH`).
CARRIED_FIELDS = 16
_MAX_PAYLOAD = 1400


@dataclass(frozen=True, slots=True)
class VisitorCookie:
    """What the visitor id cookie holds.

    Attributes:
        visitor_id: the visitor id.
        minted_at: when the id was minted (Unix time), for the profile's first visit.
        first_page: the page viewed in the request that minted the id, scored once a profile
            is stored.
        carried: analytics state of that first request (visitor-hash field to value), stored
            when the browser sends the cookie back.
    """

    visitor_id: str
    minted_at: float | None = None
    first_page: int | None = None
    carried: Mapping[str, str] = field(default_factory=dict)


def read_visitor_cookie(value: str | None) -> VisitorCookie | None:
    """The content of a genuine visitor cookie, else None (never raises on hostile input)."""
    data = unsign(value, _SALT)
    if not isinstance(data, dict):
        return None
    visitor_id = valid_visitor_id(data.get("v"))
    if visitor_id is None:
        return None
    minted_at = data.get("t")
    first_page = data.get("p")
    carried = data.get("a")
    return VisitorCookie(
        visitor_id,
        minted_at=float(minted_at) if isinstance(minted_at, int | float) else None,
        first_page=first_page if isinstance(first_page, int) else None,
        carried=(
            {k: v for k, v in carried.items() if isinstance(k, str) and isinstance(v, str)}
            if isinstance(carried, dict)
            else {}
        ),
    )


def read_visitor_id(value: str | None) -> str | None:
    """The visitor id of a genuine visitor cookie, else None."""
    cookie = read_visitor_cookie(value)
    return None if cookie is None else cookie.visitor_id


def dump_visitor_id(visitor_id: str | VisitorCookie) -> str:
    """The signed cookie value for a visitor id (with what it carries, when given a cookie).

    Carried analytics fields that would make the value too long for a cookie are left out.
    """
    cookie = visitor_id if isinstance(visitor_id, VisitorCookie) else VisitorCookie(visitor_id)
    payload: dict[str, Any] = {"v": cookie.visitor_id}
    if cookie.minted_at is not None:
        payload["t"] = int(cookie.minted_at)
    if cookie.first_page is not None:
        payload["p"] = cookie.first_page
    carried: dict[str, str] = {}
    for name, value in list(cookie.carried.items())[:CARRIED_FIELDS]:
        trial = {**payload, "a": {**carried, name: value}}
        if len(json.dumps(trial, separators=(",", ":"))) > _MAX_PAYLOAD:
            logger.debug("visitor cookie full: %r not carried", name)
            continue
        carried[name] = value
    if carried:
        payload["a"] = carried
    return sign(payload, _SALT)


def cookie_secure(request: HttpRequest) -> bool:
    """Whether the package's cookies get the ``Secure`` flag (``COOKIE_SECURE``, else HTTPS)."""
    secure = personalize_settings.COOKIE_SECURE
    return request.is_secure() if secure is None else bool(secure)


def set_visitor_cookie(
    request: HttpRequest, response: HttpResponse, visitor_id: str | VisitorCookie
) -> None:
    """Set the visitor id cookie on ``response`` (a :class:`VisitorCookie` with what it carries)."""
    conf = personalize_settings
    response.set_cookie(
        conf.VISITOR_COOKIE,
        dump_visitor_id(visitor_id),
        max_age=conf.VISITOR_COOKIE_AGE,
        secure=cookie_secure(request),
        httponly=True,
        samesite="Lax",
    )


def set_consent_cookie(
    request: HttpRequest, response: HttpResponse, purposes: Any, at: float
) -> None:
    """Set the consent cookie (readable by scripts: a banner may need to know the choice)."""
    conf = personalize_settings
    response.set_cookie(
        conf.CONSENT_COOKIE,
        dump_consent_cookie(purposes, at),
        max_age=conf.CONSENT_COOKIE_AGE,
        secure=cookie_secure(request),
        httponly=False,
        samesite="Lax",
    )


def forget_browser(response: HttpResponse) -> None:
    """Delete the visitor id and attribution cookies (logout, erase, consent withdrawn)."""
    conf = personalize_settings
    for name in (conf.VISITOR_COOKIE, conf.ATTRIBUTION_COOKIE, conf.TIMEZONE_COOKIE):
        response.delete_cookie(name, samesite="Lax")
