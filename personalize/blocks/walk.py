"""Where a page's personalized blocks are: one walk through its StreamFields.

Publishing syncs the experiments of the blocks found (:mod:`personalize.blocks.publishing`)
and the report labels them (:mod:`personalize.admin.labels`); both walk with
:func:`personalized_blocks`. The report labels blocks with an audience setting too
(:func:`audience_blocks`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from wagtail import blocks
from wagtail.fields import StreamField

from personalize.blocks.audience import audience_setting, is_public
from personalize.blocks.decisions import audience_parts
from personalize.blocks.personalized import PersonalizedBlock


def personalized_blocks(page: Any) -> Iterator[tuple[str, Any]]:
    """Every personalized block on ``page``, in the order of its fields and content.

    Looks inside stream, struct and list blocks at any depth, but not inside a personalized
    block (its variants are part of its value).

    Args:
        page: a Wagtail page; its specific form is walked.

    Yields:
        ``(block key, block value)``: the block's key (``""`` when it has none) and its
        ``PersonalizedBlock`` value.
    """
    specific = page.specific
    for model_field in specific._meta.get_fields():
        if isinstance(model_field, StreamField):
            for child in getattr(specific, model_field.name) or []:
                yield from _walk(child.block, child.value)


def audience_blocks(page: Any) -> Iterator[tuple[str, Any]]:
    """Every block on ``page`` with an audience setting other than "everyone", in order.

    Looks at any depth, inside personalized blocks' variants too.

    Args:
        page: a Wagtail page; its specific form is walked.

    Yields:
        ``(setting key, setting value)``: the key (``""`` when it has none) and the
        :class:`~personalize.blocks.audience.AudienceBlock` value.
    """
    specific = page.specific
    for model_field in specific._meta.get_fields():
        if isinstance(model_field, StreamField):
            for child in getattr(specific, model_field.name) or []:
                yield from _audiences(child.block, child.value)


def _audiences(block: Any, value: Any) -> Iterator[tuple[str, Any]]:
    if value is None:
        return
    if isinstance(block, blocks.StructBlock) and not is_public(block, value):
        setting = audience_setting(block, value)
        yield audience_parts(setting)[3], setting
    if isinstance(block, blocks.StreamBlock):
        for child in value:
            yield from _audiences(child.block, child.value)
    elif isinstance(block, blocks.StructBlock):
        for name, child_block in block.child_blocks.items():
            yield from _audiences(child_block, value.get(name))
    elif isinstance(block, blocks.ListBlock):
        for item in value:
            yield from _audiences(block.child_block, item)


def _walk(block: Any, value: Any) -> Iterator[tuple[str, Any]]:
    if value is None:
        return
    if isinstance(block, PersonalizedBlock):
        yield value.get("key") or "", value
    elif isinstance(block, blocks.StreamBlock):
        for child in value:
            yield from _walk(child.block, child.value)
    elif isinstance(block, blocks.StructBlock):
        for name, child_block in block.child_blocks.items():
            yield from _walk(child_block, value.get(name))
    elif isinstance(block, blocks.ListBlock):
        for item in value:
            yield from _walk(block.child_block, item)
