"""What clients learn from a failure: our own messages, never the infrastructure's.

GraphQL errors raised on purpose (``GraphQLError`` with a message for the client, validation and
variable errors) reach the client unchanged. Any other exception while a query runs (a database
or Redis error, a bug) reaches it as :data:`INTERNAL_ERROR`, with its location and path, and is
logged with its traceback on the ``personalize.graphql`` logger.
"""

from __future__ import annotations

import logging
from typing import Any

from graphql import ExecutionResult, GraphQLError

logger = logging.getLogger("personalize.graphql")

#: The message every unexpected exception is replaced with.
INTERNAL_ERROR = "Internal error"


def _unexpected(error: Any) -> BaseException | None:
    """The exception behind an error that was not raised for the client, or None."""
    if not isinstance(error, GraphQLError):
        return error if isinstance(error, BaseException) else None
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return None
    # Without a path, the error came from coercing the request's variables: client input.
    return original if error.path is not None else None


def masked(error: Any) -> Any:
    """``error``, or a generic error in its place when it hides an unexpected exception.

    The unexpected exception is logged with its traceback at level error.
    """
    original = _unexpected(error)
    if original is None:
        return error
    path = getattr(error, "path", None)
    logger.error(
        "Unexpected error while resolving %s",
        ".".join(str(step) for step in path) if path else "a GraphQL request",
        exc_info=(type(original), original, original.__traceback__),
    )
    return GraphQLError(INTERNAL_ERROR, nodes=getattr(error, "nodes", None), path=path)


def masked_result(result: Any) -> Any:
    """An execution result whose unexpected errors are masked (see :func:`masked`)."""
    if not isinstance(result, ExecutionResult) or not result.errors:
        return result
    return ExecutionResult(
        data=result.data,
        errors=[masked(error) for error in result.errors],
        extensions=result.extensions,
    )
