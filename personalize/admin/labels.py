"""Human labels for the report's rows: pages, personalized blocks, variants, alternatives.

Blocks with an audience setting (:mod:`personalize.blocks.audience`) are counted as a block
whose two "variants" are ``shown`` and ``hidden``; they are labelled by their audience.

Counters only know keys and ids; editors know a page's title, "Personalized block 2",
"Variant for: Austria" and "Alternative 1". The labels come from the pages' current content
(found with :func:`~personalize.blocks.walk.personalized_blocks`), the experiments' arms
and the segments' names, and say so when the content is gone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from personalize.analytics.rows import HOLDOUT, Row
from personalize.blocks.audience import AudienceBlock
from personalize.blocks.decisions import audience_parts
from personalize.blocks.walk import audience_blocks, personalized_blocks
from personalize.models import Experiment, Segment

#: The "variants" of a block with an audience setting.
AUDIENCE_OUTCOMES = ("shown", "hidden")


@dataclass
class BlockLabel:
    """How editors know a personalized block: its page and variants."""

    label: str
    variants: dict[str, tuple[str, list[str]]] = field(default_factory=dict)


def content_labels(page_ids: Iterable[int]) -> tuple[dict[int, Any], dict[str, BlockLabel]]:
    """The pages by id and the labels of their personalized blocks by block key."""
    from wagtail.models import Page

    pages = {page.pk: page for page in Page.objects.filter(pk__in=set(page_ids)).specific()}
    segments = dict(Segment.objects.values_list("pk", "name"))
    blocks: dict[str, BlockLabel] = {}
    for page in pages.values():
        for number, (block_key, value) in enumerate(personalized_blocks(page), start=1):
            label = BlockLabel(_("Personalized block %(n)d") % {"n": number})
            for variant in value["variants"]:
                names = [segments.get(sid, "?") for sid in variant["segments"] if sid]
                variant_label = variant.get("label") or _("Variant for: %(segments)s") % {
                    "segments": ", ".join(names)
                }
                alternatives = [a.get("label") or "" for a in variant.get("alternatives") or []]
                label.variants[variant.get("key") or ""] = (variant_label, alternatives)
            blocks.setdefault(block_key, label)
        for block_key, setting in audience_blocks(page):
            label = BlockLabel(
                _("Block for: %(audience)s") % {"audience": audience_text(setting, segments)},
                {"shown": (_("Shown"), []), "hidden": (_("Hidden"), [])},
            )
            blocks.setdefault(block_key, label)
    return pages, blocks


def audience_text(setting: Any, segments: dict[int, str]) -> str:
    """Who an audience setting is for, as editors chose it ("Only visitors in these segments:
    Hikers")."""
    choices = dict(AudienceBlock().child_blocks["who"].field.choices)
    who, segment_ids, groups, _key = audience_parts(setting)
    text = str(choices.get(who, who))
    if who in ("segments", "except"):
        names = [segments.get(sid, "?") for sid in segment_ids]
        return f"{text}: {', '.join(names)}"
    if who == "group":
        return f"{text}: {', '.join(groups)}"
    return text


class Labeller:
    """Human labels for the rows of :func:`~personalize.analytics.results.block_rows`."""

    def __init__(self, rows: list[Row]) -> None:
        self.pages, self.blocks = content_labels(r.page_id for r in rows if r.page_id)
        self.experiments = Experiment.objects.in_bulk(
            {r.experiment_id for r in rows if r.experiment_id}
        )
        self.segments = dict(Segment.objects.values_list("pk", "name"))

    def page(self, page_id: int | None) -> str:
        """The page's title, or why there is none."""
        page = self.pages.get(page_id) if page_id else None
        if page is None:
            return _("Deleted page %(id)s") % {"id": page_id} if page_id else _("Unknown page")
        return str(page.title)

    def page_url(self, page_id: int | None) -> str | None:
        """The page's edit view in the admin (None when the page is gone)."""
        return reverse("wagtailadmin_pages:edit", args=[page_id]) if page_id in self.pages else None

    def block(self, block_key: str) -> str:
        """The block's position on its page, or the start of its key when it is gone."""
        label = self.blocks.get(block_key)
        return label.label if label else _("Block %(key)s") % {"key": block_key[:8]}

    def variant(self, row: Row) -> str:
        """The variant's label, its segments, or its experiment's name when it is gone."""
        if row.variant == "default":
            return _("Default (everyone else)")
        label = self.blocks.get(row.block_key)
        if label and row.variant in label.variants:
            return label.variants[row.variant][0]
        experiment = self.experiments.get(row.experiment_id) if row.experiment_id else None
        return (
            experiment.name
            if experiment
            else _("Removed variant %(key)s") % {"key": row.variant[:8]}
        )

    def alternative(self, row: Row) -> str:
        """The alternative's label from its experiment's arms, the holdout or the control."""
        if row.alternative == HOLDOUT:
            return _("Holdout (default content)")
        if row.arm is None and row.variant in AUDIENCE_OUTCOMES:
            return self.variant(row)
        if row.arm is None:
            return _("Default") if row.variant == "default" else _("Variant's own content")
        experiment = self.experiments.get(row.experiment_id) if row.experiment_id else None
        arms = experiment.arms if experiment else []
        if row.arm < len(arms) and isinstance(arms[row.arm], dict) and arms[row.arm].get("label"):
            return str(arms[row.arm]["label"])
        if row.arm == 0:
            return _("Variant's own content")
        return _("Alternative %(n)d") % {"n": row.arm}

    def segment(self, segment_id: int | None) -> str:
        """The segment's name ("—" for none)."""
        if segment_id is None:
            return "—"
        return self.segments.get(segment_id) or _("Deleted segment %(id)d") % {"id": segment_id}
