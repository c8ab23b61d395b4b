"""The personalization report: numbers from flushed and live counters, filters, CSV, funnels."""

from __future__ import annotations

import csv
import io
import math
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from wagtail.models import Page

from cms_site.home.models import ContentPage
from personalize.analytics import results
from personalize.analytics.counters import AnalyticsUnavailable
from personalize.analytics.flush import parse_field
from personalize.analytics.rows import shortfalls
from personalize.analytics.store import counter_store, reset_counter_store
from personalize.checks import check_settings
from personalize.conf import personalize_settings
from personalize.models import DailyCount, Experiment, Funnel, Goal, Segment
from personalize.rules.stats import Arm

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
    # C has nobody yet: B is still compared with the control, but P(best) compares all three.
    assert tested["2"].shortfalls == (results.Shortfall("visitors", 0, 100),)
    assert tested["1"].enough_data is True and tested["1"].uplift == pytest.approx(1.0)
    assert [tested[arm].p_best for arm in "012"] == [None, None, None]


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


# Not enough data yet ---------------------------------------------------------------------------


def experiment_day(data: dict[str, Any], day: date, arms: list[tuple[int, int]]) -> dict[str, str]:
    """Flushed exposures and conversions of the A/B test on ``day``; the report's query for it."""
    p, a, g = data["page"].pk, data["austria"].pk, data["goal"].pk
    counts = {}
    for arm, (exposed, converted) in enumerate(arms):
        counts[f"imp|{p}|{BLOCK}|{TESTED}|{arm}|{a}"] = exposed
        counts[f"exp|{p}|{BLOCK}|{TESTED}|{arm}|{a}"] = exposed
        if converted:
            counts[f"conv|{g}|{p}|{BLOCK}|{TESTED}|{arm}|{a}"] = converted
    flushed(day, counts)
    return {"start": day.isoformat(), "end": day.isoformat(), "experiment": data["experiment"].pk}


def row_cells(html: str, label: str) -> list[str]:
    """The text of the cells of the report's table row headed ``label``."""
    for row in re.findall(r"<tr>(.*?)</tr>", html, flags=re.S):
        head = re.search(r'<th scope="row"[^>]*>(.*?)</th>', row, flags=re.S)
        text = " ".join(re.sub(r"<[^>]+>", " ", head.group(1)).split()) if head else ""
        if text in (label, f"{label} control"):
            cells = re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)
            return [" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in cells]
    raise AssertionError(f"no row {label!r}")


def exact_p_beat(control: tuple[int, int], arm: tuple[int, int]) -> float:
    """P(arm's rate > control's) under Beta(1 + c, 1 + n - c) posteriors, in closed form.

    Evan Miller's sum for integer parameters ("Formulas for Bayesian A/B testing").
    """

    def log_beta(a: float, b: float) -> float:
        return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)

    (n_a, c_a), (n_b, c_b) = control, arm
    alpha_a, beta_a, alpha_b, beta_b = 1 + c_a, 1 + n_a - c_a, 1 + c_b, 1 + n_b - c_b
    return math.fsum(
        math.exp(
            log_beta(alpha_a + i, beta_a + beta_b)
            - math.log(beta_b + i)
            - log_beta(1 + i, beta_b)
            - log_beta(alpha_a, beta_a)
        )
        for i in range(alpha_b)
    )


def test_thresholds_count_each_arm_the_control_and_their_conversions() -> None:
    at_least = results.Thresholds(visitors=100, conversions=10)
    assert shortfalls(Arm(100, 5), Arm(100, 5), at_least) == ()
    assert shortfalls(Arm(100, 5), None, at_least) == ()
    assert shortfalls(Arm(99, 9), Arm(100, 0), at_least) == (
        results.Shortfall("control_visitors", 99, 100),
        results.Shortfall("conversions", 9, 10),
    )
    assert shortfalls(Arm(1, 1), Arm(1, 0), at_least) == (
        results.Shortfall("visitors", 1, 100),
        results.Shortfall("control_visitors", 1, 100),
        results.Shortfall("conversions", 1, 10),
    )
    # The control's own row needs only its visitors.
    assert shortfalls(Arm(12, 0), None, at_least) == (results.Shortfall("visitors", 12, 100),)


