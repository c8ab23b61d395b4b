"""Editors manage goals, funnels and experiments; the segments list shows recent visitors."""

from __future__ import annotations

import html as html_lib
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.urls import reverse
from django.utils import timezone
from wagtail.models import Page
from wagtail.test.utils.form_data import nested_form_data, streamfield

from personalize.analytics.store import counter_store, reset_counter_store
from personalize.models import Experiment, Funnel, Goal

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_store() -> Any:
    reset_counter_store()
    yield
    reset_counter_store()


@pytest.fixture
def admin_client(client: Any) -> Any:
    client.force_login(User.objects.create_superuser("admin", "admin@example.com", "pw"))
    return client


@pytest.fixture
def page(db: Any) -> Page:
    return Page.get_first_root_node().add_child(instance=Page(title="Winter guide", slug="winter"))


@pytest.fixture
def experiment(page: Page) -> Experiment:
    return Experiment.objects.create(
        key="a1" * 16,
        page=page,
        block_key="b1" * 16,
        name="Winter guide · Austria",
        arms=[{"label": "A: Servus", "weight": 50}, {"label": "B: Grüß Gott", "weight": 50}],
    )


def _text(fragment: str) -> str:
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def listing(html: str) -> list[dict[str, str]]:
    """The rows of an admin listing table as {column header: cell text}."""
    table = html[html.index('<table class="listing') :]
    head, body = table[: table.index("</table>")].split("</thead>")
    headers = [_text(cell) for cell in re.findall(r"<th[^>]*>(.*?)</th>", head, re.S)]
    return [
        dict(zip(headers, map(_text, re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)), strict=True))
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]


def edit_data(experiment: Experiment, **changes: Any) -> dict[str, Any]:
    data = {
        "name": experiment.name,
        "status": experiment.status,
        "goal": experiment.goal_id or "",
        "exploration_floor": experiment.exploration_floor,
        "winner": "" if experiment.winner is None else experiment.winner,
    }
    if experiment.auto_optimize:
        data["auto_optimize"] = "on"
    data.update(changes)
    return data


def test_experiments_list(admin_client: Any, experiment: Experiment) -> None:
    Experiment.objects.filter(pk=experiment.pk).update(status=Experiment.ENDED, winner=1)
    response = admin_client.get(reverse("wagtailsnippets_personalize_experiment:list"))
    html = response.content.decode()
    assert response.status_code == 200
    [row] = listing(html)
    assert row["Name"].startswith("Winter guide · Austria")
    assert (row["Page"], row["Status"], row["Winner"], row["Results"]) == (
        "Winter guide",
        "Ended",
        "B: Grüß Gott",
        "Results",
    )
    assert row["Optimized automatically"] == "False"
    assert f'href="/admin/personalize/report/?experiment={experiment.pk}"' in html
    assert reverse("wagtailsnippets_personalize_experiment:add") not in html


def test_experiments_cannot_be_added_in_the_admin(admin_client: Any) -> None:
    url = reverse("wagtailsnippets_personalize_experiment:add")
    listing = reverse("wagtailsnippets_personalize_experiment:list")
    # Not "you do not have permission" (a superuser has every permission): how experiments
    # come to be, on the experiments list.
    response = admin_client.get(url, follow=True)
    assert response.redirect_chain == [(listing, 302)]
    assert "give a variant of a personalized block alternatives" in response.content.decode()
    assert "permission" not in response.content.decode().lower()
    assert admin_client.post(url, {"name": "x", "status": "running"}).status_code == 302
    assert Experiment.objects.count() == 0


def test_starting_and_ending_an_experiment_stamps_the_times(
    admin_client: Any, experiment: Experiment
) -> None:
    goal = Goal.objects.create(name="Newsletter", kind=Goal.EVENT, event="newsletter")
    url = reverse("wagtailsnippets_personalize_experiment:edit", args=[experiment.pk])
    form = admin_client.get(url).content.decode()
    assert '<option value="1">1: B: Grüß Gott</option>' in form

    before = timezone.now()
    response = admin_client.post(
        url, edit_data(experiment, status="running", goal=goal.pk, auto_optimize="on")
    )
    assert response.status_code == 302
    experiment.refresh_from_db()
    assert experiment.status == "running"
    assert experiment.goal == goal
    assert experiment.auto_optimize is True
    assert experiment.started_at is not None and experiment.started_at >= before
    assert experiment.ended_at is None
    started = experiment.started_at

    admin_client.post(url, edit_data(experiment, status="paused"))
    admin_client.post(url, edit_data(experiment, status="running"))
    experiment.refresh_from_db()
    assert experiment.started_at == started  # the first start counts

    admin_client.post(url, edit_data(experiment, status="ended", winner="1"))
    experiment.refresh_from_db()
    assert (experiment.status, experiment.winner) == ("ended", 1)
    assert experiment.ended_at is not None and experiment.ended_at >= started

    admin_client.post(url, edit_data(experiment, status="running", winner=""))
    experiment.refresh_from_db()
    assert experiment.ended_at is None
    assert experiment.started_at == started


