"""What grapple's generic block fields may show: only what the visitor gets.

grapple's ``rawValue`` (every block), ``value`` (its generic block type) and its raw StreamField
scalar serialize a block's stored value. For a block that holds a personalized, gated or
preference block, or a block with an audience setting, the stored value holds every variant,
the locked content and the setting itself. Here such a value is replaced by its API
representation for the visitor, which the blocks decide themselves (``get_api_representation``
of :mod:`personalize.blocks`), the same representation Wagtail's API and server-side rendering
use.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from wagtail import blocks

from personalize.blocks import GatedBlock, PersonalizedBlock, PreferenceBlock

try:  # the audience setting of any StructBlock, where the package has it
    from personalize.blocks.audience import AudienceBlock, is_shown
except ImportError:  # pragma: no cover - without it, every block is shown
    AudienceBlock = None
    is_shown = None

#: The blocks whose stored value holds what some visitors may not see.
DECIDED_BLOCKS: tuple[type, ...] = (PersonalizedBlock, GatedBlock, PreferenceBlock)
if AudienceBlock is not None:
    DECIDED_BLOCKS = (*DECIDED_BLOCKS, AudienceBlock)

#: Block definitions already looked at: ``id(block) -> (block, holds a decided block)``. Block
#: definitions live as long as the models that declare them; the block is kept so its id stays
#: its own.
_HOLDS: dict[int, tuple[Any, bool]] = {}


def holds_decided(block: Any) -> bool:
    """Whether ``block`` is, or contains at any depth, a block decided per visitor.

    Args:
        block: a Wagtail block definition.
    """
    known = _HOLDS.get(id(block))
    if known is not None and known[0] is block:
        return known[1]
    _HOLDS[id(block)] = (block, False)  # a block that contains itself is not decided by that
    found = isinstance(block, DECIDED_BLOCKS) or any(
        holds_decided(child) for child in _children(block)
    )
    _HOLDS[id(block)] = (block, found)
    return found


def _children(block: Any) -> list[Any]:
    child_block = getattr(block, "child_block", None)  # ListBlock
    if child_block is not None:
        return [child_block]
    child_blocks = getattr(block, "child_blocks", None)  # StructBlock, StreamBlock
    return list(child_blocks.values()) if child_blocks else []


def shown(block: Any, value: Any, context: dict[str, Any]) -> bool:
    """Whether the visitor in ``context`` gets the block at all (its audience setting)."""
    return is_shown is None or bool(is_shown(block, value, context))


def visible_json(block: Any, value: Any, context: dict[str, Any]) -> str:
    """The block's API representation for the visitor, as a JSON string.

    Args:
        block: the block definition.
        value: its value.
        context: the delivery context (``request``, ``visitor``, ``page``, ``next_path``).
    """
    representation = block.get_api_representation(value, context=context)
    return json.dumps(representation, cls=DjangoJSONEncoder)


class VisibleStream:
    """A StreamField value as grapple's raw StreamField scalar serializes it (``raw_data``),
    holding only what the visitor gets."""

    def __init__(self, stream_value: Any, context: dict[str, Any]) -> None:
        stream_block = stream_value.stream_block
        #: Wagtail's API representation of the stream: ``[{"type", "value", "id"}, ...]``.
        self.raw_data = [
            item
            for item, child in zip(
                stream_block.get_api_representation(stream_value, context=context),
                stream_value,
                strict=True,
            )
            if shown(child.block, child.value, context)
        ]


def is_stream_value(value: Any) -> bool:
    """Whether ``value`` is a StreamField's (or a StreamBlock's) value."""
    return isinstance(value, blocks.StreamValue)
