"""Goals, conversions and funnels: counting what consenting visitors' events achieve."""

from __future__ import annotations

import logging
import time
import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from wagtail.models import Page

from personalize.analytics import goals
from personalize.analytics.goals import GoalRecord, GoalSet, current_goals, on_event
from personalize.analytics.store import counter_store, reset_counter_store
from personalize.models import Funnel, Goal
from personalize.rules.scoring import Event
from personalize.signals.consent import dump_consent_cookie
from personalize.tracking import events
from personalize.visitors.identity import dump_visitor_id
from personalize.visitors.visitor import Visitor
from tests.conftest import IPHONE, WINDOWS_CHROME

pytestmark = pytest.mark.django_db

#: The ``seen|…`` exposure and counter dimensions used throughout.
DIMS = "7|blockkey|variantkey|1|4"
DAY = 86400


@pytest.fixture(autouse=True)
def _fresh_analytics() -> Any:
    reset_counter_store()
    goals.goal_registry.reset()
    yield
    reset_counter_store()
    goals.goal_registry.reset()


@pytest.fixture
def page(db: Any) -> Any:
    """Create a page under the root (its id is what goals point at)."""
    root = Page.get_first_root_node()

    def create(slug: str) -> Page:
        return root.add_child(instance=Page(title=slug.title(), slug=slug))

    return create


@pytest.fixture
def make_visitor(make_request: Any) -> Any:
    """A visitor who allowed analytics (and personalization, so has an id, unless told not to)."""

    def build(
        visitor_id: str | None = None, *, purposes: tuple[str, ...] = (), user_agent: str = IPHONE
    ) -> Visitor:
        granted = purposes or (("personalization", "analytics") if visitor_id else ("analytics",))
        cookies = {"pz_consent": dump_consent_cookie(granted, time.time())}
        if visitor_id:
            cookies["pz_vid"] = dump_visitor_id(visitor_id)
        request = make_request(headers={"User-Agent": user_agent}, cookies=cookies)
        return Visitor(request)

    return build


def _vid() -> str:
    return uuid.uuid4().hex


def _today() -> date:
    return datetime.now(UTC).date()


def _counts(prefix: str = "") -> dict[str, int]:
    counts = counter_store().live_counts([_today()])[_today()]
    return {name: n for name, n in sorted(counts.items()) if name.startswith(prefix)}


def _goal(kind: str, *, page: Any = None, event: str = "", name: str = "") -> Goal:
    goal = Goal.objects.create(name=name or f"{kind} goal", kind=kind, page=page, event=event)
    goals.goals_changed()
    return goal


def _funnel(*steps: Goal) -> Funnel:
    funnel = Funnel.objects.create(name="Signup", steps=[("goal", step) for step in steps])
    goals.goals_changed()
    return funnel


def _seen(visitor_id: str, dims: str, at: float) -> None:
    counter_store().set_visitor_field(visitor_id, f"seen|{dims}", str(int(at)), 30 * DAY)


# --- matching ----------------------------------------------------------------------------------


def test_page_goal_matches_views_of_its_page_only() -> None:
    goal = GoalRecord(1, "page", page_id=12)
    assert goal.matches(Event("page_view", page_id=12)) is True
    assert goal.matches(Event("page_view", page_id=13)) is False
    assert goal.matches(Event("download", page_id=12)) is False


def test_form_goal_matches_its_form_or_any_form() -> None:
    own = GoalRecord(1, "form", page_id=12)
    anywhere = GoalRecord(2, "form")
    assert own.matches(Event("form_submit", target="12")) is True
    assert own.matches(Event("form_submit", target="13")) is False
    assert own.matches(Event("page_view", page_id=12, target="12")) is False
    assert anywhere.matches(Event("form_submit", target="13")) is True
    assert anywhere.matches(Event("form_submit")) is True


def test_event_and_registration_goals_match_by_name() -> None:
    assert GoalRecord(1, "event", event="signup_click").matches(Event("signup_click")) is True
    assert GoalRecord(1, "event", event="signup_click").matches(Event("download")) is False
    assert GoalRecord(1, "event").matches(Event("")) is False
    assert GoalRecord(2, "registration").matches(Event("registration")) is True
    assert GoalRecord(2, "registration").matches(Event("page_view")) is False
    assert GoalRecord(3, "bogus").matches(Event("bogus")) is False


