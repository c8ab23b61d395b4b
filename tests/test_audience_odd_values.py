"""Audience settings stored by hand or by older code: never a 500, hidden when in doubt.

Each odd value is published in a page and delivered through every channel (pages with the page
cache, Wagtail's API v2, GraphQL, search, the page index and the report's labels).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from personalize.blocks.decisions import audience_parts
from tests.conftest import IPHONE, WINDOWS_CHROME
from tests.test_audience_delivery import _cta, _publish, cached_site  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cached_site")]

HEADING = "Odd heading"

#: Stored settings read as "no setting" or "everyone": the block is shown.
SHOWN = [
    None,
    "who cares",
    5,
    [],
    {"who": None, "segments": [1]},
    {"who": "everyone", "segments": 5, "groups": 5, "key": []},
    {"who": "except", "segments": [99999], "key": 5},
]
#: Stored settings that name an audience nobody here is in, or none that exists: hidden.
HIDDEN = [
    {"who": ["segments"]},
    {"who": 5},
    {"who": "segments", "segments": 5},
    {"who": "segments", "segments": "abc"},
    {"who": "segments", "segments": [99999]},
    {"who": "segments", "segments": ["x", {"a": 1}, None]},
    {"who": "group", "groups": "editors"},
    {"who": "group", "groups": [["editors"]]},
    {"who": "group", "groups": 5},
    {"who": "group", "groups": [{"a": 1}, 7]},
]


def _graphql(client: Any, path: str, agent: str) -> Any:
    query = 'query ($p: String) { page(path: $p) { streamfield(name: "body") { id value } } }'
    response = client.post(
        "/graphql/",
        json.dumps({"query": query, "variables": {"p": path}}),
        content_type="application/json",
        headers={"User-Agent": agent},
    )
    assert response.status_code == 200
    assert "errors" not in response.json()
    return response.json()["data"]["page"]["streamfield"]


def _deliveries(client: Any, page: Any) -> list[bool]:
    """Whether the heading reached each visitor, through each channel (all must answer 200)."""
    seen = []
    for agent in (IPHONE, WINDOWS_CHROME):
        html = client.get(page.url, headers={"User-Agent": agent})
        api = client.get(f"/api/v2/pages/{page.pk}/", headers={"User-Agent": agent})
        assert (html.status_code, api.status_code) == (200, 200)
        graphql = _graphql(client, page.url, agent)
        seen += [HEADING in html.content.decode(), HEADING in api.content.decode()]
        seen.append(HEADING in json.dumps(graphql))
    return seen


@pytest.mark.parametrize("audience", SHOWN, ids=repr)
def test_odd_settings_read_as_everyone_show_the_block(
    client: Any, audience: Any
) -> None:
    from personalize.caching.index import build_index

    page = _publish([_cta(HEADING, audience, "odd")])
    assert _deliveries(client, page) == [True] * 6
    index = build_index(page)
    body = page.specific.body
    searchable = " ".join(body.stream_block.get_searchable_content(body))
    # Search holds only blocks for everyone; "everyone except" is not.
    excepted = isinstance(audience, dict) and audience.get("who") == "except"
    assert searchable.count(HEADING) == (0 if excepted else 1)
    assert all(audience.who in ("everyone", "except") for audience in index.audiences)


@pytest.mark.parametrize("audience", HIDDEN, ids=repr)
def test_odd_settings_naming_nobody_hide_the_block_everywhere(
    client: Any, audience: Any
) -> None:
    from personalize.admin.labels import Labeller
    from personalize.analytics.rows import Row
    from personalize.caching.index import PageIndex, build_index

    page = _publish([_cta(HEADING, audience, "odd")])
    assert _deliveries(client, page) == [False] * 6
    body = page.specific.body
    assert HEADING not in " ".join(body.stream_block.get_searchable_content(body))
    index = build_index(page)
    assert len(index.audiences) == 1
    assert PageIndex.from_json(json.loads(json.dumps(index.to_json()))) == index
    row = Row(page_id=page.pk, block_key="", variant="hidden", alternative="", segment_id=None)
    assert Labeller([row]).block("").startswith("Block for: ")


def test_audience_parts_keep_only_what_a_decision_can_read() -> None:
    assert audience_parts(None) == ("everyone", (), (), "")
    assert audience_parts({}) == ("everyone", (), (), "")
    assert audience_parts(
        {"who": "segments", "segments": [3, "4", None, True, 5], "groups": "x", "key": "k"}
    ) == ("segments", (3, 5), (), "k")
    assert audience_parts({"who": ["x"], "groups": ["a", 1, ["b"]], "key": 7}) == (
        "unknown",
        (),
        ("a",),
        "",
    )


def test_a_stored_list_that_is_no_list_reads_as_empty() -> None:
    from personalize.blocks import PlainListBlock, SegmentListBlock

    assert list(SegmentListBlock().to_python(5)) == []
    assert [list(v) for v in SegmentListBlock().bulk_to_python([5, [2], "x"])] == [[], [2], []]
    assert list(PlainListBlock(SegmentListBlock()).to_python({"a": 1})) == []


def test_impressions_of_an_odd_setting_are_counted_under_its_outcome(
    client: Any,
) -> None:
    from personalize.analytics.store import counter_store

    key = "d" * 32
    page = _publish([_cta(HEADING, {"who": "group", "groups": 5, "key": key}, "odd")])
    client.get(page.url, headers={"User-Agent": WINDOWS_CHROME})
    today = datetime.now(UTC).date()
    counts = counter_store().live_counts([today])[today]
    noted = {field: n for field, n in counts.items() if field.startswith(f"imp|{page.pk}|")}
    assert noted == {f"imp|{page.pk}|{key}|hidden|-|-": 1}
