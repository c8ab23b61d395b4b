"""GatedBlock: content shown only to visitors who qualify, with a teaser and a call to action.

What a visitor may not see never leaves this module: templates, ``get_api_representation`` and
search indexing all go through one gate decision per visitor.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ValidationError
from django.shortcuts import resolve_url
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.blocks.list_block import ListValue

from personalize.blocks.context import next_path_for, outside_the_key, page_for, visitor_for
from personalize.blocks.decisions import GateDecision, gate, gate_identity
from personalize.blocks.fields import PageIdChooserBlock, SegmentListBlock
from personalize.blocks.translated import localized_page_url
from personalize.conf import personalize_settings
from personalize.rule_blocks.user import group_choices
from personalize.rule_blocks.widgets import SearchableSelectMultiple


def _fallback_url() -> str:
    """GATE_URL, else LOGIN_URL: paths and URLs as they are, anything else reversed."""
    target = str(personalize_settings.GATE_URL or settings.LOGIN_URL)
    if target.startswith(("/", "http://", "https://")):
        return target
    return str(resolve_url(target))


def decide_gate(
    visitor: Any, requirement: str, *, groups: Collection[str], segments: Collection[int]
) -> GateDecision:
    """Whether a gate is open for ``visitor`` (locked without one).

    The one gate decision, whichever channel delivers the block or asks for its cache key.
    """
    if visitor is None:
        return GateDecision(True, requirement, "no visitor: locked")
    outside_the_key(visitor, lambda: gate_identity(requirement, groups, segments))
    return gate(
        requirement,
        authenticated=visitor.authenticated,
        user_groups=visitor.user_groups if requirement == "group" else (),
        groups=groups,
        matched=visitor.segment_ids if requirement == "segment" else (),
        segments=segments,
    )


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
                        choices=group_choices,
                        required=False,
                        label=_("Groups"),
                        widget=SearchableSelectMultiple(),
                    ),
                ),
                ("segments", SegmentListBlock(required=False)),
                (
                    "teaser",
                    blocks.RichTextBlock(
                        label=_("Teaser"),
                        help_text=_("Shown instead of the content until the visitor may see it."),
                    ),
                ),
                (
                    "cta_label",
                    blocks.CharBlock(
                        label=_("Button label"),
                        default=_("Log in or register to read on"),
                        help_text=_("The button under the teaser."),
                    ),
                ),
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

    def clean(self, value: Any) -> Any:
        """Validate only what the chosen requirement uses.

        Groups matter only for "members of a group" and segments only for "visitors in a
        segment": for the other requirements they are emptied, so an empty row the editor never
        filled in cannot block publishing. A requirement that needs groups or segments needs at
        least one.
        """
        requirement = value.get("requirement")
        chosen = [sid for sid in (value.get("segments") or []) if sid not in (None, "")]
        value["segments"] = ListValue(
            self.child_blocks["segments"], values=chosen if requirement == "segment" else []
        )
        if requirement != "group":
            value["groups"] = []
        cleaned = super().clean(value)
        errors = {}
        if requirement == "segment" and not chosen:
            errors["segments"] = ValidationError(_("Choose at least one segment."))
        if requirement == "group" and not cleaned["groups"]:
            errors["groups"] = ValidationError(_("Choose at least one group."))
        if errors:
            raise blocks.StructBlockValidationError(block_errors=errors)
        return cleaned

    def get_prep_value(self, value: Any) -> dict[str, Any]:
        prep: dict[str, Any] = super().get_prep_value(value)
        prep["groups"] = list(prep.get("groups") or [])
        return prep

    def decide(self, value: Any, context: Any = None) -> GateDecision:
        """Locked or open for the visitor in ``context`` (locked without one)."""
        return decide_gate(
            visitor_for(context),
            value["requirement"],
            groups=value["groups"] or (),
            segments=[sid for sid in value["segments"] if sid is not None],
        )

    def cta_url(self, value: Any, context: Any = None) -> str:
        """The call to action's URL, with ``next`` pointing back at the current page.

        The chosen page is linked in the served page's language (its translation, when live).
        """
        served = page_for(context, visitor_for(context))
        target = localized_page_url(value["cta_page"], served) or _fallback_url()
        next_path = next_path_for(context)
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
        # Translators: how a gated block is listed in the editor; {requirement} is who may see it.
        label_format = _("Gated: {requirement}")
