"""The simulator and "View as" entries of the Wagtail userbar on live pages (editors only)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from wagtail.admin.userbar import BaseItem

from personalize.middleware import VIEW_AS_PARAMETER
from personalize.pages import has_personalized_fields
from personalize.visitors.registry import current_segments
from personalize.visitors.simulated import SimulatedVisitor
from personalize.visitors.stand_in import real_user


class ViewAsSegmentItem(BaseItem):  # type: ignore[misc]
    """The simulator, and links that reload the live page as each segment's visitor sees it.

    "Simulate a visitor…" opens the simulator's form; "View as" lasts while the editor
    navigates, until "View as me" (or the bar's "Exit") ends it.

    Works with both userbar APIs: ``render_html(parent_context)`` (Wagtail 8) and
    ``render(request)`` (Wagtail 7). Like Wagtail's own items it renders its template with a
    plain context: the page's context processors already ran once for the page.
    """

    template_name = "personalize/userbar/view_as.html"
    template = template_name

    def __init__(self, page: Any) -> None:
        self.page = page

    @staticmethod
    def offered_on(page: Any) -> bool:
        """Whether ``page`` gets the item: a saved page whose type has personalized blocks.

        The same pages get the per-segment preview modes. Other pages look the same to every
        audience, and their userbar stays exactly Wagtail's, with no query added.
        """
        return bool(getattr(page, "id", None)) and has_personalized_fields(type(page))

    def choices(self, request: HttpRequest) -> list[dict[str, Any]]:
        """The simulator, then one entry per audience: the editor, the default visitor, each
        live segment."""
        visitor = getattr(request, "visitor", None)
        simulation = visitor.simulation if isinstance(visitor, SimulatedVisitor) else None
        current = request.GET.get(VIEW_AS_PARAMETER) or (simulation and simulation.view_as) or ""
        simulating = simulation is not None and simulation.view_as is None
        base = request.path
        return [
            *self._simulator(request, simulating),
            {
                "label": _("View as me"),
                "url": base,
                "active": not current and not simulating,
                "icon": "user",
                # A running simulation or "view as" ends with a POST (as the bar's "Exit").
                "exit_url": _reverse("personalize_simulator:exit") if simulation else None,
            },
            {
                "label": _("View as default visitor"),
                "url": f"{base}?{urlencode({VIEW_AS_PARAMETER: '-'})}",
                "active": current == "-",
                "icon": "view",
            },
            *(
                {
                    "label": _("View as: %(segment)s") % {"segment": segment.name},
                    "url": f"{base}?{urlencode({VIEW_AS_PARAMETER: segment.slug})}",
                    "active": current == segment.slug,
                    "icon": "group",
                }
                for segment in current_segments().segments
            ),
        ]

    @staticmethod
    def _simulator(request: HttpRequest, simulating: bool) -> list[dict[str, Any]]:
        url = _reverse("personalize_simulator:form")
        if url is None:
            return []
        label = _("Edit the simulated visitor…") if simulating else _("Simulate a visitor…")
        next_url = urlencode({"next": request.get_full_path()})
        return [{"label": label, "url": f"{url}?{next_url}", "active": False, "icon": "desktop"}]

    def _render(self, request: HttpRequest | None) -> str:
        if request is None or not self.page.id or getattr(request, "is_preview", False):
            return ""
        # Answered for the editor, also when the page renders signed out for a simulation.
        if not self.page.permissions_for_user(real_user(request.user)).can_edit():
            return ""
        choices = self.choices(request)
        context = {
            "self": self,
            "request": request,
            "choices": choices,
            "next": request.path,
            # Only the exit of a running simulation is a form.
            "csrf_token": get_token(request) if any(c.get("exit_url") for c in choices) else "",
        }
        # No ``request=``: that would run every context processor again for this item.
        return render_to_string(self.template_name, context)

    def render_html(self, parent_context: Any) -> str:
        """Wagtail 8 userbar API."""
        return self._render(parent_context.get("request"))

    def render(self, request: HttpRequest) -> str:
        """Wagtail 7 userbar API."""
        return self._render(request)


def _reverse(name: str) -> str | None:
    """An admin URL of the simulator (None when the admin's URLs are not installed)."""
    try:
        return reverse(name)
    except NoReverseMatch:
        return None
