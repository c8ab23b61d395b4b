"""The GraphQL endpoint against hostile clients: 400s instead of 500s, limits, no leaks."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import graphene
import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from graphql import get_introspection_query, parse

from cms_site.home.models import ContentPage
from cms_site.schema import schema as demo_schema
from personalize.graphql import TYPES, Query
from personalize.graphql.errors import INTERNAL_ERROR
from personalize.graphql.limits import Measure, measure_document
from personalize.graphql.views import PersonalizeGraphQLView
from tests.conftest import without_clock_segments

pytestmark = pytest.mark.django_db

KEY = {"X-Personalize-Frontend-Key": "test-frontend-key"}
NUL = "Arguments must not contain NUL characters."
#: The page query of docs/how-to/headless.md.
HEADLESS_QUERY = """
  fragment Leaf on StreamFieldBlock { __typename id type value }
  fragment Nested on StreamFieldBlock {
    ...Leaf
    ... on PersonalizedBlock { decision { variant reason } blocks { ...Leaf } }
    ... on GatedBlock { locked teaser cta { label url } blocks { ...Leaf } }
  }
  query Page($path: String!, $visitor: VisitorInput) {
    page(path: $path, visitor: $visitor) {
      id title pageType url lastPublishedAt seoTitle searchDescription
      body: streamfield(name: "body") {
        ...Leaf
        ... on PersonalizedBlock { decision { variant reason } blocks { ...Nested } }
        ... on GatedBlock { locked teaser cta { label url } blocks { ...Nested } }
      }
    }
  }
