"""An "Audience" setting for any StructBlock: show it to some visitors, hide it from others.

A site developer adds the setting to one of their own blocks with one line, and editors choose
who sees each instance of it — everyone (the default), only visitors in some segments, everyone
except visitors in some segments, logged-in visitors, visitors who are not logged in, or members
of some groups::

    class CallToActionBlock(AudienceMixin, blocks.StructBlock):
        heading = blocks.CharBlock()
        ...

    # or, for a block class (or instance) you do not own:
    cta = with_audience(ThirdPartyCtaBlock)()

The setting is the struct's last child, ``audience`` (an :class:`AudienceBlock`), stored with the
block's value. On Wagtail 8 it sits in the block's settings area (the cog), on Wagtail 7.0 below
the block's own fields. Content stored before the setting existed has no ``audience`` key and is
shown to everyone, as before.

Every channel goes through one decision per visitor (:func:`audience_decision`), taken as
:class:`~personalize.blocks.personalized.PersonalizedBlock` takes its: a hidden block renders
nothing, its API representation is ``None``, GraphQL leaves it out, search indexes only blocks
for everyone, and the decision key of the page cache covers the decision
(:mod:`personalize.caching.index`).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.blocks.list_block import ListValue

from personalize.analytics.recording import note_impression
from personalize.blocks.context import outside_the_key, page_id_for, visitor_for
from personalize.blocks.decisions import (
    AudienceDecision,
    audience_identity,
    audience_parts,
    choose_audience,
)
from personalize.blocks.explanations import privacy_url, why
from personalize.blocks.fields import KeyBlock, SegmentListBlock
from personalize.conf import personalize_settings
from personalize.rule_blocks.user import group_choices
from personalize.rule_blocks.widgets import SearchableSelectMultiple
from personalize.visitors.registry import current_segments

try:  # Wagtail 8: the setting waits in the block's settings area
    from wagtail.blocks import BlockGroup
except ImportError:  # pragma: no cover - Wagtail 7.0 LTS shows it as the last field
    BlockGroup = None

#: The name of the setting among the struct's children.
AUDIENCE = "audience"

#: The decision for blocks without the setting, values without it, and "everyone".
EVERYONE = AudienceDecision(True, "everyone", "everyone")

#: The audiences that choose segments, and the one that chooses groups.
_USE_SEGMENTS = ("segments", "except")
_USE_GROUPS = ("group",)


class AudienceBlock(blocks.StructBlock):
    """The "Audience" setting: who sees the block it belongs to.

    Stored as ``{"who": "segments", "segments": [3], "groups": [], "key": "<32 hex>"}``; ``who``
    is one of :data:`~personalize.blocks.decisions.AUDIENCES`.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            [
                (
                    "who",
                    blocks.ChoiceBlock(
                        choices=[
                            ("everyone", _("Everyone")),
                            ("segments", _("Only visitors in these segments")),
                            ("except", _("Everyone except visitors in these segments")),
                            ("authenticated", _("Only registered (logged-in) visitors")),
                            ("anonymous", _("Only visitors who are not logged in")),
                            ("group", _("Only members of these groups")),
                        ],
                        default="everyone",
                        label=_("Who sees this block"),
                        help_text=_(
                            "Everyone else gets nothing in its place. Only blocks for everyone "
                            "are found by search."
                        ),
                    ),
                ),
                (
                    "segments",
                    SegmentListBlock(
                        required=False,
                        help_text=_("For “only” and “except” these segments."),
                    ),
                ),
                (
                    "groups",
                    blocks.MultipleChoiceBlock(
                        choices=group_choices,
                        required=False,
                        label=_("Groups"),
                        help_text=_("For “only members of these groups”."),
                        widget=SearchableSelectMultiple(),
                    ),
                ),
                ("key", KeyBlock()),
            ],
            **kwargs,
        )

    def clean(self, value: Any) -> Any:
        """Validate only what the chosen audience uses (as GatedBlock does).

        Segments matter only for "only"/"except these segments" and groups only for "members of
        these groups": for the other audiences they are emptied. An audience that needs segments
        or groups needs at least one.
        """
        who = value.get("who") or "everyone"
        value["who"] = who
        chosen = [sid for sid in (value.get("segments") or []) if sid not in (None, "")]
        value["segments"] = ListValue(
            self.child_blocks["segments"], values=chosen if who in _USE_SEGMENTS else []
        )
        if who not in _USE_GROUPS:
            value["groups"] = []
        cleaned = super().clean(value)
        errors = {}
        if who in _USE_SEGMENTS and not chosen:
            errors["segments"] = ValidationError(_("Choose at least one segment."))
        if who in _USE_GROUPS and not cleaned["groups"]:
            errors["groups"] = ValidationError(_("Choose at least one group."))
        if errors:
            raise blocks.StructBlockValidationError(block_errors=errors)
        return cleaned

    def to_python(self, value: Any) -> Any:
        """The setting; a stored value that is not an object reads as "everyone"."""
        return super().to_python(value if isinstance(value, dict) else {})

    def bulk_to_python(self, values: Any) -> list[Any]:
        return list(super().bulk_to_python([v if isinstance(v, dict) else {} for v in values]))

    def get_prep_value(self, value: Any) -> dict[str, Any]:
        prep: dict[str, Any] = super().get_prep_value(value)
        prep["groups"] = list(prep.get("groups") or [])
        return prep

    def render_basic(self, value: Any, context: Any = None) -> SafeString:
        """Nothing: the setting is for the editor, never for visitors."""
        return mark_safe("")  # noqa: S308 - an empty string

    def get_searchable_content(self, value: Any) -> list[str]:
        return []

    class Meta:
        icon = "view"
        label = _("Audience")
        form_classname = "pz-audience"


