"""An anonymous sample of consenting page views, for the segment form's audience estimate.

While an editor builds a segment, the form says how many page views of the last 7 days would
have matched it ("About 1,240 page views …"). The estimate evaluates the candidate condition,
with the real rule engine (:mod:`personalize.rules`), on a bounded sample of page views kept in
the counter store:

* **What a snapshot holds**: only the attributes rules read that do not identify anybody: the
  visitor's country, continent and region; device type, operating system and browser; the
  visit's channel and UTM source, medium and campaign; the local weekday and hour; and whether
  the visitor was logged in. No visitor id, no IP address, no address of the page, no time more
  precise than the hour, nothing from the profile.
* **Whose page views**: only those whose consent choice allows analytics
  (:data:`~personalize.signals.consent.ANALYTICS`), served by Wagtail, not bots, not previews or
  "view as". Other page views leave nothing behind, not even in the count.
* **How many**: at most ``PERSONALIZE["AUDIENCE_SAMPLE_SIZE"]`` snapshots a day (1,000), chosen
  by reservoir sampling so that every consenting page view of the day is equally likely to be
  kept, with the day's count of such page views. Days expire after 8 days.
* **Cost**: the snapshot rides in the request's one counting script
  (:meth:`~personalize.analytics.counters.BaseCounterStore.record`); it reads no database. A
  store that is unreachable takes no snapshot, and the estimate then says it is not available.

The estimate of a day is the matched share of its snapshots times its page views; the estimate
is the sum over the last 7 days.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.functional import empty

from personalize.analytics.counters import BaseCounterStore, VisitSample
from personalize.analytics.store import counter_store, safely
from personalize.conf import DEFAULTS, personalize_settings, register_reset
from personalize.rules import compile_condition
from personalize.signals.consent import ANALYTICS
from personalize.visitors.context import build_context

#: The attributes a snapshot keeps: nothing that identifies a visitor.
SAMPLED: dict[str, tuple[str, ...]] = {
    "geo": ("country", "continent", "region"),
    "device": ("type", "os", "browser"),
    "referral": ("channel", "source", "medium", "campaign"),
    "time": ("weekday", "hour"),
    "user": ("authenticated",),
}
#: Paths a condition may read to be estimated: the sampled ones, and the time of day (the
#: middle of the sampled hour), date and month (of the sample's day) derived from them.
ESTIMABLE_PATHS = frozenset(
    {f"{group}.{name}" for group, names in SAMPLED.items() for name in names}
    | {"time.time", "time.date", "time.month"}
)
#: The days an estimate covers: today and the six before it.
ESTIMATE_DAYS = 7
#: Text values are cut to this many characters (a campaign name is not a place for more).
_MAX_TEXT = 100
#: Seconds the admin keeps the loaded samples before reading the store again.
_LOADED_TTL = 30.0


def sample_size() -> int:
    """``PERSONALIZE["AUDIENCE_SAMPLE_SIZE"]``: snapshots kept per day (0: no sample).

    Raises:
        ImproperlyConfigured: the setting is not a whole number of at least 0.
    """
    value = personalize_settings.AUDIENCE_SAMPLE_SIZE
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ImproperlyConfigured(
            "PERSONALIZE['AUDIENCE_SAMPLE_SIZE'] must be a whole number of at least 0 (0 keeps "
            f"no sample), not {value!r}, e.g. {DEFAULTS['AUDIENCE_SAMPLE_SIZE']}."
        )
    return value


def snapshot(attributes: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The sampled attributes of a visitor context, unknown values left out.

    Args:
        attributes: a visitor context's nested attributes.

    Returns:
        ``{"geo": {"country": "AT", …}, "device": {…}, …}`` with only :data:`SAMPLED` keys.
    """
    kept: dict[str, dict[str, Any]] = {}
    for group, names in SAMPLED.items():
        source = attributes.get(group)
        if not isinstance(source, Mapping):
            continue
        values = {name: _scalar(source.get(name)) for name in names}
        values = {name: value for name, value in values.items() if value is not None}
        if values:
            kept[group] = values
    return kept


def _scalar(value: Any) -> str | int | bool | None:
    if isinstance(value, bool | int):
        return value
    if isinstance(value, str):
        return value[:_MAX_TEXT]
    return None


def visit_sample(visitor: Any, page_view: bool) -> VisitSample | None:
    """The sample snapshot of the request's page view, or None when it must not be taken.

    Taken only for a Wagtail page view (``page_view``) of a visitor whose consent allows
    analytics, never for bots, previews or "view as". It reads no database: a logged-in
    visitor whose browser made no consent choice (their stored choice would be read) and a
    request whose user is not loaded yet are left out.

    Args:
        visitor: the request's :class:`~personalize.visitors.visitor.Visitor`.
        page_view: whether the request served a Wagtail page.
    """
    # A preview, "view as" or an editor's simulation is nobody's page view.
    if not page_view or not getattr(visitor, "is_real", visitor.as_segments is None):
        return None
    size = sample_size()
    if size == 0 or visitor.consent_reads_profile():
        return None
    if not visitor.consent.allows(ANALYTICS):
        return None
    attributes = _attributes(visitor)
    if attributes is None or attributes["device"].get("type") == "bot":
        return None
    text = json.dumps(snapshot(attributes), separators=(",", ":"), sort_keys=True)
    # Sampling, not security: any uniform draw will do.
    return VisitSample(snapshot=text, draw=random.random(), size=size)  # noqa: S311


