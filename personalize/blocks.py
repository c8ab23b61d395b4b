"""Segment-aware StreamField blocks: PersonalizedBlock and GatedBlock.

Both are ordinary StructBlocks to Wagtail (forms, revisions, migrations, the reference index),
with two differences: their stored form is the documented plain JSON (lists of ids and of stream
items, see docs/reference/blocks.md), and everything that delivers them — templates,
``get_api_representation``, search indexing — goes through one decision per visitor, taken from
``request.visitor`` in the context. What a visitor may not see never leaves this module.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.db.models import Model
from django.shortcuts import resolve_url
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.snippets.blocks import SnippetChooserBlock

from personalize.analytics.experiments import assign
from personalize.analytics.recording import note_impression
from personalize.conf import personalize_settings
from personalize.decisions import GateDecision, VariantDecision, choose_variant, gate
from personalize.explanations import privacy_url, why
from personalize.registry import current_segments
from personalize.rule_blocks.user import group_choices
from personalize.visitor import current_visitor


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


class SegmentChooserBlock(IdChooserMixin, SnippetChooserBlock):
    """Choose a segment with Wagtail's snippet chooser; the value is the segment's id.

    Rendering a page never queries segments: the decision uses the compiled, in-memory set.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("personalize.Segment", **kwargs)

    class Meta:
        icon = "group"


class PageIdChooserBlock(IdChooserMixin, blocks.PageChooserBlock):
    """Choose a page; the value is its id, loaded only when a locked gate shows its button."""


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
    """A ListBlock stored as a plain JSON list (``[1, 2]``), not as ``{"type": "item", ...}``."""

    def get_prep_value(self, value: Any) -> list[Any]:
        if not isinstance(value, blocks.list_block.ListValue):
            value = blocks.list_block.ListValue(self, values=value)
        return [self.child_block.get_prep_value(child.value) for child in value.bound_blocks]


class SegmentListBlock(PlainListBlock):
    """A list of segment ids, chosen with the snippet chooser."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Segments"))
        super().__init__(SegmentChooserBlock(), **kwargs)


def _page_url(page_id: int | None) -> str | None:
    if page_id is None:
        return None
    from wagtail.models import Page

    page = Page.objects.filter(pk=page_id).first()
    return page.url if page is not None else None


def _fallback_url() -> str:
    """GATE_URL, else LOGIN_URL: paths and URLs as they are, anything else reversed."""
    target = str(personalize_settings.GATE_URL or settings.LOGIN_URL)
    if target.startswith(("/", "http://", "https://")):
        return target
    return str(resolve_url(target))


def _next_path(context: Any) -> str | None:
    """Where the visitor should come back to: the page (headless) or the current request."""
    if context and hasattr(context, "get") and context.get("next_path"):
        return str(context.get("next_path"))
    request = context.get("request") if context and hasattr(context, "get") else None
    if request is None:
        visitor = current_visitor()
        request = visitor.request if visitor is not None else None
    return request.get_full_path() if request is not None else None


def _alternative_label(variant: Any, alternative: int) -> str:
    alternatives = list(variant.get("alternatives") or [])
    if 0 < alternative <= len(alternatives):
        return alternatives[alternative - 1].get("label") or f"alternative {alternative}"
    return "control"


def _page_id(context: Any, visitor: Any) -> int | None:
    """The page a block is delivered on: from the template context, else the served page."""
    page = context.get("page") if context and hasattr(context, "get") else None
    if page is None:
        page = getattr(getattr(visitor, "request", None), "_personalize_page", None)
    pk = getattr(page, "pk", None)
    return pk if isinstance(pk, int) else None


def _visitor(context: Any) -> Any:
    """The visitor a block decides for.

    In order: an explicit ``visitor`` in the context (headless delivery), ``request.visitor``
    from a template or API context, else the current request's visitor.

    ``{{ page.body }}`` renders blocks without a context; the middleware's per-request visitor
    still gives them the right decision. Outside a request there is none (default content,
    locked gates).
    """
    if context and hasattr(context, "get") and context.get("visitor") is not None:
        return context.get("visitor")
    request = context.get("request") if context and hasattr(context, "get") else None
    visitor = getattr(request, "visitor", None)
    return visitor if visitor is not None else current_visitor()


class KeyBlock(blocks.FieldBlock):
    """A stable hidden key (32 hex digits), given when the editor first saves the block.

    Reports and experiments identify blocks and variants by it. Content saved before keys
    existed has an empty key until it is saved again.
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
        label = ""
        form_classname = "pz-key"
        default = ""


