"""GraphQL delivery: the same decisions as server-side rendering, and nothing more."""

from __future__ import annotations

import io
import itertools
import json
from typing import Any

import graphene
import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from cms_site.home.models import ContentPage, HomePage
from personalize.graphql import TYPES, Query
from personalize.graphql.views import PersonalizeGraphQLView
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

PAGE_QUERY = """
query ($path: String, $visitor: VisitorInput) {
  page(path: $path, visitor: $visitor) {
    title pageType
    streamfield(name: "body") {
      type
      ... on PersonalizedBlock { decision { variant reason segments { slug } }
                                 blocks { type value } }
      ... on GatedBlock { locked requirement teaser cta { label url } blocks { type value } }
    }
  }
}
"""


@pytest.fixture
def demo(db: Any, settings: Any) -> None:
    settings.PERSONALIZE = {**settings.PERSONALIZE, "GATE_URL": "/accounts/register/"}
    call_command("seed_demo", stdout=io.StringIO())
    without_clock_segments()


def _post(client: Any, query: str, variables: dict[str, Any] | None = None, **extra: Any) -> Any:
    return client.post(
        "/graphql/",
        json.dumps({"query": query, "variables": variables or {}}),
        content_type="application/json",
        **extra,
    )


def _gql(client: Any, query: str, variables: dict[str, Any] | None = None, **extra: Any) -> Any:
    response = _post(client, query, variables, **extra)
    assert response.status_code == 200, response.content
    return response.json()


def test_page_with_request_signals(client: Any, demo: None) -> None:
    result = _gql(
        client, PAGE_QUERY, {"path": "/"}, headers={"CF-IPCountry": "AT"}, REMOTE_ADDR="10.0.0.1"
    )
    assert "errors" not in result
    page = result["data"]["page"]
    assert page["title"] == "Gear for people who go outside"
    assert page["pageType"] == "home.HomePage"
    first = page["streamfield"][0]
    assert first["type"] == "personalized"
    assert first["decision"] == {
        "variant": "DACH: free shipping",
        "reason": "matched From DACH",
        "segments": [{"slug": "dach"}],
    }
    assert first["blocks"][0]["type"] == "call_to_action"
    assert json.loads(first["blocks"][0]["value"])["heading"].startswith("Free shipping")


def test_visitor_input_needs_a_frontend_key(client: Any, demo: None) -> None:
    result = _gql(client, PAGE_QUERY, {"path": "/", "visitor": {"country": "AT"}})
    assert result["data"] == {"page": None}
    assert "front-end key" in result["errors"][0]["message"]
    wrong = _gql(
        client,
        PAGE_QUERY,
        {"path": "/", "visitor": {"country": "AT"}},
        headers={"X-Personalize-Frontend-Key": "guess"},
    )
    assert "front-end key" in wrong["errors"][0]["message"]


def test_visitor_input_with_key(client: Any, demo: None) -> None:
    variables = {
        "path": "/",
        "visitor": {"country": "DE", "userAgent": IPHONE, "url": "https://shop.example/?gclid=abc"},
    }
    result = _gql(client, PAGE_QUERY, variables, headers=KEY)
    decision = result["data"]["page"]["streamfield"][0]["decision"]
    assert decision["variant"] == "Ads: first-order offer"


def test_visitor_input_never_grants_identity(client: Any, demo: None) -> None:
    variables = {"path": GUIDE, "visitor": {"country": "AT", "url": "https://x/?user=customer"}}
    gate = _gql(client, PAGE_QUERY, variables, headers=KEY)["data"]["page"]["streamfield"][1]
    assert gate["locked"] is True
    assert gate["blocks"] is None
    assert gate["cta"]["url"] == "/accounts/register/?next=%2Fguides%2Flayering-for-ski-touring%2F"


def test_gate_opens_for_the_authenticated_requester(client: Any, demo: None) -> None:
    client.login(username="customer", password="customer-demo")  # noqa: S106
    gate = _gql(client, PAGE_QUERY, {"path": GUIDE})["data"]["page"]["streamfield"][1]
    assert gate["locked"] is False
    assert SECRET in json.dumps(gate["blocks"])


def _ssr_variant(html: str) -> Any:
    found = [label for label, text in VARIANTS.items() if text in html]
    assert len(found) == 1, found
    return found[0]


VISITORS = list(
    itertools.product(
        ["AT", "DE", "US", None],
        [IPHONE, WINDOWS_CHROME],
        [{}, {"gclid": "x"}, {"utm_source": "newsletter", "utm_medium": "email"}],
        [False, True],
    )
)


