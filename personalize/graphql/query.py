"""The ``Query`` mixin: pages, the visitor and a cache key, decided per visitor."""

from __future__ import annotations

import hashlib
from functools import cached_property
from typing import Any

import graphene
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Model
from graphql import GraphQLError
from wagtail.fields import StreamField
from wagtail.models import Page, Site

from personalize.caching.index import index_for_page
from personalize.caching.keys import decide_page
from personalize.edge.manifest import current_manifest
from personalize.graphql.access import FRONTEND_KEY_HEADER, has_frontend_key, visitor_for
from personalize.graphql.types import JSONString, StreamFieldBlock, VisitorType, bound_blocks
from personalize.pages import SEGMENT_MODE_PREFIX
from personalize.visitors.registry import current_segments
from personalize.visitors.visitor import Visitor


class VisitorInput(graphene.InputObjectType):
    """A visitor's signals, relayed by a trusted front-end server (needs its front-end key)."""

    country = graphene.String(description='ISO 3166-1 alpha-2, e.g. "AT".')
    region = graphene.String(description='ISO 3166-2, e.g. "AT-9" (or the subdivision "9").')
    city = graphene.String()
    timezone = graphene.String(description='IANA zone, e.g. "Europe/Vienna".')
    user_agent = graphene.String()
    referrer = graphene.String()
    url = graphene.String(description="The URL the visitor asked for (path and query).")
    client_hints = graphene.JSONString(description='e.g. {"sec-ch-ua-mobile": "?1"}')
    consent = graphene.String(
        description="The visitor's consent cookie value, e.g. v1:necessary,analytics:1764115200."
    )
    gpc = graphene.Boolean(description="Whether the visitor's browser sent Sec-GPC: 1.")
    visitor_token = graphene.String(
        description="The visitor's visitor id cookie value (signed by the CMS)."
    )


class PageType(graphene.ObjectType):
    """A live, public page as this visitor gets it."""

    id = graphene.ID(required=True)
    title = graphene.String(required=True)
    slug = graphene.String(required=True)
    url = graphene.String()
    path = graphene.String(required=True)
    page_type = graphene.String(required=True)
    locale = graphene.String()
    last_published_at = graphene.DateTime()
    seo_title = graphene.String()
    search_description = graphene.String()
    fields = JSONString(description="The page type's API fields, for this visitor.")
    streamfield = graphene.List(
        graphene.NonNull(StreamFieldBlock), name=graphene.String(required=True)
    )

    class Meta:
        name = "Page"

    def resolve_id(root: Any, info: Any) -> str:
        return str(root.page.pk)

    def resolve_title(root: Any, info: Any) -> str:
        return str(root.page.title)

    def resolve_slug(root: Any, info: Any) -> str:
        return str(root.page.slug)

    def resolve_url(root: Any, info: Any) -> str | None:
        url: str | None = root.page.get_url(request=info.context)
        return url

    def resolve_path(root: Any, info: Any) -> str:
        return str(root.path)

    def resolve_page_type(root: Any, info: Any) -> str:
        return f"{root.page._meta.app_label}.{type(root.page).__name__}"

    def resolve_locale(root: Any, info: Any) -> str | None:
        locale = getattr(root.page, "locale", None)
        return locale.language_code if locale is not None else None

    def resolve_last_published_at(root: Any, info: Any) -> Any:
        return root.page.last_published_at

    def resolve_seo_title(root: Any, info: Any) -> str:
        return str(root.page.seo_title or "")

    def resolve_search_description(root: Any, info: Any) -> str:
        return str(root.page.search_description or "")

    def resolve_fields(root: Any, info: Any) -> Any:
        return {name: root.api_value(name) for name in root.api_field_names()}

    def resolve_streamfield(root: Any, info: Any, name: str) -> list[Any]:
        if name not in root.stream_fields:
            raise GraphQLError(
                f"{root.page._meta.label} has no API StreamField {name!r}; "
                f"choose one of: {', '.join(root.stream_fields) or 'none'}."
            )
        return bound_blocks(getattr(root.page, name), root.context)


