"""The visitor simulator: editors choose a visitor's signals and see the site as that visitor.

Routed under the Wagtail admin (``/admin/personalize/simulate/``, see ``wagtail_hooks``), so only
users who may use the admin reach it. The form keeps the simulation in the editor's session
(:mod:`personalize.visitors.simulated`); every page then shows the "Simulating: …" bar
(:mod:`personalize.blocks.simulation_bar`) until the editor exits. Both views may be framed by the
admin itself: the page editor's preview opens the form inside its panel.
"""

from __future__ import annotations

from functools import cache

from django.contrib.staticfiles import finders
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.cache import patch_cache_control
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_http_methods, require_POST

from personalize.views.endpoints import safe_next, see_other
from personalize.views.simulator_form import NEXT_LENGTH, SimulationForm
from personalize.visitors.simulated import (
    hint_simulating,
    may_view_as,
    save_simulation,
    stop_simulation,
    stored_simulation,
)

TEMPLATE = "personalize/simulator/form.html"
#: The searchable select, when the package ships it.
TOM_SELECT = "personalize/vendor/tom-select/tom-select.complete.min.js"


@cache
def _has_tom_select() -> bool:
    return finders.find(TOM_SELECT) is not None


def _next(request: HttpRequest) -> str:
    """Where to go afterwards: ``next``, else the page the editor came from (same site only).

    A preview has no address of its own to pass on: the form, opened inside the preview panel,
    comes back to the preview it was opened from (the ``Referer``).
    """
    value = request.POST.get("next") or request.GET.get("next")
    if not value:
        value = request.headers.get("referer", "")
    if not isinstance(value, str) or len(value) > NEXT_LENGTH:
        return "/"
    return safe_next(request, value)


def _private(response: HttpResponse) -> HttpResponse:
    patch_cache_control(response, private=True, no_store=True)
    return response


@xframe_options_sameorigin
@require_http_methods(["GET", "POST"])
def simulator(request: HttpRequest) -> HttpResponse:
    """The form: GET shows it (filled in with the running simulation), POST starts it."""
    if not may_view_as(request):
        raise PermissionDenied
    running = stored_simulation(request)
    if request.method == "POST":
        form = SimulationForm(request.POST)
        if form.is_valid():
            save_simulation(request, form.simulation(request.user.pk))
            response = see_other(_next(request))
            hint_simulating(request, response, on=True)
            return _private(response)
    else:
        initial = {**SimulationForm.initial_for(running), "next": _next(request)}
        form = SimulationForm(initial=initial)
    context = {
        "form": form,
        "running": running is not None,
        # Checked again: a rejected form's own ``next`` may point anywhere.
        "next": _next(request),
        "tom_select": _has_tom_select(),
    }
    status = 400 if form.is_bound else 200
    return _private(render(request, TEMPLATE, context, status=status))


@xframe_options_sameorigin
@require_POST
def exit_simulation(request: HttpRequest) -> HttpResponse:
    """End the editor's simulation (or "view as") and go back to the page."""
    if not may_view_as(request):
        raise PermissionDenied
    stop_simulation(request)
    response = see_other(_next(request))
    hint_simulating(request, response, on=False)
    return _private(response)


#: Included by ``wagtail_hooks`` under the admin, namespace ``personalize_simulator``.
urlpatterns = [
    path("", simulator, name="form"),
    path("exit/", exit_simulation, name="exit"),
]
