"""What publishing a page records about its blocks: the experiments inside their variants.

A variant with alternatives (A/B/n) is an :class:`~personalize.models.Experiment`; publishing
creates or updates it with the labels and weights visitors get.

Translations of a page keep its blocks' keys, so a variant's experiment is one across the
page's languages: it belongs to the page that published it first, and publishing a translation
leaves it as it is (visitors of every language are assigned and counted in it).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext

from personalize.blocks.walk import personalized_blocks
from personalize.models import Experiment


def sync_page_experiments(page: Any) -> int:
    """Create or update the Experiment of every variant with alternatives on ``page``.

    Runs when a page is published (the alternatives' labels and weights are the ones visitors
    get). Experiments of variants that lost their alternatives are left as they are.

    Returns:
        How many experiments were created or updated.
    """
    found = 0
    for block_key, variant in _variants_with_alternatives(page):
        own = variant.get("label") or gettext("Variant content")
        arms = [{"label": own, "weight": variant["weight"]}]
        arms += [
            {
                "label": alt.get("label") or gettext("Alternative %(n)d") % {"n": n},
                "weight": alt["weight"],
            }
            for n, alt in enumerate(variant["alternatives"], start=1)
        ]
        name = f"{page.title} · {variant.get('label') or gettext('variant')}"
        experiment, created = Experiment.objects.get_or_create(
            key=variant["key"],
            defaults={"page": page, "block_key": block_key, "name": name[:255]},
        )
        if not created and _translation_of_owner(experiment, page):
            continue
        experiment.page = page
        experiment.block_key = block_key
        experiment.arms = arms
        experiment.holdout = int(variant.get("holdout") or 0)
        experiment.save(update_fields=["page", "block_key", "arms", "holdout"])
        found += 1
    return found


def _translation_of_owner(experiment: Experiment, page: Any) -> bool:
    """Whether ``page`` is another language's version of the page the experiment belongs to."""
    if experiment.page_id in (None, page.pk):
        return False
    owner = experiment.page
    return owner is not None and owner.translation_key == page.translation_key


def _variants_with_alternatives(page: Any) -> Iterator[tuple[str, Any]]:
    """``(block key, variant value)`` for each keyed variant with alternatives on the page."""
    for block_key, value in personalized_blocks(page):
        for variant in value["variants"]:
            if variant.get("key") and list(variant.get("alternatives") or []):
                yield block_key, variant
