"""Root fields of grapple's schema: the visitor and the page's decision key.

They mirror ``visitor`` and ``cacheKey`` of the package's own schema
(:mod:`personalize.graphql.query`), with the same types and arguments, prefixed so that they
cannot meet a field of grapple's or the site's.
"""

from __future__ import annotations

from typing import Any

import graphene

from personalize.caching.index import index_for_page
from personalize.caching.keys import decide_page
from personalize.contrib.grapple.context import delivery_visitor
from personalize.graphql.query import VisitorInput, find_page, viewable
from personalize.graphql.types import VisitorType
from personalize.visitors.visitor import Visitor


def cache_key(
    info: Any, path: str | None, page_id: str | None, site: str | None, visitor: Any
) -> str | None:
    """The page's decision key for the visitor; None when there is no such viewable page."""
    request = info.context
    page = find_page(request, path, page_id, site)
    if page is None or not viewable(page, request):
        return None
    chosen = delivery_visitor(info, visitor)
    found = page.get_site()
    decisions = decide_page(
        chosen, index_for_page(page), site_id=found.pk if found else 0, explain=False
    )
    key: str = decisions.key
    return key


class PersonalizeQuery(graphene.ObjectType):
    """The package's root fields in grapple's schema (added by ``register_schema_query``)."""

    personalize_visitor = graphene.Field(
        VisitorType,
        required=True,
        visitor=VisitorInput(),
        description="What the site knows about the visitor, and why they are in their segments.",
    )
    personalize_cache_key = graphene.String(
        path=graphene.String(description='The page\'s path on its site, e.g. "/guides/".'),
        id=graphene.ID(),
        site=graphene.String(description="The site's hostname; defaults to the request's site."),
        visitor=VisitorInput(),
        description=(
            "The page's decision key for the visitor: equal for two visitors exactly when every "
            "personalized, gated and preference block of the page decides the same for them. "
            "Cache page data per query, path and this key; null when there is no such page."
        ),
    )

    def resolve_personalize_visitor(root: Any, info: Any, visitor: Any = None) -> Visitor:
        return delivery_visitor(info, visitor)

    def resolve_personalize_cache_key(
        root: Any,
        info: Any,
        path: str | None = None,
        id: str | None = None,  # noqa: A002 - the argument's public name
        site: str | None = None,
        visitor: Any = None,
    ) -> str | None:
        return cache_key(info, path, id, site, visitor)
