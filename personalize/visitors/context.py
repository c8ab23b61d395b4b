"""The visitor context: every signal of one request as plain, nested attributes.

:func:`build_context` is the only code that reads an ``HttpRequest`` for signals. Everything it
hands on is plain data (``VisitorContext.attributes`` is a nested dict of str/int/bool/list/None),
so the rule engine and every delivery channel share one decision.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation

from personalize.conf import personalize_settings
from personalize.rules.scoring import empty_visitor_attributes
from personalize.signals.clock import local_time, pick_timezone
from personalize.signals.consent import ConsentState, resolve_consent
from personalize.signals.device import device_from_headers
from personalize.signals.geo import normalize_geo, resolve_geo
from personalize.signals.identity import user_attributes
from personalize.signals.referral import classify_referral
from personalize.visitors.attribution import needs_refresh, read_attribution
from personalize.visitors.simulation import (
    Simulation,
    simulated_device,
    simulated_geo,
    simulated_moment,
    simulated_referral,
    simulated_user,
    simulated_zone,
)

logger = logging.getLogger(__name__)

#: Query values longer than this are cut; keys longer than this are dropped.
_MAX_QUERY_LENGTH = 200
#: Client hint headers handed to the device signal.
_CLIENT_HINTS = ("sec-ch-ua-mobile", "sec-ch-ua-platform", "sec-ch-ua")
#: Request attribute where the language code of the Wagtail page being served is left (by the
#: ``before_serve_page`` hook, or by the page cache before it routes the page).
PAGE_LOCALE_ATTRIBUTE = "_personalize_page_locale"
_DIRECT = {
    "channel": "direct",
    "source": "(direct)",
    "medium": "(none)",
    "campaign": None,
    "term": None,
    "content": None,
    "host": None,
}


@dataclass(frozen=True, slots=True)
class VisitorContext:
    """Everything known about the visitor for one request.

    Attributes:
        attributes: nested attributes (``{"geo": {"country": "DE", ...}, "device": {...}}``),
            documented in docs/reference/attributes.md. Unknown values are ``None``.
        refresh_attribution: whether the attribution cookie should be (re)written.
    """

    #: Nested attribute dict read by conditions through dotted paths.
    attributes: Mapping[str, Any]
    #: True when the response should carry a fresh attribution cookie.
    refresh_attribution: bool = field(default=False, compare=False)

    def get(self, path: str, default: Any = None) -> Any:
        """Read a dotted attribute path such as ``"geo.country"``.

        Args:
            path: dotted path.
            default: returned when any part of the path is missing.

        Returns:
            The attribute value, or ``default``.
        """
        value: Any = self.attributes
        for part in path.split("."):
            if not isinstance(value, Mapping) or part not in value:
                return default
            value = value[part]
        return value


@dataclass(frozen=True, slots=True)
class FrontendSignals:
    """A visitor's signals relayed by a trusted front-end server (headless delivery).

    A front end that renders pages calls the CMS with its own headers; it passes the visitor's
    here instead. Only the request's own authentication says who the user is: these signals
    never grant an identity.

    Attributes:
        country, region, city, timezone: where the visitor is (believed as from a trusted CDN).
        user_agent: the visitor's ``User-Agent``.
        referrer: the visitor's ``Referer``.
        url: the URL the visitor asked for (its path and query give ``page.path`` and ``query``).
        client_hints: ``Sec-CH-UA-*`` headers as ``(lower-case name, value)`` pairs.
        consent: the visitor's consent cookie value.
        gpc: whether the visitor's browser sent ``Sec-GPC: 1``.
        visitor_token: the visitor's signed visitor id cookie value.
    """

    country: str | None = None
    region: str | None = None
    city: str | None = None
    timezone: str | None = None
    user_agent: str | None = None
    referrer: str | None = None
    url: str | None = None
    client_hints: tuple[tuple[str, str], ...] = ()
    consent: str | None = None
    gpc: bool = False
    visitor_token: str | None = None


def build_context(
    request: HttpRequest,
    now: datetime | None = None,
    *,
    include_groups: bool = True,
    signals: FrontendSignals | None = None,
    consent: ConsentState | None = None,
    profile: Mapping[str, Any] | None = None,
    simulation: Simulation | None = None,
) -> VisitorContext:
    """Turn a request into a :class:`VisitorContext`.

    Args:
        request: the current request (headers, cookies, query and user are read).
        now: the current time (aware); defaults to ``datetime.now(UTC)``.
        include_groups: read the user's groups (one query); skipped when no segment needs them.
        signals: a front end's relayed visitor signals, used instead of the request's own
            headers, cookies and query (the user still comes from the request).
        consent: the visitor's consent (read from the request's cookie and ``Sec-GPC`` when
            not given).
        profile: the ``visitor.*`` attributes of the stored profile (unknown when not given).
        simulation: an editor's simulated visitor, whose signals replace the request's (only
            the page, the query and the ``memory`` parts come from the request and arguments).

    Returns:
        The visitor context. Hostile or missing input gives ``None`` values, never an exception.
    """
    conf = personalize_settings
    if consent is None:
        consent = resolve_consent(
            (signals.consent if signals else request.COOKIES.get(conf.CONSENT_COOKIE)),
            ("1" if signals.gpc else None) if signals else request.headers.get("sec-gpc"),
            mode=conf.consent_mode,
        )
    memory = {
        "consent": consent.purposes,
        "gpc": consent.gpc,
        "visitor": dict(profile) if profile is not None else empty_visitor_attributes(),
    }
    if signals is not None:
        return _context_from_signals(request, signals, now, include_groups, memory)
    if simulation is not None:
        return _context_from_simulation(request, simulation, now, memory)
    headers = request.headers
    geo = resolve_geo(
        headers,
        request.META.get("REMOTE_ADDR"),
        conf.trusted_networks,
        conf.geo_provider,
        conf.geo_headers,
    )
    zone = pick_timezone(
        geo.get("timezone"), request.COOKIES.get(conf.TIMEZONE_COOKIE), settings.TIME_ZONE
    )
    referral, refresh = visit_attribution(request)
    attributes: dict[str, Any] = {
        "geo": geo,
        "time": local_time(now or datetime.now(UTC), zone, settings.TIME_ZONE),
        "device": device_from_headers(headers.get("user-agent"), _client_hints(headers)),
        "referral": referral,
        "query": _query(request),
        "user": user_attributes(
            getattr(request, "user", None), conf.user_fields, include_groups=include_groups
        ),
        "page": {"path": request.path, "locale": page_locale(request)},
        **memory,
    }
    return VisitorContext(attributes=attributes, refresh_attribution=refresh)


def _context_from_signals(
    request: HttpRequest,
    signals: FrontendSignals,
    now: datetime | None,
    include_groups: bool,
    memory: dict[str, Any],
) -> VisitorContext:
    conf = personalize_settings
    geo = normalize_geo(
        {
            "country": signals.country,
            "region": signals.region,
            "city": signals.city,
            "timezone": signals.timezone,
        }
    )
    zone = pick_timezone(geo.get("timezone"), None, settings.TIME_ZONE)
    path, query = _split_url(signals.url)
    # The front end's own host (from the visitor's URL) is internal navigation too.
    hosts = (*own_hosts(request), *_url_host(signals.url))
    referral = classify_referral(query, signals.referrer, hosts)
    attributes: dict[str, Any] = {
        "geo": geo,
        "time": local_time(now or datetime.now(UTC), zone, settings.TIME_ZONE),
        "device": device_from_headers(signals.user_agent, dict(signals.client_hints)),
        "referral": referral if referral is not None else dict(_DIRECT),
        "query": _bounded(query.items()),
        "user": user_attributes(
            getattr(request, "user", None), conf.user_fields, include_groups=include_groups
        ),
        "page": {"path": path, "locale": page_locale(request)},
        **memory,
    }
    return VisitorContext(attributes=attributes)


def _context_from_simulation(
    request: HttpRequest, simulation: Simulation, now: datetime | None, memory: dict[str, Any]
) -> VisitorContext:
    zone = simulated_zone(simulation, settings.TIME_ZONE)
    moment = simulated_moment(simulation, now or datetime.now(UTC), zone)
    attributes: dict[str, Any] = {
        "geo": simulated_geo(simulation, zone),
        "time": local_time(moment, zone, settings.TIME_ZONE),
        "device": simulated_device(simulation),
        "referral": simulated_referral(simulation, own_hosts(request)),
        "query": _query(request),
        "user": simulated_user(simulation, personalize_settings.user_fields),
        "page": {"path": request.path, "locale": page_locale(request)},
        **memory,
    }
    return VisitorContext(attributes=attributes)


def page_locale(request: HttpRequest) -> str | None:
    """``page.locale``: the served page's language where Wagtail i18n is on, else the active one.

    With ``WAGTAIL_I18N_ENABLED``, a Wagtail page's locale (``Locale.language_code``), whatever
    language the request activated; for other requests, and without i18n, the active language.
    """
    code = getattr(request, PAGE_LOCALE_ATTRIBUTE, None)
    if isinstance(code, str) and code and getattr(settings, "WAGTAIL_I18N_ENABLED", False):
        return code
    return translation.get_language()


def _split_url(url: str | None) -> tuple[str, dict[str, str]]:
    """The path and query of a relayed URL (``"/"`` and nothing when unusable)."""
    if not isinstance(url, str) or len(url) > 4096:
        return "/", {}
    try:
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query, keep_blank_values=True, max_num_fields=100))
    except ValueError:
        return "/", {}
    return (parts.path or "/")[: _MAX_QUERY_LENGTH * 10], query


def _url_host(url: str | None) -> tuple[str, ...]:
    try:
        host = urlsplit(url).hostname if isinstance(url, str) and len(url) <= 4096 else None
    except ValueError:
        return ()
    return (host,) if host else ()


def _bounded(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    limit = personalize_settings.QUERY_PARAMETER_LIMIT
    query: dict[str, str] = {}
    for key, value in items:
        if len(query) >= limit:
            break
        if len(key) <= _MAX_QUERY_LENGTH:
            query[key] = value[:_MAX_QUERY_LENGTH]
    return query


def _client_hints(headers: Mapping[str, str]) -> dict[str, str]:
    return {name: headers[name] for name in _CLIENT_HINTS if name in headers}


def _query(request: HttpRequest) -> dict[str, str]:
    return _bounded((key, request.GET.get(key, "")) for key in request.GET)


def own_hosts(request: HttpRequest) -> tuple[str, ...]:
    """The hosts whose referrals are internal navigation: the request's host plus OWN_HOSTS."""
    hosts = [h.lower() for h in personalize_settings.OWN_HOSTS]
    host = request.META.get("HTTP_HOST") or request.META.get("SERVER_NAME") or ""
    host = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    if host:
        hosts.append(host.lower())
    return tuple(hosts)


def visit_attribution(request: HttpRequest) -> tuple[dict[str, Any], bool]:
    """The visit's landing attribution and whether its cookie needs (re)writing.

    Args:
        request: the current request (query, Referer and the attribution cookie are read).

    Returns:
        ``(attribution, refresh)``: the ``referral`` attributes and whether to set the cookie.
    """
    conf = personalize_settings
    stored = read_attribution(
        request.COOKIES.get(conf.ATTRIBUTION_COOKIE), conf.ATTRIBUTION_TIMEOUT
    )
    fresh = classify_referral(request.GET, request.headers.get("referer"), own_hosts(request))
    if stored is not None and (fresh is None or fresh["channel"] == "direct"):
        # Internal navigation and direct hits during a visit keep the landing attribution,
        # as GA4 does (last non-direct click).
        attribution = stored["attribution"]
    else:
        attribution = fresh if fresh is not None else dict(_DIRECT)
    return attribution, needs_refresh(stored, attribution)
