"""Previews of translated pages: ``page.locale`` is the previewed page's language, as served."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.sessions.backends.db import SessionStore

pytestmark = pytest.mark.django_db

HEADING = "Nur für deutsche Leser"


@pytest.fixture
def german_readers(settings: Any, segment_factory: Any) -> Any:
    from wagtail.models import Locale

    settings.WAGTAIL_I18N_ENABLED = True
    settings.LANGUAGES = settings.WAGTAIL_CONTENT_LANGUAGES = [("en", "English"), ("de", "Deutsch")]
    settings.LANGUAGE_CODE = "en"
    Locale.objects.get_or_create(language_code="de")
    return segment_factory("German readers", slug="german-readers", condition={"page.locale": "de"})


def _pages(segment: Any) -> tuple[Any, Any]:
    """An English page with a call to action for the segment, and its German copy."""
    from wagtail.models import Locale, Site

    from cms_site.home.models import ContentPage

    audience = {"who": "segments", "segments": [segment.pk], "groups": [], "key": "e" * 32}
    value = {"heading": HEADING, "text": "-", "link_label": "-", "link_url": "/"}
    value["audience"] = audience
    body = [{"type": "call_to_action", "value": value, "id": "cta1"}]
    home = Site.objects.get(is_default_site=True).root_page
    english = ContentPage(title="Offers", slug="offers", body=body)
    home.add_child(instance=english)
    english.save_revision().publish()
    german = english.copy_for_translation(Locale.objects.get(language_code="de"), copy_parents=True)
    german.save_revision().publish()
    return english, german.specific


def _simulated_preview(page: Any, rf: Any, admin_user: Any) -> str:
    request = rf.get("/")
    request.user = admin_user
    request.session = SessionStore()
    response = page.serve_preview(request, "simulation")
    response.render()
    return response.content.decode()


def test_the_simulated_preview_of_a_german_page_has_its_page_locale(
    german_readers: Any, rf: Any, admin_user: Any
) -> None:
    english, german = _pages(german_readers)

    assert HEADING in _simulated_preview(german, rf, admin_user)
    assert HEADING not in _simulated_preview(english, rf, admin_user)
