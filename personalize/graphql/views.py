"""The GraphQL view, hardened against hostile clients.

Limits on query length, depth, aliases, field selections and cost; introspection only when
allowed; request parameters of the wrong type refused with HTTP 400; unexpected exceptions
logged and answered with a generic error (see :mod:`personalize.graphql.errors`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponseBadRequest, HttpResponseNotAllowed
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from graphene_django.settings import graphene_settings
from graphene_django.views import GraphQLView, HttpError
from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLSchema,
    OperationType,
    execute,
    get_operation_ast,
    parse,
    validate,
)
from graphql.validation import NoSchemaIntrospectionCustomRule, specified_rules

from personalize.conf import personalize_settings
from personalize.graphql.access import FRONTEND_KEY_HEADER, has_frontend_key
from personalize.graphql.errors import masked, masked_result
from personalize.graphql.limits import (
    NUL_MESSAGE,
    NoNulCharactersRule,
    QueryLimits,
    holds_nul,
    query_limits_rule,
)
from personalize.visitors.ratelimit import graphql_rate_limited


@lru_cache(maxsize=256)
def _checked(
    schema: GraphQLSchema,
    query: str,
    passes: tuple[tuple[Any, ...], ...],
    hide_suggestions: bool,
) -> tuple[DocumentNode | None, tuple[GraphQLError, ...]]:
    """Parse and validate a query once: front ends send the same few queries over and over.

    Each pass of rules runs only when the ones before found nothing: the query limits come
    first, so a refused query costs its parse and one walk. They are validation rules, so a
    query's measure is cached with it.
    """
    try:
        document = parse(query)
    except GraphQLError as error:
        return None, (error,)
    for rules in passes:
        errors = validate(
            schema,
            document,
            list(rules),
            graphene_settings.MAX_VALIDATION_ERRORS,
            hide_suggestions=hide_suggestions,
        )
        if errors:
            return document, tuple(errors)
    return document, ()


def _bad_request(message: str) -> HttpError:
    """An HTTP 400 answered as a GraphQL error response: ``{"errors": [{"message": ...}]}``."""
    return HttpError(HttpResponseBadRequest(message))


def _parameter(request: Any, data: Mapping[str, Any], name: str) -> Any:
    """A request parameter: from the URL's query string, else from the body (graphene's order)."""
    return request.GET.get(name) or data.get(name)


def _variables(raw: Any) -> dict[str, Any] | None:
    """The ``variables`` parameter as a dict.

    Raises:
        HttpError: (400) variables that are not a JSON object, or hold a NUL character.
    """
    if isinstance(raw, str):
        if not raw.strip():
            return None
        try:
            raw = json.loads(raw)
        except RecursionError:
            raise _bad_request("variables are nested too deeply.") from None
        except ValueError:
            raise _bad_request("variables must be a JSON object; this is not JSON.") from None
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise _bad_request("variables must be a JSON object.")
    if holds_nul(raw):
        raise _bad_request(NUL_MESSAGE)
    return raw


def _may_mutate(request: Any) -> bool:
    """A valid front-end key, or a request that passes Django's CSRF check."""
    if has_frontend_key(request):
        return True

    def view(*args: Any) -> None:  # a callback without ``csrf_exempt``, so the check runs
        return None

    callback = cast(Any, view)
    return CsrfViewMiddleware(callback).process_view(request, callback, (), {}) is None


def query_limits() -> QueryLimits:
    """The ``GRAPHQL_MAX_*`` and ``GRAPHQL_FIELD_COSTS`` settings.

    Raises:
        ImproperlyConfigured: a limit or cost that is not a whole number.
    """
    config = personalize_settings
    try:
        costs = dict(config.GRAPHQL_FIELD_COSTS)
        return QueryLimits(
            max_depth=int(config.GRAPHQL_MAX_DEPTH),
            max_aliases=int(config.GRAPHQL_MAX_ALIASES),
            max_fields=int(config.GRAPHQL_MAX_FIELDS),
            max_cost=int(config.GRAPHQL_MAX_COST),
            field_costs=tuple(sorted((str(key), int(cost)) for key, cost in costs.items())),
        )
    except (TypeError, ValueError) as exc:
        raise ImproperlyConfigured(
            "PERSONALIZE['GRAPHQL_MAX_DEPTH'], ['GRAPHQL_MAX_ALIASES'], ['GRAPHQL_MAX_FIELDS'] and "
            "['GRAPHQL_MAX_COST'] must be whole numbers, and ['GRAPHQL_FIELD_COSTS'] a dict of "
            f"'Type.field' to a whole number, e.g. {{'Query.products': 10}}: {exc}"
        ) from exc


@lru_cache(maxsize=8)
def validation_passes(
    limits: QueryLimits, introspection: bool
) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """The query limits and NUL check, then GraphQL's standard rules (and no introspection).

    Built once per setting, so that checked queries can be cached against the same rules.
    """
    rules: list[Any] = list(specified_rules)
    if not introspection:
        # graphql-core's rule: __schema and __type are refused, __typename stays available.
        rules.append(NoSchemaIntrospectionCustomRule)
    return (query_limits_rule(limits), NoNulCharactersRule), tuple(rules)


