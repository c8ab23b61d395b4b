"""The visitor's privacy page: their consent, what the site knows, a download and erasure.

``personalize/privacy.html`` extends ``personalize/base.html``, a minimal standalone page. To
show the privacy page inside a site's own layout, add ``personalize/base.html`` to the project's
templates directory that maps the package's blocks into the site's::

    {% extends "base.html" %}
    {% block title %}{% block personalize_title %}{% endblock %}{% endblock %}
    {% block content %}{% block personalize_content %}{% endblock %}{% endblock %}
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods, require_safe

from personalize.blocks.explanations import (
    active_phrases,
    attribute_label,
    format_value,
    readable_key,
    rule_values,
)
from personalize.conf import personalize_settings
from personalize.models.settings import banner_texts
from personalize.profiles.scoring import current_config
from personalize.signals.consent import OPTIONAL_PURPOSES, PERSONALIZATION
from personalize.tracking.erasure import erase_visitor
from personalize.tracking.export import export_for_request
from personalize.tracking.privacy import (
    browser_analytics,
    consent_source,
    matched_segments,
    profile_summary,
    request_signals,
    stored_profiles,
    timestamp,
)
from personalize.views.endpoints import answers_store_errors, json_response, see_other, wants_json
from personalize.views.forms import EraseForm
from personalize.visitors.identity import read_visitor_cookie
from personalize.visitors.visitor import visitor_of

#: The message shown after erasure.
ERASED_MESSAGE = gettext_lazy("Everything we stored about you has been erased.")
#: Context flag that keeps ``{% personalize_consent_banner %}`` off a page with its own form.
HIDE_BANNER = "personalize_hide_banner"

#: Per signal group: heading, where it comes from, and the keys shown with their labels.
_SIGNALS: dict[str, tuple[Any, Any, dict[str, Any]]] = {
    "geo": (
        gettext_lazy("Location"),
        gettext_lazy("Estimated from your IP address for this request only; not stored."),
        {
            "country": gettext_lazy("Country"),
            "region": gettext_lazy("Region"),
            "city": gettext_lazy("City"),
            "continent": gettext_lazy("Continent"),
            "timezone": gettext_lazy("Time zone"),
        },
    ),
    "device": (
        gettext_lazy("Device"),
        gettext_lazy("Read from what your browser says about itself; not stored."),
        {
            "type": gettext_lazy("Device type"),
            "os": gettext_lazy("Operating system"),
            "browser": gettext_lazy("Browser"),
        },
    ),
    "time": (
        gettext_lazy("Time"),
        gettext_lazy("Your local time, from your location or your browser's time zone."),
        {
            "date": gettext_lazy("Date"),
            "time": gettext_lazy("Time"),
            "timezone": gettext_lazy("Time zone"),
        },
    ),
    "referral": (
        gettext_lazy("How you arrived"),
        gettext_lazy(
            "From the link you followed to this site; remembered for your current visit only "
            "if you allowed personalization."
        ),
        {
            "channel": gettext_lazy("Channel"),
            "host": gettext_lazy("Referring site"),
            "source": gettext_lazy("Campaign source"),
            "medium": gettext_lazy("Campaign medium"),
            "campaign": gettext_lazy("Campaign"),
        },
    ),
}


def _display(value: Any, path: str) -> str | None:
    """An attribute's value in words (None stays None: the template says "unknown")."""
    if value is None or value == "" or value == [] or value == ():
        return None
    return format_value(value, path)


def _signal_groups(attributes: Any) -> list[dict[str, Any]]:
    signals = request_signals(attributes)
    return [
        {
            "key": group,
            "title": title,
            "note": note,
            "rows": [
                (label, _display(signals[group].get(key), f"{group}.{key}"))
                for key, label in labels.items()
            ],
        }
        for group, (title, note, labels) in _SIGNALS.items()
        if group in signals
    ]


def _segments(explanation: list[dict[str, Any]], segment_set: Any) -> list[dict[str, Any]]:
    """The matched segments, each rule's values as ``(label, words)``, never attribute paths,
    and its phrase in the active language."""
    segments = matched_segments(explanation)
    for segment in segments:
        compiled = segment_set.get(segment.get("slug"))
        phrases = active_phrases(segment_set, compiled.id) if compiled is not None else {}
        for rule in segment["rules"]:
            rule["values"] = rule_values(rule)
            rule["summary"] = phrases.get(rule["summary"], rule["summary"])
    return segments


