"""wagtail-grapple: the demo's page types with grapple's ``graphql_fields``, grapple's own schema
(``grapple.schema.schema``, built from its registry), served by ``PersonalizeGrappleView``."""

from __future__ import annotations

import io
import itertools
import json
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command

from cms_site.home.models import ContentPage, HomePage
from personalize.models import Segment
from tests.conftest import IPHONE, WINDOWS_CHROME, without_clock_segments

pytestmark = pytest.mark.django_db

KEY = {"X-Personalize-Frontend-Key": "test-frontend-key"}
GUIDE = "/guides/layering-for-ski-touring/"
SECRET = "Base: merino"
VARIANTS = {
    "Ads: first-order offer": "10% off your first order",
    "DACH: free shipping": "Free shipping to Germany",
    "Phones: call us": "Call the workshop",
    None: "New here?",
}

PAGE = """
fragment Leaf on StreamFieldInterface { blockType field rawValue }
fragment Blocks on StreamFieldInterface {
  ...Leaf
  ... on PersonalizedBlock { decision { variant reason segments { slug } } blocks { ...Leaf } }
  ... on GatedBlock { locked requirement teaser cta { label url } blocks { ...Leaf } }
}
query ($path: String) {
  page(urlPath: $path) {
    title
    ... on HomePage { body { ...Blocks } }
    ... on ContentPage { body { ...Blocks } }
  }
}
"""
OURS = """
query ($path: String, $visitor: VisitorInput) {
  cacheKey(path: $path, visitor: $visitor)
  page(path: $path, visitor: $visitor) {
    streamfield(name: "body") {
      ... on PersonalizedBlock { decision { variant reason segments { slug } } }
      ... on GatedBlock { locked }
    }
  }
}
"""


@pytest.fixture
def demo(db: Any, settings: Any) -> None:
    settings.PERSONALIZE = {**settings.PERSONALIZE, "GATE_URL": "/accounts/register/"}
    call_command("seed_demo", stdout=io.StringIO())
    without_clock_segments()


def _post(client: Any, url: str, query: str, variables: Any = None, **extra: Any) -> Any:
    response = client.post(
        url,
        json.dumps({"query": query, "variables": variables or {}}),
        content_type="application/json",
        **extra,
    )
    assert response.status_code in (200, 400), response.content
    return response.json()


def grapple(client: Any, query: str, variables: Any = None, **extra: Any) -> Any:
    """A query to the demo's grapple endpoint."""
    return _post(client, "/grapple/", query, variables, **extra)


def relay(visitor: dict[str, Any], key: bool = True) -> dict[str, str]:
    """Headers of a front-end server relaying ``visitor`` (with its key unless ``key`` is False)."""
    return {"X-Personalize-Visitor": json.dumps(visitor), **(KEY if key else {})}


def body(client: Any, path: str, **extra: Any) -> list[dict[str, Any]]:
    result = grapple(client, PAGE, {"path": path}, **extra)
    assert "errors" not in result, result
    blocks: list[dict[str, Any]] = result["data"]["page"]["body"]
    return blocks


def test_blocks_are_grapple_types_decided_per_visitor(client: Any, demo: None) -> None:
    blocks = body(client, "/", headers={"CF-IPCountry": "AT"}, REMOTE_ADDR="10.0.0.1")
    first = blocks[0]
    assert first["blockType"] == "PersonalizedBlock"
    assert first["field"] == "personalized"
    assert first["decision"] == {
        "variant": "DACH: free shipping",
        "reason": "matched From DACH",
        "segments": [{"slug": "dach"}],
    }
    # The chosen content is grapple's own interface: the site's block types resolve inside.
    assert [b["blockType"] for b in first["blocks"]] == ["CallToActionBlock"]
    assert json.loads(first["blocks"][0]["rawValue"])["heading"].startswith("Free shipping")
    assert json.loads(first["rawValue"])["variant"] == "DACH: free shipping"
    assert [b["blockType"] for b in blocks[1:]] == ["CharBlock", "RichTextBlock"]


