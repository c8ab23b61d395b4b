"""Segment-aware StreamField blocks: what site developers put in their StreamFields.

- :class:`PersonalizedBlock` (:mod:`~personalize.blocks.personalized`): variants per segment and a
  default, with A/B/n alternatives;
- :class:`GatedBlock` (:mod:`~personalize.blocks.gated`): content for qualifying visitors, a
  teaser and a call to action for the others;
- :class:`PreferenceBlock` (:mod:`~personalize.blocks.preference`): a question whose answer
  becomes ``visitor.prefs.<key>``;
- :class:`AudienceMixin` and :func:`with_audience` (:mod:`~personalize.blocks.audience`): an
  "Audience" setting for any StructBlock (show to or hide from segments, or a gate), decided by
  :func:`audience_decision` / :func:`is_shown`.

The rest of the package is how they deliver: one decision per block and visitor
(:mod:`~personalize.blocks.decisions`), the reasons a visitor may read
(:mod:`~personalize.blocks.explanations`), the choosers and keys they are built from
(:mod:`~personalize.blocks.fields`), and the walk through a page's StreamFields that finds them
(:mod:`~personalize.blocks.walk`).
"""

# Imported for its effect: the blocks' editor forms are registered with Wagtail (telepath).
import personalize.blocks.adapters  # noqa: F401
from personalize.blocks.audience import (
    AudienceBlock,
    AudienceMixin,
    audience_decision,
    is_shown,
    with_audience,
)
from personalize.blocks.decisions import AudienceDecision
from personalize.blocks.fields import (
    KeyBlock,
    PageIdChooserBlock,
    PlainListBlock,
    SegmentChooserBlock,
    SegmentListBlock,
)
from personalize.blocks.gated import GatedBlock
from personalize.blocks.personalized import AlternativeBlock, PersonalizedBlock, VariantBlock
from personalize.blocks.preference import PreferenceBlock, PreferenceOptionBlock

__all__ = [
    "AlternativeBlock",
    "AudienceBlock",
    "AudienceDecision",
    "AudienceMixin",
    "GatedBlock",
    "KeyBlock",
    "PageIdChooserBlock",
    "PersonalizedBlock",
    "PlainListBlock",
    "PreferenceBlock",
    "PreferenceOptionBlock",
    "SegmentChooserBlock",
    "SegmentListBlock",
    "VariantBlock",
    "audience_decision",
    "is_shown",
    "with_audience",
]
