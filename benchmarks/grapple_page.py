"""The block page through wagtail-grapple, the package's GraphQL and SSR, in the same run."""

from __future__ import annotations

import itertools
import json
import random
from typing import Any

from django.conf import settings
from django.test import Client
from django.test.utils import override_settings

from benchmarks.blocks_page import PERSONALIZED_URL, PLAIN_URL
from benchmarks.graphql_page import QUERY as OUR_QUERY
from benchmarks.timing import count_queries, interleaved
from benchmarks.urls import VANILLA_GRAPPLE_URL
from benchmarks.workload import visitor_headers

#: What a grapple front end asks for: the same fields as the package's GraphQL benchmark.
GRAPPLE_QUERY = """
fragment Leaf on StreamFieldInterface {
  blockType ... on CharBlock { value } ... on RichTextBlock { value }
}
query ($path: String) {
  page(urlPath: $path) {
    title
    ... on ContentPage { body {
      ...Leaf
      ... on PersonalizedBlock { decision { variant reason } blocks { ...Leaf } }
      ... on GatedBlock { locked teaser cta { label url } blocks { ...Leaf } }
    } }
  }
}
"""


def _body(path: str) -> str:
    return json.dumps({"query": GRAPPLE_QUERY, "variables": {"path": path}})


def run(quick: bool = False) -> list[str]:
    """Return the result lines (run after the block-page benchmark, which creates the pages)."""
    vanilla_middleware = [m for m in settings.MIDDLEWARE if "personalize." not in m]
    vanilla, client = Client(), Client()
    with override_settings(MIDDLEWARE=vanilla_middleware):
        vanilla.get(PLAIN_URL)  # builds this client's middleware chain
    rng = random.Random(13)
    visitors = [visitor_headers(rng) for _ in range(64)]
    names = ("vanilla_ssr", "vanilla_grapple", "ssr", "graphql", "grapple")
    cycles = {name: itertools.cycle(visitors) for name in names}
    ours = json.dumps({"query": OUR_QUERY, "variables": {"path": PERSONALIZED_URL}})
    plain, personalized = _body(PLAIN_URL), _body(PERSONALIZED_URL)

    def post(who: Client, url: str, body: str, name: str) -> Any:
        headers, _ = next(cycles[name])
        return who.post(url, body, content_type="application/json", headers=headers)

    def get(who: Client, name: str) -> Any:
        headers, query = next(cycles[name])
        return who.get(PERSONALIZED_URL, query, headers=headers)

    calls = {
        "vanilla_ssr": lambda: get(vanilla, "vanilla_ssr"),
        "vanilla_grapple": lambda: post(vanilla, VANILLA_GRAPPLE_URL, plain, "vanilla_grapple"),
        "ssr": lambda: get(client, "ssr"),
        "graphql": lambda: post(client, "/graphql/", ours, "graphql"),
        "grapple": lambda: post(client, "/grapple/", personalized, "grapple"),
    }
    for name in ("vanilla_grapple", "graphql", "grapple"):
        answer = calls[name]().json()
        assert "errors" not in answer and answer["data"]["page"], (name, answer)
    queries = {name: count_queries(call) for name, call in calls.items()}
    rounds, repeat = (15, 10) if quick else (60, 25)
    result = interleaved(calls, rounds=rounds, repeat=repeat)
    rows = [
        ("same page, vanilla Wagtail (server-side)", "vanilla_ssr"),
        ("plain blocks, vanilla grapple (grapple's own view)", "vanilla_grapple"),
        ("server-side render, personalized", "ssr"),
        ("the package's GraphQL (`/graphql/`)", "graphql"),
        ("grapple with `personalize.contrib.grapple` (`/grapple/`)", "grapple"),
    ]
    ratio = result["grapple"] / result["vanilla_grapple"]
    return [
        "## The block page through wagtail-grapple",
        "",
        "The page of the block benchmark fetched through grapple's schema as a front end would "
        "(plain blocks' values; personalized blocks' decisions and chosen blocks; gated blocks' "
        "state, teaser and call to action), next to its server-side render and the package's own "
        "GraphQL. Vanilla grapple serves the page of plain blocks (the same visible content) "
        "through grapple's own view, without the package.",
        "",
        "| channel | median (ms) | × vanilla SSR | queries |",
        "|---|---:|---:|---:|",
        *(
            f"| {label} | {result[name] * 1000:.2f} | "
            f"{1.0 if name == 'vanilla_ssr' else result[f'{name}/vanilla_ssr']:.3f} "
            f"| {queries[name]} |"
            for label, name in rows
        ),
        "",
        f"grapple with the package / vanilla grapple: {ratio:.3f}×; "
        f"grapple / the package's GraphQL: {result['grapple'] / result['graphql']:.3f}×; "
        f"grapple / SSR: {result['grapple'] / result['ssr']:.3f}×.",
    ]
