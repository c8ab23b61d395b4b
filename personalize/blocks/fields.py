"""The building blocks of PersonalizedBlock and GatedBlock: choosers kept as ids, plain lists, keys.

Their stored form is the documented plain JSON (lists of ids, see docs/reference/blocks.md), so
rendering loads nothing from the database. Migrations name them by their public path
(``personalize.blocks.SegmentListBlock``, :data:`DECONSTRUCT_ALIASES`).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from django import forms
from django.db.models import Model
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.snippets.blocks import SnippetChooserBlock

from personalize.blocks.translated import list_segments, numbered, page_segments, restored_id


class IdChooserMixin:
    """A chooser block whose value is the chosen object's id, not the object.

    Wagtail's choosers accept ids for their form state, so editing is unchanged; rendering a page
    no longer loads the objects (the blocks here look them up only when they need them).
    """

    def to_python(self, value: Any) -> int | None:
        return _object_id(value)

    def bulk_to_python(self, values: list[Any]) -> list[int | None]:
        return [_object_id(value) for value in values]

    def get_prep_value(self, value: Any) -> int | None:
        return _object_id(value)

    def value_from_form(self, value: Any) -> int | None:
        return _object_id(value)

    def clean(self, value: Any) -> int | None:
        return _object_id(super().clean(value))  # type: ignore[misc]

    def extract_references(self, value: Any) -> Any:
        if value is not None:
            yield self.model_class, str(value), "", ""  # type: ignore[attr-defined]

    def get_translatable_segments(self, value: Any) -> list[Any]:
        """Nothing to translate (wagtail-localize): the translation keeps the same object."""
        return []


class SegmentChooserBlock(IdChooserMixin, SnippetChooserBlock):
    """Choose a segment with Wagtail's snippet chooser; the value is the segment's id.

    Rendering a page never queries segments: the decision uses the compiled, in-memory set.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("personalize.Segment", **kwargs)

    class Meta:
        icon = "group"


class PageIdChooserBlock(IdChooserMixin, blocks.PageChooserBlock):
    """Choose a page; the value is its id, loaded only when a locked gate shows its button.

    On a translated page the id stays the source's; the gate links to the page's translation
    in the served page's locale (:func:`personalize.blocks.translated.localized_page_url`).
    For wagtail-localize it is an overridable segment, as for its own page choosers.
    """

    def get_translatable_segments(self, value: Any) -> list[Any]:
        return page_segments(value)

    def restore_translated_segments(self, value: Any, segments: list[Any]) -> int | None:
        return restored_id(segments, value)


def _object_id(value: Any) -> int | None:
    if isinstance(value, Model):
        return int(value.pk)
    if isinstance(value, bool) or value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class PlainListBlock(blocks.ListBlock):
    """A ListBlock stored as a plain JSON list (``[1, 2]``), not as ``{"type": "item", ...}``.

    With no ids stored, loaded items are numbered by position (``"0"``, ``"1"``, ...), so a
    translation tool's paths into the list (wagtail-localize) stay the same at every load.
    """

    def to_python(self, value: Any) -> Any:
        """The list; a stored value that is not a list reads as an empty one."""
        return numbered(super().to_python(value if isinstance(value, list) else []))

    def bulk_to_python(self, values: Any) -> list[Any]:
        lists = [value if isinstance(value, list) else [] for value in values]
        return [numbered(value) for value in super().bulk_to_python(lists)]

    def get_translatable_segments(self, value: Any) -> list[Any]:
        """The items' translatable text for wagtail-localize, by position."""
        return list_segments(self.child_block, value)

    def get_prep_value(self, value: Any) -> list[Any]:
        if not isinstance(value, blocks.list_block.ListValue):
            value = blocks.list_block.ListValue(self, values=value)
        return [self.child_block.get_prep_value(child.value) for child in value.bound_blocks]


class SegmentListBlock(PlainListBlock):
    """A list of segment ids, chosen with the snippet chooser."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Segments"))
        super().__init__(SegmentChooserBlock(), **kwargs)


class KeyBlock(blocks.FieldBlock):
    """A stable hidden key (32 hex digits), given when the editor first saves the block.

    Reports and experiments identify blocks and variants by it. Content saved before keys
    existed has an empty key until it is saved again. In the page editor it is a hidden input
    with no label (:mod:`personalize.blocks.adapters`), submitted with every save.
    """

    def __init__(self, **kwargs: Any) -> None:
        self.field = forms.CharField(required=False, widget=forms.HiddenInput)
        super().__init__(**kwargs)

    def get_default(self) -> str:
        return ""

    def to_python(self, value: Any) -> str:
        return value if isinstance(value, str) and _KEY.match(value) else ""

    def get_prep_value(self, value: Any) -> str:
        return self.to_python(value)

    def clean(self, value: Any) -> str:
        return self.to_python(value) or uuid.uuid4().hex

    def get_searchable_content(self, value: Any) -> list[str]:
        return []

    class Meta:
        form_classname = "pz-key"
        default = ""


_KEY = re.compile(r"^[0-9a-f]{32}$")


#: Migrations name these blocks by their public path, whichever module defines them.
DECONSTRUCT_ALIASES = {
    block: f"personalize.blocks.{block.__name__}"
    for block in (
        SegmentChooserBlock,
        PageIdChooserBlock,
        PlainListBlock,
        SegmentListBlock,
        KeyBlock,
    )
}
