"""The page cache on sites whose language comes from the browser (Django's ``LocaleMiddleware``
without language prefixes): one path serves a page per language, and each keeps its own key and
cached response."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from django.urls import include, path
from wagtail import urls as wagtail_urls

from tests.conftest import WINDOWS_CHROME

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parent / "templates"
CACHE_MIDDLEWARE = "personalize.middleware.PersonalizeCacheMiddleware"
DEMO_LANGUAGE = "cms_site.home.middleware.DemoLanguageMiddleware"

#: Wagtail's pages without a language prefix (``@pytest.mark.urls(__name__)``).
urlpatterns = [path("", include(wagtail_urls))]


@pytest.fixture
def browser_language(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Wagtail i18n, the page cache, and the language from ``Accept-Language``."""
    from wagtail.models import Locale

    from cms_site.home.models import ContentPage

    settings.WAGTAIL_I18N_ENABLED = True
    settings.LANGUAGES = settings.WAGTAIL_CONTENT_LANGUAGES = [("en", "English"), ("de", "Deutsch")]
    settings.LANGUAGE_CODE = "en"
    middleware = [m for m in settings.MIDDLEWARE if m != CACHE_MIDDLEWARE]
    middleware[middleware.index(DEMO_LANGUAGE)] = "django.middleware.locale.LocaleMiddleware"
    settings.MIDDLEWARE = [CACHE_MIDDLEWARE, *middleware]
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["DIRS"] = [str(TEMPLATES), *templates[0].get("DIRS", [])]
    settings.TEMPLATES = templates
    settings.PERSONALIZE = {**settings.PERSONALIZE, "PAGE_CACHE_TIMEOUT": 300}
    monkeypatch.setattr(ContentPage, "template", "caching_page.html")
    Locale.objects.get_or_create(language_code="de")
    return settings


def _cta(heading: str) -> list[dict[str, Any]]:
    value = {"heading": heading, "text": "-", "link_label": "-", "link_url": "/"}
    return [{"type": "call_to_action", "value": value, "id": "cta1"}]


def _english_and_german() -> tuple[Any, Any]:
    """An English page and its German translation at the same path, ``/offers/``."""
    from wagtail.models import Locale, Site

    from cms_site.home.models import ContentPage

    home = Site.objects.get(is_default_site=True).root_page
    offers = ContentPage(title="Offers", slug="offers", body=_cta("Our offers"))
    home.add_child(instance=offers)
    offers.save_revision().publish()
    german = Locale.objects.get(language_code="de")
    german_offers = offers.copy_for_translation(german, copy_parents=True).specific
    assert home.get_translation(german).live  # an alias of the English home page
    german_offers.body = _cta("Unsere Angebote")
    german_offers.save_revision().publish()
    return offers, german_offers


@pytest.mark.urls(__name__)
def test_one_path_keeps_a_response_per_browser_language(client: Any, browser_language: Any) -> None:
    _english_and_german()

    def get(language: str) -> Any:
        return client.get(
            "/offers/", headers={"User-Agent": WINDOWS_CHROME, "Accept-Language": language}
        )

    german = [get("de"), get("de")]
    english = [get("en"), get("en")]

    assert [r.status_code for r in (*german, *english)] == [200, 200, 200, 200]
    assert [r["X-Personalize-Cache"] for r in german] == ["miss", "hit"]
    assert [r["X-Personalize-Cache"] for r in english] == ["miss", "hit"]
    assert all(b"Unsere Angebote" in r.content for r in german)
    assert all(b"Our offers" in r.content and b"Unsere" not in r.content for r in english)
    assert german[0]["X-Personalize-Key"] != english[0]["X-Personalize-Key"]


@pytest.mark.urls(__name__)
def test_an_untranslated_page_keeps_a_response_per_active_language(
    client: Any, browser_language: Any
) -> None:
    """The page is the same, the package's own words are not: the language is in the key."""
    from wagtail.models import Site

    from cms_site.home.models import ContentPage

    home = Site.objects.get(is_default_site=True).root_page
    home.add_child(instance=ContentPage(title="Journal", slug="journal", body=_cta("Journal")))
    ContentPage.objects.get(slug="journal").save_revision().publish()

    def get(language: str) -> Any:
        return client.get(
            "/journal/", headers={"User-Agent": WINDOWS_CHROME, "Accept-Language": language}
        )

    german, english = [get("de"), get("de")], [get("en"), get("en")]

    assert [r.status_code for r in (*german, *english)] == [200, 200, 200, 200]
    assert [r["X-Personalize-Cache"] for r in (*german, *english)] == ["miss", "hit"] * 2
    assert german[0]["X-Personalize-Key"] != english[0]["X-Personalize-Key"]
