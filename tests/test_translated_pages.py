"""Personalized, gated and preference blocks on translated pages: wagtail-localize and Wagtail i18n.

Pages are translated with wagtail-localize's own machinery (a translation source, its PO file,
``save_target``) and with Wagtail's ``copy_for_translation``; the German pages are then served
through the whole middleware stack at ``/de/…``, as the demo serves them (``i18n_patterns``).
"""

from __future__ import annotations

import copy
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest
from django.test import TestCase
from django.utils import translation

from tests.conftest import IPHONE, WINDOWS_CHROME

TEMPLATES = Path(__file__).resolve().parent / "templates"
BLOCK_KEY = "b" * 32
VARIANT_KEY = "1" * 32
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
#: The tests that translate with wagtail-localize (the optional ``localize`` extra).
localize = pytest.mark.skipif(
    find_spec("wagtail_localize") is None, reason="wagtail-localize is not installed"
)


@pytest.fixture
def i18n(db: Any, settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Wagtail i18n in English and German (the demo's URLs: German under ``/de/``)."""
    from wagtail.models import Locale

    from cms_site.home.models import ContentPage, HomePage

    settings.WAGTAIL_I18N_ENABLED = True
    settings.LANGUAGES = LANGUAGES
    settings.WAGTAIL_CONTENT_LANGUAGES = LANGUAGES
    settings.LANGUAGE_CODE = "en"
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["DIRS"] = [str(TEMPLATES), *templates[0].get("DIRS", [])]
    settings.TEMPLATES = templates
    settings.PERSONALIZE = {**settings.PERSONALIZE, "EXPLAIN_LINKS": True}
    monkeypatch.setattr(ContentPage, "template", "caching_page.html")
    monkeypatch.setattr(HomePage, "template", "caching_page.html")
    Locale.objects.get_or_create(language_code="de")
    return settings


@pytest.fixture
def phones(segment_factory: Any) -> Any:
    return segment_factory(
        "Phones",
        slug="phones",
        rules=[{"type": "device_type", "value": {"values": ["mobile"]}}],
    )


def _body(phones: Any, register_id: int | None, *, question: bool = True) -> list[dict[str, Any]]:
    variant = {
        "label": "Phones",
        "segments": [phones.pk],
        "content": [{"type": "heading", "value": "Tours for your phone", "id": "v1"}],
        "alternatives": [
            {
                "label": "B",
                "weight": 30,
                "content": [{"type": "heading", "value": "Shorter tours", "id": "a1"}],
            }
        ],
        "weight": 70,
        "holdout": 0,
        "key": VARIANT_KEY,
    }
    blocks = [
        {
            "type": "personalized",
            "id": "p1",
            "value": {
                "variants": [variant],
                "default": [{"type": "heading", "value": "Tours for everyone", "id": "d1"}],
                "key": BLOCK_KEY,
            },
        },
        {
            "type": "gated",
            "id": "g1",
            "value": {
                "requirement": "authenticated",
                "groups": [],
                "segments": [],
                "teaser": "<p>Members read on</p>",
                "content": [{"type": "heading", "value": "Members only", "id": "c1"}],
                "cta_label": "Register",
                "cta_page": register_id,
            },
        },
    ]
    question_block = [
        {
            "type": "preference",
            "id": "q1",
            "value": {
                "key": "drink",
                "question": "What do you drink?",
                "options": [
                    {"type": "item", "id": "o1", "value": {"value": "tea", "label": "Tea"}},
                    {"type": "item", "id": "o2", "value": {"value": "coffee", "label": "Coffee"}},
                ],
                "help_text": "",
            },
        },
    ]
    # The question's form (its CSRF token) keeps a response private.
    return blocks + question_block if question else blocks


def _site_pages(phones: Any, *, question: bool = True) -> tuple[Any, Any]:
    """The English register page and an offers page with the three blocks, both published."""
    from wagtail.models import Site

    from cms_site.home.models import ContentPage

    home = Site.objects.get(is_default_site=True).root_page
    register = ContentPage(title="Register", slug="register")
    home.add_child(instance=register)
    register.save_revision().publish()
    offers = ContentPage(
        title="Offers", slug="offers", body=_body(phones, register.pk, question=question)
    )
    home.add_child(instance=offers)
    offers.save_revision().publish()
    return register, offers


GERMAN = {
    "Tours for your phone": "Touren fürs Handy",
    "Shorter tours": "Kürzere Touren",
    "Tours for everyone": "Touren für alle",
    "Members read on": "Mitglieder lesen weiter",
    "Members only": "Nur für Mitglieder",
    "Register": "Registrieren",
    "What do you drink?": "Was trinken Sie?",
    "Tea": "Tee",
    "Coffee": "Kaffee",
    "Phones": "Handys",
    "B": "B",
    "Offers": "Angebote",
    "offers": "angebote",
    "register": "registrieren",
}


def _translate(page: Any, *, german: dict[str, str] = GERMAN) -> tuple[Any, dict[str, str]]:
    """Translate ``page`` into German as an editor would: submit, fill the PO file, publish.

    Returns:
        The German page and the PO file's entries (``msgctxt`` → ``msgid``).
    """
    import polib
    from wagtail.models import Locale
    from wagtail_localize.models import Translation, TranslationSource

    source, _created = TranslationSource.update_or_create_from_instance(page)
    target, _created = Translation.objects.get_or_create(
        source=source, target_locale=Locale.objects.get(language_code="de")
    )
    po = target.export_po()
    entries = {entry.msgctxt: entry.msgid for entry in po}
    for entry in po:
        # A re-sync keeps what translators already did; new text gets its translation.
        entry.msgstr = entry.msgstr or german.get(entry.msgid, entry.msgid)
    target.import_po(polib.pofile(str(po)))
    # wagtail-localize publishes when the transaction commits, as after an editor's request.
    with TestCase.captureOnCommitCallbacks(execute=True):
        target.save_target(publish=True)
    return page.get_translation(target.target_locale).specific, entries


def _translated_site(phones: Any, *, question: bool = True) -> dict[str, Any]:
    from wagtail.models import Site

    home = Site.objects.get(is_default_site=True).root_page
    register, offers = _site_pages(phones, question=question)
    german_home, _entries = _translate(home)
    german_register, _entries = _translate(register)
    german_offers, entries = _translate(offers)
    return {
        "home": home,
        "german_home": german_home,
        "register": register,
        "german_register": german_register,
        "offers": offers,
        "german_offers": german_offers,
        "entries": entries,
    }


def _get(client: Any, path: str, agent: str) -> str:
    response = client.get(path, headers={"User-Agent": agent})
    assert response.status_code == 200
    return response.content.decode()


@localize
def test_translators_get_the_text_and_never_the_ids_or_keys(i18n: Any, phones: Any) -> None:
    site = _translated_site(phones)

    assert sorted(site["entries"].values()) == sorted(
        [
            "Offers",
            "offers",
            "Phones",
            "Tours for your phone",
            "B",
            "Shorter tours",
            "Tours for everyone",
            "Members read on",
            "Members only",
            "Register",
            "What do you drink?",
            "Tea",
            "Coffee",
        ]
    )
    contexts = set(site["entries"])
    assert "body.p1.variants.0.content.v1" in contexts
    assert "body.p1.variants.0.alternatives.0.content.a1" in contexts
    assert "body.p1.default.d1" in contexts
    assert "body.g1.cta_label" in contexts
    assert "body.q1.options.o2.label" in contexts
    assert not any(key in " ".join(contexts) for key in ("segments", "key", "weight"))


@localize
def test_the_translation_keeps_segments_keys_and_settings(i18n: Any, phones: Any) -> None:
    site = _translated_site(phones)
    source = site["offers"].body.raw_data
    german = site["german_offers"].body.raw_data

    variant = german[0]["value"]["variants"][0]
    assert variant["segments"] == [phones.pk]
    assert variant["key"] == VARIANT_KEY
    assert (variant["weight"], variant["holdout"]) == (70, 0)
    assert variant["alternatives"][0]["weight"] == 30
    assert variant["content"][0]["value"] == "Touren fürs Handy"
    assert variant["alternatives"][0]["content"][0]["value"] == "Kürzere Touren"
    assert german[0]["value"]["key"] == BLOCK_KEY
    gate = german[1]["value"]
    assert (gate["requirement"], gate["cta_page"]) == ("authenticated", site["register"].pk)
    assert (gate["teaser"], gate["cta_label"]) == ("<p>Mitglieder lesen weiter</p>", "Registrieren")
    preference = german[2]["value"]
    assert preference["key"] == "drink"
    assert [option["value"]["value"] for option in preference["options"]] == ["tea", "coffee"]
    assert [option["value"]["label"] for option in preference["options"]] == ["Tee", "Kaffee"]
    # The stored form stays the documented plain JSON.
    assert type(source[0]["value"]["variants"]) is type(german[0]["value"]["variants"]) is list


@localize
def test_the_german_page_renders_the_visitors_variant_in_german(
    client: Any, i18n: Any, phones: Any
) -> None:
    _translated_site(phones)

    phone = _get(client, "/de/angebote/", IPHONE)
    desktop = _get(client, "/de/angebote/", WINDOWS_CHROME)
    english = _get(client, "/offers/", IPHONE)

    assert "Touren fürs Handy" in phone or "Kürzere Touren" in phone
    assert "Tours for" not in phone
    assert "Touren für alle" in desktop and "Handy" not in desktop
    assert "Tours for your phone" in english or "Shorter tours" in english
    # The explanation speaks the page's language, its rule phrase included.
    assert "Warum sehe ich das?" in phone
    assert "Besucher mit einem Mobiltelefon (Ihr Gerät: Mobiltelefon)" in phone
    assert 'href="/de/personalize/privacy/"' in phone
    assert "visitors on a mobile phone (your device: mobile phone)" in english
    assert "Handys" not in phone  # the segment's name is shared: as the editor wrote it
    assert "Phones" in phone


def test_the_privacy_page_follows_the_visitors_language(
    client: Any, i18n: Any, phones: Any
) -> None:
    from personalize.conf import personalize_settings

    consent = {personalize_settings.CONSENT_COOKIE: "personalization"}
    client.cookies.load(consent)
    german = _get(client, "/de/personalize/privacy/", IPHONE)
    english = _get(client, "/personalize/privacy/", IPHONE)

    assert "mit einem Mobiltelefon" in german
    assert "on a mobile phone" in english
    assert "Device" in english and "Gerät" not in english


@localize
def test_the_gate_sends_german_visitors_to_the_german_register_page(
    client: Any, i18n: Any, phones: Any
) -> None:
    site = _translated_site(phones)

    german = _get(client, "/de/angebote/", WINDOWS_CHROME)
    english = _get(client, "/offers/", WINDOWS_CHROME)

    assert site["german_register"].url == "/de/registrieren/"
    assert 'href="/de/registrieren/?next=%2Fde%2Fangebote%2F"' in german
    assert 'href="/register/?next=%2Foffers%2F"' in english
    assert "Mitglieder lesen weiter" in german and "Registrieren" in german


@localize
def test_resyncing_after_an_edit_keeps_the_translations(i18n: Any, phones: Any) -> None:
    site = _translated_site(phones)
    offers = site["offers"]
    body = offers.body.raw_data
    body[0]["value"]["default"].append({"type": "heading", "value": "New tours", "id": "d2"})
    offers.body = body
    offers.save_revision().publish()

    german, entries = _translate(offers, german={"New tours": "Neue Touren"})

    assert "New tours" in entries.values()
    default = german.body.raw_data[0]["value"]["default"]
    assert [block["value"] for block in default] == ["Touren für alle", "Neue Touren"]
    variant = german.body.raw_data[0]["value"]["variants"][0]
    assert variant["content"][0]["value"] == "Touren fürs Handy"
    assert (variant["segments"], variant["key"]) == ([phones.pk], VARIANT_KEY)


@localize
def test_publishing_a_translation_keeps_one_experiment_on_the_source(
    i18n: Any, phones: Any
) -> None:
    from personalize.blocks.publishing import sync_page_experiments
    from personalize.models import Experiment

    site = _translated_site(phones)
    assert sync_page_experiments(site["german_offers"]) == 0

    experiment = Experiment.objects.get()
    assert experiment.key == VARIANT_KEY
    assert experiment.page_id == site["offers"].pk
    assert [arm["label"] for arm in experiment.arms] == ["Phones", "B"]


@localize
def test_a_segment_on_page_locale_picks_the_variant_on_the_german_page_only(
    client: Any, i18n: Any, segment_factory: Any, phones: Any
) -> None:
    german_readers = segment_factory(
        "German readers", slug="german-readers", condition={"page.locale": "de"}
    )
    site = _translated_site(german_readers)

    german = _get(client, "/de/angebote/", WINDOWS_CHROME)
    english = _get(client, "/offers/", WINDOWS_CHROME)

    assert "Touren fürs Handy" in german or "Kürzere Touren" in german
    assert "Tours for everyone" in english
    assert site["german_offers"].locale.language_code == "de"


@pytest.mark.parametrize("page_cache", [0, 300], ids=["rendered", "page cache"])
def test_page_locale_is_the_pages_even_when_another_language_is_active(
    client: Any, i18n: Any, segment_factory: Any, page_cache: int
) -> None:
    """A German-only site beside an English one, no language prefix: English is active."""
    from wagtail.models import Locale, Page, Site

    from cms_site.home.models import HomePage

    cache_middleware = "personalize.middleware.PersonalizeCacheMiddleware"
    i18n.MIDDLEWARE = [cache_middleware, *(m for m in i18n.MIDDLEWARE if m != cache_middleware)]
    i18n.PERSONALIZE = {**i18n.PERSONALIZE, "PAGE_CACHE_TIMEOUT": page_cache}
    german_pages = segment_factory("German pages", condition={"page.locale": "de"})
    body = [
        {
            "type": "personalized",
            "id": "p1",
            "value": {
                "variants": [
                    {
                        "label": "German pages",
                        "segments": [german_pages.pk],
                        "content": [{"type": "heading", "value": "Hallo", "id": "v1"}],
                        "alternatives": [],
                        "weight": 50,
                        "holdout": 0,
                        "key": VARIANT_KEY,
                    }
                ],
                "default": [{"type": "heading", "value": "Hello", "id": "d1"}],
                "key": BLOCK_KEY,
            },
        }
    ]
    home = HomePage(
        title="Start", slug="start-de", locale=Locale.objects.get(language_code="de"), body=body
    )
    Page.get_first_root_node().add_child(instance=home)
    home.save_revision().publish()
    Site.objects.create(hostname="de.example.com", root_page=home)

    response = client.get("/", HTTP_HOST="de.example.com")

    assert response.status_code == 200
    assert response["Content-Language"] == "en"  # the active language
    assert "Hallo" in response.content.decode() and "Hello" not in response.content.decode()
    assert ("X-Personalize-Key" in response) is bool(page_cache)


def test_page_locale_is_the_active_language_without_wagtail_i18n(rf: Any, settings: Any) -> None:
    from personalize.visitors.context import PAGE_LOCALE_ATTRIBUTE, page_locale

    request = rf.get("/")
    setattr(request, PAGE_LOCALE_ATTRIBUTE, "de")
    settings.WAGTAIL_I18N_ENABLED = False
    with translation.override("en"):
        assert page_locale(request) == "en"
    settings.WAGTAIL_I18N_ENABLED = True
    with translation.override("en"):
        assert page_locale(request) == "de"
        assert page_locale(rf.get("/")) == "en"


def test_copy_for_translation_keeps_segments_and_keys_and_localizes_the_gate(
    client: Any, i18n: Any, phones: Any
) -> None:
    """Plain Wagtail i18n: an editor copies the pages and translates them by hand."""
    from wagtail.models import Locale

    german = Locale.objects.get(language_code="de")
    register, offers = _site_pages(phones)
    german_register = register.copy_for_translation(german, copy_parents=True)
    german_register.slug = "registrieren"
    german_register.save_revision().publish()
    german_offers = offers.copy_for_translation(german)
    german_offers.slug = "angebote"
    german_offers.save_revision().publish()

    variant = german_offers.body.raw_data[0]["value"]["variants"][0]
    assert (variant["segments"], variant["key"]) == ([phones.pk], VARIANT_KEY)
    assert german_offers.body.raw_data[1]["value"]["cta_page"] == register.pk
    page = _get(client, "/de/angebote/", WINDOWS_CHROME)
    assert 'href="/de/registrieren/?next=%2Fde%2Fangebote%2F"' in page
    with translation.override("de"):
        from personalize.blocks.translated import localized_page_url

        assert localized_page_url(register.pk) == "/de/registrieren/"
        assert localized_page_url(register.pk, offers) == "/register/"
    assert localized_page_url(None) is None
    assert localized_page_url(10**6) is None


@localize
def test_the_decision_key_differs_between_the_languages(
    client: Any, i18n: Any, phones: Any
) -> None:
    """The page cache keeps one response per language: the page and its locale are in the key."""
    from personalize.caching.index import build_index

    site = _translated_site(phones)
    english, german = build_index(site["offers"]), build_index(site["german_offers"])

    assert (english.locale, german.locale) == ("en", "de")
    assert english.page_id != german.page_id
    assert [key for key, _variants in english.personalized] == [BLOCK_KEY]
    assert [key for key, _variants in german.personalized] == [BLOCK_KEY]


@localize
def test_translators_edit_the_german_page_in_wagtail_localize(
    admin_client: Any, i18n: Any, phones: Any
) -> None:
    """wagtail-localize's editor finds every string and the gate's page by its path."""
    import html
    import json
    import re

    site = _translated_site(phones)
    response = admin_client.get(f"/admin/pages/{site['german_offers'].pk}/edit/")
    assert response.status_code == 200
    props = re.search(r'data-props="([^"]*)"', response.content.decode())
    assert props is not None
    segments = json.loads(html.unescape(props.group(1)))["segments"]
    paths = {segment["contentPath"]: segment for segment in segments}

    variant = paths["body.p1.variants.0.content.v1"]
    assert (variant["type"], variant["source"]) == ("string", "Tours for your phone")
    assert (variant["location"]["field"], variant["location"]["subField"]) == (
        "Personalized",
        "Variants",
    )
    assert "body.p1.variants.0.alternatives.0.content.a1" in paths
    gate_page = paths["body.g1.cta_page"]
    assert gate_page["type"] == "synchronised_value"
    assert gate_page["location"]["widget"]["type"] == "page_chooser"
    assert gate_page["value"] == site["register"].pk
    assert not [path for path in paths if "segments" in path or path.endswith(".key")]


@localize
def test_the_page_cache_keeps_a_response_per_language(
    client: Any, i18n: Any, segment_factory: Any
) -> None:
    """With the page cache, the page is known before it is served: page.locale comes from it."""
    cache_middleware = "personalize.middleware.PersonalizeCacheMiddleware"
    i18n.MIDDLEWARE = [
        cache_middleware,
        *(m for m in i18n.MIDDLEWARE if m != cache_middleware),
    ]
    i18n.PERSONALIZE = {**i18n.PERSONALIZE, "PAGE_CACHE_TIMEOUT": 300, "EXPLAIN_LINKS": False}
    german_readers = segment_factory(
        "German readers", slug="german-readers", condition={"page.locale": "de"}
    )
    _translated_site(german_readers, question=False)

    german = [
        client.get("/de/angebote/", headers={"User-Agent": agent})
        for agent in (WINDOWS_CHROME, WINDOWS_CHROME)
    ]
    english = client.get("/offers/", headers={"User-Agent": WINDOWS_CHROME})

    assert [response.status_code for response in (*german, english)] == [200, 200, 200]
    assert [response["X-Personalize-Cache"] for response in german] == ["miss", "hit"]
    assert german[0]["X-Personalize-Key"] == german[1]["X-Personalize-Key"]
    assert german[0]["X-Personalize-Key"] != english["X-Personalize-Key"]
    assert "Touren fürs Handy" in german[1].content.decode() or (
        "Kürzere Touren" in german[1].content.decode()
    )
    assert "Tours for everyone" in english.content.decode()


def test_page_locale_costs_no_query_once_the_locales_are_read(
    i18n: Any, django_assert_num_queries: Any
) -> None:
    from wagtail.models import Locale, Page

    from personalize.caching.locales import locale_code

    page = Page.objects.get(depth=2)
    german = Locale.objects.get(language_code="de")
    assert locale_code(page) == page.locale.language_code
    with django_assert_num_queries(0):
        assert locale_code(page) == "en"
        assert locale_code(type("Stub", (), {"locale_id": german.pk})()) == "de"
        assert locale_code(object()) == ""
    french = Locale.objects.create(language_code="fr")
    assert locale_code(type("Stub", (), {"locale_id": french.pk})()) == "fr"
    french.language_code = "it"
    french.save()
    assert locale_code(type("Stub", (), {"locale_id": french.pk})()) == "it"
