"""Userbar item and consent banner render with the page's context: no context processor reruns."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.http import HttpRequest
from django.template import RequestContext

from cms_site.home.models import HomePage
from personalize.admin.userbar import ViewAsSegmentItem
from tests.fragments import with_fragments

pytestmark = pytest.mark.django_db

#: The requests a context processor ran for (see :func:`count_calls`).
CALLS: list[HttpRequest] = []


def count_calls(request: HttpRequest) -> dict[str, Any]:
    """A context processor that only counts how often it runs."""
    CALLS.append(request)
    return {}


@pytest.fixture
def counted(settings: Any) -> list[HttpRequest]:
    template_settings = [dict(engine) for engine in settings.TEMPLATES]
    options = template_settings[0]["OPTIONS"]
    options["context_processors"] = [
        *options["context_processors"],
        "tests.test_userbar.count_calls",
    ]
    settings.TEMPLATES = template_settings
    CALLS.clear()
    return CALLS


@pytest.fixture
def editor(client: Any, db: Any) -> Any:
    call_command("seed_demo", stdout=io.StringIO())
    client.force_login(User.objects.get(username="admin"))
    return client


def test_page_with_view_as_and_banner_runs_context_processors_once(
    editor: Any, counted: list[HttpRequest]
) -> None:
    response = editor.get("/")
    assert "View as default visitor" in response.content.decode()
    assert len(counted) == 1
    # The banner (with its form's token) and the visit panel are the page's fragments: one more
    # request each, each rendered once.
    html = with_fragments(editor, response)
    assert 'class="pz-banner"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert len(counted) == 3


def test_item_renders_from_the_parent_context(
    editor: Any, rf: Any, counted: list[HttpRequest]
) -> None:
    request = rf.get("/", {"pz_view_as": "-"})
    request.user = User.objects.get(username="admin")
    item = ViewAsSegmentItem(HomePage.objects.get())
    context = RequestContext(request, {})
    with context.bind_template(_page_template()):
        counted.clear()  # binding ran them once, for the page
        html = item.render_html(context)
    assert 'aria-current="page"' in html
    assert "View as default visitor ✓" in html
    assert counted == []
    # The Wagtail 7 API renders the same way.
    assert item.render(request) == html
    assert counted == []


def _page_template() -> Any:
    from django.template import engines

    return engines["django"].from_string("").template


def test_offered_only_on_pages_with_personalized_blocks(editor: Any) -> None:
    from wagtail.models import Page

    assert ViewAsSegmentItem.offered_on(HomePage.objects.get()) is True
    # Wagtail's root page: a plain Page, the same for every audience.
    assert ViewAsSegmentItem.offered_on(Page.objects.get(depth=1)) is False
    assert ViewAsSegmentItem.offered_on(HomePage(title="Unsaved")) is False
    assert ViewAsSegmentItem.offered_on(None) is False
