"""PersonalizedBlock: variants per segment and a default, with A/B/n alternatives inside a variant.

An ordinary StructBlock to Wagtail (forms, revisions, migrations, the reference index), with two
differences: its stored form is the documented plain JSON (lists of ids and of stream items, see
docs/reference/blocks.md), and everything that delivers it — templates,
``get_api_representation``, search indexing — goes through one decision per visitor, taken from
``request.visitor`` in the context. What a visitor may not see never leaves this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from django.utils.translation import gettext_lazy as _
from wagtail import blocks

from personalize.analytics.experiments import assign
from personalize.analytics.recording import note_impression
from personalize.blocks.context import outside_the_key, page_id_for, visitor_for
from personalize.blocks.decisions import VariantDecision, choose_variant, variant_identity
from personalize.blocks.explanations import privacy_url, why
from personalize.blocks.fields import KeyBlock, PlainListBlock, SegmentListBlock
from personalize.conf import personalize_settings
from personalize.visitors.registry import current_segments

try:  # Wagtail 8: a StructBlock's fields may be folded into its settings area
    from wagtail.blocks import BlockGroup
except ImportError:  # pragma: no cover - Wagtail 7.0 LTS shows every field
    BlockGroup = None


def _alternative_label(variant: Any, alternative: int) -> str:
    alternatives = list(variant.get("alternatives") or [])
    if 0 < alternative <= len(alternatives):
        return alternatives[alternative - 1].get("label") or f"alternative {alternative}"
    return "control"


def decide_variant(
    visitor: Any, variants: Sequence[Any], *, page_id: int | None, block_key: str
) -> VariantDecision:
    """Which variant (and alternative of its A/B/n test) ``visitor`` gets, noted for analytics.

    The one decision of a personalized block, whichever channel delivers it or asks for its
    cache key (:mod:`personalize.caching.keys`).

    Args:
        visitor: the visitor decided for; None gives the default content.
        variants: the block's variants (``VariantBlock`` values or plain dicts alike).
        page_id: the page the block is delivered on, for the impression.
        block_key: the block's stable key.
    """
    if visitor is None:
        return VariantDecision(None, "", (), "no visitor: default content")
    outside_the_key(visitor, lambda: variant_identity(block_key, variants))
    pairs = [
        (variant["label"], [sid for sid in variant["segments"] if sid is not None])
        for variant in variants
    ]
    live = visitor.segment_set if hasattr(visitor, "segment_set") else current_segments()
    decision = choose_variant(pairs, visitor.segment_ids, live.names, live.names)
    if decision.index is not None:
        decision = _experiment(variants[decision.index], decision, visitor)
    note_impression(visitor, page_id, block_key, decision)
    return decision


def _experiment(variant: Any, decision: VariantDecision, visitor: Any) -> VariantDecision:
    """Within the chosen variant: the alternative of a running A/B/n test, if any."""
    decision = replace(decision, variant_key=variant.get("key") or "")
    assignment = assign(visitor, variant)
    if assignment is None:
        return decision
    if assignment.holdout:
        return replace(
            decision,
            alternative=0,
            holdout=True,
            counted=assignment.counted,
            reason=f"{decision.reason}; experiment holdout: default content",
        )
    reason = decision.reason
    if assignment.alternative:
        label = _alternative_label(variant, assignment.alternative)
        reason = f"{reason}; experiment: {label}"
    return replace(
        decision,
        alternative=assignment.alternative,
        counted=assignment.counted,
        reason=reason,
    )


class AlternativeBlock(blocks.StructBlock):
    """Another version of a variant's content, for an A/B/n test."""

    def __init__(self, child_blocks: Any, **kwargs: Any) -> None:
        super().__init__(
            [
                (
                    "label",
                    blocks.CharBlock(
                        required=False, help_text=_("For reports, e.g. “B: shorter copy”.")
                    ),
                ),
                (
                    "weight",
                    blocks.IntegerBlock(
                        min_value=1,
                        max_value=100,
                        default=50,
                        help_text=_("Share of traffic, relative to the others."),
                    ),
                ),
                ("content", blocks.StreamBlock(child_blocks, required=False)),
            ],
            **kwargs,
        )

    class Meta:
        icon = "pick"
        label_format = "{label}"


