"""The bar an editor sees while simulating a visitor: who is simulated, the segments, and why.

:func:`show_simulation` puts the bar into every HTML page served for a
:class:`~personalize.visitors.simulated.SimulatedVisitor` (before ``</body>``, so it works with
any template), including the page editor's preview in the "Simulated visitor" mode. The reasons
are those of the debug page: every live segment, matched or not, each of its rules with ✔ or ✘
and the visitor's values that rule read, in the words of :mod:`~personalize.blocks.explanations`.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponseBase
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from personalize.blocks.explanations import format_value, rule_values
from personalize.visitors.simulated import SimulatedVisitor, stored_simulation

logger = logging.getLogger(__name__)

TEMPLATE = "personalize/simulator/bar.html"
#: Where the simulator's form and its exit are (Wagtail admin URLs, see wagtail_hooks).
FORM_URL_NAME = "personalize_simulator:form"
EXIT_URL_NAME = "personalize_simulator:exit"

#: The simulated device, as the bar names it ("a mobile phone from Austria").
_DEVICES = {
    "mobile": _("a mobile phone"),
    "tablet": _("a tablet"),
    "desktop": _("a desktop computer"),
    "bot": _("a bot or crawler"),
    "other": _("a device of unknown type"),
}


def describe(visitor: SimulatedVisitor) -> str:
    """The simulated visitor in one line: "a mobile phone from Austria, Monday 19:30 (…)".

    Args:
        visitor: the simulated visitor; its context gives the derived values (the weekday,
            the zone a country implies).

    Returns:
        The sentence, with what else was simulated (arrival, sign-in, profile) after it.
    """
    simulation = visitor.simulation
    if simulation.blank:
        return gettext("a visitor nothing is known about")
    attributes = visitor.context.attributes
    device, geo, clock = attributes["device"], attributes["geo"], attributes["time"]
    what = str(_DEVICES.get(device.get("type") or "other", _DEVICES["other"]))
    extra = [v for v in (device.get("os"), device.get("browser")) if v]
    if extra:
        what = f"{what} ({', '.join(extra)})"
    country, region = geo.get("country"), geo.get("region")
    # A region names its country: "Tirol (Austria)".
    area = format_value(region, "geo.region") if region else None
    place = [geo.get("city"), area or (country and format_value(country, "geo.country"))]
    where = ", ".join(str(p) for p in place if p)
    sentence = gettext("%(device)s from %(place)s, %(day)s %(time)s (%(zone)s)") % {
        "device": what,
        "place": where or gettext("an unknown place"),
        "day": format_value(clock["weekday"], "time.weekday"),
        "time": clock["time"],
        "zone": clock["timezone"],
    }
    return "; ".join([sentence, *_details(visitor, attributes)])


def _details(visitor: SimulatedVisitor, attributes: Any) -> list[str]:
    """What else the simulation says, each as a short phrase."""
    simulation, referral, profile = (
        visitor.simulation,
        attributes["referral"],
        attributes["visitor"],
    )
    details = []
    if referral.get("channel") != "direct":
        channel = format_value(referral.get("channel"), "referral.channel")
        details.append(gettext("arrived by %(channel)s") % {"channel": channel})
    if referral.get("campaign"):
        details.append(gettext("campaign %(name)s") % {"name": referral["campaign"]})
    if simulation.logged_in:
        groups = ", ".join(sorted(simulation.groups))
        details.append(
            gettext("signed in, in %(groups)s") % {"groups": groups}
            if groups
            else gettext("signed in")
        )
    if "personalization" not in simulation.consent:
        details.append(gettext("did not allow personalization"))
    if profile.get("stage"):
        details.append(
            gettext("journey stage %(stage)s, score %(score)s")
            % {"stage": profile["stage"], "score": format_value(profile.get("score"))}
        )
    if profile.get("visits") is not None:
        details.append(gettext("visit %(number)s") % {"number": profile["visits"]})
    interests = [f"{tag} {format_value(points)}" for tag, points in profile["interests"].items()]
    if interests:
        details.append(gettext("interests: %(list)s") % {"list": ", ".join(interests)})
    answers = [f"{key} = {value}" for key, value in profile["prefs"].items()]
    if answers:
        details.append(gettext("answered %(list)s") % {"list": ", ".join(answers)})
    return details


def segment_reasons(visitor: SimulatedVisitor) -> list[dict[str, Any]]:
    """Every live segment, whether the simulated visitor is in it, and why or why not.

    Returns:
        ``[{"name", "matched", "match", "rules": [{"summary", "matched", "values"}]}]``, as the
        debug page explains segments, with each rule's values in words (:func:`rule_values`).
        Matched segments come first. Under "view as" the forced segments are listed as
        matched, without rules.
    """
    if not visitor.simulates_signals:
        return [
            {"name": segment.name, "matched": True, "match": "", "rules": []}
            for segment in visitor.matches
        ]
    reasons = [
        {
            "name": item["name"],
            "matched": item["matched"],
            "match": item["match"],
            "rules": [{**rule, "values": rule_values(rule)} for rule in item["rules"]],
        }
        for item in visitor.explain()
    ]
    return sorted(reasons, key=lambda item: not item["matched"])


def _url(name: str, request: HttpRequest) -> str | None:
    """An admin URL of the simulator, with the page to come back to (None without the admin).

    In a preview the page to come back to is the preview itself: the form takes it from the
    ``Referer`` of the preview's frame.
    """
    try:
        url = reverse(name)
    except NoReverseMatch:
        return None
    if getattr(request, "is_preview", False) or name != FORM_URL_NAME:
        return url
    return f"{url}?{urlencode({'next': request.get_full_path()})}"


def render_bar(request: HttpRequest, visitor: SimulatedVisitor) -> str:
    """The bar's HTML for the page of ``request``."""
    simulation = visitor.simulation
    context = {
        "view_as": simulation.view_as is not None,
        "blank": simulation.blank,
        # A preview's "Simulated visitor" mode shows a blank visitor until one is simulated.
        "running": stored_simulation(request) is not None,
        "description": describe(visitor) if simulation.view_as is None else "",
        "matched": [segment.name for segment in visitor.matches],
        "segments": segment_reasons(visitor),
        "edit_url": _url(FORM_URL_NAME, request),
        "exit_url": _url(EXIT_URL_NAME, request),
        "next": "" if getattr(request, "is_preview", False) else request.get_full_path(),
        # No userbar in the preview panel to leave room for.
        "preview": getattr(request, "is_preview", False),
        "csrf_token": get_token(request),
    }
    # A plain context: the page's context processors already ran for the page.
    return render_to_string(TEMPLATE, context)


def show_simulation(request: HttpRequest, response: HttpResponseBase) -> None:
    """Put the bar into an HTML response served for a simulated visitor (before ``</body>``).

    Responses of other types, streamed or compressed responses and pages without ``</body>``
    are left as they are.
    """
    visitor = getattr(request, "visitor", None)
    if not isinstance(visitor, SimulatedVisitor) or not _is_html_page(response):
        return
    content: bytes = response.content  # type: ignore[attr-defined]
    end = content.lower().rfind(b"</body>")
    if end < 0:
        return
    bar = render_bar(request, visitor).encode(response.charset or "utf-8", "xmlcharrefreplace")
    response.content = content[:end] + bar + content[end:]  # type: ignore[attr-defined]
    if response.has_header("Content-Length"):
        response["Content-Length"] = str(len(response.content))  # type: ignore[attr-defined]


def _is_html_page(response: HttpResponseBase) -> bool:
    if response.streaming or response.has_header("Content-Encoding"):
        return False
    if not getattr(response, "is_rendered", True):
        return False
    return str(response.get("Content-Type", "")).split(";")[0].strip().lower() == "text/html"
