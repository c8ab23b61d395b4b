"""What happens to a visitor's memory at login and logout.

At login the anonymous profile merges into the user's
(:meth:`~personalize.profiles.store.BaseProfileStore.merge_into_user`) and the more recent
consent choice wins on both sides. At logout the id and the visit's attribution are dropped, so
the next anonymous visitor in that browser starts with nothing.
"""

from __future__ import annotations

import time
from typing import Any

from django.http import HttpRequest

from personalize.conf import personalize_settings
from personalize.profiles.scoring import current_config
from personalize.profiles.store import ProfileKey, new_visitor_id, profile_store
from personalize.signals.consent import PERSONALIZATION, parse_consent_cookie
from personalize.tracking.choices import record_consent
from personalize.tracking.events import store_first_visit
from personalize.visitors.identity import read_visitor_id
from personalize.visitors.visitor import visitor_of


def on_login(request: HttpRequest, user: Any) -> None:
    """Merge the anonymous profile into the user's and reconcile the two consent choices.

    Runs from Django's ``user_logged_in`` signal. What the response must change in the browser
    (a newer consent from the profile) is left on the request's visitor for the middleware.
    """
    conf = personalize_settings
    now = time.time()
    store = profile_store()
    user_key = ProfileKey(user_id=user.pk)
    cookie = parse_consent_cookie(request.COOKIES.get(conf.CONSENT_COOKIE))
    visitor_id = read_visitor_id(request.COOKIES.get(conf.VISITOR_COOKIE))
    merged = None
    if visitor_id is not None and cookie is not None and PERSONALIZATION in cookie[0]:
        # The browser brought the id back: the first visit it carries joins the account too.
        store_first_visit(visitor_of(request), visitor_id)
        merged = store.merge_into_user(
            visitor_id, user.pk, now, half_life_days=current_config().half_life_days
        )
    profile = merged if merged is not None else store.load(user_key)
    visitor = visitor_of(request)
    if cookie is not None and (profile is None or (profile.consent_at or 0) < cookie[1]):
        if profile is not None or PERSONALIZATION in cookie[0]:
            # The browser's choice is newer: the account keeps it as proof of consent.
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
    visitor = visitor_of(request)
    visitor.forget_browser = True
    visitor.refresh()