def test_goal_set_lists_funnel_steps_of_goals() -> None:
    goal_set = GoalSet(funnels={5: (1, 2, 1), 3: (2, 9)})
    steps = goal_set.steps([1])
    assert [(s.funnel_id, s.index) for s in steps] == [(5, 0), (5, 2)]
    assert [(s.funnel_id, s.index) for s in goal_set.steps([2])] == [(3, 0), (5, 1)]


def test_enabled_goals_and_funnels_load_once(page: Any, django_assert_num_queries: Any) -> None:
    pricing = page("pricing")
    view = _goal("page", page=pricing)
    Goal.objects.create(name="Off", kind="event", event="off", enabled=False)
    signup = _goal("event", event="signup")
    funnel = _funnel(view, signup)
    loaded = current_goals()
    assert loaded.goals == (
        GoalRecord(view.pk, "page", pricing.pk, ""),
        GoalRecord(signup.pk, "event", None, "signup"),
    )
    assert loaded.funnels == {funnel.pk: (view.pk, signup.pk)}
    with django_assert_num_queries(0):
        assert current_goals() is loaded


def test_on_event_counts_each_kind(page: Any, make_visitor: Any) -> None:
    pricing, contact = page("pricing"), page("contact")
    view = _goal("page", page=pricing)
    form = _goal("form", page=contact)
    custom = _goal("event", event="signup_click")
    joined = _goal("registration")
    visitor = make_visitor(user_agent=WINDOWS_CHROME)
    assert on_event(visitor, Event("page_view", page_id=pricing.pk)) == [view.pk]
    assert on_event(visitor, Event("page_view", page_id=contact.pk)) == []
    assert on_event(visitor, Event("form_submit", page_id=contact.pk, target=str(contact.pk))) == [
        form.pk
    ]
    assert on_event(visitor, Event("signup_click")) == [custom.pk]
    assert on_event(visitor, Event("registration")) == [joined.pk]
    assert _counts() == {
        f"goal|{view.pk}|-": 1,
        f"goal|{form.pk}|-": 1,
        f"goal|{custom.pk}|-": 1,
        f"goal|{joined.pk}|-": 1,
    }


def test_goal_is_counted_for_every_matched_segment(
    page: Any, make_visitor: Any, segment_factory: Any
) -> None:
    phones = segment_factory(condition={"device.type": "mobile"}, slug="phones")
    touch = segment_factory(condition={"device.type": {"$in": ["mobile", "tablet"]}}, slug="touch")
    segment_factory(condition={"device.type": "desktop"}, slug="desktop")
    goal = _goal("event", event="signup_click")
    visitor = make_visitor()
    on_event(visitor, Event("signup_click"))
    on_event(visitor, Event("signup_click"))
    assert _counts("goal|") == {f"goal|{goal.pk}|{phones.pk}": 2, f"goal|{goal.pk}|{touch.pk}": 2}
    # Counting did not make the response depend on the visitor.
    assert visitor.used is False


def test_disabled_goals_count_nothing(make_visitor: Any) -> None:
    Goal.objects.create(name="Off", kind="event", event="signup_click", enabled=False)
    goals.goals_changed()
    assert on_event(make_visitor(), Event("signup_click")) == []
    assert _counts() == {}


def test_analytics_disabled_counts_nothing(make_visitor: Any, settings: Any) -> None:
    _goal("event", event="signup_click")
    settings.PERSONALIZE = {**settings.PERSONALIZE, "ANALYTICS_ENABLED": False}
    assert on_event(make_visitor(_vid()), Event("signup_click")) == []
    assert _counts() == {}


# --- conversions -------------------------------------------------------------------------------


def test_conversion_is_attributed_to_exposures_within_the_window(make_visitor: Any) -> None:
    goal = _goal("event", event="signup_click")
    visitor_id = _vid()
    now = time.time()
    _seen(visitor_id, DIMS, now - 2 * DAY)
    _seen(visitor_id, "7|blockkey|default|-|-", now - 6 * DAY)
    _seen(visitor_id, "8|other|variantkey|h|4", now - 8 * DAY)  # outside the 7 days
    on_event(make_visitor(visitor_id), Event("signup_click"), now=now)
    assert _counts("conv|") == {
        f"conv|{goal.pk}|{DIMS}": 1,
        f"conv|{goal.pk}|7|blockkey|default|-|-": 1,
    }
    fields = counter_store().visitor_fields(visitor_id)
    assert fields[f"goal|{goal.pk}"] == str(int(now))
    assert fields[f"conv|{goal.pk}|{DIMS}"] == "1"


