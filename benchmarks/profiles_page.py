"""A vanilla Wagtail page against the same page for a consenting visitor with a warm profile."""

from __future__ import annotations

import io
import time
from typing import Any

from django.test import Client
from django.test.utils import override_settings

from benchmarks.timing import count_queries, interleaved

PLAIN_URL = "/journal/three-days-in-the-dolomites/"
TAGGED_URL = "/guides/layering-for-ski-touring/"
PERSONALIZE_MIDDLEWARE = "personalize.middleware.PersonalizeMiddleware"
VISITOR_ID = "5" * 32
#: Segments on the profile, beside the ones the page benchmark created.
PROFILE_SEGMENTS = {
    "bench-engaged": {"visitor.stage": {"$in": ["consideration", "intent"]}},
    "bench-returning": {"visitor.returning": True},
    "bench-skiers": {"visitor.interests.ski touring": {"$gte": 2}},
    "bench-cooling": {
        "$and": [
            {"visitor.peak_stage": {"$in": ["consideration", "intent"]}},
            {"visitor.stage": "awareness"},
        ]
    },
}


def _client(middleware: list[str], cookies: dict[str, str]) -> Client:
    client = Client()
    for name, value in cookies.items():
        client.cookies[name] = value
    with override_settings(MIDDLEWARE=middleware):
        for url in (PLAIN_URL, TAGGED_URL):
            assert client.get(url).status_code == 200  # builds this client's middleware chain
    return client


def _setup() -> dict[str, str]:
    from dataclasses import replace

    from wagtail.models import Page

    from personalize.models import ScoringRule, Segment
    from personalize.profiles.scoring import config_changed
    from personalize.profiles.store import ProfileKey, profile_store
    from personalize.signals.consent import dump_consent_cookie
    from personalize.visitors.identity import dump_visitor_id

    # The scenarios below are about the profile, not the demo's scoring rules.
    ScoringRule.objects.all().delete()
    config_changed()
    for slug, condition in PROFILE_SEGMENTS.items():
        Segment.objects.update_or_create(slug=slug, defaults={"name": slug, "condition": condition})
    plain = Page.objects.get(url_path=f"/home{PLAIN_URL}").specific
    plain.tags.clear()
    plain.save_revision().publish()
    page = Page.objects.get(url_path=f"/home{TAGGED_URL}").specific
    page.tags.add("ski touring", "layering")
    page.save_revision().publish()
    now = time.time()
    profile_store().update(
        ProfileKey(visitor_id=VISITOR_ID),
        lambda s: replace(
            s,
            visits=3,
            first_seen=now - 86400 * 10,
            last_seen=now,
            decayed_at=now,
            score=55.0,
            peak_score=60.0,
            interests={"ski touring": 3.0},
        ),
    )
    return {
        "pz_consent": dump_consent_cookie(["personalization", "analytics"], now),
        "pz_vid": dump_visitor_id(VISITOR_ID),
    }


def run(quick: bool = False) -> list[str]:
    """Return the result table as Markdown lines (runs after :mod:`benchmarks.pages`)."""
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("seed_demo", stdout=io.StringIO())
    cookies = _setup()
    vanilla = _client([m for m in settings.MIDDLEWARE if not m.startswith("personalize.")], cookies)
    personalized = _client(list(settings.MIDDLEWARE), cookies)
    matched = personalized.get(PLAIN_URL).wsgi_request.visitor.segment_slugs
    assert {"bench-engaged", "bench-returning", "bench-skiers"} <= matched, matched
    rounds, repeat = (15, 10) if quick else (60, 25)
    lines = [
        "## Page render for a consenting visitor with a warm profile",
        "",
        "The visitor has consent cookies and a stored profile (3 visits, score 55, interests); no",
        "scoring rules, so only page tags change the profile.",
        f"{len(PROFILE_SEGMENTS)} profile segments read `visitor.*` beside any segments created",
        "before. The profile comes from the local-memory cache; page views are tracked.",
        "",
        "| page | vanilla (ms) | personalized (ms) | ratio | extra queries (warm) |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, url in (
        ("untagged: the view changes nothing, no write", PLAIN_URL),
        ("tagged: each view adds interest points, one write", TAGGED_URL),
    ):
        extra = _queries(personalized, url) - _queries(vanilla, url)
        result = interleaved(
            {
                "vanilla": lambda u=url: vanilla.get(u),
                "personalized": lambda u=url: personalized.get(u),
            },
            rounds=rounds,
            repeat=repeat,
        )
        lines.append(
            f"| {label} | {result['vanilla'] * 1000:.2f} | {result['personalized'] * 1000:.2f} "
            f"| {result['personalized/vanilla']:.3f}× | {extra} |"
        )
    return lines


def _queries(client: Client, url: str) -> Any:
    client.get(url)
    return count_queries(lambda: client.get(url))