def test_saving_without_status_change_keeps_the_times(
    admin_client: Any, experiment: Experiment
) -> None:
    started = timezone.now() - timedelta(days=3)
    Experiment.objects.filter(pk=experiment.pk).update(status="running", started_at=started)
    experiment.refresh_from_db()
    url = reverse("wagtailsnippets_personalize_experiment:edit", args=[experiment.pk])
    response = admin_client.post(url, edit_data(experiment, name="Renamed"))
    assert response.status_code == 302
    experiment.refresh_from_db()
    assert (experiment.name, experiment.started_at, experiment.ended_at) == (
        "Renamed",
        started,
        None,
    )


def test_winner_must_be_an_alternative(admin_client: Any, experiment: Experiment) -> None:
    url = reverse("wagtailsnippets_personalize_experiment:edit", args=[experiment.pk])
    response = admin_client.post(url, edit_data(experiment, status="ended", winner="5"))
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    experiment.refresh_from_db()
    assert experiment.status == "draft" and experiment.ended_at is None


def test_editor_creates_goal_and_funnel(admin_client: Any, page: Page) -> None:
    response = admin_client.post(
        reverse("wagtailsnippets_personalize_goal:add"),
        {"name": "Reads the guide", "enabled": "on", "kind": "page", "page": page.pk, "event": ""},
    )
    assert response.status_code == 302
    reads = Goal.objects.get(name="Reads the guide")
    assert (reads.kind, reads.page_id) == ("page", page.pk)
    signs_up = Goal.objects.create(name="Signs up", kind=Goal.REGISTRATION)

    response = admin_client.post(
        reverse("wagtailsnippets_personalize_funnel:add"),
        nested_form_data(
            {
                "name": "Guide to sign-up",
                "steps": streamfield([("goal", reads.pk), ("goal", signs_up.pk)]),
            }
        ),
    )
    assert response.status_code == 302
    funnel = Funnel.objects.get(name="Guide to sign-up")
    assert funnel.goal_ids() == [reads.pk, signs_up.pk]

    html = admin_client.get(reverse("wagtailsnippets_personalize_funnel:list")).content.decode()
    assert "Reads the guide → Signs up" in html
    html = admin_client.get(reverse("wagtailsnippets_personalize_goal:list")).content.decode()
    assert "Visits a page" in html and "Winter guide" in html


def test_page_goal_needs_its_page(admin_client: Any) -> None:
    response = admin_client.post(
        reverse("wagtailsnippets_personalize_goal:add"),
        {"name": "Visits", "enabled": "on", "kind": "page", "page": "", "event": ""},
    )
    assert response.status_code == 200
    assert "Choose the page." in response.content.decode()
    assert not Goal.objects.exists()


def _menu(html: str) -> list[dict[str, Any]]:
    """The main menu items from the sidebar's JSON props."""
    start = html.index('id="wagtail-sidebar-props"')
    props = json.loads(html[html.index(">", start) + 1 : html.index("</script>", start)])
    for module in props["modules"]:
        if module["_type"] == "wagtail.sidebar.MainMenuModule":
            return module["_args"][0]
    raise AssertionError("no main menu")


def _labels(items: list[dict[str, Any]]) -> list[str]:
    return [item["_args"][0]["label"] for item in items]


def test_analytics_menu_groups_goals_funnels_experiments(admin_client: Any) -> None:
    menu = _menu(admin_client.get("/admin/").content.decode())
    top = _labels(menu)
    assert "Segments" in top and "Scoring rules" in top and "Analytics" in top
    analytics = menu[top.index("Analytics")]["_args"][1]
    assert _labels(analytics) == ["Goals", "Funnels", "Experiments"]
    reports = menu[top.index("Reports")]["_args"][1]
    assert "Personalization" in _labels(reports)


def test_segments_list_shows_visitors_of_the_last_7_days(
    admin_client: Any, segment_factory: Any
) -> None:
    austria = segment_factory("Visitors from Austria", condition={"geo.country": "AT"})
    segment_factory("Visitors from Germany", condition={"geo.country": "DE"})
    today = datetime.now(UTC).date()
    store = counter_store()
    for n, visitor in enumerate(["v1", "v2", "v3", "v1"]):
        store.add_unique(austria.pk, today - timedelta(days=n), visitor)
    html = admin_client.get(reverse("wagtailsnippets_personalize_segment:list")).content.decode()
    visitors = {row["Name"].split(" ")[2]: row["Visitors (7 days)"] for row in listing(html)}
    assert visitors == {"Austria": "3", "Germany": "0"}


def test_editors_without_analytics_permissions_see_no_analytics(client: Any) -> None:
    editor = User.objects.create_user("editor", "editor@example.com", "pw")
    editor.groups.add(Group.objects.get(name="Editors"))
    client.force_login(editor)
    assert "Analytics" not in _labels(_menu(client.get("/admin/").content.decode()))
    url = reverse("wagtailsnippets_personalize_experiment:list")
    assert client.get(url).status_code in (302, 403)

    editor.user_permissions.add(Permission.objects.get(codename="change_experiment"))
    client.force_login(User.objects.get(pk=editor.pk))
    assert client.get(url).status_code == 200
    menu = _menu(client.get("/admin/").content.decode())
    analytics = menu[_labels(menu).index("Analytics")]["_args"][1]
    assert _labels(analytics) == ["Experiments"]