def audience_setting(block: Any, value: Any) -> Any:
    """The audience setting of a block's value, or None when there is none.

    None for a block without an :class:`AudienceBlock` child and for a value without the
    setting (content stored before it was added).
    """
    child_blocks = getattr(block, "child_blocks", None)
    if not child_blocks or not isinstance(child_blocks.get(AUDIENCE), AudienceBlock):
        return None
    if not hasattr(value, "get"):
        return None
    setting = value.get(AUDIENCE)
    return setting if hasattr(setting, "get") else None


def decide_audience(visitor: Any, setting: Any, *, page_id: int | None) -> AudienceDecision:
    """Whether ``visitor`` is shown a block with the audience ``setting``, noted for analytics.

    The one audience decision, whichever channel delivers the block or asks for its cache key
    (:mod:`personalize.caching.keys`). "Everyone" is not noted.

    Args:
        visitor: the visitor decided for; None decides as for a visitor who is not logged in
            and in no segment.
        setting: the :class:`AudienceBlock` value (or a plain dict of the same keys).
        page_id: the page the block is delivered on, for the impression.
    """
    who, segments, groups, key = audience_parts(setting)
    if who == "everyone":
        return EVERYONE
    if visitor is None:
        decision = choose_audience(who, authenticated=False, groups=groups, segments=segments)
    else:
        live = visitor.segment_set if hasattr(visitor, "segment_set") else current_segments()
        decision = choose_audience(
            who,
            authenticated=visitor.authenticated,
            user_groups=visitor.user_groups if who == "group" else (),
            groups=groups,
            matched=visitor.segment_ids if who in _USE_SEGMENTS else (),
            segments=segments,
            names=live.names,
        )
    decision = AudienceDecision(
        decision.shown, decision.audience, decision.reason, decision.segment_ids, key
    )
    note_impression(visitor, page_id, key, decision)
    return decision


def audience_decision(block: Any, value: Any, context: Any = None) -> AudienceDecision:
    """The audience decision for the visitor in ``context``, for any block and value.

    The visitor is found as every segment-aware block finds it
    (:func:`~personalize.blocks.context.visitor_for`). A block without the setting, a value
    without it and the audience "everyone" give :data:`EVERYONE` (shown; nothing noted).

    Args:
        block: the block (any Wagtail block).
        value: its value.
        context: the render or API context (``request``, ``visitor``, ``page``), or None.
    """
    setting = audience_setting(block, value)
    if audience_parts(setting)[0] == "everyone":
        return EVERYONE
    visitor = visitor_for(context)
    outside_the_key(visitor, lambda: audience_identity(setting))
    return decide_audience(visitor, setting, page_id=page_id_for(context, visitor))


def is_shown(block: Any, value: Any, context: Any = None) -> bool:
    """Whether the visitor in ``context`` gets the block (see :func:`audience_decision`)."""
    return audience_decision(block, value, context).shown


def is_public(block: Any, value: Any) -> bool:
    """Whether a block's value is for everyone (no setting, or the audience "everyone")."""
    return audience_parts(audience_setting(block, value))[0] == "everyone"