_KEY = re.compile(r"^[0-9a-f]{32}$")


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
                            "Other versions of this content. The test runs once it is started "
                            "under Experiments; until then everyone sees the content above."
                        ),
                    ),
                ),
                (
                    "weight",
                    blocks.IntegerBlock(
                        min_value=1,
                        max_value=100,
                        default=50,
                        label=_("Weight of the content above"),
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
        visitor = _visitor(context)
        variants = [
            (variant["label"], [sid for sid in variant["segments"] if sid is not None])
            for variant in value["variants"]
        ]
        if visitor is None:
            return VariantDecision(None, "", (), "no visitor: default content")
        live = visitor.segment_set if hasattr(visitor, "segment_set") else current_segments()
        decision = choose_variant(variants, visitor.segment_ids, live.names, live.names)
        if decision.index is not None:
            decision = self._experiment(value["variants"][decision.index], decision, visitor)
        note_impression(visitor, _page_id(context, visitor), value.get("key") or "", decision)
        return decision

    @staticmethod
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
        visitor = _visitor(parent_context)
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


class GatedBlock(blocks.StructBlock):
    """Content shown only to qualifying visitors; others see a teaser and a call to action.

    Args:
        child_blocks: the blocks editors may use for the gated content.
    """

    def __init__(self, child_blocks: Any = (), **kwargs: Any) -> None:
        super().__init__(
            [
                (
                    "requirement",
                    blocks.ChoiceBlock(
                        choices=[
                            ("authenticated", _("Registered (logged-in) visitors")),
                            ("group", _("Members of a group")),
                            ("segment", _("Visitors in a segment")),
                        ],
                        default="authenticated",
                        label=_("Who may see the content"),
                    ),
                ),
                (
                    "groups",
                    blocks.MultipleChoiceBlock(
                        choices=group_choices, required=False, label=_("Groups")
                    ),
                ),
                ("segments", SegmentListBlock(required=False)),
                ("teaser", blocks.RichTextBlock(label=_("Teaser (shown to everyone)"))),
                ("cta_label", blocks.CharBlock(default=_("Log in to read on"))),
                (
                    "cta_page",
                    PageIdChooserBlock(
                        required=False,
                        label=_("Call-to-action page"),
                        help_text=_("Where the button leads; empty for the login page."),
                    ),
                ),
                ("content", blocks.StreamBlock(list(child_blocks), required=False)),
            ],
            **kwargs,
        )

    def get_prep_value(self, value: Any) -> dict[str, Any]:
        prep: dict[str, Any] = super().get_prep_value(value)
        prep["groups"] = list(prep.get("groups") or [])
        return prep

    def decide(self, value: Any, context: Any = None) -> GateDecision:
        """Locked or open for the visitor in ``context`` (locked without one)."""
        visitor = _visitor(context)
        if visitor is None:
            return GateDecision(True, value["requirement"], "no visitor: locked")
        requirement = value["requirement"]
        return gate(
            requirement,
            authenticated=visitor.authenticated,
            user_groups=visitor.user_groups if requirement == "group" else (),
            groups=value["groups"] or (),
            matched=visitor.segment_ids if requirement == "segment" else (),
            segments=[sid for sid in value["segments"] if sid is not None],
        )

    def cta_url(self, value: Any, context: Any = None) -> str:
        """The call to action's URL, with ``next`` pointing back at the current page."""
        target = _page_url(value["cta_page"]) or _fallback_url()
        next_path = _next_path(context)
        if next_path is None:
            return str(target)
        separator = "&" if "?" in target else "?"
        return f"{target}{separator}{urlencode({'next': next_path})}"

    def get_context(self, value: Any, parent_context: Any = None) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context(value, parent_context=parent_context)
        decision = self.decide(value, parent_context)
        context["decision"] = decision
        context["locked"] = decision.locked
        if decision.locked:
            context["cta_url"] = self.cta_url(value, parent_context)
        else:
            context["content"] = value["content"]
        return context

    def get_api_representation(self, value: Any, context: Any = None) -> dict[str, Any]:
        """The teaser and call to action while locked; the content only when open."""
        decision = self.decide(value, context)
        teaser = self.child_blocks["teaser"].get_api_representation(value["teaser"], context)
        representation: dict[str, Any] = {
            "locked": decision.locked,
            "requirement": decision.requirement,
            "teaser": teaser,
            "cta": {"label": value["cta_label"], "url": self.cta_url(value, context)},
            "content": None,
        }
        if not decision.locked:
            stream = self.child_blocks["content"]
            representation["content"] = stream.get_api_representation(value["content"], context)
        return representation

    def get_searchable_content(self, value: Any) -> list[str]:
        """Only the teaser is indexed: gated content must not be found by search."""
        return list(self.child_blocks["teaser"].get_searchable_content(value["teaser"]))

    class Meta:
        icon = "lock"
        template = "personalize/blocks/gated_block.html"
        label_format = "Gated: {requirement}"
