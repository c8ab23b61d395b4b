"""GraphQL types: pages, stream blocks with their per-visitor decisions, the visitor."""

from __future__ import annotations

import json
from functools import cached_property
from typing import Any

import graphene
from django.core.serializers.json import DjangoJSONEncoder

from personalize.blocks import GatedBlock, PersonalizedBlock, is_shown
from personalize.blocks.explanations import matched_explanation
from personalize.graphql.access import is_editor


class JSONString(graphene.JSONString):
    """graphene's JSONString, serializing dates, decimals and lazy strings like Django does."""

    @staticmethod
    def serialize(dt: Any) -> str:
        return json.dumps(dt, cls=DjangoJSONEncoder)


class SegmentType(graphene.ObjectType):
    """A live segment."""

    slug = graphene.String(required=True)
    name = graphene.String(required=True)

    class Meta:
        name = "Segment"


class StreamFieldBlock(graphene.Interface):
    """A block of a StreamField, as this visitor gets it."""

    id = graphene.String()
    # Exposed as ``type``; the Python name avoids graphene's Interface.resolve_type hook.
    type_ = graphene.String(name="type", required=True)
    value = JSONString(description="The block's API representation for this visitor.")

    def resolve_value(root: Any, info: Any) -> Any:
        return root.block.get_api_representation(root.value, root.context)


class BoundBlock:
    """A stream child with the request it is delivered for."""

    def __init__(self, child: Any, context: dict[str, Any]) -> None:
        self.block = child.block
        self.value = child.value
        self.id = getattr(child, "id", None)
        self.type_ = child.block_type if hasattr(child, "block_type") else child.block.name
        #: The block context: the request, the visitor decided for, the page path for ``next``.
        self.context = context

    @cached_property
    def decision(self) -> Any:
        """The block's decision for the visitor, taken once for all of its fields."""
        return self.block.decide(self.value, self.context)


def bound_blocks(stream: Any, context: dict[str, Any]) -> list[BoundBlock]:
    """The children of a StreamValue the visitor gets, bound to the visitor.

    A block whose audience setting hides it from this visitor is left out
    (:func:`~personalize.blocks.audience.is_shown`).
    """
    shown = [child for child in stream if is_shown(child.block, child.value, context)]
    return [BoundBlock(child, context) for child in shown]


def _kind(root: Any) -> str:
    block = getattr(root, "block", None)
    if isinstance(block, PersonalizedBlock):
        return "personalized"
    if isinstance(block, GatedBlock):
        return "gated"
    return "block"


class BlockType(graphene.ObjectType):
    """Any other block: its API representation."""

    class Meta:
        name = "Block"
        interfaces = (StreamFieldBlock,)

    @classmethod
    def is_type_of(cls, root: Any, info: Any) -> bool:
        # The concrete type follows the block's class.
        return isinstance(root, BoundBlock) and _kind(root) == "block"


class DecisionType(graphene.ObjectType):
    """Which variant a visitor got, and why."""

    variant = graphene.String(description="The chosen variant's label; null for the default.")
    segments = graphene.List(graphene.NonNull(SegmentType), required=True)
    reason = graphene.String(required=True)
    alternative = graphene.Int(
        description="Inside the variant's running A/B test: the alternative shown (0 is the "
        "variant's own content); null without a test."
    )
    holdout = graphene.Boolean(
        required=True,
        description="The visitor is in the test's holdout and gets the default content.",
    )

    class Meta:
        name = "Decision"


class PersonalizedBlockType(graphene.ObjectType):
    """A personalized block: the decision and the chosen content only."""

    decision = graphene.Field(DecisionType, required=True)
    # Nullable like GatedBlock.blocks, so that one query can ask both for ``blocks``.
    blocks = graphene.List(
        graphene.NonNull(StreamFieldBlock), description="The chosen variant's (or default) blocks."
    )

    class Meta:
        name = "PersonalizedBlock"
        interfaces = (StreamFieldBlock,)

    @classmethod
    def is_type_of(cls, root: Any, info: Any) -> bool:
        return isinstance(root, BoundBlock) and _kind(root) == "personalized"

    def resolve_decision(root: BoundBlock, info: Any) -> dict[str, Any]:
        decision = root.decision
        live = root.context["visitor"].segment_set
        segments = [live.get_by_id(sid) for sid in decision.segment_ids]
        return {
            "variant": decision.label if decision.index is not None else None,
            "segments": [{"slug": s.slug, "name": s.name} for s in segments if s is not None],
            "reason": decision.reason,
            "alternative": decision.alternative,
            "holdout": decision.holdout,
        }

    def resolve_blocks(root: BoundBlock, info: Any) -> list[BoundBlock]:
        return bound_blocks(root.block.content_for(root.value, root.decision), root.context)