def test_gate_locked_then_open(client: Any, demo: None) -> None:
    gate = body(client, GUIDE)[1]
    assert gate["locked"] is True
    assert gate["requirement"] == "authenticated"
    assert gate["blocks"] == []
    assert "free for registered readers" in gate["teaser"]
    assert gate["cta"]["url"] == "/accounts/register/?next=%2Fguides%2Flayering-for-ski-touring%2F"
    assert json.loads(gate["rawValue"])["content"] is None
    client.login(username="customer", password="customer-demo")  # noqa: S106
    opened = body(client, GUIDE)[1]
    assert opened["locked"] is False
    assert SECRET in json.dumps(opened["blocks"])


def test_preference_block(client: Any, demo: None) -> None:
    query = """{ pages(limit: 100) { ... on ContentPage { body {
        ... on PreferenceBlock { key question helpText answer options { value label } } } } } }"""
    result = grapple(client, query)
    assert "errors" not in result, result
    found = [b for page in result["data"]["pages"] for b in page.get("body") or [] if b]
    assert found, "the demo has a preference question"
    question = found[0]
    assert question["answer"] is None
    assert len(question["options"]) >= 2
    assert set(question["options"][0]) == {"value", "label"}
    assert question["key"] and question["question"]


def test_relayed_header_needs_the_frontend_key(client: Any, demo: None) -> None:
    austria = {"country": "AT", "userAgent": WINDOWS_CHROME}
    ignored = body(client, "/", headers=relay(austria, key=False))[0]["decision"]
    assert ignored["variant"] is None
    wrong = {**relay(austria, key=False), "X-Personalize-Frontend-Key": "guess"}
    assert body(client, "/", headers=wrong)[0]["decision"]["variant"] is None
    relayed = body(client, "/", headers=relay(austria))[0]["decision"]
    assert relayed["variant"] == "DACH: free shipping"


@pytest.mark.parametrize(
    "header", ["not json", "[1, 2]", '{"country": 7, "gpc": "yes"}', "{" * 5000, "x" * 9000]
)
def test_bad_relayed_headers_are_unknowns(client: Any, demo: None, header: str) -> None:
    headers = {"X-Personalize-Visitor": header, **KEY}
    assert body(client, "/", headers=headers)[0]["decision"]["variant"] is None


def test_visitor_and_cache_key_fields(client: Any, demo: None) -> None:
    query = """query ($v: VisitorInput) {
        personalizeVisitor(visitor: $v) { segments { slug } attributes }
        personalizeCacheKey(path: "/", visitor: $v)
    }"""
    at = grapple(client, query, {"v": {"country": "AT", "userAgent": IPHONE}}, headers=KEY)
    assert [s["slug"] for s in at["data"]["personalizeVisitor"]["segments"]] == [
        "dach",
        "mobile-visitors",
    ]
    assert json.loads(at["data"]["personalizeVisitor"]["attributes"])["geo"]["country"] == "AT"
    austria = {"path": "/", "visitor": {"country": "AT"}}
    ours = _post(client, "/graphql/", OURS, austria, headers=KEY)
    mine = grapple(client, query, {"v": {"country": "AT"}}, headers=KEY)["data"]
    assert mine["personalizeCacheKey"] == ours["data"]["cacheKey"]
    assert len(mine["personalizeCacheKey"]) == 32
    key_only = 'query { personalizeCacheKey(path: "/") }'
    header = grapple(client, key_only, headers=relay({"country": "AT"}))
    assert header["data"]["personalizeCacheKey"] == ours["data"]["cacheKey"]
    refused = grapple(client, query, {"v": {"country": "AT"}})
    assert "front-end key" in refused["errors"][0]["message"]
    missing = grapple(client, 'query { personalizeCacheKey(path: "/nowhere/") }')
    assert missing["data"] == {"personalizeCacheKey": None}


def test_limits_and_masking_apply(client: Any, demo: None, settings: Any) -> None:
    settings.PERSONALIZE = {**settings.PERSONALIZE, "GRAPHQL_MAX_DEPTH": 3}
    deep = """{ page(urlPath: "/") { ... on HomePage { body {
        ... on PersonalizedBlock { blocks { ... on StructBlock { blocks { id } } } } } } } }"""
    assert "exceeds maximum operation depth" in json.dumps(grapple(client, deep))
    introspection = grapple(client, "{ __schema { types { name } } }")
    assert "introspection" in json.dumps(introspection).lower()
    bad = client.post("/grapple/", "[1]", content_type="application/json")
    assert bad.status_code == 400