def introspection_allowed() -> bool:
    """``PERSONALIZE["GRAPHQL_INTROSPECTION"]``, or DEBUG when it is None."""
    setting = personalize_settings.GRAPHQL_INTROSPECTION
    return bool(settings.DEBUG if setting is None else setting)


@method_decorator(csrf_exempt, name="dispatch")
class PersonalizeGraphQLView(GraphQLView):
    """graphene-django's view with limits.

    Queries change nothing and need no CSRF token, so front-end servers can call without cookies.
    Mutations need either Django's CSRF token (browsers on the site) or a front-end key (servers).
    Malformed input gives GraphQL errors, never an HTTP 500.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        #: Without introspection, validation errors suggest no field or type names either.
        self.introspection = introspection_allowed()
        self.validation_passes = validation_passes(query_limits(), self.introspection)
        #: graphene-django's own validation (mutations) runs every rule at once.
        self.validation_rules = (*self.validation_passes[0], *self.validation_passes[1])

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        """Count the client against ``RATE_LIMITS["graphql"]`` first (front-end servers with a
        valid key are not counted: they call for many visitors); answers to key holders are
        ``private`` and vary by ``X-Personalize-Frontend-Key``."""
        keyed = has_frontend_key(request)
        limited = None if keyed else graphql_rate_limited(request)
        if limited is not None:
            return limited
        response = super().dispatch(request, *args, **kwargs)
        if keyed:
            # Answers for a key holder (the edge manifest, relayed visitors' pages) are theirs:
            # no shared cache may hand them, by URL, to a client without the key.
            patch_cache_control(response, private=True)
            patch_vary_headers(response, (FRONTEND_KEY_HEADER,))
        return response

    def parse_body(self, request: Any) -> Any:
        """graphene-django's body parsing, with 400s for bodies it lets through as 500s."""
        try:
            return super().parse_body(request)
        except RecursionError:
            raise _bad_request("The request body is nested too deeply.") from None
        except UnicodeDecodeError:
            raise _bad_request("The request body is not UTF-8 text.") from None

    @staticmethod
    def get_graphql_params(request: Any, data: Any) -> tuple[Any, Any, Any, Any]:
        """``query``, ``variables``, ``operationName`` and ``id``, each of the right type.

        Raises:
            HttpError: (400) a body that is not an object, or a parameter of the wrong type.
        """
        if not isinstance(data, Mapping):
            raise _bad_request("The request body must be a JSON object.")
        query = _parameter(request, data, "query")
        if query is not None and not isinstance(query, str):
            raise _bad_request("The query must be a string.")
        variables = _variables(_parameter(request, data, "variables"))
        operation_name = _parameter(request, data, "operationName")
        if operation_name in ("", "null"):
            operation_name = None
        if operation_name is not None and not isinstance(operation_name, str):
            raise _bad_request("operationName must be a string.")
        return query, variables, operation_name, _parameter(request, data, "id")

    def execute_graphql_request(
        self,
        request: Any,
        data: Any,
        query: Any,
        variables: Any,
        operation_name: Any,
        show_graphiql: bool = False,
    ) -> Any:
        if not query:
            # GraphiQL's page, or graphene-django's "Must provide query string."
            return super().execute_graphql_request(
                request, data, query, variables, operation_name, show_graphiql
            )
        if not isinstance(query, str):
            return ExecutionResult(errors=[GraphQLError("The query must be a string.")])
        limit = personalize_settings.GRAPHQL_MAX_QUERY_LENGTH
        if len(query) > limit:
            message = f"The query is {len(query)} characters long; at most {limit}."
            return ExecutionResult(errors=[GraphQLError(message)])
        document, errors = _checked(
            self.schema.graphql_schema, query, self.validation_passes, not self.introspection
        )
        if errors or document is None:
            return ExecutionResult(data=None, errors=list(errors))
        operation = get_operation_ast(document, operation_name)
        if operation is not None and operation.operation != OperationType.QUERY:
            if request.method.lower() != "post":
                if show_graphiql:
                    return None
                kind = operation.operation.value
                raise HttpError(
                    HttpResponseNotAllowed(
                        ["POST"], f"Can only perform a {kind} operation from a POST request."
                    )
                )
            if not _may_mutate(request):
                message = (
                    "Mutations need a CSRF token (same-site browsers) or a front-end key "
                    f"in the {FRONTEND_KEY_HEADER} header (servers)."
                )
                return ExecutionResult(errors=[GraphQLError(message)])
            # graphene-django runs mutations (in a transaction with ATOMIC_MUTATIONS).
            return masked_result(
                super().execute_graphql_request(
                    request, data, query, variables, operation_name, show_graphiql
                )
            )
        try:
            result = execute(
                self.schema.graphql_schema,
                document,
                root_value=self.get_root_value(request),
                context_value=self.get_context(request),
                variable_values=variables,
                operation_name=operation_name,
                middleware=self.get_middleware(request),
                execution_context_class=self.execution_context_class,
            )
        except Exception as exc:  # the delivery boundary: never a 500 (as in graphene-django)
            return ExecutionResult(errors=[masked(exc)])
        return masked_result(result)
