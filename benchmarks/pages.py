"""A vanilla Wagtail page against the same page with segments resolved by the middleware."""

from __future__ import annotations

import io
import itertools
import random
from typing import Any

from django.core.management import call_command
from django.test import Client
from django.test.utils import override_settings

from benchmarks.timing import count_queries, interleaved
from benchmarks.workload import segment_rules, visitor_headers

URL = "/journal/three-days-in-the-dolomites/"
PERSONALIZE_MIDDLEWARE = "personalize.middleware.PersonalizeMiddleware"


def _client(middleware: list[str]) -> Client:
    client = Client()
    with override_settings(MIDDLEWARE=middleware):
        assert client.get(URL).status_code == 200  # builds this client's middleware chain
    return client


def _add_segments(total: int, rng: random.Random) -> None:
    from personalize.models import Segment

    existing = Segment.objects.count()
    for number in range(existing, total):
        rules, match = segment_rules(rng)
        segment = Segment(
            name=f"Benchmark segment {number:04d}", slug=f"bench-{number:04d}", match=match
        )
        segment.rules = rules
        segment.full_clean()
        segment.save()


def _queries(client: Client, headers: dict[str, str], query: dict[str, str]) -> int:
    return count_queries(lambda: client.get(URL, query, headers=headers))


def run(quick: bool = False) -> list[str]:
    """Return the result table as Markdown lines."""
    from django.conf import settings

    call_command("migrate", verbosity=0)
    call_command("seed_demo", stdout=io.StringIO())
    vanilla_middleware = [m for m in settings.MIDDLEWARE if not m.startswith("personalize.")]
    vanilla = _client(vanilla_middleware)
    personalized = _client(list(settings.MIDDLEWARE))
    rng = random.Random(2026)
    visitors = [visitor_headers(rng) for _ in range(64)]
    cycle_v, cycle_p = itertools.cycle(visitors), itertools.cycle(visitors)

    def get(client: Client, cycle: Any) -> Any:
        headers, query = next(cycle)
        return client.get(URL, query, headers=headers)

    rounds, repeat = (15, 10) if quick else (60, 25)
    lines = [
        "## Page render: vanilla Wagtail vs the same page with every segment resolved",
        "",
        f"Page `{URL}` (rich text, headings, quote), 64 rotating visitors (device, country via a",
        "trusted CDN header, UTM/referrer), SQLite, local-memory cache, DEBUG off.",
        "",
        "| live segments | vanilla (ms) | personalized (ms) | ratio | extra queries (warm) "
        "| segments matched (avg) |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for total in (10, 100, 1000):
        _add_segments(total, random.Random(total))
        get(personalized, cycle_p)  # warm the compiled segment set
        extra = _queries(personalized, *visitors[0]) - _queries(vanilla, *visitors[0])
        matched = _average_matches(personalized, visitors)
        result = interleaved(
            {
                "vanilla": lambda: get(vanilla, cycle_v),
                "personalized": lambda: get(personalized, cycle_p),
            },
            rounds=rounds,
            repeat=repeat,
        )
        ratio = result["personalized/vanilla"]
        lines.append(
            f"| {total} | {result['vanilla'] * 1000:.2f} | {result['personalized'] * 1000:.2f} "
            f"| {ratio:.3f}× | {extra} | {matched:.1f} |"
        )
    lines += _memo_off(vanilla, personalized, visitors, rounds, repeat)
    return lines


def _memo_off(
    vanilla: Client, personalized: Client, visitors: list[Any], rounds: int, repeat: int
) -> list[str]:
    """1,000 segments with the decision memo switched off: every request evaluates them all."""
    from personalize import segments

    cycle_v, cycle_p = itertools.cycle(visitors), itertools.cycle(visitors)

    def get(client: Client, cycle: Any) -> Any:
        headers, query = next(cycle)
        return client.get(URL, query, headers=headers)

    saved = segments.DECISION_MEMO_SIZE
    segments.DECISION_MEMO_SIZE = 0
    try:
        result = interleaved(
            {
                "vanilla": lambda: get(vanilla, cycle_v),
                "personalized": lambda: get(personalized, cycle_p),
            },
            rounds=rounds,
            repeat=repeat,
        )
    finally:
        segments.DECISION_MEMO_SIZE = saved
    return [
        "",
        "Without the decision memo (`DECISION_MEMO_SIZE = 0`: every request evaluates all 1,000 "
        f"segments): vanilla {result['vanilla'] * 1000:.2f} ms, personalized "
        f"{result['personalized'] * 1000:.2f} ms, ratio {result['personalized/vanilla']:.3f}×.",
    ]


def _average_matches(
    client: Client, visitors: list[tuple[dict[str, str], dict[str, str]]]
) -> float:
    counts = []
    for headers, query in visitors:
        response = client.get(URL, query, headers=headers)
        counts.append(len(response.wsgi_request.visitor.segments))
    return sum(counts) / len(counts)