@pytest.mark.parametrize(("country", "agent", "query", "logged_in"), VISITORS)
def test_parity_with_server_side_rendering(
    client: Any, demo: None, country: str | None, agent: str, query: dict[str, str], logged_in: bool
) -> None:
    if logged_in:
        client.login(username="customer", password="customer-demo")  # noqa: S106
    headers = {"User-Agent": agent, **({"CF-IPCountry": country} if country else {})}
    html = client.get("/", query, headers=headers, REMOTE_ADDR="10.0.0.1").content.decode()
    guide = client.get(GUIDE, headers=headers, REMOTE_ADDR="10.0.0.1").content.decode()
    url = "https://shop.example/" + (
        "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
    )
    visitor = {"userAgent": agent, "url": url, **({"country": country} if country else {})}
    client.cookies.pop("pz_attr", None)
    home = _gql(client, PAGE_QUERY, {"path": "/", "visitor": visitor}, headers=KEY)["data"]["page"]
    gate = _gql(client, PAGE_QUERY, {"path": GUIDE, "visitor": visitor}, headers=KEY)["data"][
        "page"
    ]
    assert home["streamfield"][0]["decision"]["variant"] == _ssr_variant(html)
    assert gate["streamfield"][1]["locked"] is (SECRET not in guide)


def test_nothing_else_leaks(client: Any, demo: None) -> None:
    query = PAGE_QUERY.replace("title pageType", "title pageType fields")
    text = json.dumps(_gql(client, query, {"path": "/", "visitor": {"country": "US"}}, headers=KEY))
    for hidden in ("10% off", "Free shipping", "Call the workshop"):
        assert hidden not in text
    guide = json.dumps(_gql(client, query, {"path": GUIDE}))
    assert "merino" not in guide
    assert "free for registered readers" in guide


def test_visitor_and_segment_key(client: Any, demo: None) -> None:
    query = """
        query ($v: VisitorInput) {
          visitor(visitor: $v) { segments { slug } attributes }
          segmentKey(visitor: $v)
        }
    """
    at = _gql(client, query, {"v": {"country": "AT", "userAgent": IPHONE}}, headers=KEY)["data"]
    again = _gql(client, query, {"v": {"country": "AT", "userAgent": IPHONE}}, headers=KEY)["data"]
    us = _gql(client, query, {"v": {"country": "US"}}, headers=KEY)["data"]
    assert [s["slug"] for s in at["visitor"]["segments"]] == ["dach", "mobile-visitors"]
    assert json.loads(at["visitor"]["attributes"])["geo"]["country"] == "AT"
    assert at["segmentKey"] == again["segmentKey"]
    assert at["segmentKey"] != us["segmentKey"]
    assert len(at["segmentKey"]) == 16


def test_preview_segment_for_editors_only(client: Any, demo: None) -> None:
    query = """
        { page(path: "/", previewSegment: "paid-search") {
            streamfield(name: "body") { ... on PersonalizedBlock { decision { variant } } } } }
    """
    anonymous = _gql(client, query)
    assert anonymous["data"] == {"page": None}
    assert "previewSegment" in anonymous["errors"][0]["message"]
    client.force_login(User.objects.get(username="admin"))
    editor = _gql(client, query)["data"]["page"]["streamfield"][0]["decision"]
    assert editor == {"variant": "Ads: first-order offer"}


def test_unpublished_and_restricted_pages_are_not_served(client: Any, demo: None) -> None:
    from wagtail.models import PageViewRestriction

    guide = ContentPage.objects.get(slug="layering-for-ski-touring")
    PageViewRestriction.objects.create(page=guide, restriction_type=PageViewRestriction.LOGIN)
    assert _gql(client, PAGE_QUERY, {"path": GUIDE})["data"]["page"] is None
    journal = ContentPage.objects.get(slug="journal")
    journal.unpublish()
    assert _gql(client, PAGE_QUERY, {"path": "/journal/"})["data"]["page"] is None
    home_id = HomePage.objects.get().pk
    home = _gql(client, f'{{ page(id: "{home_id}") {{ title }} }}')["data"]["page"]
    assert home == {"title": "Gear for people who go outside"}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ('{ page(id: "abc") { title } }', "Invalid page id"),
        ("{ page { title } }", "Give a page path or id"),
        (
            '{ page(path: "/") { streamfield(name: "intro") { type } } }',
            "no API StreamField 'intro'",
        ),
        ("{ __schema { types { name } } }", "introspection"),
        ('{ page(path: "/") { title ' + "}" * 3, "Syntax Error"),
        ("{ visitor { segments { slug } } }" + " " * 20_000, "characters long"),
    ],
)
def test_bad_queries_give_errors_not_500(client: Any, demo: None, query: str, message: str) -> None:
    response = _post(client, query)
    assert response.status_code in (200, 400)
    assert message.lower() in json.dumps(response.json()).lower()


