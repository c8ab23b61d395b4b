"""A graphene middleware that keeps grapple's generic block fields to what the visitor gets.

:class:`~personalize.contrib.grapple.views.PersonalizeGrappleView` runs it on every query. A
site that serves grapple's schema through another view adds it to graphene's settings::

    GRAPHENE = {
        "SCHEMA": "grapple.schema.schema",
        "MIDDLEWARE": ["personalize.contrib.grapple.middleware.PersonalizeGrappleMiddleware"],
    }
"""

from __future__ import annotations

from typing import Any, ClassVar

from graphql import get_named_type, get_nullable_type, is_list_type
from wagtail.models import Page

from personalize.contrib.grapple.context import PAGE_ATTRIBUTE, block_context
from personalize.contrib.grapple.types import parts
from personalize.contrib.grapple.visibility import (
    AudienceBlock,
    VisibleStream,
    holds_decided,
    is_stream_value,
    shown,
    visible_json,
)

#: grapple's interface of StreamField blocks and its scalar of a whole StreamField's raw data.
BLOCK_INTERFACE = "StreamFieldInterface"
RAW_STREAM_SCALAR = "GenericStreamFieldInterface"
#: The fields of grapple's block types that serialize a block's value.
VALUE_FIELDS = frozenset({"rawValue", "value", "raw_value"})

_RAW, _LIST, _SCALAR = "raw", "list", "scalar"


def _kind(info: Any) -> str | None:
    """What a field is to this middleware: a block's serialized value, a list of blocks, a raw
    StreamField, or nothing to look at."""
    named = get_named_type(info.return_type)
    if named.name == RAW_STREAM_SCALAR:
        return _SCALAR
    if named.name == BLOCK_INTERFACE and is_list_type(get_nullable_type(info.return_type)):
        return _LIST
    interfaces = getattr(info.parent_type, "interfaces", ())
    if info.field_name in VALUE_FIELDS and any(i.name == BLOCK_INTERFACE for i in interfaces):
        return _RAW
    return None


class PersonalizeGrappleMiddleware:
    """Serve grapple's block fields for the visitor.

    - ``rawValue`` and ``value`` of a block that is or holds a personalized, gated or preference
      block (or a block with an audience setting): the block's API representation for the
      visitor, as JSON, instead of its stored value;
    - a raw StreamField (grapple's ``GenericStreamFieldInterface`` scalar) holding such blocks:
      Wagtail's API representation of the stream for the visitor;
    - lists of blocks: without the blocks the visitor's audience setting hides, and without the
      setting itself.

    It also notes which page's fields are being resolved, so that the blocks decide for that
    page (impressions, the call to action's way back).
    """

    #: ``id(schema) -> (schema, {(parent type, field): kind})``: each field is classified once
    #: per process (the view, and so its middleware, is instantiated per request).
    kinds: ClassVar[dict[int, tuple[Any, dict[tuple[str, str], str | None]]]] = {}

    def resolve(self, next: Any, root: Any, info: Any, **kwargs: Any) -> Any:  # noqa: A002
        """Resolve one field (graphene's middleware protocol)."""
        if isinstance(root, Page):
            setattr(info.context, PAGE_ATTRIBUTE, root)
        known = self.kinds.get(id(info.schema))
        if known is None or known[0] is not info.schema:
            known = self.kinds[id(info.schema)] = (info.schema, {})
        field = (info.parent_type.name, info.field_name)
        kind = known[1].get(field, "")
        if kind == "":
            kind = known[1][field] = _kind(info)
        if kind is None:
            return next(root, info, **kwargs)
        if kind == _RAW and hasattr(root, "block"):
            block, value = parts(root)
            if holds_decided(block):
                return visible_json(block, value, block_context(info))
            return next(root, info, **kwargs)
        result = next(root, info, **kwargs)
        if kind == _SCALAR:
            if is_stream_value(result) and holds_decided(result.stream_block):
                return VisibleStream(result, block_context(info))
            return result
        if kind == _LIST and result is not None and not isinstance(result, str | bytes):
            return _shown(result, info)
        return result


def _shown(items: Any, info: Any) -> Any:
    """The blocks of a list the visitor gets (all of them without audience settings)."""
    if AudienceBlock is None:
        return items
    listed = list(items)
    if not any(holds_decided(getattr(item, "block", None)) for item in listed):
        return listed
    context = block_context(info)
    return [
        item
        for item in listed
        if not isinstance(getattr(item, "block", None), AudienceBlock)
        and (not hasattr(item, "block") or shown(*parts(item), context))
    ]