def test_one_visitor_per_arm_is_not_enough_data(data: dict[str, Any], admin_client: Any) -> None:
    day = today() - timedelta(days=100)
    query = experiment_day(data, day, [(1, 1), (1, 0)])  # the control converted, B did not
    rows = results.block_rows(day, day, data["goal"].pk, variant=TESTED)
    control, b = by_alternative(rows, TESTED)["0"], by_alternative(rows, TESTED)["1"]
    assert (control.rate, b.rate) == (1.0, 0.0)
    assert (b.uplift, b.uplift_low, b.p_beat_control, b.p_best, control.p_best) == (None,) * 5
    assert (control.enough_data, b.enough_data) == (False, False)
    assert b.shortfalls == (
        results.Shortfall("visitors", 1, 100),
        results.Shortfall("control_visitors", 1, 100),
        results.Shortfall("conversions", 1, 10),
    )

    html = admin_client.get(REPORT, query).content.decode()
    assert "−100.0%" not in html and "-100.0%" not in html
    assert html.count("Not enough data yet") == 2
    assert row_cells(html, "A: Servus")[4:] == ["Not enough data yet 1 of 100 visitors"]
    assert row_cells(html, "B: Grüß Gott")[4:] == [
        "Not enough data yet 1 of 100 visitors · control: 1 of 100 visitors · "
        "1 of 10 conversions with the control"
    ]
    assert (
        "An alternative is compared with the control once both have at least 100 exposed "
        "visitors each. They also need 10 conversions between them." in " ".join(html.split())
    )

    rows_csv = csv_rows(admin_client.get(REPORT, {**query, "format": "csv"}))
    control_csv, b_csv = rows_csv[0], rows_csv[1]
    assert (b_csv["conversion_rate"], b_csv["uplift"], b_csv["uplift_low"]) == ("0", "", "")
    assert (b_csv["p_beat_control"], b_csv["p_best"], control_csv["p_best"]) == ("", "", "")
    assert (control_csv["enough_data"], b_csv["enough_data"]) == ("no", "no")
    assert control_csv["data_needed"] == "1 of 100 visitors"
    assert b_csv["data_needed"] == (
        "1 of 100 visitors · control: 1 of 100 visitors · 1 of 10 conversions with the control"
    )


def test_enough_data_shows_uplift_interval_and_p_beat_control(
    data: dict[str, Any], admin_client: Any
) -> None:
    day = today() - timedelta(days=120)
    query = experiment_day(data, day, [(200, 20), (200, 26)])
    # Computed here from the counts: the uplift, its delta-method interval, P(B beats A).
    uplift = (26 / 200 - 20 / 200) / (20 / 200)
    se = math.sqrt(1 / 20 - 1 / 200 + 1 / 26 - 1 / 200)
    low = math.expm1(math.log(1.3) - 1.959964 * se)
    high = math.expm1(math.log(1.3) + 1.959964 * se)
    p_beat = exact_p_beat((200, 20), (200, 26))
    assert round(uplift, 3) == 0.3 and (round(low, 3), round(high, 3)) == (-0.249, 1.251)
    assert p_beat == pytest.approx(0.8241, abs=1e-4)

    rows = results.block_rows(day, day, data["goal"].pk, variant=TESTED)
    control, b = by_alternative(rows, TESTED)["0"], by_alternative(rows, TESTED)["1"]
    assert (control.enough_data, b.enough_data) == (True, True)
    assert b.uplift == pytest.approx(uplift)
    assert (b.uplift_low, b.uplift_high) == (pytest.approx(low), pytest.approx(high))
    assert b.p_beat_control == pytest.approx(p_beat, abs=0.01)
    assert b.p_best == pytest.approx(p_beat, abs=0.01)  # two arms: best is beating the other
    assert control.p_best == pytest.approx(1 - p_beat, abs=0.01)

    html = admin_client.get(REPORT, query).content.decode()
    assert "Not enough data yet" not in html
    assert '<abbr title="Probability of beating the control">P(beat control)</abbr>' in html
    uplift_cell, p_beat_cell, p_best_cell = row_cells(html, "B: Grüß Gott")[4:]
    assert uplift_cell == "+30.0% −24.9% to +125.1%"
    assert abs(int(p_beat_cell.rstrip("%")) - 100 * p_beat) <= 1
    assert abs(int(p_best_cell.rstrip("%")) - 100 * p_beat) <= 1
    control_cells = row_cells(html, "A: Servus")[4:]
    assert control_cells[:2] == ["—", "—"]  # no uplift, no P(beat control) for the control
    assert abs(int(control_cells[2].rstrip("%")) - 100 * (1 - p_beat)) <= 1

    b_csv = csv_rows(admin_client.get(REPORT, {**query, "format": "csv"}))[1]
    assert (b_csv["enough_data"], b_csv["data_needed"]) == ("yes", "")
    assert float(b_csv["p_beat_control"]) == pytest.approx(p_beat, abs=0.01)
    assert float(b_csv["uplift_low"]) == pytest.approx(low, abs=1e-4)


