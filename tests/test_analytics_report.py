"""The personalization report: numbers from flushed and live counters, filters, CSV, funnels."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.urls import reverse
from wagtail.models import Page

from cms_site.home.models import ContentPage
from personalize.analytics import results
from personalize.analytics.counters import AnalyticsUnavailable
from personalize.analytics.flush import parse_field
from personalize.analytics.store import counter_store, reset_counter_store
from personalize.models import DailyCount, Experiment, Funnel, Goal, Segment

pytestmark = pytest.mark.django_db

BLOCK = "b1" * 16
TESTED = "a1" * 16  # the variant with an experiment
PLAIN = "c1" * 16  # a variant without one
REPORT = "/admin/personalize/report/"


def today() -> date:
    return datetime.now(UTC).date()


@pytest.fixture(autouse=True)
def _fresh_store() -> Any:
    reset_counter_store()
    yield
    reset_counter_store()


def flushed(day: date, counts: dict[str, int]) -> None:
    """DailyCount rows as the flush writes them."""
    for field, n in counts.items():
        DailyCount.objects.create(date=day, field=field, count=n, **parse_field(field))


@pytest.fixture
def data(segment_factory: Any) -> dict[str, Any]:
    """A page with a personalized block: an A/B test for one segment, a plain variant, counts."""
    austria = segment_factory("Visitors from Austria", condition={"geo.country": "AT"})
    germany = segment_factory("Visitors from Germany", condition={"geo.country": "DE"})
    goal = Goal.objects.create(name="Newsletter", kind=Goal.EVENT, event="newsletter")
    Goal.objects.create(name="Zz other goal", kind=Goal.EVENT, event="other")
    page = ContentPage(title="Ski touring guide", slug="ski-touring")
    page.body = [
        {
            "type": "personalized",
            "value": {
                "variants": [
                    {
                        "label": "Austria: Servus",
                        "segments": [austria.pk],
                        "content": [],
                        "alternatives": [{"label": "B: Grüß Gott", "weight": 50, "content": []}],
                        "weight": 50,
                        "holdout": 10,
                        "key": TESTED,
                    },
                    {
                        "label": "",
                        "segments": [germany.pk],
                        "content": [],
                        "alternatives": [],
                        "weight": 50,
                        "holdout": 0,
                        "key": PLAIN,
                    },
                ],
                "default": [],
                "key": BLOCK,
            },
        }
    ]
    Page.get_first_root_node().add_child(instance=page)
    experiment = Experiment.objects.create(
        key=TESTED,
        page=page,
        block_key=BLOCK,
        name="Ski touring guide · Austria: Servus",
        arms=[{"label": "A: Servus", "weight": 50}, {"label": "B: Grüß Gott", "weight": 50}],
        holdout=10,
        status=Experiment.RUNNING,
        goal=goal,
    )
    p, a, g = page.pk, austria.pk, goal.pk
    recent = today() - timedelta(days=3)
    flushed(
        recent,
        {
            f"imp|{p}|{BLOCK}|{TESTED}|0|{a}": 400,
            f"exp|{p}|{BLOCK}|{TESTED}|0|{a}": 200,
            f"conv|{g}|{p}|{BLOCK}|{TESTED}|0|{a}": 20,
            f"imp|{p}|{BLOCK}|{TESTED}|1|{a}": 380,
            f"exp|{p}|{BLOCK}|{TESTED}|1|{a}": 250,
            f"conv|{g}|{p}|{BLOCK}|{TESTED}|1|{a}": 50,
            f"imp|{p}|{BLOCK}|{TESTED}|h|{a}": 90,
            f"exp|{p}|{BLOCK}|{TESTED}|h|{a}": 45,
            f"imp|{p}|{BLOCK}|{PLAIN}|-|{germany.pk}": 300,
            f"exp|{p}|{BLOCK}|{PLAIN}|-|{germany.pk}": 120,
            f"conv|{g}|{p}|{BLOCK}|{PLAIN}|-|{germany.pk}": 6,
            f"imp|{p}|{BLOCK}|default|-|-": 1000,
            f"exp|{p}|{BLOCK}|default|-|-": 600,
            f"conv|{g}|{p}|{BLOCK}|default|-|-": 30,
        },
    )
    # Long ago: outside the default 28 days.
    flushed(
        today() - timedelta(days=40),
        {f"imp|{p}|{BLOCK}|{TESTED}|0|{a}": 7, f"exp|{p}|{BLOCK}|{TESTED}|0|{a}": 5},
    )
    # Not flushed yet.
    counter_store().add(
        today(),
        {
            f"imp|{p}|{BLOCK}|{TESTED}|0|{a}": 100,
            f"exp|{p}|{BLOCK}|{TESTED}|0|{a}": 50,
            f"conv|{g}|{p}|{BLOCK}|{TESTED}|0|{a}": 5,
        },
    )
    return {
        "page": page,
        "austria": austria,
        "germany": germany,
        "goal": goal,
        "experiment": experiment,
    }


@pytest.fixture
def admin_client(client: Any) -> Any:
    client.force_login(User.objects.create_superuser("admin", "admin@example.com", "pw"))
    return client


def by_alternative(rows: list[results.Row], variant: str) -> dict[str, results.Row]:
    return {row.alternative: row for row in rows if row.variant == variant}


def test_block_rows_add_flushed_and_live_counts(data: dict[str, Any]) -> None:
    start, end = today() - timedelta(days=27), today()
    rows = results.block_rows(start, end, data["goal"].pk)
    tested = by_alternative(rows, TESTED)
    assert sorted(tested) == ["0", "1", "h"]
    control, b = tested["0"], tested["1"]
    assert (control.impressions, control.exposed, control.conversions) == (500, 250, 25)
    assert (b.impressions, b.exposed, b.conversions) == (380, 250, 50)
    assert control.rate == pytest.approx(0.1)
    assert b.rate == pytest.approx(0.2)
    assert control.uplift is None
    assert b.uplift == pytest.approx(1.0)
    assert b.uplift_low is not None and b.uplift_high is not None
    assert b.uplift_low < 1.0 < b.uplift_high
    assert control.p_best is not None and b.p_best is not None
    assert control.p_best + b.p_best == pytest.approx(1.0)
    assert b.p_best > 0.99
    assert b.p_beat_control is not None and b.p_beat_control > 0.99
    # Exposures split 250/250 as configured: no mismatch.
    assert control.srm_p == pytest.approx(1.0)
    assert control.experiment_id == data["experiment"].pk
    # The holdout is shown, but outside the comparison.
    assert tested["h"].impressions == 90
    assert tested["h"].p_best is None
    plain = by_alternative(rows, PLAIN)[""]
    assert (plain.impressions, plain.exposed, plain.conversions) == (300, 120, 6)
    assert plain.rate == pytest.approx(0.05)
    assert plain.p_best is None and plain.srm_p is None
    default = by_alternative(rows, "default")[""]
    assert (default.impressions, default.segment_id) == (1000, None)
    assert [row.variant for row in rows] == [TESTED, TESTED, TESTED, PLAIN, "default"]


def test_block_rows_without_goal_count_no_conversions(data: dict[str, Any]) -> None:
    rows = results.block_rows(today() - timedelta(days=27), today(), None)
    tested = by_alternative(rows, TESTED)
    assert tested["1"].conversions == 0
    assert tested["1"].rate is None
    assert tested["1"].p_best is None
    assert tested["1"].srm_p == pytest.approx(1.0)


def test_sample_ratio_mismatch_is_flagged(data: dict[str, Any], admin_client: Any) -> None:
    p, a = data["page"].pk, data["austria"].pk
    counter_store().add(today(), {f"exp|{p}|{BLOCK}|{TESTED}|1|{a}": 400})
    rows = results.block_rows(today() - timedelta(days=27), today(), data["goal"].pk)
    srm = by_alternative(rows, TESTED)["0"].srm_p
    assert srm is not None and srm < 0.001
    html = admin_client.get(REPORT).content.decode()
    assert html.count(">Sample ratio mismatch</span>") == 1
    assert "Visitors did not split across the alternatives as configured (p &lt; 0.001)" in html


def test_no_srm_test_while_optimizing_automatically(data: dict[str, Any]) -> None:
    Experiment.objects.filter(pk=data["experiment"].pk).update(auto_optimize=True)
    rows = results.block_rows(today() - timedelta(days=27), today(), data["goal"].pk)
    assert by_alternative(rows, TESTED)["0"].srm_p is None


def test_missing_alternatives_get_rows_of_zeros(data: dict[str, Any]) -> None:
    experiment = data["experiment"]
    experiment.arms = [*experiment.arms, {"label": "C: Hoi", "weight": 50}]
    experiment.save()
    rows = results.block_rows(today() - timedelta(days=27), today(), data["goal"].pk)
    tested = by_alternative(rows, TESTED)
    assert (tested["2"].impressions, tested["2"].exposed) == (0, 0)
    assert sum(row.p_best or 0 for row in tested.values()) == pytest.approx(1.0)


def test_experiment_arms_over_whole_history_without_holdout(data: dict[str, Any]) -> None:
    arms = results.experiment_arms(TESTED, data["goal"].pk, 2)
    assert arms == [(255, 25), (250, 50)]
    assert results.experiment_arms(TESTED, None, 2) == [(255, 0), (250, 0)]
    assert results.experiment_arms(TESTED, data["goal"].pk, 1) == [(255, 25)]
    assert results.experiment_arms("f" * 32, data["goal"].pk, 2) == [(0, 0), (0, 0)]


def test_experiment_arms_never_report_more_conversions_than_exposures(
    data: dict[str, Any],
) -> None:
    p, a, g = data["page"].pk, data["austria"].pk, data["goal"].pk
    counter_store().add(today(), {f"conv|{g}|{p}|{BLOCK}|{TESTED}|1|{a}": 500})
    assert results.experiment_arms(TESTED, g, 2)[1] == (250, 250)


def test_store_outage_shows_flushed_counts(data: dict[str, Any], monkeypatch: Any) -> None:
    store = counter_store()

    def down(*args: Any) -> Any:
        raise AnalyticsUnavailable("connection refused")

    monkeypatch.setattr(store, "live_days", down)
    rows = results.block_rows(today() - timedelta(days=27), today(), data["goal"].pk)
    assert by_alternative(rows, TESTED)["0"].impressions == 400
    assert results.experiment_arms(TESTED, data["goal"].pk, 2)[0] == (205, 20)


def test_daily_series_has_every_day(data: dict[str, Any]) -> None:
    start = today() - timedelta(days=4)
    series = results.daily_series(start, today(), goal_id=data["goal"].pk)
    assert [day for day, _, _ in series] == [start + timedelta(days=n) for n in range(5)]
    assert series[1] == (today() - timedelta(days=3), 2170, 106)
    assert series[-1] == (today(), 100, 5)
    assert series[0][1:] == (0, 0)
    other = Goal.objects.get(name="Zz other goal")
    assert results.daily_series(start, today(), goal_id=other.pk)[1][2] == 0
    assert results.daily_series(start, today(), block_key="0" * 32)[1][1:] == (0, 0)
    tested = results.daily_series(start, today(), BLOCK, data["goal"].pk, variant=TESTED)
    assert (tested[1][1:], tested[-1][1:]) == ((870, 70), (100, 5))


def test_funnel_drop_off_per_segment(data: dict[str, Any]) -> None:
    goal, other = data["goal"], Goal.objects.get(name="Zz other goal")
    funnel = Funnel.objects.create(
        name="Newsletter to order", steps=[("goal", goal), ("goal", other)]
    )
    a = data["austria"].pk
    flushed(
        today() - timedelta(days=2),
        {
            f"funnel|{funnel.pk}|0|{a}": 200,
            f"funnel|{funnel.pk}|1|{a}": 50,
            f"funnel|{funnel.pk}|0|-": 10,
        },
    )
    counter_store().add(today(), {f"funnel|{funnel.pk}|1|{a}": 30})
    rows = results.funnel_rows(funnel, today() - timedelta(days=27), today())
    assert [(row.segment_id, row.counts) for row in rows] == [(a, (200, 80)), (None, (10, 0))]
    assert rows[0].drop_off == (None, pytest.approx(0.6))
    assert rows[1].drop_off == (None, pytest.approx(1.0))


def test_report_page_shows_the_numbers(data: dict[str, Any], admin_client: Any) -> None:
    response = admin_client.get(REPORT)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Ski touring guide" in html
    assert "Personalized block 1" in html
    assert "Austria: Servus" in html
    assert "Variant for: Visitors from Germany" in html
    assert "Default (everyone else)" in html
    assert "B: Grüß Gott" in html
    assert "Holdout (default content)" in html
    assert "10.00%" in html and "20.00%" in html and "5.00%" in html
    assert '+100.0%<span class="pz-interval">+' in html
    assert "Sample ratio mismatch" not in html
    assert "Please correct the filters" not in html
    # The first goal is the default.
    assert f'<option value="{data["goal"].pk}" selected>Newsletter</option>' in html
    assert f'value="{(today() - timedelta(days=27)).isoformat()}"' in html
    assert 'href="/admin/pages/{}/edit/"'.format(data["page"].pk) in html


def test_report_chart_is_accessible_svg_with_data_table(
    data: dict[str, Any], admin_client: Any
) -> None:
    html = admin_client.get(REPORT).content.decode()
    assert '<svg role="img" aria-labelledby="pz-chart-title pz-chart-desc"' in html
    assert '<title id="pz-chart-title">Daily impressions (bars) and conversions (line)' in html
    assert "Over 28 days: 2270 impressions and 111 conversions." in html
    assert html.count('<rect x="') == 28
    assert "Show the data as a table" in html
    assert '<td class="pz-num">2170</td><td class="pz-num">106</td>' in html


def test_report_period_filter(data: dict[str, Any], admin_client: Any) -> None:
    old = today() - timedelta(days=40)
    response = admin_client.get(REPORT, {"start": old.isoformat(), "end": old.isoformat()})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Over 1 day: 7 impressions and 0 conversions." in html
    assert '<td class="pz-num">7</td>' in html
    assert "Default (everyone else)" not in html


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "2026-13-45"}, "Enter a valid date."),
        ({"start": "2026-05-02", "end": "2026-05-01"}, "must not start after it ends"),
        ({"start": "2020-01-01", "end": "2026-01-01"}, "Choose at most 366 days."),
        ({"start": "1999-12-31", "end": "2000-01-02"}, "Choose a day from 2000-01-01 on."),
        ({"end": "0001-01-01"}, "Choose a day from 2000-01-01 on."),
        ({"goal": "999999"}, "Select a valid choice."),
        ({"experiment": "abc"}, "Select a valid choice."),
    ],
)
def test_bad_filters_show_errors_not_500(
    data: dict[str, Any], admin_client: Any, params: dict[str, str], message: str
) -> None:
    response = admin_client.get(REPORT, params)
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    # The default period is shown meanwhile.
    assert "Please correct the filters. Meanwhile:" in html
    assert "Over 28 days: 2270 impressions" in html
    csv_response = admin_client.get(REPORT, {**params, "format": "csv"})
    assert csv_response.status_code == 400
    assert message in csv_response.content.decode()


def csv_rows(response: Any) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_csv_export_has_the_same_rows(data: dict[str, Any], admin_client: Any) -> None:
    response = admin_client.get(REPORT, {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    start, end = today() - timedelta(days=27), today()
    assert response["Content-Disposition"] == (
        f'attachment; filename="personalization-{start.isoformat()}-{end.isoformat()}.csv"'
    )
    rows = csv_rows(response)
    assert len(rows) == 5
    b = rows[1]
    assert b["start"] == start.isoformat() and b["end"] == end.isoformat()
    assert (b["goal"], b["page"], b["block"]) == (
        "Newsletter",
        "Ski touring guide",
        "Personalized block 1",
    )
    assert (b["variant"], b["variant_label"]) == (TESTED, "Austria: Servus")
    assert (b["alternative"], b["alternative_label"]) == ("1", "B: Grüß Gott")
    assert b["segment"] == "Visitors from Austria"
    assert (b["impressions"], b["exposed_visitors"], b["conversions"]) == ("380", "250", "50")
    assert (b["conversion_rate"], b["uplift"]) == ("0.2", "1")
    assert float(rows[0]["p_best"]) + float(b["p_best"]) == pytest.approx(1.0)
    assert rows[0]["uplift"] == "" and rows[0]["srm_p_value"] == "1"
    assert rows[2]["alternative"] == "h"
    assert rows[4]["variant"] == "default" and rows[4]["segment"] == "—"


def test_csv_protects_against_spreadsheet_formulas(data: dict[str, Any], admin_client: Any) -> None:
    Goal.objects.filter(pk=data["goal"].pk).update(name="=HYPERLINK(1)")
    rows = csv_rows(admin_client.get(REPORT, {"format": "csv"}))
    assert rows[0]["goal"] == "'=HYPERLINK(1)"


def test_report_for_one_experiment(data: dict[str, Any], admin_client: Any) -> None:
    experiment = data["experiment"]
    response = admin_client.get(REPORT, {"experiment": experiment.pk})
    html = response.content.decode()
    assert "Showing the experiment “Ski touring guide · Austria: Servus”." in html
    assert "B: Grüß Gott" in html
    assert "Default (everyone else)" not in html
    assert "Over 28 days: 970 impressions and 75 conversions." in html
    rows = csv_rows(admin_client.get(REPORT, {"experiment": experiment.pk, "format": "csv"}))
    assert [row["alternative"] for row in rows] == ["0", "1", "h"]


def test_report_funnels_section(data: dict[str, Any], admin_client: Any) -> None:
    goal, other = data["goal"], Goal.objects.get(name="Zz other goal")
    funnel = Funnel.objects.create(name="Sign-up funnel", steps=[("goal", goal), ("goal", other)])
    a = data["austria"].pk
    flushed(today(), {f"funnel|{funnel.pk}|0|{a}": 40, f"funnel|{funnel.pk}|1|{a}": 10})
    html = admin_client.get(REPORT).content.decode()
    assert "Sign-up funnel" in html
    assert "1. Newsletter" in html and "2. Zz other goal" in html
    assert "75% drop-off" in html


def test_report_without_data_or_goals(admin_client: Any) -> None:
    response = admin_client.get(REPORT)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Nothing was delivered in this period." in html
    assert "add a goal" in html


def test_report_needs_the_permission(data: dict[str, Any], client: Any) -> None:
    editor = User.objects.create_user("editor", "editor@example.com", "pw")
    editor.groups.add(Group.objects.get(name="Editors"))
    client.force_login(editor)
    response = client.get(REPORT)
    assert response.status_code in (302, 403)
    assert client.get(REPORT, {"format": "csv"}).status_code in (302, 403)
    assert "/admin/personalize/report/" not in client.get("/admin/").content.decode()

    editor.user_permissions.add(Permission.objects.get(codename="view_dailycount"))
    editor = User.objects.get(pk=editor.pk)  # fresh permission cache
    client.force_login(editor)
    assert client.get(REPORT).status_code == 200
    assert "/admin/personalize/report/" in client.get("/admin/").content.decode()


def test_report_needs_admin_access(data: dict[str, Any], client: Any) -> None:
    user = User.objects.create_user("reader", "reader@example.com", "pw")
    user.user_permissions.add(Permission.objects.get(codename="view_dailycount"))
    client.force_login(user)
    response = client.get(REPORT)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_permission_is_offered_in_the_group_editor(admin_client: Any) -> None:
    group = Group.objects.get(name="Editors")
    html = admin_client.get(reverse("wagtailusers_groups:edit", args=[group.pk])).content.decode()
    permission = Permission.objects.get(codename="view_dailycount")
    assert f'value="{permission.pk}"' in html


def test_reports_menu_lists_the_report(admin_client: Any) -> None:
    html = admin_client.get("/admin/").content.decode()
    assert "Personalization" in html
    assert reverse("personalize_admin:report") == REPORT


def test_segment_visitors_cached_for_a_minute(data: dict[str, Any]) -> None:
    austria = data["austria"]
    store = counter_store()
    store.add_unique(austria.pk, today(), "v1")
    store.add_unique(austria.pk, today() - timedelta(days=6), "v2")
    store.add_unique(austria.pk, today() - timedelta(days=7), "v3")  # 8 days ago: not counted
    assert results.segment_visitors(austria.pk) == 2
    store.add_unique(austria.pk, today(), "v4")
    assert results.segment_visitors(austria.pk) == 2  # cached
    from django.core.cache import cache

    cache.clear()
    assert results.segment_visitors(austria.pk) == 3
    assert results.segment_visitors(Segment.objects.get(slug=data["germany"].slug).pk) == 0


def test_segment_visitors_zero_when_store_down(data: dict[str, Any], monkeypatch: Any) -> None:
    def down(*args: Any) -> Any:
        raise AnalyticsUnavailable("connection refused")

    monkeypatch.setattr(counter_store(), "unique_visitors", down)
    assert results.segment_visitors(data["austria"].pk) == 0


def test_odd_and_malformed_counters_do_not_break_the_report(
    data: dict[str, Any], admin_client: Any
) -> None:
    p = data["page"].pk
    counter_store().add(
        today(),
        {f"imp|{p}|{BLOCK}|default|x|-": 3, "imp|not-a-page|x": 9, "weird": 1, "conv|x|y": 2},
    )
    rows = results.block_rows(today() - timedelta(days=27), today(), data["goal"].pk)
    assert [(row.alternative, row.impressions) for row in rows if row.variant == "default"] == [
        ("", 1000),
        ("x", 3),
    ]
    assert admin_client.get(REPORT).status_code == 200