def _members_page(home: HomePage) -> ContentPage:
    dach = Segment.objects.get(slug="dach")
    gate = {"teaser": "<p>Teaser</p>", "cta_label": "Join", "cta_page": None}
    page = ContentPage(
        title="Members",
        slug="members",
        body=[
            ("gated", {**gate, "requirement": "group", "groups": ["Customers"], "segments": [],
                       "content": [("paragraph", "<p>Group secret</p>")]}),
            ("gated", {**gate, "requirement": "segment", "groups": [], "segments": [dach.pk],
                       "content": [("paragraph", "<p>DACH secret</p>")]}),
        ],
    )  # fmt: skip
    home.add_child(instance=page)
    page.save_revision().publish()
    return page


PARITY = [
    (country, agent, query, user)
    for country, (agent, query), user in itertools.product(
        ["AT", "US", None],
        [(IPHONE, {}), (WINDOWS_CHROME, {"gclid": "x"})],
        [None, "customer", "member"],
    )
]


@pytest.mark.parametrize(("country", "agent", "query", "user"), PARITY)
def test_parity_with_ssr_and_our_graphql(
    client: Any, demo: None, country: str | None, agent: str, query: dict[str, str], user: Any
) -> None:
    members = _members_page(HomePage.objects.get())
    if user == "member":  # signed in, in no group
        User.objects.create_user("member", password="member-pass")  # noqa: S106
        client.login(username="member", password="member-pass")  # noqa: S106
    elif user == "customer":  # signed in, in Customers
        assert Group.objects.filter(name="Customers", user__username="customer").exists()
        client.login(username="customer", password="customer-demo")  # noqa: S106
    headers = {"User-Agent": agent, **({"CF-IPCountry": country} if country else {})}
    pages = {
        path: client.get(path, query, headers=headers, REMOTE_ADDR="10.0.0.1").content.decode()
        for path in ("/", GUIDE, members.url)
    }
    url = "https://shop.example/" + ("?" + "&".join(f"{k}={v}" for k, v in query.items()))
    visitor = {"userAgent": agent, "url": url, **({"country": country} if country else {})}
    client.cookies.pop("pz_attr", None)
    home = body(client, "/", headers=relay(visitor))
    ours = _post(client, "/graphql/", OURS, {"path": "/", "visitor": visitor}, headers=KEY)
    ssr_variant = [label for label, text in VARIANTS.items() if text in pages["/"]]
    assert [home[0]["decision"]["variant"]] == ssr_variant
    assert home[0]["decision"] == ours["data"]["page"]["streamfield"][0]["decision"]
    guide = body(client, GUIDE, headers=relay(visitor))[1]
    assert guide["locked"] is (SECRET not in pages[GUIDE])
    gates = body(client, members.url, headers=relay(visitor))
    assert gates[0]["locked"] is ("Group secret" not in pages[members.url])
    assert gates[0]["locked"] is (user != "customer")
    assert gates[1]["locked"] is ("DACH secret" not in pages[members.url])
    assert gates[1]["locked"] is (country != "AT")
    key = grapple(client, '{ personalizeCacheKey(path: "/") }', headers=relay(visitor))
    assert key["data"]["personalizeCacheKey"] == ours["data"]["cacheKey"]


def test_the_how_to_query_runs(client: Any, demo: None) -> None:
    from pathlib import Path

    doc = Path(__file__).resolve().parent.parent / "docs" / "how-to" / "grapple.md"
    blocks = doc.read_text(encoding="utf-8").split("```graphql\n")[1:]
    query = next(block.split("```")[0] for block in blocks if "query Page" in block)
    result = grapple(client, query, {"path": "/"}, headers=relay({"country": "AT"}))
    assert "errors" not in result, result
    first, heading = result["data"]["page"]["body"][:2]
    assert first["decision"]["variant"] == "DACH: free shipping"
    assert heading == {"blockType": "CharBlock", "field": "heading", "value": "Made to be repaired"}
    assert len(result["data"]["personalizeCacheKey"]) == 32
