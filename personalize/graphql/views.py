"""The GraphQL view, hardened: query size and depth limits, introspection only when allowed."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, cast

from django.conf import settings
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from graphene.validation import depth_limit_validator
from graphene_django.settings import graphene_settings
from graphene_django.views import GraphQLView
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


@lru_cache(maxsize=256)
def _checked(
    schema: GraphQLSchema, query: str, rules: tuple[Any, ...]
) -> tuple[DocumentNode | None, tuple[GraphQLError, ...]]:
    """Parse and validate a query once: front ends send the same few queries over and over."""
    try:
        document = parse(query)
    except GraphQLError as error:
        return None, (error,)
    errors = validate(schema, document, list(rules), graphene_settings.MAX_VALIDATION_ERRORS)
    return document, tuple(errors)


def _may_mutate(request: Any) -> bool:
    """A valid front-end key, or a request that passes Django's CSRF check."""
    if has_frontend_key(request):
        return True

    def view(*args: Any) -> None:  # a callback without ``csrf_exempt``, so the check runs
        return None

    callback = cast(Any, view)
    return CsrfViewMiddleware(callback).process_view(request, callback, (), {}) is None


@lru_cache(maxsize=8)
def validation_rules(max_depth: int, introspection: bool) -> tuple[Any, ...]:
    """GraphQL's standard rules plus the depth limit, and no introspection unless allowed.

    Built once per setting, so that checked queries can be cached against the same rules.
    """
    rules: list[Any] = [*specified_rules, depth_limit_validator(max_depth)]
    if not introspection:
        # graphql-core's rule: __schema and __type are refused, __typename stays available.
        rules.append(NoSchemaIntrospectionCustomRule)
    return tuple(rules)


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
        self.validation_rules = validation_rules(
            int(personalize_settings.GRAPHQL_MAX_DEPTH), introspection_allowed()
        )

    def execute_graphql_request(
        self,
        request: Any,
        data: Any,
        query: Any,
        variables: Any,
        operation_name: Any,
        show_graphiql: bool = False,
    ) -> Any:
        limit = personalize_settings.GRAPHQL_MAX_QUERY_LENGTH
        if isinstance(query, str) and len(query) > limit:
            message = f"The query is {len(query)} characters long; at most {limit}."
            return ExecutionResult(errors=[GraphQLError(message)])
        if query is not None and not isinstance(query, str):
            return ExecutionResult(errors=[GraphQLError("The query must be a string.")])
        if not query or request.method.lower() != "post":
            # GraphiQL and GET requests keep graphene-django's own handling.
            return super().execute_graphql_request(
                request, data, query, variables, operation_name, show_graphiql
            )
        document, errors = _checked(self.schema.graphql_schema, query, self.validation_rules)
        if errors or document is None:
            return ExecutionResult(data=None, errors=list(errors))
        operation = get_operation_ast(document, operation_name)
        if operation is not None and operation.operation == OperationType.MUTATION:
            if not _may_mutate(request):
                message = (
                    "Mutations need a CSRF token (same-site browsers) or a front-end key "
                    f"in the {FRONTEND_KEY_HEADER} header (servers)."
                )
                return ExecutionResult(errors=[GraphQLError(message)])
            return super().execute_graphql_request(
                request, data, query, variables, operation_name, show_graphiql
            )
        return execute(
            self.schema.graphql_schema,
            document,
            root_value=self.get_root_value(request),
            context_value=self.get_context(request),
            variable_values=variables,
            operation_name=operation_name,
            middleware=self.get_middleware(request),
            execution_context_class=self.execution_context_class,
        )