def test_p_best_waits_for_every_alternative(data: dict[str, Any], admin_client: Any) -> None:
    experiment = data["experiment"]
    experiment.arms = [*experiment.arms, {"label": "C: Hoi", "weight": 50}]
    experiment.save()
    day = today() - timedelta(days=120)
    query = experiment_day(data, day, [(200, 20), (200, 26), (30, 2)])
    html = admin_client.get(REPORT, query).content.decode()
    b_cells = row_cells(html, "B: Grüß Gott")[4:]
    assert b_cells[0].startswith("+30.0%") and b_cells[2] == "—"
    assert row_cells(html, "C: Hoi")[4:] == ["Not enough data yet 30 of 100 visitors"]
    assert row_cells(html, "A: Servus")[4:] == ["—", "—", "—"]
    assert "P(best) compares every alternative: it is shown once each has enough data." in html


def test_thresholds_come_from_the_settings(
    data: dict[str, Any], admin_client: Any, settings: Any
) -> None:
    settings.PERSONALIZE = {
        **settings.PERSONALIZE,
        "REPORT_MIN_VISITORS": 1,
        "REPORT_MIN_CONVERSIONS": 0,
    }
    day = today() - timedelta(days=100)
    query = experiment_day(data, day, [(1, 1), (1, 0)])
    html = admin_client.get(REPORT, query).content.decode()
    assert "Not enough data yet" not in html
    assert row_cells(html, "B: Grüß Gott")[4] == "−100.0%"  # what the editor asked for
    assert "at least 1 exposed visitor each." in html
    assert "conversions between them" not in html


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("REPORT_MIN_VISITORS", 0),
        ("REPORT_MIN_VISITORS", "100"),
        ("REPORT_MIN_VISITORS", True),
        ("REPORT_MIN_CONVERSIONS", -1),
        ("REPORT_MIN_CONVERSIONS", 2.5),
    ],
)
def test_invalid_thresholds_are_reported_and_the_report_uses_the_defaults(
    data: dict[str, Any], admin_client: Any, settings: Any, name: str, value: Any
) -> None:
    settings.PERSONALIZE = {**settings.PERSONALIZE, name: value}
    with pytest.raises(ImproperlyConfigured, match=rf"PERSONALIZE\['{name}'\] must be a whole"):
        personalize_settings.report_thresholds  # noqa: B018
    assert [m.id for m in check_settings() if m.id.startswith("personalize.E")] == [
        "personalize.E001"
    ]
    assert results.report_thresholds() == results.Thresholds(visitors=100, conversions=10)
    day = today() - timedelta(days=100)
    response = admin_client.get(REPORT, experiment_day(data, day, [(1, 1), (1, 0)]))
    assert response.status_code == 200
    assert "Not enough data yet" in response.content.decode()
