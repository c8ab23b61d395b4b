"""The ``Mutation`` mixin: consent choices, events and preferences sent by a front end.

A browser calling the endpoint itself acts on ``request.visitor``: ``PersonalizeMiddleware``
writes the consent and visitor id cookies on the GraphQL response. A front-end server relays
the visitor instead (``visitor`` argument and its front-end key) and gets the cookie values back,
to set them on its own response.
"""

from __future__ import annotations

from typing import Any

import graphene
from django.http import HttpRequest
from graphql import GraphQLError
from wagtail.models import Page

from personalize.graphql.access import visitor_for
from personalize.graphql.query import VisitorInput, page_pk, viewable
from personalize.signals.consent import dump_consent_cookie
from personalize.tracking.choices import PREFERENCE_KEY, change_consent, set_preference
from personalize.tracking.events import EVENT_NAME, track
from personalize.visitors.identity import dump_visitor_id
from personalize.visitors.visitor import Visitor, current_visitor

#: At most this many purposes and tags are read from one call; the rest are ignored.
_LIST_LIMIT = 20

_ID_COOKIE_HELP = (
    "Relayed visitors only: the value the front-end server sets as the visitor id cookie; null "
    "when the visitor has no id (delete the cookie). Null for browsers calling directly, whose "
    "response sets the cookie itself."
)


class SetConsentPayload(graphene.ObjectType):
    """The visitor's consent after their choice."""

    consent = graphene.List(
        graphene.NonNull(graphene.String),
        required=True,
        description='The purposes now granted; always includes "necessary".',
    )
    gpc = graphene.Boolean(required=True, description="Whether the browser sent Sec-GPC: 1.")
    consent_cookie = graphene.String(
        description="The consent cookie value, for a front-end server to set for the visitor."
    )
    visitor_token = graphene.String(description=_ID_COOKIE_HELP)


class TrackEventPayload(graphene.ObjectType):
    """Whether an event was recorded."""

    tracked = graphene.Boolean(
        required=True,
        description="False for refused arguments (see error), without consent to "
        "personalization, for bots, or when the profile could not be written.",
    )
    visitor_token = graphene.String(description=_ID_COOKIE_HELP)
    error = graphene.String(description="Why the arguments were refused; null when they were not.")


class SetPreferencePayload(graphene.ObjectType):
    """Whether a preference was stored."""

    stored = graphene.Boolean(
        required=True,
        description="False for refused arguments (see error), without consent to "
        "personalization, or when the profile could not be written.",
    )
    visitor_token = graphene.String(description=_ID_COOKIE_HELP)
    error = graphene.String(description="Why the arguments were refused; null when they were not.")


def _mutating_visitor(info: Any, visitor_input: Any) -> tuple[Visitor, bool]:
    """The visitor a mutation acts on, and whether it was relayed by a front-end server.

    Raises:
        GraphQLError: relayed signals without a valid front-end key, or a direct call without
            ``PersonalizeMiddleware`` (nothing would write the browser's cookies).
    """
    if visitor_input is not None:
        return visitor_for(info, visitor_input), True
    request = info.context
    own = current_visitor()
    if own is None or own.request is not request:
        raise GraphQLError(
            "Mutations without a relayed visitor need personalize.middleware."
            "PersonalizeMiddleware in MIDDLEWARE: it sets the visitor's cookies on the response."
        )
    own.used = True
    return own, False


def _token(visitor: Visitor, relayed: bool) -> str | None:
    """The visitor id cookie value a front-end server should keep for a relayed visitor."""
    if not relayed or visitor.forget_browser:
        return None
    visitor_id = visitor.visitor_id
    return dump_visitor_id(visitor.outgoing_cookie() or visitor_id) if visitor_id else None


def _live_page(page_id: str, request: HttpRequest) -> Any:
    """The live page with this id the requester may view, or None."""
    try:
        pk = page_pk(page_id)
    except GraphQLError:
        return None
    if pk is None:
        return None
    page = Page.objects.live().filter(pk=pk).specific().first()
    return page if page is not None and viewable(page, request) else None


class Mutation(graphene.ObjectType):
    """Mix into a site's root mutation: ``class Mutation(personalize.graphql.Mutation, ...)``."""

    set_consent = graphene.Field(
        SetConsentPayload,
        args={
            "purposes": graphene.List(
                graphene.NonNull(graphene.String),
                required=True,
                description='The purposes granted ("personalization", "analytics"); '
                "unknown ones are ignored, [] refuses all.",
            ),
            "visitor": VisitorInput(),
        },
        description="Record the visitor's consent choice.",
    )
    track_event = graphene.Field(
        TrackEventPayload,
        args={
            "name": graphene.String(required=True, description='e.g. "demo_request".'),
            "target": graphene.String(description="The form key or document id it is about."),
            "tags": graphene.List(
                graphene.NonNull(graphene.String),
                description="Interest tags (counted on page_view events).",
            ),
            "page": graphene.ID(description="The live page it happened on (its id and tags)."),
            "visitor": VisitorInput(),
        },
        description="Record an event for a visitor who allowed personalization, and score it.",
    )
    set_preference = graphene.Field(
        SetPreferencePayload,
        args={
            "key": graphene.String(required=True, description='e.g. "activity".'),
            "value": graphene.String(
                description="At most 100 characters are kept; null removes the preference."
            ),
            "visitor": VisitorInput(),
        },
        description="Store a preference the visitor stated (visitor.prefs.<key>).",
    )

    def resolve_set_consent(
        root: Any, info: Any, purposes: list[str], visitor: Any = None
    ) -> dict[str, Any]:
        chosen, relayed = _mutating_visitor(info, visitor)
        state = change_consent(info.context, purposes[:_LIST_LIMIT], visitor=chosen)
        pending = chosen.pending_consent
        return {
            "consent": state.purposes,
            "gpc": state.gpc,
            "consent_cookie": dump_consent_cookie(*pending) if pending is not None else None,
            "visitor_token": _token(chosen, relayed),
        }

    def resolve_track_event(
        root: Any,
        info: Any,
        name: str,
        target: str | None = None,
        tags: list[str] | None = None,
        page: str | None = None,
        visitor: Any = None,
    ) -> dict[str, Any]:
        chosen, relayed = _mutating_visitor(info, visitor)
        error = None
        found = None
        if not EVENT_NAME.match(name):
            error = (
                f"Invalid event name {name[:100]!r}: use letters, digits and _ . : - "
                "(at most 64 characters, starting with a letter or digit)."
            )
        elif page is not None:
            found = _live_page(page, info.context)
            if found is None:
                error = f"No live page with the id {page[:100]!r} that this visitor may view."
        tracked = False
        if error is None:
            tracked = track(
                info.context,
                name,
                page=found,
                target=target,
                tags=(tags or [])[:_LIST_LIMIT],
                visitor=chosen,
            )
        return {"tracked": tracked, "visitor_token": _token(chosen, relayed), "error": error}

    def resolve_set_preference(
        root: Any, info: Any, key: str, value: str | None = None, visitor: Any = None
    ) -> dict[str, Any]:
        chosen, relayed = _mutating_visitor(info, visitor)
        error = None
        if not PREFERENCE_KEY.match(key):
            error = (
                f"Invalid preference key {key[:100]!r}: use lower-case letters, digits, _ and - "
                "(at most 50 characters, starting with a letter or digit)."
            )
        elif value is not None and not value.strip():
            error = "Empty preference value: give a value, or null to remove the preference."
        stored = False
        if error is None:
            stored = set_preference(info.context, key, value, visitor=chosen)
        return {"stored": stored, "visitor_token": _token(chosen, relayed), "error": error}