def test_attribution_window_is_a_setting(make_visitor: Any, settings: Any) -> None:
    settings.PERSONALIZE = {**settings.PERSONALIZE, "ATTRIBUTION_WINDOW_DAYS": 1}
    goal = _goal("event", event="signup_click")
    visitor_id = _vid()
    now = time.time()
    _seen(visitor_id, DIMS, now - 2 * DAY)
    _seen(visitor_id, "7|blockkey|default|-|-", now - 3600)
    on_event(make_visitor(visitor_id), Event("signup_click"), now=now)
    assert _counts("conv|") == {f"conv|{goal.pk}|7|blockkey|default|-|-": 1}


def test_conversion_counts_once_per_visitor_goal_and_exposure(make_visitor: Any) -> None:
    signup = _goal("event", event="signup_click")
    other = _goal("event", event="signup_click", name="Also")
    first, second = _vid(), _vid()
    now = time.time()
    for visitor_id in (first, second):
        _seen(visitor_id, DIMS, now - DAY)
    for _ in range(3):
        on_event(make_visitor(first), Event("signup_click"), now=now)
    on_event(make_visitor(second), Event("signup_click"), now=now)
    assert _counts("conv|") == {f"conv|{signup.pk}|{DIMS}": 2, f"conv|{other.pk}|{DIMS}": 2}
    # Completions are counted every time; conversions once per visitor.
    assert _counts("goal|") == {f"goal|{signup.pk}|-": 4, f"goal|{other.pk}|-": 4}


def test_later_exposure_converts_again(make_visitor: Any) -> None:
    goal = _goal("event", event="signup_click")
    visitor_id = _vid()
    now = time.time()
    _seen(visitor_id, DIMS, now - DAY)
    on_event(make_visitor(visitor_id), Event("signup_click"), now=now)
    _seen(visitor_id, "9|blockkey|variantkey|0|-", now + 10)
    on_event(make_visitor(visitor_id), Event("signup_click"), now=now + 20)
    assert _counts("conv|") == {
        f"conv|{goal.pk}|{DIMS}": 1,
        f"conv|{goal.pk}|9|blockkey|variantkey|0|-": 1,
    }
    # The goal's first completion is kept.
    assert counter_store().visitor_fields(visitor_id)[f"goal|{goal.pk}"] == str(int(now))


def test_without_visitor_id_only_goals_are_counted(make_visitor: Any) -> None:
    goal = _goal("event", event="signup_click")
    second = _goal("event", event="order")
    _funnel(goal, second)
    visitor = make_visitor()  # analytics only: no visitor id
    assert visitor.visitor_id is None
    on_event(visitor, Event("signup_click"))
    on_event(visitor, Event("order"))
    assert _counts() == {f"goal|{goal.pk}|-": 1, f"goal|{second.pk}|-": 1}


# --- funnels -----------------------------------------------------------------------------------


def test_funnel_steps_count_only_in_order(make_visitor: Any, segment_factory: Any) -> None:
    phones = segment_factory(condition={"device.type": "mobile"}, slug="phones")
    view = _goal("event", event="view_pricing")
    start = _goal("event", event="start_signup")
    done = _goal("event", event="signup_done")
    funnel = _funnel(view, start, done)
    visitor_id = _vid()
    now = time.time()

    def step(name: str, at: float) -> dict[str, int]:
        on_event(make_visitor(visitor_id), Event(name), now=at)
        return _counts(f"funnel|{funnel.pk}|")

    f = f"funnel|{funnel.pk}"
    assert step("start_signup", now) == {}  # step 1 before step 0
    assert step("view_pricing", now + 1) == {f"{f}|0|{phones.pk}": 1}
    assert step("signup_done", now + 2) == {f"{f}|0|{phones.pk}": 1}  # step 2 before step 1
    assert step("start_signup", now + 3) == {f"{f}|0|{phones.pk}": 1, f"{f}|1|{phones.pk}": 1}
    expected = {f"{f}|0|{phones.pk}": 1, f"{f}|1|{phones.pk}": 1, f"{f}|2|{phones.pk}": 1}
    assert step("signup_done", now + 4) == expected
    assert step("signup_done", now + 5) == expected
    assert step("view_pricing", now + 6) == expected


