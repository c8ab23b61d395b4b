"""grapple types for the segment-aware blocks: decided per visitor, like every channel.

Each type implements grapple's ``StreamFieldInterface``, so the blocks sit in a page's
``GraphQLStreamfield`` like any other block, and the content inside a variant or an open gate is
again a list of ``StreamFieldInterface`` (``blocks``, never null, as on grapple's StructBlock and
StreamBlock, so one query can ask all of them for it): the site's own block types resolve there
as anywhere.
Decisions are the blocks' own (``PersonalizedBlock.decide``, ``GatedBlock.decide``, the
preference answer), taken once per block and visitor in a request.
"""

from __future__ import annotations

from typing import Any

import graphene
from grapple.types.streamfield import StreamFieldInterface
from wagtail.blocks import StructValue

from personalize.blocks import GatedBlock, PersonalizedBlock, PreferenceBlock
from personalize.blocks.preference import answer
from personalize.contrib.grapple.context import block_context
from personalize.contrib.grapple.visibility import shown, visible_json
from personalize.graphql.types import CtaType, DecisionType

_DECISIONS = "_personalize_grapple_decisions"


def parts(root: Any) -> tuple[Any, Any]:
    """The block and value of what grapple resolves a block type with.

    A stream child or grapple's ``StructBlockItem`` (``.block`` and ``.value``), or a
    ``StructValue`` itself (a struct's child field declared with ``GraphQLStreamfield``).
    """
    if isinstance(root, StructValue):
        return root.block, root
    return root.block, root.value


def decision_for(root: Any, info: Any) -> Any:
    """The block's decision for the visitor, taken once per request for all of its fields."""
    block, value = parts(root)
    context = block_context(info)
    taken = info.context.__dict__.setdefault(_DECISIONS, {})
    key = (id(value), id(context["visitor"]))
    found = taken.get(key)
    if found is None or found[0] is not value:
        found = (value, block.decide(value, context))
        taken[key] = found
    return found[1]


def children(stream: Any, info: Any) -> list[Any]:
    """A StreamValue's children as grapple resolves them, without those hidden from the
    visitor (an audience setting)."""
    context = block_context(info)
    return [child for child in stream or () if shown(child.block, child.value, context)]


def raw_value(root: Any, info: Any) -> str:
    """``rawValue``: the block's API representation for the visitor (JSON), never its stored
    value with every variant."""
    block, value = parts(root)
    return visible_json(block, value, block_context(info))


class PersonalizedBlockType(graphene.ObjectType):
    """A personalized block: the visitor's decision and the chosen content only."""

    decision = graphene.Field(DecisionType, required=True)
    blocks = graphene.List(
        graphene.NonNull(StreamFieldInterface),
        required=True,
        description="The chosen variant's (or the default's) blocks.",
    )

    class Meta:
        name = "PersonalizedBlock"
        interfaces = (StreamFieldInterface,)

    def resolve_raw_value(root: Any, info: Any) -> str:
        return raw_value(root, info)

    def resolve_decision(root: Any, info: Any) -> dict[str, Any]:
        decision = decision_for(root, info)
        live = block_context(info)["visitor"].segment_set
        segments = [live.get_by_id(sid) for sid in decision.segment_ids]
        return {
            "variant": decision.label if decision.index is not None else None,
            "segments": [{"slug": s.slug, "name": s.name} for s in segments if s is not None],
            "reason": decision.reason,
            "alternative": decision.alternative,
            "holdout": decision.holdout,
        }

    def resolve_blocks(root: Any, info: Any) -> list[Any]:
        block, value = parts(root)
        return children(block.content_for(value, decision_for(root, info)), info)


class GatedBlockType(graphene.ObjectType):
    """A gated block: the teaser and call to action while locked, the content when open."""

    locked = graphene.Boolean(required=True)
    requirement = graphene.String(required=True)
    teaser = graphene.String(required=True, description="Rich text (HTML).")
    cta = graphene.Field(CtaType, required=True)
    blocks = graphene.List(
        graphene.NonNull(StreamFieldInterface),
        required=True,
        description="The gated content; empty while the gate is locked.",
    )

    class Meta:
        name = "GatedBlock"
        interfaces = (StreamFieldInterface,)

    def resolve_raw_value(root: Any, info: Any) -> str:
        return raw_value(root, info)

    def resolve_locked(root: Any, info: Any) -> bool:
        return bool(decision_for(root, info).locked)

    def resolve_requirement(root: Any, info: Any) -> str:
        return str(parts(root)[1]["requirement"])

    def resolve_teaser(root: Any, info: Any) -> str:
        block, value = parts(root)
        teaser = block.child_blocks["teaser"]
        return str(teaser.get_api_representation(value["teaser"], block_context(info)))

    def resolve_cta(root: Any, info: Any) -> dict[str, str]:
        block, value = parts(root)
        return {"label": value["cta_label"], "url": block.cta_url(value, block_context(info))}

    def resolve_blocks(root: Any, info: Any) -> list[Any]:
        if decision_for(root, info).locked:
            return []
        return children(parts(root)[1]["content"], info)


class PreferenceOptionType(graphene.ObjectType):
    """One answer to a preference question."""

    value = graphene.String(required=True, description="Stored as visitor.prefs.<key>.")
    label = graphene.String(required=True, description="What visitors read.")

    class Meta:
        name = "PersonalizePreferenceOption"


class PreferenceBlockType(graphene.ObjectType):
    """A preference question, its options and the visitor's current answer."""

    key = graphene.String(required=True, description="The preference's key, visitor.prefs.<key>.")
    question = graphene.String(required=True)
    options = graphene.List(graphene.NonNull(PreferenceOptionType), required=True)
    help_text = graphene.String(description="The note below the question.")
    answer = graphene.String(description="The visitor's stored answer; null without one.")

    class Meta:
        name = "PreferenceBlock"
        interfaces = (StreamFieldInterface,)

    def resolve_raw_value(root: Any, info: Any) -> str:
        return raw_value(root, info)

    def resolve_key(root: Any, info: Any) -> str:
        return str(parts(root)[1]["key"])

    def resolve_question(root: Any, info: Any) -> str:
        return str(parts(root)[1]["question"])

    def resolve_options(root: Any, info: Any) -> list[dict[str, str]]:
        return [{"value": o["value"], "label": o["label"]} for o in parts(root)[1]["options"]]

    def resolve_help_text(root: Any, info: Any) -> str | None:
        return parts(root)[1]["help_text"] or None

    def resolve_answer(root: Any, info: Any) -> str | None:
        return answer(block_context(info)["visitor"], parts(root)[1]["key"])


#: grapple's registry entries: block class to type (subclasses of the blocks resolve to them too).
BLOCK_TYPES: dict[type, type] = {
    PersonalizedBlock: PersonalizedBlockType,
    GatedBlock: GatedBlockType,
    PreferenceBlock: PreferenceBlockType,
}