def _in_words(summary: dict[str, Any]) -> dict[str, Any]:
    """A profile summary with words for what it holds as keys: interests, stages, preferences."""
    return {
        **summary,
        "interests": [
            (
                attribute_label(f"visitor.interests.{tag}"),
                format_value(points, f"visitor.interests.{tag}"),
            )
            for tag, points in summary["interests"]
        ],
        "stage": _display(summary["stage"], "visitor.stage"),
        "peak_stage": _display(summary["peak_stage"], "visitor.peak_stage"),
        "prefs": [(key, readable_key(key), value, at) for key, value, at in summary["prefs"]],
    }


def _export_in_words(document: dict[str, Any]) -> dict[str, Any]:
    """The export with each segment rule's values in words as well (``values``)."""
    for segment in document.get("segments") or []:
        for rule in segment["rules"]:
            rule["values"] = [
                {"attribute": path, "label": label, "text": text}
                for path, (label, text) in zip(rule["attributes"], rule_values(rule), strict=True)
            ]
    return document


def _purposes(consent: Any, texts: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {"name": purpose, "label": texts[f"{purpose}_label"], "granted": consent.allows(purpose)}
        for purpose in OPTIONAL_PURPOSES
    ]


def _notices(request: HttpRequest) -> list[str]:
    notices = [str(message) for message in messages.get_messages(request)]
    if request.GET.get("erased") == "1" and not hasattr(request, "_messages"):
        notices.append(str(ERASED_MESSAGE))
    return notices


def _private(response: HttpResponse) -> HttpResponse:
    patch_cache_control(response, private=True, no_store=True)
    return response


@never_cache
@require_safe
def privacy(request: HttpRequest) -> HttpResponse:
    """The privacy page (``personalize:privacy``): consent, signals, profile, segments, rights.

    Reading it creates no profile and no visitor id; the response is private and not stored.
    """
    visitor = visitor_of(request)
    consent = visitor.consent
    config = current_config()
    texts = banner_texts(config.banner)
    attributes = visitor.attributes
    context = {
        "consent": consent,
        "consent_source": consent_source(request, consent),
        "consent_at": timestamp(consent.at),
        "consent_mode": personalize_settings.consent_mode,
        "purposes": _purposes(consent, texts),
        "texts": texts,
        "half_life_days": f"{config.half_life_days:g}",
        "signals": _signal_groups(attributes),
        "profiles": [
            {"stored": stored, "summary": _in_words(profile_summary(stored.state))}
            for stored in stored_profiles(request)
        ],
        "may_edit_preferences": consent.allows(PERSONALIZATION),
        "segments": _segments(visitor.explain(), visitor.segment_set),
        "analytics": browser_analytics(
            read_visitor_cookie(request.COOKIES.get(personalize_settings.VISITOR_COOKIE))
        ),
        "privacy_url": reverse("personalize:privacy"),
        "notices": _notices(request),
        "erase_form": EraseForm(),
        HIDE_BANNER: True,
    }
    return _private(render(request, "personalize/privacy.html", context))


@never_cache
@require_safe
def privacy_export(request: HttpRequest) -> HttpResponse:
    """Everything known about the visitor as a JSON download (``personalize:privacy_export``)."""
    response = JsonResponse(
        _export_in_words(export_for_request(request)),
        json_dumps_params={"indent": 2, "ensure_ascii": False},
    )
    day = datetime.now(UTC).date().isoformat()
    response["Content-Disposition"] = f'attachment; filename="personal-data-{day}.json"'
    return _private(response)


@never_cache
@require_http_methods(["GET", "POST"])
@csrf_protect
@answers_store_errors
def privacy_erase(request: HttpRequest) -> HttpResponse:
    """Erase everything stored about the visitor (``personalize:privacy_erase``).

    GET shows the confirmation step; a POST needs ``confirm`` ticked. Deletes the visitor's
    profiles and their cached copies, and makes the browser forget the visitor id, the visit's
    attribution, the time zone and the consent choice; then redirects to the privacy page.
    """
    form = EraseForm(request.POST if request.method == "POST" else None)
    if not form.is_valid():
        if request.method == "POST" and wants_json(request):
            return json_response({"error": str(form.errors["confirm"][0])}, status=400)
        context = {
            "erase_form": form,
            "privacy_url": reverse("personalize:privacy"),
            HIDE_BANNER: True,
        }
        return _private(render(request, "personalize/privacy_erase.html", context))
    deleted = erase_visitor(request)
    if wants_json(request):
        return json_response({"erased": deleted})
    target = reverse("personalize:privacy")
    if hasattr(request, "_messages"):
        messages.success(request, ERASED_MESSAGE)
    else:
        target += "?erased=1"
    return see_other(target)
