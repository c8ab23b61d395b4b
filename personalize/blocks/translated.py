"""Personalized and gated blocks on translated pages (Wagtail i18n, wagtail-localize).

What a translation shares with its source and what it translates:

- Segment ids, keys, weights, holdouts and requirements are not text: wagtail-localize offers
  none of them to translators, and a translation keeps the source's values when it syncs.
- Text in variants, alternatives, the default, a gate's teaser and button label and a
  preference question is extracted like any other block text. Plain lists (variants,
  alternatives) have no stored item ids, so their items are addressed by position.
- A gate's page is stored as the source's page id; it is delivered as that page's translation
  in the served page's locale (:func:`localized_page_url`).

wagtail-localize is imported only by the functions it calls: the package works without it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from wagtail.blocks.list_block import ListValue


def numbered(value: Any) -> Any:
    """Number the items of a list loaded without ids by their position (``"0"``, ``"1"``, ...).

    Args:
        value: a ``ListValue`` just loaded from its stored form.

    Returns:
        The same value; items that came with their own id keep it.
    """
    if isinstance(value, ListValue):
        for position, child in enumerate(value.bound_blocks):
            if getattr(child, "original_id", None) is None:
                child.id = str(position)
    return value


def list_segments(child_block: Any, value: Iterable[Any] | None) -> list[Any]:
    """wagtail-localize's segments of a plain list's items, each wrapped in its position.

    Args:
        child_block: the list's child block.
        value: the list's value (a ``ListValue`` or a plain list of child values).

    Returns:
        The segments of every item, in order, with paths ``<position>.<path in the item>``.
    """
    from wagtail_localize.segments.extract import StreamFieldSegmentExtractor

    extractor = StreamFieldSegmentExtractor(None)
    segments: list[Any] = []
    for position, item in enumerate(value or ()):
        raw = {"type": "item", "value": child_block.get_prep_value(item), "id": str(position)}
        found = extractor.handle_block(child_block, item, raw_value=raw)
        segments.extend(segment.wrap(str(position)) for segment in found)
    return segments


def page_segments(page_id: int | None) -> list[Any]:
    """A chosen page as wagtail-localize's overridable segment, as for its own page choosers."""
    if page_id is None:
        return []
    from wagtail_localize.segments import OverridableSegmentValue

    return [OverridableSegmentValue("", page_id)]


def restored_id(segments: list[Any], fallback: Any) -> int | None:
    """The page id a translation keeps: the translator's override, else the source's.

    Args:
        segments: the block's segments as wagtail-localize hands them back (one at most).
        fallback: the source's value.
    """
    for segment in segments:
        chosen = _as_id(getattr(segment, "data", None))
        if chosen is not None:
            return chosen
    return _as_id(fallback)


def _as_id(value: Any) -> int | None:
    if isinstance(value, bool) or value in (None, ""):
        return None
    try:
        return int(getattr(value, "pk", value))
    except (TypeError, ValueError):
        return None


def localized_page_url(page_id: int | None, served: Any = None) -> str | None:
    """The URL of a chosen page in the language of the page it is shown on.

    With ``WAGTAIL_I18N_ENABLED``, the chosen page's live translation in the served page's
    locale; without a served page, its translation in the active language (``Page.localized``);
    otherwise, and when there is no live translation, the page itself.

    Args:
        page_id: the chosen page's id.
        served: the page being served (its ``locale_id`` is read), or None.

    Returns:
        The URL, or None when the page does not exist.
    """
    if page_id is None:
        return None
    from wagtail.models import Page

    page = Page.objects.filter(pk=page_id).first()
    if page is None:
        return None
    if getattr(settings, "WAGTAIL_I18N_ENABLED", False):
        locale_id = getattr(served, "locale_id", None)
        if locale_id is None:
            page = page.localized
        elif locale_id != page.locale_id:
            translation = page.get_translation_or_none(locale_id)
            if translation is not None and translation.live:
                page = translation
    url = page.url
    return str(url) if url is not None else None