"""


@pytest.fixture
def demo(db: Any) -> None:
    call_command("seed_demo", stdout=io.StringIO())
    without_clock_segments()


def _raw(client: Any, body: str, content_type: str = "application/json", **extra: Any) -> Any:
    return client.post("/graphql/", body, content_type=content_type, **extra)


def _body(client: Any, **fields: Any) -> Any:
    return _raw(client, json.dumps(fields))


def _messages(response: Any) -> list[str]:
    return [error["message"] for error in response.json()["errors"]]


# Request parameters of the wrong type ------------------------------------------------------


@pytest.mark.parametrize("variables", [[1], 5, True, False, "[1]", "5", [], 1.5])
def test_variables_that_are_not_an_object(client: Any, variables: Any) -> None:
    response = _body(client, query="{ __typename }", variables=variables)
    assert response.status_code == 400
    assert _messages(response) == ["variables must be a JSON object."]


@pytest.mark.parametrize("variables", [None, {}, "", "{}", " "])
def test_empty_variables_are_no_variables(client: Any, variables: Any) -> None:
    response = _body(client, query="{ __typename }", variables=variables)
    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}


def test_variables_that_are_not_json(client: Any) -> None:
    response = _body(client, query="{ __typename }", variables="{not json")
    assert response.status_code == 400
    assert _messages(response) == ["variables must be a JSON object; this is not JSON."]


@pytest.mark.parametrize(
    ("query_string", "message"),
    [
        ("variables=[1]", "variables must be a JSON object."),
        ("variables=5", "variables must be a JSON object."),
        ("variables=true", "variables must be a JSON object."),
        ("variables=nope", "variables must be a JSON object; this is not JSON."),
        ("variables=" + "[" * 5000 + "]" * 5000, "variables are nested too deeply."),
        ("operationName=Other", "Unknown operation named 'Other'."),
    ],
)
def test_get_parameters_of_the_wrong_type(client: Any, query_string: str, message: str) -> None:
    response = client.get(f"/graphql/?query=query+Q{{__typename}}&{query_string}")
    assert response.status_code == 400
    assert _messages(response) == [message]


def test_get_query_with_object_variables(client: Any) -> None:
    response = client.get(
        "/graphql/",
        {
            "query": "query ($p: String) { page(path: $p) { title } }",
            "variables": '{"p": "/none/"}',
        },
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"page": None}}


def test_get_cannot_mutate(client: Any) -> None:
    response = client.get("/graphql/", {"query": 'mutation { trackEvent(name: "x") { tracked } }'})
    assert response.status_code == 405
    assert _messages(response) == ["Can only perform a mutation operation from a POST request."]


@pytest.mark.parametrize("operation_name", [5, ["Q"], True, {"name": "Q"}])
def test_operation_name_of_the_wrong_type(client: Any, operation_name: Any) -> None:
    response = _body(client, query="query Q { __typename }", operationName=operation_name)
    assert response.status_code == 400
    assert _messages(response) == ["operationName must be a string."]


def test_operation_name_null_string_is_none(client: Any) -> None:
    response = _body(client, query="query Q { __typename }", operationName="null")
    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("query", [5, ["{ __typename }"], {"query": "{ __typename }"}, True])
def test_query_of_the_wrong_type(client: Any, query: Any) -> None:
    response = _body(client, query=query)
    assert response.status_code == 400
    assert _messages(response) == ["The query must be a string."]


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        ("{not json", "application/json", "POST body sent invalid JSON."),
        ("[1, 2]", "application/json", "The received data is not a valid JSON query."),
        ('"{ __typename }"', "application/json", "The received data is not a valid JSON query."),
        ("null", "application/json", "The received data is not a valid JSON query."),
        (
            "[" * 100_000 + "]" * 100_000,
            "application/json",
            "The request body is nested too deeply.",
        ),
        (
            '{"query": "{ __typename }", "variables": ' + "[" * 50_000 + "]" * 50_000 + "}",
            "application/json",
            "The request body is nested too deeply.",
        ),
        (b"{ \xff\xfe }", "application/graphql", "The request body is not UTF-8 text."),
        ("query=%7B__typename%7D&variables=%5B1%5D", "application/x-www-form-urlencoded", None),
        ("", "text/plain", "Must provide query string."),
    ],
)
def test_bodies_that_are_not_a_query(
    client: Any, body: Any, content_type: str, message: str | None
) -> None:
    response = _raw(client, body, content_type)
    assert response.status_code == 400
    assert _messages(response) == [message or "variables must be a JSON object."]


# Fragment cycles and nesting ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "query { page(id: 1) { ...A } } fragment A on Page { ...B } "
            "fragment B on Page { ...A }",
            "Cannot spread fragment 'A' within itself via 'B'.",
        ),
        (
            "query { page(id: 1) { ...A } } fragment A on Page { title ...A }",
            "Cannot spread fragment 'A' within itself.",
        ),
        (
            'query { page(id: 1) { ...A } } fragment A on Page { streamfield(name: "body") '
            "{ ... on PersonalizedBlock { blocks { ...B } } } } "
            "fragment B on StreamFieldBlock { ... on PersonalizedBlock { blocks { ...B } } }",
            "Cannot spread fragment 'B' within itself.",
        ),
    ],
)
def test_fragment_cycles_are_refused(client: Any, query: str, message: str) -> None:
    response = _body(client, query=query)
    assert response.status_code == 400
    assert _messages(response) == [message]


@pytest.mark.parametrize(
    "query",
    [
        "{a" * 3333 + "}" * 3333,
        "{ page(path: " + "[" * 4900 + "]" * 4900 + ") { title } }",
        '{ page(path: "/") { ' + "... on Page { " * 600 + "title" + " }" * 600 + " } }",
    ],
)
def test_nesting_beyond_the_parser_is_refused(client: Any, query: str) -> None:
    assert len(query) <= 10_000
    response = _body(client, query=query)
    assert response.status_code == 400
    assert _messages(response) == ["Syntax Error: Document is nested too deeply. Parsing aborted."]


def test_long_fragment_chains_are_refused(client: Any) -> None:
    chain = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} }}" for i in range(250))
    query = "{ ...F0 } " + chain + " fragment F250 on Query { __typename }"
    assert len(query) <= 10_000
    response = _body(client, query=query)
    assert response.status_code == 400
    assert _messages(response) == ["Validation aborted."]


def test_fragment_chains_within_the_limits_run(client: Any) -> None:
    chain = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} }}" for i in range(100))
    response = _body(client, query="{ ...F0 } " + chain + " fragment F100 on Query { __typename }")
    assert response.json() == {"data": {"__typename": "Query"}}


# Query cost --------------------------------------------------------------------------------


def _alias_attack(page_ids: list[int], count: int) -> str:
    fragment = 'fragment F on Page { fields streamfield(name: "body") { value } }'
    aliases = " ".join(f"a{i}:page(id:{page_ids[i % len(page_ids)]}){{...F}}" for i in range(count))
    return "{" + aliases + "}" + fragment


def test_the_alias_attack_is_refused(client: Any, demo: None) -> None:
    from wagtail.models import Page

    ids = list(Page.objects.live().filter(depth__gt=1).values_list("pk", flat=True))
    # As many aliases as fit the query length limit (page ids are longer on PostgreSQL).
    count = 400
    while len(_alias_attack(ids, count + 1)) <= 10_000:
        count += 1
    query = _alias_attack(ids, count)
    assert 9_000 < len(query) <= 10_000
    response = _body(client, query=query)
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {
                "message": "Query too costly: it exceeds the limit of 30 aliases.",
                "locations": [{"line": 1, "column": 1}],
            }
        ]
    }


def test_thirty_aliases_are_allowed(client: Any, demo: None) -> None:
    query = "{" + " ".join(f'p{i}: page(path: "/") {{ title }}' for i in range(30)) + "}"
    data = _body(client, query=query).json()["data"]
    assert len(data) == 30
    assert data["p29"] == {"title": "Gear for people who go outside"}


def test_the_alias_attack_within_the_alias_limit_is_refused_by_cost(
    client: Any, demo: None
) -> None:
    response = _body(client, query=_alias_attack([3], 30))
    assert response.status_code == 400
    assert _messages(response) == ["Query too costly: it exceeds the maximum cost of 400."]


def test_fragments_count_every_time_they_are_spread(client: Any) -> None:
    doubling = " ".join(
        f"fragment F{i} on Page {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, 60)
    )
    query = '{ page(path: "/") { ...F59 } } fragment F0 on Page { title } ' + doubling
    response = _body(client, query=query)
    assert response.status_code == 400
    assert _messages(response) == [
        "Query too costly: it exceeds the limit of 300 field selections."
    ]


@pytest.mark.parametrize(
    ("limits", "query", "message"),
    [
        (
            {"GRAPHQL_MAX_FIELDS": 5},
            '{ page(path: "/") { id title slug url path } }',
            "Query too costly: it exceeds the limit of 5 field selections.",
        ),
        (
            {"GRAPHQL_MAX_ALIASES": 1},
            '{ a: page(path: "/") { t: title } }',
            "Query too costly: it exceeds the limit of 1 aliases.",
        ),
        (
            {"GRAPHQL_MAX_COST": 10},
            '{ page(path: "/") { title } }',
            "Query too costly: it exceeds the maximum cost of 10.",
        ),
        (
            {"GRAPHQL_MAX_COST": 40, "GRAPHQL_FIELD_COSTS": {"Query.segmentKey": 41}},
            "{ segmentKey }",
            "Query too costly: it exceeds the maximum cost of 40.",
        ),
        (
            {"GRAPHQL_MAX_DEPTH": 1},
            '{ page(path: "/") { streamfield(name: "body") { type } } }',
            "Query too deep: it exceeds maximum operation depth of 1.",
        ),
    ],
)
def test_limits_follow_the_settings(
    client: Any, settings: Any, limits: dict[str, Any], query: str, message: str
) -> None:
    settings.PERSONALIZE = {**settings.PERSONALIZE, **limits}
    response = _body(client, query=query)
    assert response.status_code == 400
    assert _messages(response) == [message]


def test_within_the_limits_the_query_runs(client: Any, settings: Any) -> None:
    settings.PERSONALIZE = {**settings.PERSONALIZE, "GRAPHQL_MAX_FIELDS": 6, "GRAPHQL_MAX_COST": 15}
    response = _body(client, query='{ page(path: "/") { id title slug url path } }')
    page = response.json()["data"]["page"]
    assert (page["slug"], page["url"], page["path"]) == ("home", "/", "/")


def test_bad_limit_settings_are_improperly_configured(client: Any, settings: Any) -> None:
    settings.PERSONALIZE = {**settings.PERSONALIZE, "GRAPHQL_MAX_COST": "lots"}
    with pytest.raises(ImproperlyConfigured, match=r"GRAPHQL_MAX_COST'\] must be whole numbers"):
        PersonalizeGraphQLView()


def test_measures_of_known_queries() -> None:
    graphql_schema = demo_schema.graphql_schema
    headless = measure_document(graphql_schema, parse(HEADLESS_QUERY))
    assert list(headless.values()) == [Measure(depth=4, fields=67, aliases=1, cost=90)]
    introspection = measure_document(graphql_schema, parse(get_introspection_query()))
    assert list(introspection.values()) == [Measure(depth=0, fields=1, aliases=0, cost=50)]
    mutation = measure_document(
        graphql_schema, parse('mutation { trackEvent(name: "x") { error } }')
    )
    assert list(mutation.values()) == [Measure(depth=1, fields=2, aliases=0, cost=11)]
    lists = measure_document(
        graphql_schema, parse("{ visitor { segments { slug } __typename } segmentKey }")
    )
    # visitor and segmentKey are root fields (5), segments a list of objects (3).
    assert list(lists.values()) == [Measure(depth=2, fields=5, aliases=0, cost=14)]


def test_the_headless_query_runs(client: Any, demo: None) -> None:
    response = _body(client, query=HEADLESS_QUERY, variables={"path": "/"})
    page = response.json()["data"]["page"]
    assert page["title"] == "Gear for people who go outside"
    assert page["body"][0]["__typename"] == "PersonalizedBlock"


def test_introspection_when_allowed_fits_the_limits(client: Any, settings: Any) -> None:
    settings.PERSONALIZE = {**settings.PERSONALIZE, "GRAPHQL_INTROSPECTION": True}
    data = _body(client, query=get_introspection_query()).json()["data"]
    assert data["__schema"]["queryType"]["name"] == "Query"


def test_no_suggestions_without_introspection(client: Any, settings: Any) -> None:
    assert _messages(_body(client, query="{ pag { title } }")) == [
        "Cannot query field 'pag' on type 'Query'."
    ]
    settings.PERSONALIZE = {**settings.PERSONALIZE, "GRAPHQL_INTROSPECTION": True}
    assert _messages(_body(client, query="{ pag { title } }")) == [
        "Cannot query field 'pag' on type 'Query'. Did you mean 'page'?"
    ]


# Drafts ------------------------------------------------------------------------------------

DRAFT = (
    "draft needs a logged-in user who may edit this page (or there is no page at this path or id)."
)


def _draft(client: Any, argument: str) -> Any:
    return _body(client, query=f"{{ page({argument}, draft: true) {{ title }} }}").json()


def test_draft_answers_the_same_for_unpublished_and_missing_pages(client: Any, demo: None) -> None:
    journal = ContentPage.objects.get(slug="journal")
    journal.unpublish()
    unpublished = _draft(client, 'path: "/journal/"')
    missing = _draft(client, 'path: "/no-such/"')
    assert unpublished == missing
    assert unpublished == {
        "errors": [{"message": DRAFT, "locations": [{"line": 1, "column": 3}], "path": ["page"]}],
        "data": {"page": None},
    }
    assert _draft(client, f'id: "{journal.pk}"') == _draft(client, 'id: "999999"')
    client.login(username="customer", password="customer-demo")  # noqa: S106
    assert _draft(client, 'path: "/journal/"') == missing


def test_draft_for_an_editor(client: Any, demo: None) -> None:
    journal = ContentPage.objects.get(slug="journal")
    journal.unpublish()
    journal.title = "Journal (draft)"
    journal.save_revision()
    client.force_login(User.objects.get(username="admin"))
    assert _draft(client, 'path: "/journal/"') == {"data": {"page": {"title": "Journal (draft)"}}}
    assert _draft(client, 'path: "/no-such/"')["errors"][0]["message"] == DRAFT


# Explanations ------------------------------------------------------------------------------

EXPLAIN = "{ visitor { segments { slug } explanation } }"


def test_visitors_see_only_why_they_are_in_their_segments(client: Any, demo: None) -> None:
    response = client.post(
        "/graphql/",
        json.dumps({"query": EXPLAIN}),
        content_type="application/json",
        headers={"CF-IPCountry": "AT"},
        REMOTE_ADDR="10.0.0.1",
    )
    visitor = response.json()["data"]["visitor"]
    assert visitor["segments"] == [{"slug": "dach"}]
    assert json.loads(visitor["explanation"]) == [
        {
            "slug": "dach",
            "name": "From DACH",
            "matched": True,
            "match": "all",
            "rules": [
                {
                    "summary": "from Germany, Austria or Switzerland",
                    "matched": True,
                    "attributes": {"geo.country": "AT"},
                    "values": [["your country", "Austria"]],
                }
            ],
        }
    ]
    for hidden in ("paid-search", "Paid-search", "paid_search", "customers", "mobile"):
        assert hidden not in visitor["explanation"]


def test_anonymous_visitors_in_no_segment_see_no_rules(client: Any, demo: None) -> None:
    visitor = _body(client, query=EXPLAIN).json()["data"]["visitor"]
    assert visitor == {"segments": [], "explanation": "[]"}


def test_editors_see_every_segment(client: Any, demo: None) -> None:
    from personalize.models import Segment

    client.force_login(User.objects.get(username="admin"))
    explanation = json.loads(_body(client, query=EXPLAIN).json()["data"]["visitor"]["explanation"])
    assert sorted(item["slug"] for item in explanation) == sorted(
        Segment.objects.filter(enabled=True).values_list("slug", flat=True)
    )
    paid = next(item for item in explanation if item["slug"] == "paid-search")
    assert paid["matched"] is False
    assert paid["rules"][0]["matched"] is False


# Errors and NUL characters -----------------------------------------------------------------


class _Failing(graphene.ObjectType):
    redis = graphene.String()
    database = graphene.String()
    refused = graphene.String()

    def resolve_redis(root: Any, info: Any) -> str:
        import redis

        # A closed port: the real error, with the address in its message.
        client = redis.Redis(host="127.0.0.1", port=6399, socket_connect_timeout=1)
        return str(client.ping())

    def resolve_database(root: Any, info: Any) -> str:
        with connection.cursor() as cursor:
            cursor.execute("SELECT secret FROM personalize_no_such_table")
        return "unreachable"

    def resolve_refused(root: Any, info: Any) -> str:
        from graphql import GraphQLError

        raise GraphQLError("Refused on purpose.")


class _FailingQuery(Query, graphene.ObjectType):
    failing = graphene.Field(_Failing)

    def resolve_failing(root: Any, info: Any) -> _Failing:
        return _Failing()


class _FailingMutation(graphene.Mutation):
    ok = graphene.Boolean()

    def mutate(root: Any, info: Any) -> Any:
        raise ConnectionRefusedError("Error 111 connecting to 127.0.0.1:6399. Connection refused.")


class _Mutations(graphene.ObjectType):
    fail = _FailingMutation.Field()


FAILING_SCHEMA = graphene.Schema(query=_FailingQuery, mutation=_Mutations, types=TYPES)


def _failing(rf: Any, query: str) -> Any:
    request = rf.post(
        "/graphql/", json.dumps({"query": query}), content_type="application/json", headers=KEY
    )
    request.user = AnonymousUser()
    response = PersonalizeGraphQLView.as_view(schema=FAILING_SCHEMA)(request)
    return response.status_code, json.loads(response.content)


def test_unexpected_errors_are_masked_and_logged(rf: Any, caplog: Any) -> None:
    caplog.set_level(logging.ERROR, logger="personalize.graphql")
    status, body = _failing(rf, "{ failing { redis database refused } }")
    assert status == 200
    assert body["data"] == {"failing": {"redis": None, "database": None, "refused": None}}
    assert [(e["message"], e["path"]) for e in body["errors"]] == [
        (INTERNAL_ERROR, ["failing", "redis"]),
        (INTERNAL_ERROR, ["failing", "database"]),
        ("Refused on purpose.", ["failing", "refused"]),
    ]
    text = json.dumps(body)
    for secret in ("6399", "127.0.0.1", "personalize_no_such_table", "no such table"):
        assert secret not in text
    records = [r for r in caplog.records if r.name == "personalize.graphql"]
    assert [(r.levelname, r.getMessage()) for r in records] == [
        ("ERROR", "Unexpected error while resolving failing.redis"),
        ("ERROR", "Unexpected error while resolving failing.database"),
    ]
    assert "6399" in str(records[0].exc_info[1])
    assert "personalize_no_such_table" in str(records[1].exc_info[1])
    assert records[1].exc_text is not None
    assert "Traceback" in records[1].exc_text


def test_unexpected_errors_in_mutations_are_masked(rf: Any, caplog: Any) -> None:
    caplog.set_level(logging.ERROR, logger="personalize.graphql")
    status, body = _failing(rf, "mutation { fail { ok } }")
    assert status == 200
    assert body == {
        "errors": [
            {"message": INTERNAL_ERROR, "locations": [{"line": 1, "column": 12}], "path": ["fail"]}
        ],
        "data": {"fail": None},
    }
    assert [r.getMessage() for r in caplog.records if r.name == "personalize.graphql"] == [
        "Unexpected error while resolving fail"
    ]


def test_errors_raised_on_purpose_stay(client: Any) -> None:
    response = _body(client, query='{ page(id: "abc") { title } }')
    assert _messages(response) == ["Invalid page id 'abc': expected a number."]


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ('{ page(path: "/\\u0000") { title } }', {}),
        ('{ page(path: "/", site: "a\\u0000b") { title } }', {}),
        ("query ($p: String) { page(path: $p) { title } }", {"p": "/\x00"}),
        (
            "query ($v: VisitorInput) { segmentKey(visitor: $v) }",
            {"v": {"userAgent": "Mozilla\x00"}},
        ),
        (
            'mutation ($t: String) { trackEvent(name: "download", target: $t) { tracked } }',
            {"t": "a\x00"},
        ),
        ("{ visitor { segments { slug } } }", {"unused\x00": 1}),
    ],
)
def test_nul_characters_are_refused(client: Any, query: str, variables: dict[str, Any]) -> None:
    response = _body(client, query=query, variables=variables)
    assert response.status_code == 400
    assert _messages(response) == [NUL]


@pytest.mark.parametrize("page_id", ["99999999999999999999999", "-1", "0"])
def test_page_ids_no_page_can_have(client: Any, page_id: str) -> None:
    response = _body(client, query=f'{{ page(id: "{page_id}") {{ title }} }}')
    assert response.json() == {"data": {"page": None}}


def test_track_event_on_a_page_id_no_page_can_have(client: Any) -> None:
    query = 'mutation { trackEvent(name: "download", page: "99999999999999999999") { error } }'
    response = _raw(client, json.dumps({"query": query}), headers=KEY)
    error = "No live page with the id '99999999999999999999' that this visitor may view."
    assert response.json() == {"data": {"trackEvent": {"error": error}}}


def test_exceptions_outside_resolvers_are_masked(caplog: Any) -> None:
    from django.db import OperationalError
    from graphql import ExecutionResult

    from personalize.graphql.errors import masked_result

    caplog.set_level(logging.ERROR, logger="personalize.graphql")
    failed = OperationalError('could not connect to server: "10.1.2.3", port 5432')
    result = masked_result(ExecutionResult(data=None, errors=[failed]))
    assert [(error.message, error.path) for error in result.errors] == [(INTERNAL_ERROR, None)]
    assert [(r.getMessage(), r.exc_info[1]) for r in caplog.records] == [
        ("Unexpected error while resolving a GraphQL request", failed)
    ]


def test_variable_errors_keep_their_message(client: Any) -> None:
    query = "query ($v: VisitorInput) { segmentKey(visitor: $v) }"
    response = _raw(
        client,
        json.dumps({"query": query, "variables": {"v": {"clientHints": "not json"}}}),
        headers=KEY,
    )
    assert response.status_code == 400
    assert _messages(response) == [
        "Variable '$v' got invalid value 'not json' at 'v.clientHints'; Expected type "
        "'JSONString'. Expecting value: line 1 column 1 (char 0)"
    ]
