"""A simulated visitor: the signals an editor chose, turned into the same attributes as a request's.

An editor testing personalization picks where the visitor is, their device, their local date and
time, how they arrived, whether they are signed in and what their profile holds. A
:class:`Simulation` holds those choices as plain data (it is kept in the editor's session), and
the functions here turn it into the parts of a visitor context with the same pure signal
functions a real request goes through (:func:`~personalize.signals.geo.normalize_geo`,
:func:`~personalize.signals.clock.local_time`,
:func:`~personalize.signals.referral.classify_referral`). The segments are then resolved as for
anyone else. Nothing here imports Django.

A simulation with ``view_as`` set is the editors' "View as <segment>": the visitor is forced into
that segment (``"-"``: into none) and the request's own signals are read, as in a preview.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from personalize.rules.scoring import DEFAULT_STAGES, Stage, empty_visitor_attributes, stage_for
from personalize.signals.clock import valid_timezone
from personalize.signals.consent import (
    ANALYTICS,
    NECESSARY,
    PERSONALIZATION,
    PURPOSES,
    ConsentState,
    clean_purposes,
)
from personalize.signals.geo import GeoDict, country_table, normalize_geo
from personalize.signals.referral import classify_referral

#: The device types a simulation may choose (those of the device signal).
DEVICE_TYPES = ("mobile", "tablet", "desktop", "bot", "other")
#: The campaign tags a simulation may carry.
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
#: Bounds of what a simulation holds (it lives in the editor's session).
MAX_TEXT = 100
MAX_ITEMS = 10
MAX_GROUPS = 20
MAX_SCORE = 1_000_000.0
MAX_VISITS = 100_000

_DIRECT: dict[str, str | None] = {
    "channel": "direct",
    "source": "(direct)",
    "medium": "(none)",
    "campaign": None,
    "term": None,
    "content": None,
    "host": None,
}


@dataclass(frozen=True, slots=True)
class Simulation:
    """The signals of a simulated visitor, as an editor chose them.

    ``None`` means "not simulated": the attribute is unknown, except the clock, which then
    shows the current time in the visitor's zone.

    Attributes:
        user_id: the editor the simulation belongs to (anyone else's request ignores it).
        view_as: a segment slug to force ("-": no segment); the request's own signals apply.
        country, region, city: where the visitor is (ISO 3166 codes, a city name).
        timezone: the visitor's zone; ``None`` takes the country's main zone.
        device, os, browser: the device type and, optionally, its system and browser.
        date, time: the visitor's local date (``YYYY-MM-DD``) and time (``HH:MM``).
        channel: how they arrived (a channel code); ``None`` derives it from the tags.
        referrer: the address they came from.
        utm: campaign tags, ``(name, value)`` pairs with names from :data:`UTM_KEYS`.
        logged_in, groups: whether they are signed in, and the groups they belong to.
        consent: the purposes they allowed.
        visits, score, stage, peak_stage: their profile's visits, engagement and journey stage.
        interests: ``(tag, points)`` pairs; prefs: stated preferences, ``(key, value)`` pairs.
    """

    user_id: int
    view_as: str | None = None
    country: str | None = None
    region: str | None = None
    city: str | None = None
    timezone: str | None = None
    device: str | None = None
    os: str | None = None
    browser: str | None = None
    date: str | None = None
    time: str | None = None
    channel: str | None = None
    referrer: str | None = None
    utm: tuple[tuple[str, str], ...] = ()
    logged_in: bool = False
    groups: tuple[str, ...] = ()
    consent: tuple[str, ...] = (NECESSARY, PERSONALIZATION, ANALYTICS)
    visits: int | None = None
    score: float | None = None
    stage: str | None = None
    peak_stage: str | None = None
    interests: tuple[tuple[str, float], ...] = field(default=())
    prefs: tuple[tuple[str, str], ...] = field(default=())

    def to_data(self) -> dict[str, Any]:
        """The simulation as JSON-friendly data (for the session)."""
        return asdict(self)

    @property
    def blank(self) -> bool:
        """Whether nothing was chosen (a visitor nothing is known about)."""
        return self == Simulation(user_id=self.user_id)


def read_simulation(data: object) -> Simulation | None:
    """A simulation from stored data, every value checked and bounded; never raises.

    Args:
        data: what :meth:`Simulation.to_data` gave (stored data from an older version, or
            tampered with, loses the values that do not fit).

    Returns:
        The simulation, or None when ``data`` has no editor.
    """
    if not isinstance(data, Mapping):
        return None
    user_id = data.get("user_id")
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        return None
    text = functools.partial(_text, data)
    return Simulation(
        user_id=user_id,
        view_as=text("view_as"),
        country=text("country"),
        region=text("region"),
        city=text("city"),
        timezone=valid_timezone(text("timezone")),
        device=text("device") if data.get("device") in DEVICE_TYPES else None,
        os=text("os"),
        browser=text("browser"),
        date=_valid(text("date"), date.fromisoformat),
        time=_valid(text("time"), time.fromisoformat),
        channel=text("channel"),
        referrer=text("referrer"),
        utm=tuple((k, v) for k, v in _pairs(data.get("utm"), str) if k in UTM_KEYS),
        logged_in=data.get("logged_in") is True,
        groups=tuple(g for g in _list(data.get("groups"))[:MAX_GROUPS] if isinstance(g, str)),
        consent=consent_purposes(_list(data.get("consent"))),
        visits=_number(data.get("visits"), int, MAX_VISITS),
        score=_number(data.get("score"), float, MAX_SCORE),
        stage=text("stage"),
        peak_stage=text("peak_stage"),
        interests=_pairs(data.get("interests"), float),
        prefs=_pairs(data.get("prefs"), str),
    )


def consent_purposes(values: Iterable[object]) -> tuple[str, ...]:
    """The known purposes among ``values``, with ``necessary``, in display order."""
    granted = clean_purposes(values)
    return tuple(purpose for purpose in PURPOSES if purpose in granted)


def _text(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value[:MAX_TEXT] if isinstance(value, str) and value else None


def _valid(value: str | None, parse: Any) -> str | None:
    try:
        return value if value is not None and parse(value) is not None else None
    except ValueError:
        return None


def _list(value: object) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def _number(value: object, kind: type, limit: float) -> Any:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    if value != value or not 0 <= value <= limit:  # NaN and out of bounds
        return None
    return kind(value)


def _pairs(value: object, kind: type) -> tuple[tuple[str, Any], ...]:
    pairs: list[tuple[str, Any]] = []
    for item in _list(value)[:MAX_ITEMS]:
        if not isinstance(item, list | tuple) or len(item) != 2:
            continue
        key, val = item
        if not isinstance(key, str) or not key:
            continue
        if kind is float:
            number = _number(val, float, MAX_SCORE)
            if number is not None:
                pairs.append((key[:MAX_TEXT], number))
        elif isinstance(val, str):
            pairs.append((key[:MAX_TEXT], val[:MAX_TEXT]))
    return tuple(pairs)


def _country_zones() -> Mapping[str, str]:
    return country_table("timezones.txt")


def country_timezone(country: str | None) -> str | None:
    """The main time zone of a country (``"AT"`` → ``"Europe/Vienna"``), or None."""
    if country is None:
        return None
    return valid_timezone(_country_zones().get(country))


def simulated_zone(simulation: Simulation, fallback: str) -> str:
    """The visitor's zone: the one chosen, else the country's, else ``fallback``."""
    return (
        valid_timezone(simulation.timezone)
        or country_timezone(simulation.country)
        or valid_timezone(fallback)
        or "UTC"
    )


def simulated_moment(simulation: Simulation, now: datetime, zone: str) -> datetime:
    """The instant the visitor's clock shows the chosen local date and time.

    Args:
        simulation: the simulation.
        now: the current instant (aware); supplies what was not chosen.
        zone: the visitor's zone (see :func:`simulated_zone`).

    Returns:
        An aware datetime.
    """
    tz = ZoneInfo(zone)
    local = now.astimezone(tz)
    day = date.fromisoformat(simulation.date) if simulation.date else local.date()
    clock = time.fromisoformat(simulation.time) if simulation.time else local.time()
    return datetime.combine(day, clock.replace(tzinfo=None), tzinfo=tz)


def simulated_geo(simulation: Simulation, zone: str) -> GeoDict:
    """The ``geo`` attributes: the chosen place, validated as a CDN's headers would be."""
    return normalize_geo(
        {
            "country": simulation.country,
            "region": simulation.region,
            "city": simulation.city,
            "timezone": zone,
        }
    )


def simulated_device(simulation: Simulation) -> dict[str, str | None]:
    """The ``device`` attributes."""
    kind = simulation.device if simulation.device in DEVICE_TYPES else "other"
    return {"type": kind, "os": simulation.os, "browser": simulation.browser}


def simulated_referral(simulation: Simulation, own_hosts: Collection[str]) -> dict[str, Any]:
    """The ``referral`` attributes: the campaign tags and referrer classified as on landing.

    A chosen channel wins over the one the tags give.
    """
    referrer = simulation.referrer
    if referrer and "://" not in referrer:
        referrer = f"https://{referrer}"
    found = classify_referral(dict(simulation.utm), referrer, own_hosts)
    referral = dict(found) if found is not None else dict(_DIRECT)
    if simulation.channel:
        referral["channel"] = simulation.channel
    return referral


def simulated_user(simulation: Simulation, fields: Collection[str]) -> dict[str, Any]:
    """The ``user`` attributes (``USER_FIELDS`` are unknown: there is no real user)."""
    signed_in = simulation.logged_in
    return {
        "authenticated": signed_in,
        "staff": False,
        "groups": sorted(simulation.groups) if signed_in else [],
        **dict.fromkeys(f for f in fields if f not in ("authenticated", "staff", "groups")),
    }


def simulated_consent(simulation: Simulation) -> ConsentState:
    """What the simulated visitor allowed (an explicit choice)."""
    return ConsentState(granted=clean_purposes(simulation.consent), explicit=True)


def simulated_profile(
    simulation: Simulation, stages: Collection[Stage] = DEFAULT_STAGES
) -> dict[str, Any]:
    """The ``visitor.*`` attributes of the simulated profile.

    Without consent to personalization there is no profile, as for a real visitor. A stage
    without a score gets the stage's threshold; a score without a stage gets its stage.
    """
    attributes = empty_visitor_attributes()
    if PERSONALIZATION not in simulation.consent:
        return attributes
    ordered = tuple(stages)
    thresholds = {stage.name: stage.threshold for stage in ordered}
    score = simulation.score
    if score is None and simulation.stage in thresholds:
        score = float(thresholds[simulation.stage or ""])
    stage = simulation.stage or (stage_for(score, ordered) if score is not None else None)
    visits = simulation.visits
    attributes.update(
        visits=visits,
        returning=None if visits is None else visits > 1,
        score=score,
        stage=stage,
        peak_stage=simulation.peak_stage or stage,
        interests=dict(simulation.interests),
        prefs=dict(simulation.prefs),
    )
    return attributes
