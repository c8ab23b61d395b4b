"""The visitor debug page: what the site knows about the current visitor and why."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from personalize.conf import personalize_settings
from personalize.visitor import Visitor


def debug_allowed(request: HttpRequest) -> bool:
    """Staff users always; everyone when DEBUG (or when DEBUG_VIEW is True); nobody when False."""
    mode = personalize_settings.DEBUG_VIEW
    if mode is False:
        return False
    user = getattr(request, "user", None)
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