def test_depth_limit(client: Any, demo: None, settings: Any) -> None:
    settings.PERSONALIZE = {**settings.PERSONALIZE, "GRAPHQL_MAX_DEPTH": 3}
    deep = """
        { page(path: "/") { streamfield(name: "body") {
            ... on PersonalizedBlock {
              blocks { ... on PersonalizedBlock { blocks { type } } } } } } }
    """
    response = _post(client, deep)
    assert "exceeds maximum operation depth" in json.dumps(response.json())


def test_introspection_when_allowed(client: Any, demo: None, settings: Any) -> None:
    settings.PERSONALIZE = {**settings.PERSONALIZE, "GRAPHQL_INTROSPECTION": True}
    result = _gql(client, '{ __type(name: "PersonalizedBlock") { name } }')
    assert result["data"] == {"__type": {"name": "PersonalizedBlock"}}


class _Echo(graphene.Mutation):
    class Arguments:
        text = graphene.String(required=True)

    echoed = graphene.String()

    def mutate(root: Any, info: Any, text: str) -> Any:
        return _Echo(echoed=text)


class _Mutations(graphene.ObjectType):
    echo = _Echo.Field()


MUTATION_SCHEMA = graphene.Schema(query=Query, mutation=_Mutations, types=TYPES)
MUTATION = json.dumps({"query": 'mutation { echo(text: "hi") { echoed } }'})


def _mutate(rf: Any, **headers: Any) -> Any:
    from django.contrib.auth.models import AnonymousUser

    request = rf.post("/graphql/", MUTATION, content_type="application/json", **headers)
    request.user = AnonymousUser()
    view = PersonalizeGraphQLView.as_view(schema=MUTATION_SCHEMA)
    return json.loads(view(request).content)


def test_mutations_need_csrf_or_a_frontend_key(rf: Any, db: Any) -> None:
    from django.middleware.csrf import _get_new_csrf_string, _mask_cipher_secret

    refused = _mutate(rf)
    assert "Mutations need a CSRF token" in refused["errors"][0]["message"]
    assert _mutate(rf, HTTP_X_PERSONALIZE_FRONTEND_KEY="test-frontend-key") == {
        "data": {"echo": {"echoed": "hi"}}
    }
    secret = _get_new_csrf_string()
    token = _mask_cipher_secret(secret)
    rf.cookies["csrftoken"] = secret
    with_csrf = _mutate(rf, HTTP_X_CSRFTOKEN=token)
    assert with_csrf == {"data": {"echo": {"echoed": "hi"}}}


def test_typename_allowed_without_introspection(client: Any, demo: None) -> None:
    result = _gql(
        client, '{ page(path: "/") { __typename path streamfield(name: "body") { __typename } } }'
    )
    page = result["data"]["page"]
    assert page["__typename"] == "Page"
    assert page["path"] == "/"
    assert page["streamfield"][0] == {"__typename": "PersonalizedBlock"}


def test_graphql_responses_are_private(client: Any, demo: None) -> None:
    response = _post(client, PAGE_QUERY, {"path": "/", "visitor": {"country": "AT"}}, headers=KEY)
    assert "private" in response["Cache-Control"]
    guide = _gql(client, '{ page(path: "/guides/layering-for-ski-touring/") { path } }')
    assert guide["data"]["page"]["path"] == GUIDE


def test_draft_for_editors_only(client: Any, demo: None) -> None:
    guide = ContentPage.objects.get(slug="layering-for-ski-touring")
    guide.title = "Layering (draft title)"
    guide.save_revision()
    query = '{ page(path: "/guides/layering-for-ski-touring/", draft: true) { title } }'
    anonymous = _gql(client, query)
    assert anonymous["data"] == {"page": None}
    assert "draft needs a logged-in user" in anonymous["errors"][0]["message"]
    live = _gql(client, '{ page(path: "/guides/layering-for-ski-touring/") { title } }')
    assert live["data"]["page"] == {"title": "Layering for ski touring"}
    client.force_login(User.objects.get(username="admin"))
    assert _gql(client, query)["data"]["page"] == {"title": "Layering (draft title)"}


def test_relayed_referrer_from_the_front_end_is_internal(client: Any, demo: None) -> None:
    query = "query ($v: VisitorInput) { visitor(visitor: $v) { attributes } }"
    internal = {"url": "https://shop.example/guides/", "referrer": "https://shop.example/"}
    external = {"url": "https://shop.example/guides/", "referrer": "https://news.example.org/a"}
    first = _gql(client, query, {"v": internal}, headers=KEY)["data"]["visitor"]["attributes"]
    second = _gql(client, query, {"v": external}, headers=KEY)["data"]["visitor"]["attributes"]
    assert json.loads(first)["referral"]["channel"] == "direct"
    assert json.loads(second)["referral"]["channel"] == "referral"
    assert json.loads(second)["referral"]["source"] == "news.example.org"
