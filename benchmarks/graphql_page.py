"""The block page through GraphQL against its server-side render, in the same run."""

from __future__ import annotations

import itertools
import json
import random
from typing import Any

from django.test import Client

from benchmarks.blocks_page import PERSONALIZED_URL
from benchmarks.timing import count_queries, interleaved
from benchmarks.workload import visitor_headers

QUERY = """
query ($path: String!) {
  page(path: $path) {
    title
    streamfield(name: "body") {
      type
      ... on Block { value }
      ... on PersonalizedBlock { decision { variant reason } blocks { type value } }
      ... on GatedBlock { locked teaser cta { label url } blocks { type value } }
    }
  }
}
"""


def run(quick: bool = False) -> list[str]:
    """Return the result lines (run after the block-page benchmark, which creates the page)."""
    client = Client()
    rng = random.Random(11)
    visitors = [visitor_headers(rng) for _ in range(64)]
    cycles = {name: itertools.cycle(visitors) for name in ("ssr", "graphql")}
    body = json.dumps({"query": QUERY, "variables": {"path": PERSONALIZED_URL}})

    def ssr() -> Any:
        headers, query = next(cycles["ssr"])
        return client.get(PERSONALIZED_URL, query, headers=headers)

    def graphql() -> Any:
        headers, _ = next(cycles["graphql"])
        return client.post("/graphql/", body, content_type="application/json", headers=headers)

    response = graphql()
    assert "errors" not in response.json(), response.content
    queries = {"ssr": count_queries(ssr), "graphql": count_queries(graphql)}
    rounds, repeat = (15, 10) if quick else (60, 25)
    result = interleaved({"ssr": ssr, "graphql": graphql}, rounds=rounds, repeat=repeat)
    return [
        "## The block page through GraphQL",
        "",
        "The same page (5 personalized and 2 gated blocks, 100 live segments) rendered server-side "
        "and fetched through `/graphql/` as a front end would: plain blocks' values, personalized "
        "blocks' decisions and chosen blocks, gated blocks' state, teaser and call to action.",
        "",
        "| channel | median (ms) | queries |",
        "|---|---:|---:|",
        f"| server-side render | {result['ssr'] * 1000:.2f} | {queries['ssr']} |",
        f"| GraphQL | {result['graphql'] * 1000:.2f} | {queries['graphql']} |",
        "",
        f"Ratio GraphQL / SSR: {result['graphql/ssr']:.3f}×.",
    ]