def test_funnel_counts_each_visitor_once_per_step(make_visitor: Any) -> None:
    view = _goal("event", event="view_pricing")
    done = _goal("event", event="signup_done")
    funnel = _funnel(view, done)
    now = time.time()
    for visitor_id in (_vid(), _vid()):
        for offset, name in enumerate(["view_pricing", "view_pricing", "signup_done"]):
            on_event(make_visitor(visitor_id), Event(name), now=now + offset)
    on_event(make_visitor(_vid()), Event("view_pricing"), now=now)
    assert _counts("funnel|") == {f"funnel|{funnel.pk}|0|-": 3, f"funnel|{funnel.pk}|1|-": 2}


def test_consecutive_steps_reached_by_one_event_both_count(page: Any, make_visitor: Any) -> None:
    pricing = page("pricing")
    view = _goal("page", page=pricing)
    any_view = _goal("event", event="page_view")
    funnel = _funnel(view, any_view)
    on_event(make_visitor(_vid()), Event("page_view", page_id=pricing.pk))
    assert _counts("funnel|") == {f"funnel|{funnel.pk}|0|-": 1, f"funnel|{funnel.pk}|1|-": 1}


# --- the store is down -------------------------------------------------------------------------


def test_store_down_logs_once_and_keeps_the_counts(
    settings: Any, make_visitor: Any, caplog: Any
) -> None:
    from personalize.analytics.pending import pending

    goal = _goal("event", event="signup_click")
    settings.CACHES = {
        **settings.CACHES,
        "shared": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # a closed port: connection refused at once
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.3, "SOCKET_TIMEOUT": 0.3},
        },
    }
    settings.PERSONALIZE = {**settings.PERSONALIZE, "CACHE_ALIAS": "shared"}
    reset_counter_store()
    with caplog.at_level(logging.WARNING, logger="personalize"):
        assert on_event(make_visitor(_vid()), Event("signup_click")) == [goal.pk]
        assert on_event(make_visitor(_vid()), Event("signup_click")) == [goal.pk]
    assert [r.getMessage().split(" (")[0] for r in caplog.records] == ["shared cache unreachable"]
    held, _, skipped = pending.take()
    assert held == {datetime.now(UTC).date(): {f"goal|{goal.pk}|-": 2}}
    assert skipped == 0


# --- tracking and registration -----------------------------------------------------------------


def test_track_counts_goals_for_analytics_consent(page: Any, make_visitor: Any) -> None:
    from personalize.tracking.events import track

    pricing = page("pricing")
    goal = _goal("page", page=pricing)
    visitor = make_visitor()
    assert track(visitor.request, "page_view", page=pricing, visitor=visitor) is True
    assert _counts() == {f"goal|{goal.pk}|-": 1}


def test_track_registration_tracks_the_new_account(
    make_visitor: Any, db: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from personalize.visitors.visitor import _current_visitor

    goal = _goal("registration")
    visitor = make_visitor(_vid())
    token = _current_visitor.set(visitor)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            # The app connects track_registration to the user model's post_save.
            user = get_user_model().objects.create_user("newbie", password="x")  # noqa: S106
        with django_capture_on_commit_callbacks(execute=True):
            user.save()  # an update is no registration
    finally:
        _current_visitor.reset(token)
    assert _counts("goal|") == {f"goal|{goal.pk}|-": 1}


def test_track_registration_ignores_accounts_made_by_someone_else(
    make_request: Any, db: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from personalize.visitors.visitor import _current_visitor

    _goal("registration")
    editor = get_user_model().objects.create_user("editor", password="x")  # noqa: S106
    request = make_request(
        headers={"User-Agent": IPHONE},
        user=editor,
        cookies={"pz_consent": dump_consent_cookie(["analytics"], time.time())},
    )
    token = _current_visitor.set(Visitor(request))
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            user = get_user_model().objects.create_user("someone", password="x")  # noqa: S106
            events.track_registration(None, user, True)
    finally:
        _current_visitor.reset(token)
    assert callbacks == []
    assert _counts() == {}


def test_track_registration_needs_a_request(db: Any) -> None:
    _goal("registration")
    user = get_user_model().objects.create_user("batch", password="x")  # noqa: S106
    events.track_registration(None, user, True)
    assert _counts() == {}