class CtaType(graphene.ObjectType):
    """A gated block's call to action."""

    label = graphene.String(required=True)
    url = graphene.String(required=True)

    class Meta:
        name = "Cta"


class GatedBlockType(graphene.ObjectType):
    """A gated block: the teaser and call to action while locked, the content when open."""

    locked = graphene.Boolean(required=True)
    requirement = graphene.String(required=True)
    teaser = graphene.String(description="Rich text (HTML).")
    cta = graphene.Field(CtaType, required=True)
    blocks = graphene.List(
        graphene.NonNull(StreamFieldBlock), description="Null while the gate is locked."
    )

    class Meta:
        name = "GatedBlock"
        interfaces = (StreamFieldBlock,)

    @classmethod
    def is_type_of(cls, root: Any, info: Any) -> bool:
        return isinstance(root, BoundBlock) and _kind(root) == "gated"

    def resolve_locked(root: BoundBlock, info: Any) -> bool:
        return bool(root.decision.locked)

    def resolve_requirement(root: BoundBlock, info: Any) -> str:
        return str(root.value["requirement"])

    def resolve_teaser(root: BoundBlock, info: Any) -> str:
        teaser = root.block.child_blocks["teaser"]
        return str(teaser.get_api_representation(root.value["teaser"], root.context))

    def resolve_cta(root: BoundBlock, info: Any) -> dict[str, str]:
        return {
            "label": root.value["cta_label"],
            "url": root.block.cta_url(root.value, root.context),
        }

    def resolve_blocks(root: BoundBlock, info: Any) -> list[BoundBlock] | None:
        if root.decision.locked:
            return None
        return bound_blocks(root.value["content"], root.context)


class VisitorProfileType(graphene.ObjectType):
    """The visitor's stored profile: the visitor.* attributes, decayed to now."""

    visits = graphene.Int(required=True, description="Visits so far.")
    returning = graphene.Boolean(required=True, description="More than one visit.")
    days_since_first_visit = graphene.Int(description="Whole days; null before the first visit.")
    score = graphene.Float(required=True, description="The engagement score (2 decimals).")
    stage = graphene.String(required=True, description="The journey stage the score is in.")
    peak_stage = graphene.String(required=True, description="The highest stage ever reached.")
    interests = JSONString(required=True, description='Tag to decayed points, {"hiking": 3.5}.')
    prefs = JSONString(required=True, description='Stated preferences, {"activity": "ski"}.')

    class Meta:
        name = "VisitorProfile"


class VisitorType(graphene.ObjectType):
    """What the site knows about the visitor, and why they are in their segments."""

    segments = graphene.List(graphene.NonNull(SegmentType), required=True)
    attributes = JSONString(required=True)
    explanation = JSONString(
        required=True,
        description="Why the visitor is in each of their segments: the rules that held, with "
        "the visitor's values. Editors: every live segment, matched or not, and all its rules.",
    )
    consent = graphene.List(
        graphene.NonNull(graphene.String),
        required=True,
        description='The purposes the visitor allowed; always includes "necessary".',
    )
    gpc = graphene.Boolean(required=True, description="Whether the browser sent Sec-GPC: 1.")
    profile = graphene.Field(
        VisitorProfileType,
        description="The stored profile; null without consent to personalization or a profile.",
    )

    class Meta:
        name = "Visitor"

    def resolve_segments(root: Any, info: Any) -> list[dict[str, str]]:
        return [{"slug": s.slug, "name": s.name} for s in root.matches]

    def resolve_attributes(root: Any, info: Any) -> Any:
        return root.attributes

    def resolve_explanation(root: Any, info: Any) -> Any:
        if is_editor(info.context):
            return root.explain()
        return matched_explanation(root)

    def resolve_consent(root: Any, info: Any) -> list[str]:
        return list(root.consent.purposes)

    def resolve_gpc(root: Any, info: Any) -> bool:
        return bool(root.consent.gpc)

    def resolve_profile(root: Any, info: Any) -> dict[str, Any] | None:
        if root.profile is None:
            return None
        attributes: dict[str, Any] = root.profile_attributes()
        return attributes