class PageView:
    """A page with the visitor it is delivered for."""

    def __init__(self, page: Any, visitor: Visitor, request: Any) -> None:
        self.page = page
        parts = page.get_url_parts(request=request)
        #: The page's path within its site ("/guides/layering/").
        self.path = parts[2] if parts else page.url_path
        url = page.get_url(request=request) or self.path
        self.context = {"request": request, "visitor": visitor, "next_path": url, "page": page}

    def api_field_names(self) -> list[str]:
        """The page type's ``api_fields`` (only those are ever exposed)."""
        return [getattr(f, "name", f) for f in getattr(self.page, "api_fields", [])]

    @cached_property
    def stream_fields(self) -> tuple[str, ...]:
        """API fields that are StreamFields."""
        names = []
        for name in self.api_field_names():
            try:
                field = self.page._meta.get_field(name)
            except FieldDoesNotExist:
                field = None  # api_fields may name properties
            if isinstance(field, StreamField):
                names.append(name)
        return tuple(names)

    def api_value(self, name: str) -> Any:
        """One API field's value for this visitor."""
        value = getattr(self.page, name, None)
        if name in self.stream_fields:
            stream_block = self.page._meta.get_field(name).stream_block
            return stream_block.get_api_representation(value, self.context)
        if isinstance(value, Model):
            return value.pk
        if callable(value):
            return None
        return value


#: Primary keys beyond this fit no database's integer column: no page has them.
_MAX_PK = 2**63 - 1


def page_pk(page_id: Any) -> int | None:
    """A page id argument as a primary key, or None when no page can have it.

    Raises:
        GraphQLError: an id that is not a number.
    """
    try:
        pk = int(page_id)
    except (TypeError, ValueError):
        raise GraphQLError(f"Invalid page id {str(page_id)[:100]!r}: expected a number.") from None
    return pk if 0 < pk <= _MAX_PK else None


def find_page(
    request: Any, path: str | None, page_id: str | None, site: str | None, live: bool = True
) -> Any:
    """The page at ``path`` on ``site`` (else the request's site), or with ``page_id``; None when
    there is none.

    Raises:
        GraphQLError: neither a path nor an id, or an id that is not a number.
    """
    pages = (Page.objects.live() if live else Page.objects.all()).specific()
    if page_id is not None:
        pk = page_pk(page_id)
        return pages.filter(pk=pk).first() if pk is not None else None
    if path is None:
        raise GraphQLError("Give a page path or id.")
    if "\x00" in str(path) + str(site or ""):
        return None  # no page or site has one; databases refuse it in a query
    found = Site.objects.filter(hostname=site).first() if site else None
    found = found or Site.find_for_request(request)
    if found is None:
        return None
    parts = [part for part in str(path)[:2000].split("/") if part]
    url_path = found.root_page.url_path + "".join(f"{part}/" for part in parts)
    return pages.filter(url_path=url_path).first()


def viewable(page: Any, request: Any) -> bool:
    """Whether the request passes the page's view restrictions (login, password, groups)."""
    return all(r.accept_request(request) for r in page.get_view_restrictions())


def _may_edit(request: Any, page: Any) -> bool:
    user = getattr(request, "user", None)
    return bool(
        page is not None
        and user is not None
        and user.is_authenticated
        and page.permissions_for_user(user).can_edit()
    )


def _require_editor(request: Any, page: Any, argument: str) -> None:
    if not _may_edit(request, page):
        raise GraphQLError(f"{argument} needs a logged-in user who may edit this page.")


#: The one answer to ``draft`` for anyone who may not edit the page, whether it exists or not,
#: so that drafts cannot be used to discover unpublished paths.
DRAFT_REFUSED = (
    "draft needs a logged-in user who may edit this page (or there is no page at this path or id)."
)


def _preview_visitor(request: Any, page: Any, slug: str) -> Visitor:
    _require_editor(request, page, "previewSegment")
    if slug == "":
        return Visitor(request, as_segments=frozenset())
    segment = current_segments().get(slug.removeprefix(SEGMENT_MODE_PREFIX))
    if segment is None:
        raise GraphQLError(f"No live segment with the slug {slug!r}.")
    return Visitor(request, as_segments=frozenset({segment.id}))


