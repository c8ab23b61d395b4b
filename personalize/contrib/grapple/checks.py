"""System check: grapple's schema served by a view without the block-field middleware.

:class:`~personalize.contrib.grapple.views.PersonalizeGrappleView` always runs
:class:`~personalize.contrib.grapple.middleware.PersonalizeGrappleMiddleware`. A site that serves
grapple's schema through graphene-django's own ``GraphQLView`` (``grapple.urls`` does) needs the
middleware in ``GRAPHENE["MIDDLEWARE"]``; without it, grapple's generic ``rawValue`` and
``value`` fields serve every stored variant and locked content.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core.checks import Warning as CheckWarning

MIDDLEWARE_PATH = "personalize.contrib.grapple.middleware.PersonalizeGrappleMiddleware"


def _callbacks(patterns: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        nested = getattr(pattern, "url_patterns", None)
        if nested is not None:
            yield from _callbacks(nested, route)
        else:
            yield route, getattr(pattern, "callback", None)


def _is_grapple_schema(schema: Any) -> bool:
    """Whether a view's schema is grapple's, without building it (the check runs at start)."""
    if schema is None:
        schema = (getattr(settings, "GRAPHENE", None) or {}).get("SCHEMA")
    if isinstance(schema, str):
        return schema.split(".")[0] == "grapple"
    module = sys.modules.get("grapple.schema")
    return module is not None and schema is getattr(module, "schema", None)


def _has_middleware(middleware: Any) -> bool:
    from personalize.contrib.grapple.middleware import PersonalizeGrappleMiddleware

    return any(
        entry == MIDDLEWARE_PATH
        or entry is PersonalizeGrappleMiddleware
        or isinstance(entry, PersonalizeGrappleMiddleware)
        for entry in middleware or ()
    )


def check_grapple_views(app_configs: Any = None, **kwargs: Any) -> list[CheckWarning]:
    """``personalize_grapple.W001`` for each URL serving grapple's schema without the middleware.

    Args:
        app_configs: the apps checked (Django's check framework).
        **kwargs: Django's check framework options.
    """
    from django.urls import get_resolver
    from graphene_django.views import GraphQLView

    from personalize.graphql.views import PersonalizeGraphQLView

    configured = (getattr(settings, "GRAPHENE", None) or {}).get("MIDDLEWARE")
    warnings = []
    for route, callback in _callbacks(get_resolver().url_patterns):
        view_class = getattr(callback, "view_class", None)
        if not (isinstance(view_class, type) and issubclass(view_class, GraphQLView)):
            continue
        if issubclass(view_class, PersonalizeGraphQLView):
            continue  # the package's views run the middleware themselves
        initkwargs = getattr(callback, "view_initkwargs", {}) or {}
        if not _is_grapple_schema(initkwargs.get("schema")):
            continue
        middleware = initkwargs.get("middleware", configured)
        if not _has_middleware(middleware):
            warnings.append(
                CheckWarning(
                    f"/{route} serves grapple's schema without PersonalizeGrappleMiddleware: "
                    "grapple's rawValue and value fields would serve every stored variant and "
                    "locked content.",
                    hint=(
                        "Serve it with personalize.contrib.grapple.views.PersonalizeGrappleView, "
                        f'or add "{MIDDLEWARE_PATH}" to GRAPHENE["MIDDLEWARE"].'
                    ),
                    id="personalize_grapple.W001",
                )
            )
    return warnings
