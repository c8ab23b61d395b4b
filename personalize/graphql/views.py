"""The GraphQL view, hardened: query size and depth limits, introspection only when allowed."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from graphene.validation import DisableIntrospection, depth_limit_validator
from graphene_django.views import GraphQLView
from graphql import ExecutionResult, GraphQLError
from graphql.validation import specified_rules

from personalize.conf import personalize_settings


def introspection_allowed() -> bool:
    """``PERSONALIZE["GRAPHQL_INTROSPECTION"]``, or DEBUG when it is None."""
    setting = personalize_settings.GRAPHQL_INTROSPECTION
    return bool(settings.DEBUG if setting is None else setting)


@method_decorator(csrf_exempt, name="dispatch")
class PersonalizeGraphQLView(GraphQLView):
    """graphene-django's view with limits; queries only (no mutations are exposed yet).

    CSRF is not needed for queries, which change nothing; front-end servers call without
    cookies. Malformed input gives GraphQL errors, never an HTTP 500.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        rules = [*specified_rules, depth_limit_validator(personalize_settings.GRAPHQL_MAX_DEPTH)]
        if not introspection_allowed():
            rules.append(DisableIntrospection)
        self.validation_rules = tuple(rules)

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
        return super().execute_graphql_request(
            request, data, query, variables, operation_name, show_graphiql
        )
