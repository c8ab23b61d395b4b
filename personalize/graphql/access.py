"""Who may relay visitor signals, and which visitor a GraphQL request resolves for."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from graphql import GraphQLError

from personalize.edge.access import FRONTEND_KEY_HEADER, has_frontend_key
from personalize.visitors.context import FrontendSignals
from personalize.visitors.visitor import Visitor

_MAX_TEXT = 1000


def is_editor(request: HttpRequest) -> bool:
    """Whether the requester may use Wagtail's admin (staff and editors)."""
    user = getattr(request, "user", None)
    return bool(
        user is not None and user.is_authenticated and user.has_perm("wagtailadmin.access_admin")
    )


def _text(value: Any) -> str | None:
    return value[:_MAX_TEXT] if isinstance(value, str) and value else None


def signals_from_input(data: Any) -> FrontendSignals:
    """A ``VisitorInput`` argument as :class:`FrontendSignals` (bad values become unknowns)."""
    hints = data.get("client_hints") or {}
    client_hints = tuple(
        sorted(
            (str(name).lower()[:64], str(value)[:_MAX_TEXT])
            for name, value in (hints.items() if isinstance(hints, dict) else [])
            if isinstance(value, str | int | float)
        )
    )
    return FrontendSignals(
        country=_text(data.get("country")),
        region=_text(data.get("region")),
        city=_text(data.get("city")),
        timezone=_text(data.get("timezone")),
        user_agent=_text(data.get("user_agent")),
        referrer=_text(data.get("referrer")),
        url=_text(data.get("url")),
        client_hints=client_hints,
        consent=_text(data.get("consent")),
        gpc=data.get("gpc") is True,
        visitor_token=_text(data.get("visitor_token")),
    )


def visitor_for(info: Any, visitor_input: Any = None) -> Visitor:
    """The visitor a resolver works for: the request's own, or one built from relayed signals.

    Raises:
        GraphQLError: relayed signals without a valid front-end key.
    """
    request = info.context
    own = getattr(request, "visitor", None)
    if own is not None:
        # Whatever is decided here depends on a visitor: no shared cache may keep the response.
        own.used = True
    if visitor_input is None:
        return own if isinstance(own, Visitor) else Visitor(request)
    if not has_frontend_key(request):
        raise GraphQLError(
            f"The visitor argument needs a valid front-end key in the {FRONTEND_KEY_HEADER} "
            "header (configure keys in PERSONALIZE['FRONTEND_KEYS'])."
        )
    cache = request.__dict__.setdefault("_personalize_relayed", {})
    signals = signals_from_input(visitor_input)
    if signals not in cache:
        cache[signals] = Visitor(request, signals=signals)
    relayed: Visitor = cache[signals]
    return relayed
