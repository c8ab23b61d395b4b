"""The visitor id cookie, and what happens to a visitor's memory at login and logout.

After consent to personalization an anonymous visitor gets a random id in a signed first-party
cookie; their profile is stored under it. At login the anonymous profile merges into the user's
(:meth:`~personalize.profiles.BaseProfileStore.merge_into_user`) and the more recent consent
choice wins on both sides. At logout the id and the visit's attribution are dropped, so the next
anonymous visitor in that browser starts with nothing.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.http import HttpRequest, HttpResponse

from personalize.conf import personalize_settings
from personalize.consent import PERSONALIZATION, dump_consent_cookie, parse_consent_cookie
from personalize.profiles import ProfileKey, new_visitor_id, profile_store, valid_visitor_id
from personalize.signing import sign, unsign

logger = logging.getLogger(__name__)

_SALT = "personalize.visitor"


def read_visitor_id(value: str | None) -> str | None:
    """The visitor id of a genuine visitor cookie, else None."""
    data = unsign(value, _SALT)
    return valid_visitor_id(data.get("v")) if isinstance(data, dict) else None


def dump_visitor_id(visitor_id: str) -> str:
    """The signed cookie value for ``visitor_id``."""
    return sign({"v": visitor_id}, _SALT)


def cookie_secure(request: HttpRequest) -> bool:
    """Whether the package's cookies get the ``Secure`` flag (``COOKIE_SECURE``, else HTTPS)."""
    secure = personalize_settings.COOKIE_SECURE
    return request.is_secure() if secure is None else bool(secure)


def set_visitor_cookie(request: HttpRequest, response: HttpResponse, visitor_id: str) -> None:
    """Set the visitor id cookie on ``response``."""
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


def on_login(request: HttpRequest, user: Any) -> None:
    """Merge the anonymous profile into the user's and reconcile the two consent choices.

    Runs from Django's ``user_logged_in`` signal. What the response must change in the browser
    (a newer consent from the profile) is left on the request's visitor for the middleware.
    """
    from personalize.scoring_config import current_config
    from personalize.visitor import visitor_of

    conf = personalize_settings
    now = time.time()
    store = profile_store()
    user_key = ProfileKey(user_id=user.pk)
    cookie = parse_consent_cookie(request.COOKIES.get(conf.CONSENT_COOKIE))
    visitor_id = read_visitor_id(request.COOKIES.get(conf.VISITOR_COOKIE))
    merged = None
    if visitor_id is not None and cookie is not None and PERSONALIZATION in cookie[0]:
        merged = store.merge_into_user(
            visitor_id, user.pk, now, half_life_days=current_config().half_life_days
        )
    profile = merged if merged is not None else store.load(user_key)
    visitor = visitor_of(request)
    if cookie is not None and (profile is None or (profile.consent_at or 0) < cookie[1]):
        if profile is not None or PERSONALIZATION in cookie[0]:
            # The browser's choice is newer: the account keeps it as proof of consent.
            from personalize.tracking import record_consent

            record_consent(user_key, cookie[0], cookie[1])
    elif profile is not None and profile.consent_at is not None:
        # The account's choice is newer (made on another device): this browser takes it.
        visitor.pending_consent = (profile.consent, profile.consent_at)
    if visitor_id is not None:
        # The old id now names the account's profile: the browser gets a fresh one, so that
        # after the session ends the next visitor cannot reach the account's data through it.
        visitor.pending_visitor_id = new_visitor_id()
    visitor.refresh()


def on_logout(request: HttpRequest, user: Any) -> None:
    """Drop the visitor id and the attribution: the next anonymous visitor starts afresh."""
    from personalize.visitor import visitor_of

    visitor = visitor_of(request)
    visitor.forget_browser = True
    visitor.refresh()
