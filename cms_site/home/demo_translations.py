"""The demo's German pages: translated with wagtail-localize, as an editor would translate them.

``demo_content/translations/<language>.yaml`` maps a page's path to its strings' translations.
When the demo runs with Wagtail i18n (``WAGTAIL_I18N_ENABLED``, the demo in English), the seed
submits each page for translation, fills in the strings and publishes the translation, served
under ``/<language>/``. Pages already translated are left to the editors.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import yaml
from django.apps import apps
from django.conf import settings
from wagtail.models import Locale, Page, Site

from cms_site.home.demo_loader import CONTENT_DIR


def translate_demo(directory: Path = CONTENT_DIR) -> list[Page]:
    """Translate the pages named in ``directory/translations/*.yaml`` that have no translation.

    Returns:
        The translated pages created (nothing without Wagtail i18n or wagtail-localize).
    """
    if not getattr(settings, "WAGTAIL_I18N_ENABLED", False):
        return []
    if not apps.is_installed("wagtail_localize"):
        return []
    created = []
    for file in sorted((directory / "translations").glob("*.yaml")):
        locale, _created = Locale.objects.get_or_create(language_code=file.stem)
        pages = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        for path, strings in pages.items():
            page = _page_at(str(path))
            if page is None or page.locale_id == locale.pk:
                continue
            if page.get_translation_or_none(locale) is None:
                created.append(translate_page(page, locale, strings or {}))
    return created


def translate_page(page: Page, locale: Locale, strings: dict[str, str]) -> Page:
    """Submit ``page`` for translation into ``locale``, translate its strings and publish.

    Strings without a translation in ``strings`` keep their source text. wagtail-localize
    publishes when the surrounding transaction commits.

    Returns:
        The translated page.
    """
    from wagtail_localize.models import Translation, TranslationSource

    page = _with_block_ids(page.specific)
    with warnings.catch_warnings():
        # wagtail-localize reads every string as HTML; link paths ("/journal/") stay as they are.
        warnings.filterwarnings("ignore", message=".*looks more like a URL")
        source, _created = TranslationSource.update_or_create_from_instance(page)
        translation, _created = Translation.objects.get_or_create(
            source=source, target_locale=locale
        )
        po = translation.export_po()
        for entry in po:
            entry.msgstr = entry.msgstr or str(strings.get(entry.msgid, entry.msgid))
        translation.import_po(po)
        translation.save_target(publish=True)
    return page.get_translation(locale)


def _with_block_ids(page: Any) -> Any:
    """``page`` with an id on every block, as the page editor saves it (and publishes).

    The data files give ids to the top-level blocks only; wagtail-localize finds a
    translation's place by the ids of the blocks inside variants and gated content too.
    """
    body = getattr(page, "body", None)
    if body is None:
        return page
    before = body.get_prep_value()
    for _child in body:  # every block as a value: saving it gives ids to the blocks inside
        pass
    if body.get_prep_value() != before:
        page.body = body
        page.save_revision().publish()
    return page


def _page_at(path: str) -> Any:
    """The default site's page at ``path`` (``/`` is the home page), or None."""
    site = Site.objects.filter(is_default_site=True).select_related("root_page").first()
    if site is None:
        return None
    url_path = site.root_page.url_path + path.strip("/") + ("/" if path.strip("/") else "")
    return Page.objects.filter(url_path=url_path).first()
