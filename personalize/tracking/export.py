"""The visitor's data as one JSON document: "Download my data" and ``personalize_export``.

The document (:func:`export_for_request` for the visitor's own download, :func:`export_for_key`
for the ``personalize_export`` command) has the same keys in both cases; what only a live request
knows (the signals and the matched segments) is ``None`` in an export made by key. Every time in
it is an ISO 8601 string in UTC (``2026-12-07T09:41:21Z``), and the consent choice reads the same
in ``consent`` and in each profile's ``consent``: where it is kept (``source``), what was chosen,
and when. docs/concepts/privacy.md shows an example.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest

from personalize.conf import personalize_settings
from personalize.profiles.scoring import current_config
from personalize.profiles.store import ProfileKey, profile_store
from personalize.rules.scoring import ProfileState, profile_attributes
from personalize.signals.consent import PURPOSES
from personalize.tracking.privacy import (
    StoredProfile,
    analytics_state,
    browser_analytics,
    consent_source,
    isoformat,
    matched_segments,
    request_signals,
    stored_profiles,
)

#: Identifies the export document's layout; bumped when keys change meaning.
EXPORT_FORMAT = "wagtail-personalize/export/2"


def consent_document(
    source: str,
    purposes: list[str] | None,
    at: float | None,
    *,
    gpc: bool | None = None,
) -> dict[str, Any]:
    """The consent choice as the export states it (the same keys wherever it appears).

    Args:
        source: one of :data:`CONSENT_SOURCES`.
        purposes: the purposes granted, or None when not known (``source`` ``"unknown"``).
        at: when the choice was made (Unix time), or None.
        gpc: whether the browser sent Global Privacy Control (None outside a request).

    Returns:
        ``source``, ``explicit`` (a choice was made), ``purposes`` (granted, in display
        order), ``granted`` (every purpose to true or false), ``at`` (ISO 8601), ``gpc`` and
        ``mode``; what is not known is None.
    """
    known = None if purposes is None else [p for p in PURPOSES if p in purposes]
    return {
        "source": source,
        "explicit": None if known is None else source in ("cookie", "account"),
        "purposes": known,
        "granted": None if known is None else {p: p in known for p in PURPOSES},
        "at": isoformat(at),
        "gpc": gpc,
        "mode": personalize_settings.consent_mode,
    }


def _merge_entry(entry: Mapping[str, Any]) -> dict[str, Any]:
    at = entry.get("at")
    return {
        **entry,
        "at": isoformat(at) if isinstance(at, int | float) and not isinstance(at, bool) else None,
    }


def _stored_data(state: ProfileState, consent: dict[str, Any]) -> dict[str, Any]:
    """The stored profile with its times in ISO 8601, its consent as stated in ``consent``."""
    recorded = None
    if state.consent_at is not None:
        recorded = {"purposes": list(state.consent), "at": isoformat(state.consent_at)}
    return {
        **state.to_json(),
        "first_seen": isoformat(state.first_seen),
        "last_seen": isoformat(state.last_seen),
        "decayed_at": isoformat(state.decayed_at),
        "prefs_at": {key: isoformat(at) for key, at in state.prefs_at.items()},
        "consent": {key: consent[key] for key in ("source", "purposes", "at")},
        "consent_at": consent["at"],
        "consent_record": recorded,
        "merges": [_merge_entry(entry) for entry in state.merges],
    }


def _profile_document(profile: StoredProfile, consent: dict[str, Any]) -> dict[str, Any]:
    config = current_config()
    return {
        "identity": {"visitor_id": profile.visitor_id, "user_id": profile.user_id},
        "profile": _stored_data(profile.state, consent),
        "visitor": profile_attributes(
            profile.state, time.time(), config.stages, config.half_life_days
        ),
        "dates": {
            "first_seen": isoformat(profile.state.first_seen),
            "last_seen": isoformat(profile.state.last_seen),
            "consent_at": consent["at"],
        },
        "merges": [_merge_entry(entry) for entry in profile.state.merges],
    }


def _document(
    *,
    consent: dict[str, Any],
    profiles: list[StoredProfile],
    signals: dict[str, Any] | None,
    segments: list[dict[str, Any]] | None,
    analytics: dict[str, Any] | None = None,
) -> dict[str, Any]:
    primary = _profile_document(profiles[0], consent) if profiles else None
    return {
        "format": EXPORT_FORMAT,
        "exported_at": isoformat(time.time()),
        "consent": consent,
        "signals": signals,
        "identity": primary["identity"] if primary else None,
        "profile": primary["profile"] if primary else None,
        "visitor": primary["visitor"] if primary else None,
        "dates": primary["dates"] if primary else None,
        "merges": primary["merges"] if primary else [],
        "other_profiles": [_profile_document(p, consent) for p in profiles[1:]],
        "segments": segments,
        "analytics": analytics if analytics is not None else analytics_state(None),
    }


def export_for_request(request: HttpRequest) -> dict[str, Any]:
    """Everything known about the request's visitor, as one JSON-able document.

    Args:
        request: the current request.

    Returns:
        ``format``, ``exported_at``, ``consent`` (:func:`consent_document`), ``signals``
        (this request's geo, device, time and referral), ``identity``, ``profile`` (the stored
        data, times in ISO 8601, ``consent`` the choice that applies and ``consent_record`` the
        choice recorded on it), ``visitor`` (the ``visitor.*`` attributes it gives now),
        ``dates`` (ISO 8601), ``merges`` (the merge audit), ``other_profiles`` (the browser's
        anonymous profile when a user's is shown first), ``segments`` (the matched segments and
        why) and ``analytics`` (exposures, goals and test assignments remembered for this
        browser's visitor id). Every time is ISO 8601 in UTC.
    """
    from personalize.visitors.identity import read_visitor_cookie
    from personalize.visitors.visitor import visitor_of

    visitor = visitor_of(request)
    cookie = read_visitor_cookie(request.COOKIES.get(personalize_settings.VISITOR_COOKIE))
    consent = visitor.consent
    return _document(
        consent=consent_document(
            consent_source(request, consent), consent.purposes, consent.at, gpc=consent.gpc
        ),
        profiles=stored_profiles(request),
        signals=request_signals(visitor.attributes),
        segments=matched_segments(visitor.explain()),
        analytics=browser_analytics(cookie),
    )


def export_for_key(key: ProfileKey) -> dict[str, Any]:
    """Everything stored under ``key``, in the layout of :func:`export_for_request`.

    Outside a request the consent is the one recorded on the profile (source ``"account"``);
    a profile that records none (an anonymous visitor's: their browser keeps the choice) has
    source ``"unknown"`` with ``purposes``, ``granted`` and ``explicit`` None. ``gpc``,
    ``signals`` and ``segments`` are None.
    """
    store = profile_store()
    state = store.load(key)
    profiles = []
    if state is not None:
        profiles.append(StoredProfile(key, store.visitor_id_of(key), key.user_id, state))
    if state is not None and state.consent_at is not None:
        consent = consent_document("account", list(state.consent), state.consent_at)
    else:
        consent = consent_document("unknown", None, None)
    visitor_id = key.visitor_id or store.visitor_id_of(key)
    return _document(
        consent=consent,
        profiles=profiles,
        signals=None,
        segments=None,
        analytics=analytics_state(visitor_id),
    )
