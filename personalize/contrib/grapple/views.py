"""grapple's schema served with the package's hardened GraphQL view.

The limits, rate limit, error masking and mutation rule of
:class:`~personalize.graphql.views.PersonalizeGraphQLView`, on grapple's schema, with
:class:`~personalize.contrib.grapple.middleware.PersonalizeGrappleMiddleware` in front of the
site's own graphene middleware.
"""

from __future__ import annotations

from typing import Any

from graphene_django.settings import graphene_settings

from personalize.contrib.grapple.middleware import PersonalizeGrappleMiddleware
from personalize.graphql.views import PersonalizeGraphQLView


def grapple_schema() -> Any:
    """grapple's schema (built on first use, from grapple's registry and the schema hooks)."""
    from grapple.schema import schema

    return schema


class PersonalizeGrappleView(PersonalizeGraphQLView):
    """Serve grapple's schema: ``PersonalizeGrappleView.as_view()``.

    Relayed visitor signals (the ``X-Personalize-Visitor`` header) count only with a valid
    front-end key; without one they are ignored (:mod:`personalize.contrib.grapple.context`).
    Pass ``schema=`` to serve another schema built from grapple's registry.
    """

    def __init__(self, schema: Any = None, middleware: Any = None, **kwargs: Any) -> None:
        chosen = list(graphene_settings.MIDDLEWARE or ()) if middleware is None else middleware
        if not any(
            m is PersonalizeGrappleMiddleware or isinstance(m, PersonalizeGrappleMiddleware)
            for m in chosen
        ):
            chosen = [PersonalizeGrappleMiddleware(), *chosen]
        super().__init__(schema=schema or grapple_schema(), middleware=chosen, **kwargs)