class AudienceMixin:
    """Adds the "Audience" setting to a StructBlock subclass: put it before ``StructBlock``.

    ``class CtaBlock(AudienceMixin, blocks.StructBlock)``. The setting is the child
    ``audience``; its value never reaches a template, the API or search. A hidden block renders
    ``""`` and its API representation is ``None``.
    """

    def __init__(self, local_blocks: Any = None, **kwargs: Any) -> None:
        local = list(local_blocks or ())
        names = {name for name, _block in local} | set(getattr(self, "base_blocks", {}))
        if AUDIENCE not in names:
            local.append((AUDIENCE, AudienceBlock()))
        super().__init__(local, **kwargs)  # type: ignore[call-arg]
        if not isinstance(self.child_blocks[AUDIENCE], AudienceBlock):  # type: ignore[attr-defined]
            raise ImproperlyConfigured(
                f"{type(self).__name__} has its own 'audience' block, the name of the Audience "
                "setting: rename that block."
            )

    def get_form_layout(self) -> Any:
        """Wagtail 8: the block's own layout, with the setting in its settings area."""
        layout = super().get_form_layout()  # type: ignore[misc]
        declared = self.meta.form_layout  # type: ignore[attr-defined]
        if declared is not None and AUDIENCE in layout.get_sorted_block_names():
            return layout  # the developer placed it
        return BlockGroup(
            children=[child for child in layout.children if child != AUDIENCE],
            settings=[*layout.settings, AUDIENCE],
            heading=layout.heading,
            classname=layout.classname,
            help_text=layout.help_text,
            icon=layout.icon,
            attrs=layout.attrs,
            label_format=layout.label_format,
        )

    def get_context(self, value: Any, parent_context: Any = None) -> dict[str, Any]:
        """The template's context, with ``audience`` (the decision) and ``why``.

        ``why`` holds the reasons a visitor may read ("Why am I seeing this?", include
        ``personalize/blocks/why.html``) when ``EXPLAIN_LINKS`` is on and segments showed the
        block; None otherwise (also inside a personalized block, whose own reasons it replaces).
        """
        context: dict[str, Any] = super().get_context(value, parent_context=parent_context)  # type: ignore[misc]
        decision = audience_decision(self, value, parent_context)
        visitor = visitor_for(parent_context)
        context.update({"audience": decision, "why": None})
        explain = personalize_settings.EXPLAIN_LINKS and decision.shown and decision.segment_ids
        if explain and visitor is not None:
            context["why"] = why(visitor, decision.segment_ids)
            context["privacy_url"] = privacy_url()
        return context

    def render(self, value: Any, context: Any = None) -> Any:
        """The block as it renders, or ``""`` when this visitor is not in its audience."""
        if not is_shown(self, value, context):
            return mark_safe("")  # noqa: S308 - an empty string
        return super().render(value, context=context)  # type: ignore[misc]

    def render_basic(self, value: Any, context: Any = None) -> Any:
        """Wagtail's plain rendering of a struct (no template), without the setting."""
        return format_html(
            "<dl>\n{}\n</dl>",
            format_html_join(
                "\n",
                "    <dt>{}</dt>\n    <dd>{}</dd>",
                [(name, child) for name, child in value.items() if name != AUDIENCE],
            ),
        )

    def get_api_representation(self, value: Any, context: Any = None) -> Any:
        """The block's representation without the setting, or None when hidden."""
        if not is_shown(self, value, context):
            return None
        representation = super().get_api_representation(value, context=context)  # type: ignore[misc]
        if isinstance(representation, dict):
            representation.pop(AUDIENCE, None)
        return representation

    def get_searchable_content(self, value: Any) -> list[str]:
        """The block's text only when it is for everyone: search is public."""
        if not is_public(self, value):
            return []
        return list(super().get_searchable_content(value))  # type: ignore[misc]


#: Classes :func:`with_audience` made, by the class they extend.
_WITH_AUDIENCE: dict[type, type] = {}


def with_audience(block: Any) -> Any:
    """A StructBlock class (or instance) with the "Audience" setting added.

    For blocks you do not define yourself: ``cta = with_audience(ThirdPartyCtaBlock)()`` or
    ``with_audience(ThirdPartyCtaBlock(required=False))``. Migrations are unaffected by the
    extra class: Wagtail freezes every StructBlock as a plain ``StructBlock`` with its children.

    Args:
        block: a ``StructBlock`` subclass or an instance of one.

    Returns:
        The subclass with :class:`AudienceMixin` (same name and module), or, given an instance,
        a new instance of it with the same children and options.

    Raises:
        ImproperlyConfigured: ``block`` is not a StructBlock class or instance.
    """
    if isinstance(block, type):
        return _audience_class(block)
    if isinstance(block, AudienceMixin):
        return block
    cls = _audience_class(type(block))
    base = getattr(cls, "base_blocks", {})
    local = [(name, child) for name, child in block.child_blocks.items() if name not in base]
    return cls(local, **block._constructor_kwargs)


def _audience_class(cls: type) -> type:
    if not issubclass(cls, blocks.BaseStructBlock):
        raise ImproperlyConfigured(
            f"with_audience() takes a StructBlock class or instance, not {cls.__name__}; "
            "for other blocks, wrap them in a StructBlock first."
        )
    if issubclass(cls, AudienceMixin):
        return cls
    if cls not in _WITH_AUDIENCE:
        _WITH_AUDIENCE[cls] = type(cls)(
            cls.__name__,
            (AudienceMixin, cls),
            {
                "__module__": cls.__module__,
                "__qualname__": cls.__qualname__,
                "__doc__": cls.__doc__,
            },
        )
    return _WITH_AUDIENCE[cls]