def _attributes(visitor: Any) -> Mapping[str, Any] | None:
    """The visitor's attributes: the request's own context, or one built without queries."""
    if "context" in visitor.__dict__:
        attributes: Mapping[str, Any] = visitor.context.attributes
        return attributes
    request = visitor.request
    if not _user_known(request):
        return None
    # No profile and no groups: neither is sampled, and both could cost a query.
    context = build_context(request, include_groups=False, consent=visitor.consent, profile={})
    return context.attributes


def _user_known(request: Any) -> bool:
    """Whether ``request.user`` can be read without a query (loaded, or no session cookie)."""
    user = request.__dict__.get("user")
    if user is None or getattr(user, "_wrapped", None) is not empty:
        return True
    return settings.SESSION_COOKIE_NAME not in request.COOKIES


def read_snapshot(text: str, day: date) -> dict[str, Any] | None:
    """A stored snapshot as attributes to evaluate, or None when it is unreadable.

    The time of day is the middle of the sampled hour; the date and month are the sample's day.
    """
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    attributes = snapshot(data)
    clock = attributes.setdefault("time", {})
    hour = clock.get("hour")
    if isinstance(hour, int) and not isinstance(hour, bool) and 0 <= hour <= 23:
        clock["time"] = f"{hour:02d}:30"
    clock["date"] = day.isoformat()
    clock["month"] = day.month
    return attributes


@dataclass(frozen=True, slots=True)
class AudienceEstimate:
    """How many consenting page views of the last days a condition would have matched.

    Attributes:
        status: ``"ok"``; ``"unavailable"`` (the store is unreachable); ``"off"`` (no sample is
            kept: ``AUDIENCE_SAMPLE_SIZE`` is 0 or analytics are off); ``"unsupported"`` (the
            condition reads attributes the sample does not hold).
        page_views: consenting page views counted over the days.
        matched: the estimated page views that would have matched (not rounded).
        sampled: the snapshots the estimate was computed from.
        unsupported: the paths the sample does not hold, for ``"unsupported"``.
    """

    status: str
    page_views: int = 0
    matched: float = 0.0
    sampled: int = 0
    unsupported: tuple[str, ...] = ()


def estimate_from(
    condition: Mapping[str, Any], loaded: Mapping[date, tuple[int, Sequence[Mapping[str, Any]]]]
) -> AudienceEstimate:
    """The estimate over loaded samples: per day, the matched share times the page views.

    Args:
        condition: a valid condition.
        loaded: per day, the page views counted and the readable snapshots.

    Raises:
        ConditionError: the condition is invalid.
    """
    compiled = compile_condition(condition)
    unsupported = tuple(sorted(compiled.paths - ESTIMABLE_PATHS))
    if unsupported:
        return AudienceEstimate(status="unsupported", unsupported=unsupported)
    page_views = sampled = 0
    matched = 0.0
    for seen, snapshots in loaded.values():
        page_views += seen
        sampled += len(snapshots)
        if snapshots:
            matched += seen * sum(1 for item in snapshots if compiled(item)) / len(snapshots)
    return AudienceEstimate("ok", page_views=page_views, matched=matched, sampled=sampled)


def estimate(
    condition: Mapping[str, Any],
    *,
    today: date | None = None,
    store: BaseCounterStore | None = None,
) -> AudienceEstimate:
    """How many consenting page views of the last 7 days ``condition`` would have matched.

    Args:
        condition: a valid condition (as a segment compiles it).
        today: the last day counted (UTC; default today).
        store: the counter store (default: the process's).

    Raises:
        ConditionError: the condition is invalid.
    """
    if sample_size() == 0 or not personalize_settings.ANALYTICS_ENABLED:
        compile_condition(condition)
        return AudienceEstimate(status="off")
    today = today or datetime.now(UTC).date()
    days = tuple(today - timedelta(days=n) for n in range(ESTIMATE_DAYS))
    store = store or counter_store()
    loaded = safely(lambda: _load(store, days), None)
    if loaded is None:
        compile_condition(condition)
        return AudienceEstimate(status="unavailable")
    return estimate_from(condition, loaded)


_loaded: dict[tuple[int, tuple[date, ...]], tuple[float, Any]] = {}
_loaded_lock = threading.Lock()


def _load(
    store: BaseCounterStore, days: tuple[date, ...]
) -> dict[date, tuple[int, list[dict[str, Any]]]]:
    """The days' samples, read again after :data:`_LOADED_TTL` seconds.

    Raises:
        AnalyticsUnavailable: the store is unreachable.
    """
    key = (id(store), days)
    now = time.monotonic()
    with _loaded_lock:
        found = _loaded.get(key)
    if found is not None and found[0] > now:
        loaded: dict[date, tuple[int, list[dict[str, Any]]]] = found[1]
        return loaded
    raw = store.samples(days)
    loaded = {}
    for day, (seen, texts) in raw.items():
        snapshots = [item for item in (read_snapshot(text, day) for text in texts) if item]
        loaded[day] = (seen, snapshots)
    with _loaded_lock:
        _loaded.clear()
        _loaded[key] = (now + _LOADED_TTL, loaded)
    return loaded


def forget_loaded_samples() -> None:
    """Read the store again on the next estimate (settings changed; tests)."""
    with _loaded_lock:
        _loaded.clear()


register_reset(forget_loaded_samples, frozenset({"CACHES", "PERSONALIZE"}))
