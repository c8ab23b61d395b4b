"""Cached personalized pages and decision keys against vanilla Wagtail rendering the same page."""

from __future__ import annotations

import itertools
import random
from typing import Any

from django.conf import settings
from django.test import Client
from django.test.utils import override_settings

from benchmarks.blocks_page import _bodies
from benchmarks.timing import count_queries, interleaved
from benchmarks.workload import visitor_headers

URL = "/journal/cached-benchmark/"


def _create_page() -> None:
    from cms_site.home.models import ContentPage
    from personalize.models import Segment

    journal = ContentPage.objects.get(slug="journal")
    ids = list(Segment.objects.filter(enabled=True).values_list("pk", flat=True))
    _, personalized = _bodies(ids, random.Random(11))
    page = ContentPage(title="Cached benchmark", slug="cached-benchmark", body=personalized)
    journal.add_child(instance=page)
    page.save_revision().publish()


def run(quick: bool = False) -> list[str]:
    """Return the result lines, measured with 100 live segments.

    The page's template is the benchmarks' content page without its line that lists the
    visitor's segments (which, as a read of the visitor outside the blocks, keeps a page private).
    """
    from cms_site.home.models import ContentPage

    template = ContentPage.template
    ContentPage.template = "home/cached_page.html"
    try:
        return _run(quick)
    finally:
        ContentPage.template = template


def _run(quick: bool) -> list[str]:
    from personalize.analytics.store import counter_store
    from personalize.caching.index import index_and_site
    from personalize.caching.keys import decide_page
    from personalize.conf import personalize_settings
    from personalize.models import Segment
    from personalize.visitors.registry import segments_changed
    from personalize.visitors.visitor import Visitor

    live_ids = list(Segment.objects.order_by("pk").values_list("pk", flat=True)[:100])
    Segment.objects.exclude(pk__in=live_ids).update(enabled=False)
    segments_changed()  # update() sends no signals
    _create_page()
    vanilla_middleware = [m for m in settings.MIDDLEWARE if "personalize." not in m]
    vanilla, rendered, cached, preflight = Client(), Client(), Client(), Client()
    with override_settings(MIDDLEWARE=vanilla_middleware):
        vanilla.get(URL)  # builds this client's middleware chain
    rng = random.Random(7)
    visitors = [visitor_headers(rng) for _ in range(64)]
    cycles = {
        name: itertools.cycle(visitors)
        for name in ("vanilla", "rendered", "cached", "preflight", "key")
    }

    def get(client: Client, name: str, **extra: str) -> Any:
        headers, query = next(cycles[name])
        return client.get(URL, query, headers={**headers, **extra})

    def sharing(timeout: int) -> None:
        # For one request (overriding settings would rebuild the segments and the registries).
        personalize_settings.__dict__["PAGE_CACHE_TIMEOUT"] = timeout
        personalize_settings.__dict__["page_cache_timeout"] = timeout

    def render() -> Any:
        sharing(0)
        return get(rendered, "rendered")

    def hit() -> Any:
        sharing(300)
        try:
            return get(cached, "cached")
        finally:
            sharing(0)

    def ask_key() -> Any:
        return get(preflight, "preflight", **{"X-Personalize-Preflight": "1"})

    requests = {}
    for headers, query in visitors:
        request = rendered.get(URL, query, headers=headers).wsgi_request
        requests[id(request)] = request
    pool = itertools.cycle(list(requests.values()))
    found = index_and_site(next(pool))
    assert found is not None
    index, site_id = found

    def key_only() -> Any:
        request = next(pool)
        visitor = Visitor(request)
        return decide_page(visitor, index, site_id=site_id)

    # Warm: every visitor's entry is in the page cache once.
    for _ in visitors:
        hit()
    statuses = [hit().get("X-Personalize-Cache", "private") for _ in visitors]
    queries = {
        "vanilla": count_queries(lambda: get(vanilla, "vanilla")),
        "rendered": count_queries(render),
        "cached": count_queries(hit),
        "preflight": count_queries(ask_key),
    }
    rounds, repeat = (15, 10) if quick else (60, 25)
    result = interleaved(
        {
            "vanilla": lambda: get(vanilla, "vanilla"),
            "rendered": render,
            "cached": hit,
            "preflight": ask_key,
            "key": key_only,
        },
        rounds=rounds,
        repeat=repeat,
    )
    store = type(counter_store()).__name__
    hits = statuses.count("hit")
    return [
        "## Cached personalized page and decision keys",
        "",
        f"The page with 5 personalized and 2 gated blocks, 100 live segments, 64 visitors "
        f"(devices, countries, referrers, campaigns); cache and counters: {store}. Vanilla is the "
        "same page rendered by Wagtail without the package's middleware.",
        "",
        "| request | median (ms) | ÷ vanilla render | queries |",
        "|---|---:|---:|---:|",
        f"| vanilla Wagtail, rendered | {result['vanilla'] * 1000:.2f} | 1.000× "
        f"| {queries['vanilla']} |",
        f"| personalized, rendered (no page cache) | {result['rendered'] * 1000:.2f} "
        f"| {result['rendered/vanilla']:.3f}× | {queries['rendered']} |",
        f"| personalized, from the page cache | {result['cached'] * 1000:.2f} "
        f"| {result['cached/vanilla']:.3f}× | {queries['cached']} |",
        f"| preflight (key only, HTTP) | {result['preflight'] * 1000:.2f} "
        f"| {result['preflight/vanilla']:.3f}× | {queries['preflight']} |",
        f"| decision key alone (visitor, segments, decisions, digest) | "
        f"{result['key'] * 1000:.3f} | {result['key/vanilla']:.3f}× | 0 |",
        "",
        f"Page cache after warm-up: {hits} hits of {len(statuses)} requests.",
    ]
