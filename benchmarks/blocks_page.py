"""A page with 5 personalized and 2 gated blocks against the same content as plain blocks."""

from __future__ import annotations

import itertools
import random
from typing import Any

from django.conf import settings
from django.test import Client
from django.test.utils import override_settings

from benchmarks.timing import count_queries, interleaved
from benchmarks.workload import visitor_headers

PLAIN_URL = "/journal/plain-benchmark/"
PERSONALIZED_URL = "/journal/personalized-benchmark/"


def _paragraph(text: str) -> dict[str, Any]:
    return {"type": "paragraph", "value": f"<p>{text}</p>"}


def _heading(text: str) -> dict[str, Any]:
    return {"type": "heading", "value": text}


def _bodies(segment_ids: list[int], rng: random.Random) -> tuple[list[Any], list[Any]]:
    """(plain body, personalized body) with the same default content."""
    plain: list[Any] = []
    personalized: list[Any] = []
    for number in range(5):
        default = [_heading(f"Section {number}"), _paragraph("Default copy for everyone. " * 8)]
        plain += default
        variants = [
            {
                "label": f"Variant {number}.{v}",
                "segments": rng.sample(segment_ids, 2),
                "content": [
                    _heading(f"Section {number} for you"),
                    _paragraph("Tailored copy. " * 8),
                ],
                "key": f"{number:016x}{v:016x}",
            }
            for v in range(3)
        ]
        personalized.append(
            {
                "type": "personalized",
                "value": {"variants": variants, "default": default, "key": f"{number:032x}"},
            }
        )
        plain.append(_paragraph("Between sections. " * 5))
        personalized.append(_paragraph("Between sections. " * 5))
    for number in range(2):
        teaser = f"<p>Teaser {number}: the full report is for registered readers.</p>"
        plain.append({"type": "paragraph", "value": teaser})
        personalized.append(
            {
                "type": "gated",
                "value": {
                    "requirement": "authenticated",
                    "groups": [],
                    "segments": [],
                    "teaser": teaser,
                    "cta_label": "Register to read on",
                    "cta_page": None,
                    "content": [_paragraph("The full report. " * 20)],
                },
            }
        )
    return plain, personalized


def _create_pages() -> None:
    from cms_site.home.models import ContentPage
    from personalize.models import Segment

    journal = ContentPage.objects.get(slug="journal")
    ids = list(Segment.objects.filter(enabled=True).values_list("pk", flat=True))
    plain, personalized = _bodies(ids, random.Random(5))
    for slug, body in (("plain-benchmark", plain), ("personalized-benchmark", personalized)):
        page = ContentPage(title=slug.replace("-", " ").title(), slug=slug, body=body)
        journal.add_child(instance=page)
        page.save_revision().publish()


def run(quick: bool = False) -> list[str]:
    """Return the result lines, measured with 100 live segments."""
    from personalize.models import Segment
    from personalize.visitors.registry import segments_changed

    live_ids = list(Segment.objects.order_by("pk").values_list("pk", flat=True)[:100])
    Segment.objects.exclude(pk__in=live_ids).update(enabled=False)
    segments_changed()  # update() sends no signals
    _create_pages()
    vanilla_middleware = [m for m in settings.MIDDLEWARE if "personalize." not in m]
    vanilla, personalized = Client(), Client()
    with override_settings(MIDDLEWARE=vanilla_middleware):
        vanilla.get(PLAIN_URL)  # builds this client's middleware chain
    personalized.get(PERSONALIZED_URL)
    rng = random.Random(7)
    visitors = [visitor_headers(rng) for _ in range(64)]
    cycles = {
        name: itertools.cycle(visitors)
        for name in ("same", "plain", "personalized", "explained", "uncounted")
    }

    def get(client: Client, url: str, name: str) -> Any:
        headers, query = next(cycles[name])
        return client.get(url, query, headers=headers)

    from personalize.conf import personalize_settings

    def explained() -> Any:
        # EXPLAIN_LINKS for this request only (overriding settings would rebuild the segments).
        personalize_settings.__dict__["EXPLAIN_LINKS"] = True
        try:
            return get(personalized, PERSONALIZED_URL, "explained")
        finally:
            personalize_settings.__dict__["EXPLAIN_LINKS"] = False

    def uncounted() -> Any:
        personalize_settings.__dict__["ANALYTICS_ENABLED"] = False
        try:
            return get(personalized, PERSONALIZED_URL, "uncounted")
        finally:
            personalize_settings.__dict__["ANALYTICS_ENABLED"] = True

    queries = {
        "same": count_queries(lambda: get(vanilla, PERSONALIZED_URL, "same")),
        "plain": count_queries(lambda: get(vanilla, PLAIN_URL, "plain")),
        "personalized": count_queries(lambda: get(personalized, PERSONALIZED_URL, "personalized")),
    }
    rounds, repeat = (15, 10) if quick else (60, 25)
    result = interleaved(
        {
            "same": lambda: get(vanilla, PERSONALIZED_URL, "same"),
            "personalized": lambda: get(personalized, PERSONALIZED_URL, "personalized"),
            "plain": lambda: get(vanilla, PLAIN_URL, "plain"),
            "explained": explained,
            "uncounted": uncounted,
        },
        rounds=rounds,
        repeat=repeat,
    )
    live = Segment.objects.filter(enabled=True).count()
    from personalize.analytics.store import counter_store

    store = type(counter_store()).__name__
    return [
        "## Page with 5 personalized and 2 gated blocks",
        "",
        f"{live} live segments; each personalized block has 3 variants (2 segments each) and a "
        "default. Vanilla is the same page served by Wagtail without the middleware (every block "
        "gives its default, every gate its teaser); for scale, a page holding only the visible "
        "default content and teasers as plain blocks is measured too.",
        "",
        "| page | median (ms) | queries |",
        "|---|---:|---:|",
        f"| same page, vanilla Wagtail | {result['same'] * 1000:.2f} | {queries['same']} |",
        f"| same page, personalized | {result['personalized'] * 1000:.2f} "
        f"| {queries['personalized']} |",
        f"| plain blocks only, vanilla Wagtail | {result['plain'] * 1000:.2f} "
        f"| {queries['plain']} |",
        f"| same page, personalized, with “Why am I seeing this?” | "
        f"{result['explained'] * 1000:.2f} | {queries['personalized']} |",
        f"| same page, personalized, impression counting off | "
        f"{result['uncounted'] * 1000:.2f} | {queries['personalized']} |",
        "",
        f"Impression counting ({store}): counted / not counted "
        f"{result['personalized/same'] / result['uncounted/same']:.3f}× (against vanilla: "
        f"{result['personalized/same']:.3f}× counted, {result['uncounted/same']:.3f}× not).",
        "",
        f"Ratio personalized / vanilla (same page): {result['personalized/same']:.3f}×; "
        f"personalized / plain-blocks page: {result['personalized'] / result['plain']:.3f}×; "
        f"with explanations / vanilla: {result['explained/same']:.3f}×.",
    ]