def segment_key(visitor: Visitor) -> str:
    """A short key for everything the visitor's decisions depend on.

    The same segments, login state and groups give the same key, so a front end or CDN can cache
    a personalized response per key; a change to any segment gives new keys.
    """
    live = visitor.segment_set
    parts = [
        str(live.version),
        ",".join(str(i) for i in sorted(visitor.segment_ids)),
        "1" if visitor.authenticated else "0",
        ",".join(sorted(visitor.user_groups)) if visitor.authenticated else "",
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


class Query(graphene.ObjectType):
    """Mix into a site's root query: ``class Query(personalize.graphql.Query, ...)``."""

    page = graphene.Field(
        PageType,
        path=graphene.String(),
        id=graphene.ID(),
        site=graphene.String(description="The site's hostname; defaults to the request's site."),
        visitor=VisitorInput(),
        preview_segment=graphene.String(
            description="Editors only: the slug of a segment to see the page as ('' = default)."
        ),
        draft=graphene.Boolean(
            description="Editors only: the latest revision (draft) instead of the live page."
        ),
    )
    visitor = graphene.Field(VisitorType, required=True, visitor=VisitorInput())
    cache_key = graphene.String(
        path=graphene.String(),
        id=graphene.ID(),
        site=graphene.String(description="The site's hostname; defaults to the request's site."),
        visitor=VisitorInput(),
        description=(
            "The page's decision key for the visitor: equal for two visitors exactly when every "
            "personalized, gated and preference block of the page decides the same for them. "
            "Cache page data per query, path and this key; null when there is no such page."
        ),
    )
    edge_manifest = JSONString(
        required=True,
        description=(
            "Front-end servers with a front-end key only: the live segments' conditions in "
            "GrowthBook's syntax and the attribute contract, as /personalize/manifest.json "
            "serves it (docs/how-to/edge.md)."
        ),
    )
    segment_key = graphene.String(
        required=True,
        visitor=VisitorInput(),
        deprecation_reason=(
            "Not a safe cache key: it ignores A/B alternatives and stated preferences. "
            "Use cacheKey(path:, visitor:)."
        ),
    )

    def resolve_page(
        root: Any,
        info: Any,
        path: str | None = None,
        id: str | None = None,  # noqa: A002 - the argument's public name
        site: str | None = None,
        visitor: Any = None,
        preview_segment: str | None = None,
        draft: bool = False,
    ) -> PageView | None:
        request = info.context
        page = find_page(request, path, id, site, live=not draft)
        if draft and not _may_edit(request, page):
            raise GraphQLError(DRAFT_REFUSED)
        if page is None or not viewable(page, request):
            return None
        if draft:
            page = page.get_latest_revision_as_object()
        if preview_segment is not None:
            chosen = _preview_visitor(request, page, preview_segment)
        else:
            chosen = visitor_for(info, visitor)
        return PageView(page, chosen, request)

    def resolve_visitor(root: Any, info: Any, visitor: Any = None) -> Visitor:
        return visitor_for(info, visitor)

    def resolve_cache_key(
        root: Any,
        info: Any,
        path: str | None = None,
        id: str | None = None,  # noqa: A002 - the argument's public name
        site: str | None = None,
        visitor: Any = None,
    ) -> str | None:
        request = info.context
        page = find_page(request, path, id, site)
        if page is None or not viewable(page, request):
            return None
        chosen = visitor_for(info, visitor)
        found = page.get_site()
        decisions = decide_page(
            chosen, index_for_page(page), site_id=found.pk if found else 0, explain=False
        )
        return decisions.key

    def resolve_edge_manifest(root: Any, info: Any) -> dict[str, Any]:
        if not has_frontend_key(info.context):
            raise GraphQLError(
                f"edgeManifest needs a valid front-end key in the {FRONTEND_KEY_HEADER} header."
            )
        return current_manifest().data

    def resolve_segment_key(root: Any, info: Any, visitor: Any = None) -> str:
        return segment_key(visitor_for(info, visitor))