class VariantBlock(blocks.StructBlock):
    """One variant: the segments it is for, its content, and optionally an A/B/n test."""

    def __init__(self, child_blocks: Any, **kwargs: Any) -> None:
        super().__init__(
            [
                (
                    "label",
                    blocks.CharBlock(
                        required=False,
                        help_text=_("For editors and reports, e.g. “Austrian visitors”."),
                    ),
                ),
                ("segments", SegmentListBlock(min_num=1)),
                ("content", blocks.StreamBlock(child_blocks, required=False)),
                (
                    "alternatives",
                    PlainListBlock(
                        AlternativeBlock(child_blocks),
                        required=False,
                        default=[],
                        label=_("A/B test: alternatives"),
                        help_text=_(
                            "Other versions of the variant's content. The test runs once it is "
                            "started under Experiments; until then everyone sees the variant's "
                            "content."
                        ),
                    ),
                ),
                (
                    "weight",
                    blocks.IntegerBlock(
                        min_value=1,
                        max_value=100,
                        default=50,
                        label=_("Weight of the variant's content"),
                        help_text=_("Its share of traffic in a test, relative to alternatives."),
                    ),
                ),
                (
                    "holdout",
                    blocks.IntegerBlock(
                        min_value=0,
                        max_value=50,
                        default=0,
                        label=_("Holdout (%)"),
                        help_text=_(
                            "Percent of this audience that sees the default content during a "
                            "test, to measure the variant itself."
                        ),
                    ),
                ),
                ("key", KeyBlock()),
            ],
            **kwargs,
        )

    class Meta:
        icon = "group"
        label_format = "Variant for: {segments}"
        if BlockGroup is not None:
            #: The A/B test's fields wait in the settings area (the variant's cog) until a test is
            #: planned. The order of the fields, and so the stored value, stays the same.
            form_layout = BlockGroup(
                children=["label", "segments", "content"],
                settings=["alternatives", "weight", "holdout", "key"],
            )


class PersonalizedBlock(blocks.StructBlock):
    """Content with variants per segment and a default.

    Args:
        child_blocks: the blocks editors may use inside every variant and the default, as for a
            StreamBlock: ``[("heading", CharBlock()), ("paragraph", RichTextBlock())]``.

    The visitor gets the first variant, in the editor's order, with any of its segments matched;
    otherwise the default (which may be empty: nothing is rendered).
    """

    def __init__(self, child_blocks: Any = (), **kwargs: Any) -> None:
        self._content_blocks = list(child_blocks)
        super().__init__(
            [
                (
                    "variants",
                    PlainListBlock(VariantBlock(self._content_blocks), label=_("Variants")),
                ),
                (
                    "default",
                    blocks.StreamBlock(
                        self._content_blocks,
                        required=False,
                        label=_("Default (everyone else)"),
                    ),
                ),
                ("key", KeyBlock()),
            ],
            **kwargs,
        )

    def decide(self, value: Any, context: Any = None) -> VariantDecision:
        """The decision for the visitor in ``context`` (default content without one)."""
        visitor = visitor_for(context)
        return decide_variant(
            visitor,
            value["variants"],
            page_id=page_id_for(context, visitor),
            block_key=value.get("key") or "",
        )

    def content_for(self, value: Any, decision: VariantDecision) -> Any:
        """The StreamValue a decision selects: the chosen variant's content (or the alternative
        of its experiment), or the default."""
        if decision.index is None or decision.holdout:
            return value["default"]
        variant = value["variants"][decision.index]
        alternatives = list(variant.get("alternatives") or [])
        if decision.alternative and decision.alternative <= len(alternatives):
            return alternatives[decision.alternative - 1]["content"]
        return variant["content"]

    def chosen(self, value: Any, context: Any = None) -> tuple[VariantDecision, Any]:
        """The decision and the StreamValue it selects."""
        decision = self.decide(value, context)
        return decision, self.content_for(value, decision)

    def get_context(self, value: Any, parent_context: Any = None) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context(value, parent_context=parent_context)
        decision, content = self.chosen(value, parent_context)
        context.update({"decision": decision, "content": content, "why": None})
        visitor = visitor_for(parent_context)
        if personalize_settings.EXPLAIN_LINKS and decision.segment_ids and visitor is not None:
            context["why"] = why(visitor, decision.segment_ids)
            context["privacy_url"] = privacy_url()
        return context

    def get_api_representation(self, value: Any, context: Any = None) -> dict[str, Any]:
        """Only what this visitor gets: the chosen variant's (or the default's) content."""
        decision, content = self.chosen(value, context)
        stream = self.child_blocks["default"]
        return {
            "variant": decision.label if decision.index is not None else None,
            "reason": decision.reason,
            "content": stream.get_api_representation(content, context=context),
        }

    def get_searchable_content(self, value: Any) -> list[str]:
        """Only the default content is indexed: variants are for particular visitors."""
        return list(self.child_blocks["default"].get_searchable_content(value["default"]))

    class Meta:
        icon = "group"
        template = "personalize/blocks/personalized_block.html"
        label_format = "{variants}"
