"""Visitor-facing endpoints: the consent choice, script events, stated preferences, debug page.

Every endpoint works as a plain HTML form post (CSRF protected, redirecting with ``303 See
Other``) and answers JSON to scripts that ``Accept: application/json``. Bad input gets a 400 with
a reason, never a server error; a profile store that cannot be written gets a 503. Answers never
carry exception text: every message is one of the package's own. Each post counts against the
client's rate limit (:mod:`personalize.visitors.ratelimit`); over it, the answer is a 429 with
``Retry-After``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import render
from django.utils.cache import patch_cache_control
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST

from personalize.conf import personalize_settings
from personalize.profiles.store import ProfileStoreError
from personalize.signals.consent import PERSONALIZATION
from personalize.tracking.choices import change_consent, set_preference
from personalize.tracking.events import track
from personalize.views.forms import ConsentForm, EventError, PreferenceForm, clean_event
from personalize.visitors.ratelimit import MESSAGE, retry_after, too_many_requests
from personalize.visitors.stand_in import real_user
from personalize.visitors.visitor import Visitor, visitor_of

logger = logging.getLogger(__name__)

#: Largest event body accepted from a script (bytes).
EVENT_BODY_LIMIT = 4096
#: The answer when the profile store cannot be written (nothing about why).
UNAVAILABLE_MESSAGE = _("This could not be saved right now. Please try again later.")


def wants_json(request: HttpRequest) -> bool:
    """Whether the client asked for JSON rather than a page (``Accept: application/json``)."""
    return request.accepts("application/json") and not request.accepts("text/html")


def safe_next(request: HttpRequest, value: object, default: str = "/") -> str:
    """``value`` when it is a URL on this site (relative, or this host), else ``default``."""
    if isinstance(value, str) and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return default


def see_other(url: str) -> HttpResponseRedirect:
    """A ``303 See Other`` redirect: after a form post, the browser GETs ``url``."""
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


def json_response(data: dict[str, Any], status: int = 200) -> JsonResponse:
    """A JSON answer no cache keeps (it is about one visitor)."""
    response = JsonResponse(data, status=status)
    patch_cache_control(response, private=True, no_store=True)
    return response


def bad_request(request: HttpRequest, message: str) -> HttpResponse:
    """A 400 carrying ``message``: ``{"error": ...}`` for scripts, plain text for browsers."""
    if wants_json(request):
        return json_response({"error": message}, status=400)
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


def rate_limited(request: HttpRequest, name: str, **json_body: Any) -> HttpResponse | None:
    """A 429 when the client is over the limit ``name``, else None (the request is counted).

    Args:
        request: the request.
        name: the limit (``RATE_LIMITS``).
        json_body: fields of a JSON answer (sent whatever the client accepts), else JSON only
            for clients that ask for it.
    """
    seconds = retry_after(request, name)
    if seconds is None:
        return None
    if json_body:
        return too_many_requests(seconds, json=True, body={**json_body, "error": MESSAGE})
    json = wants_json(request) or request.content_type == "application/json"
    return too_many_requests(seconds, json=json)


def answers_store_errors(
    view: Callable[..., HttpResponse],
) -> Callable[..., HttpResponse]:
    """Answer a profile store that cannot be written with a generic 503 (the error is logged)."""

    @wraps(view)
    def answered(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except (DatabaseError, ProfileStoreError):
            logger.exception("%s: the profile store could not be written", view.__name__)
            if wants_json(request) or request.content_type == "application/json":
                return json_response({"error": UNAVAILABLE_MESSAGE}, status=503)
            response = HttpResponse(
                UNAVAILABLE_MESSAGE, status=503, content_type="text/plain; charset=utf-8"
            )
            patch_cache_control(response, private=True, no_store=True)
            return response

    return answered


def _form_errors(form: Any) -> str:
    return " ".join(
        f"{field}: {error}" for field, errors in form.errors.items() for error in errors
    )


class BodyError(ValueError):
    """A request body that cannot be read; the message says why."""


def _json_object(request: HttpRequest) -> dict[str, Any]:
    """The request's JSON body, which must be an object.

    Raises:
        BodyError: the body is not a JSON object.
    """
    try:
        payload = json.loads(request.body or b"null")
    except RecursionError:
        raise BodyError("The body is nested too deeply.") from None
    except (UnicodeDecodeError, ValueError):
        # The parser's own message is not repeated: answers never carry exception text.
        raise BodyError("The body is not valid JSON.") from None
    if not isinstance(payload, dict):
        raise BodyError('The body must be a JSON object such as {"name": "video_play"}.')
    return payload


def form_data(request: HttpRequest) -> Any:
    """The posted fields: the form body, or the object of a JSON body (for scripts).

    Raises:
        BodyError: a JSON body that is not an object.
    """
    if request.content_type == "application/json":
        return _json_object(request)
    return request.POST


@require_POST
@csrf_protect
@answers_store_errors
def consent(request: HttpRequest) -> HttpResponse:
    """Record the visitor's consent choice (``personalize:consent``).

    Form fields: ``purposes`` (repeated: ``personalization``, ``analytics``) or a button
    ``choice=all`` / ``choice=necessary``, and ``next`` (a URL on this site); scripts may post
    the same fields as a JSON object. Redirects to ``next``; answers ``{"consent": [...],
    "gpc": bool}`` to a client that accepts JSON.
    """
    if (limited := rate_limited(request, "consent")) is not None:
        return limited
    try:
        form = ConsentForm(form_data(request))
    except BodyError as exc:
        return bad_request(request, str(exc))
    if not form.is_valid():
        return bad_request(request, _form_errors(form))
    state = change_consent(request, form.granted())
    if wants_json(request):
        return json_response({"consent": state.purposes, "gpc": state.gpc})
    return see_other(safe_next(request, form.cleaned_data["next"]))


def _too_large() -> JsonResponse:
    message = f"The body is larger than {EVENT_BODY_LIMIT} bytes."
    return json_response({"tracked": False, "error": message}, status=413)


@require_POST
@csrf_protect
@answers_store_errors
def events(request: HttpRequest) -> HttpResponse:
    """Record an event a script reports (``personalize:events``).

    The body is JSON (``{"name": "video_play", "target": "intro", "tags": ["skiing"]}``) with
    the CSRF token in the ``X-CSRFToken`` header, or a form with the same fields (repeat
    ``tags``) and ``csrfmiddlewaretoken``, which ``navigator.sendBeacon(url, formData)`` can
    send. Answers ``{"tracked": bool}``: false without consent to personalization, for bots
    and in previews. Bodies over 4 KB get a 413, invalid events a 400 with an ``error``.
    """
    if (limited := rate_limited(request, "events", tracked=False)) is not None:
        return limited
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return json_response({"tracked": False, "error": "Invalid Content-Length."}, status=400)
    if declared > EVENT_BODY_LIMIT:
        return _too_large()
    try:
        if request.content_type == "application/json":
            if len(request.body) > EVENT_BODY_LIMIT:
                return _too_large()
            event = clean_event(_json_object(request))
        else:
            event = clean_event(request.POST, tags=request.POST.getlist("tags"))
    except (BodyError, EventError) as exc:
        return json_response({"tracked": False, "error": str(exc)}, status=400)
    tracked = track(request, event["name"], target=event["target"], tags=event["tags"])
    return json_response({"tracked": tracked})


@require_POST
@csrf_protect
@answers_store_errors
def preference(request: HttpRequest) -> HttpResponse:
    """Set or remove a stated preference (``personalize:preference``).

    Form fields (or a JSON object): ``key``, ``value`` (empty, or ``remove=1``, removes it) and
    ``next``. Without consent to personalization nothing is stored and the visitor is sent back
    to ``next`` (a preference form can say why, from the visitor's consent), unless the form
    also sends ``grant=personalization`` — the visitor's explicit "Allow personalization and
    save" — which grants that purpose (keeping any other purpose already granted) first.
    Answers ``{"stored": bool, "key", "value", "consent": bool}`` to a client that accepts JSON.
    """
    if (limited := rate_limited(request, "preferences")) is not None:
        return limited
    try:
        form = PreferenceForm(form_data(request))
    except BodyError as exc:
        return bad_request(request, str(exc))
    if not form.is_valid():
        return bad_request(request, _form_errors(form))
    key, value = form.cleaned_data["key"], form.new_value()
    visitor = visitor_of(request)
    if form.cleaned_data["grant"] == PERSONALIZATION and not visitor.consent.allows(
        PERSONALIZATION
    ):
        change_consent(request, {*visitor.consent.granted, PERSONALIZATION})
    stored = set_preference(request, key, value)
    if wants_json(request):
        allowed = visitor_of(request).consent.allows(PERSONALIZATION)
        return json_response({"stored": stored, "key": key, "value": value, "consent": allowed})
    target = safe_next(request, form.cleaned_data["next"])
    return see_other(target if "#" in target else f"{target}#pz-pref-{key}")


def debug_allowed(request: HttpRequest) -> bool:
    """Staff users always; everyone when DEBUG (or when DEBUG_VIEW is True); nobody when False.

    An editor simulating a signed-out visitor is still the editor here.
    """
    mode = personalize_settings.DEBUG_VIEW
    if mode is False:
        return False
    user = real_user(getattr(request, "user", None))
    if user is not None and user.is_authenticated and user.is_staff:
        return True
    return bool(mode) or bool(settings.DEBUG)


def _flatten(attributes: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for key, value in attributes.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            rows.extend(_flatten(value, path + "."))
        else:
            rows.append((path, json.dumps(value, ensure_ascii=False, default=str)))
    return rows


@never_cache
def visitor_debug(request: HttpRequest) -> HttpResponse:
    """Show the visitor's attributes, matched segments and the per-rule explanation."""
    if not debug_allowed(request):
        raise Http404("The personalization debug page is not enabled.")
    visitor = getattr(request, "visitor", None) or Visitor(request)
    context = {
        "visitor": visitor,
        "rows": _flatten(dict(visitor.attributes)),
        "explanation": visitor.explain(),
        "matched": visitor.segments,
    }
    return render(request, "personalize/debug.html", context)
