"""The demo's German home page: seeded with wagtail-localize, served at /de/ with Wagtail i18n."""

from __future__ import annotations

import io
from importlib.util import find_spec
from typing import Any

import pytest
from django.core.management import call_command
from django.test import TestCase

pytestmark = [
    pytest.mark.skipif(
        find_spec("wagtail_localize") is None, reason="wagtail-localize is not installed"
    ),
    # wagtail-localize reads every string as HTML; Beautiful Soup warns about the call to
    # action's link paths ("/journal/"), which stay as they are.
    pytest.mark.filterwarnings("ignore::bs4.MarkupResemblesLocatorWarning"),
]


@pytest.fixture
def german_demo(db: Any, settings: Any) -> Any:
    """The demo seeded as it runs in English: Wagtail i18n on, the German home translated."""
    from cms_site.home.models import HomePage

    settings.WAGTAIL_I18N_ENABLED = True
    settings.PERSONALIZE = {**settings.PERSONALIZE, "EXPLAIN_LINKS": True}
    # wagtail-localize publishes the translation when the seed's transaction commits.
    with TestCase.captureOnCommitCallbacks(execute=True):
        call_command("seed_demo", stdout=io.StringIO())
    return HomePage.objects.get(locale__language_code="de")


def _get(client: Any, path: str, country: str) -> str:
    response = client.get(path, headers={"CF-IPCountry": country}, REMOTE_ADDR="10.0.0.1")
    assert response.status_code == 200
    return response.content.decode()


def test_the_german_home_is_translated_and_keeps_the_audiences(german_demo: Any) -> None:
    from cms_site.home.models import HomePage

    english = HomePage.objects.get(locale__language_code="en")
    source, german = english.body.raw_data[0]["value"], german_demo.body.raw_data[0]["value"]

    assert german_demo.live and german_demo.url == "/de/"
    assert german_demo.title == "Ausrüstung für Menschen, die nach draußen gehen"
    assert german["key"] == source["key"]
    assert [(v["segments"], v["key"], v["weight"], v["holdout"]) for v in german["variants"]] == [
        (v["segments"], v["key"], v["weight"], v["holdout"]) for v in source["variants"]
    ]
    assert german["default"][0]["value"]["heading"] == "Neu hier?"


def test_german_visitors_get_their_variant_in_german(client: Any, german_demo: Any) -> None:
    austria = _get(client, "/de/", "AT")
    elsewhere = _get(client, "/de/", "US")
    english = _get(client, "/", "AT")

    assert '<html lang="de">' in austria and '<html lang="en">' in english
    assert "Kostenloser Versand nach Deutschland, Österreich und in die Schweiz" in austria
    assert "Neu hier?" not in austria
    assert "Neu hier?" in elsewhere and "Kostenloser Versand" not in elsewhere
    assert "Free shipping to Germany, Austria and Switzerland" in english
    assert "Kostenloser Versand" not in english
    # "Why am I seeing this?" and the privacy page speak German on the German page.
    assert "Warum sehe ich das?" in austria
    assert 'href="/de/personalize/privacy/"' in austria
    assert "Why am I seeing this?" in english


def test_the_privacy_page_in_german(client: Any, german_demo: Any) -> None:
    german = _get(client, "/de/personalize/privacy/", "AT")
    english = _get(client, "/personalize/privacy/", "AT")

    assert "<h1>Ihre Privatsphäre</h1>" in german
    assert "<h1>Your privacy</h1>" in english


def test_the_home_pages_experiment_stays_with_the_english_page(german_demo: Any) -> None:
    from cms_site.home.models import HomePage
    from personalize.models import Experiment

    english = HomePage.objects.get(locale__language_code="en")
    experiments = Experiment.objects.filter(page__in=[english, german_demo])

    assert [experiment.page_id for experiment in experiments] == [english.pk]


def test_seeding_again_leaves_the_translation_alone(german_demo: Any) -> None:
    from cms_site.home.models import HomePage

    with TestCase.captureOnCommitCallbacks(execute=True):
        call_command("seed_demo", stdout=io.StringIO())

    assert HomePage.objects.filter(locale__language_code="de").count() == 1
    assert HomePage.objects.get(pk=german_demo.pk).latest_revision_id == (
        german_demo.latest_revision_id
    )


def test_without_wagtail_i18n_the_demo_has_no_german_pages(db: Any) -> None:
    from wagtail.models import Page

    call_command("seed_demo", stdout=io.StringIO())

    assert not Page.objects.filter(locale__language_code="de").exists()
