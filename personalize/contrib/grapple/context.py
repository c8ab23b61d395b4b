"""Which visitor and page grapple's fields deliver for.

A front-end server relays its visitor's signals in the ``X-Personalize-Visitor`` header, a JSON
object with the fields of the ``VisitorInput`` GraphQL input (``{"country": "AT", "userAgent":
"..."}``). The header counts only with a valid front-end key in ``X-Personalize-Frontend-Key``,
the rule of :mod:`personalize.graphql.access`; without one it is ignored and the request's own
visitor is decided for.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from graphene.utils.str_converters import to_snake_case

from personalize.graphql.access import has_frontend_key, signals_from_input, visitor_for
from personalize.visitors.visitor import Visitor

logger = logging.getLogger(__name__)

#: The header a front-end server relays its visitor's signals in (with its front-end key).
VISITOR_HEADER = "X-Personalize-Visitor"
#: Longer headers are ignored: the signals of one visitor fit well within it.
MAX_HEADER_LENGTH = 8000
#: The page whose fields grapple resolves now (set by the middleware), on the request.
PAGE_ATTRIBUTE = "_personalize_grapple_page"
_RELAYED = "_personalize_grapple_relayed"
_CONTEXT = "_personalize_grapple_context"


def relayed_signals(request: Any) -> dict[str, Any] | None:
    """The ``X-Personalize-Visitor`` header as ``VisitorInput`` data, or None.

    None without a valid front-end key, without the header, or for a header that is not a JSON
    object (logged at debug level): the request's own visitor is used then.
    """
    raw = request.headers.get(VISITOR_HEADER)
    if not raw or not has_frontend_key(request):
        return None
    if len(raw) > MAX_HEADER_LENGTH:
        logger.debug("%s is longer than %d characters: ignored", VISITOR_HEADER, MAX_HEADER_LENGTH)
        return None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        logger.debug("%s is not JSON: ignored", VISITOR_HEADER)
        return None
    if not isinstance(data, dict):
        logger.debug("%s is not a JSON object: ignored", VISITOR_HEADER)
        return None
    signals = {to_snake_case(str(name)): value for name, value in data.items()}
    hints = signals.get("client_hints")
    if isinstance(hints, str):  # a JSON string, as the GraphQL input takes it
        try:
            signals["client_hints"] = json.loads(hints)
        except (ValueError, RecursionError):
            signals["client_hints"] = None
    return signals


def relayed_visitor(request: Any) -> Visitor | None:
    """The visitor relayed in the request's headers (built once per request), or None."""
    if _RELAYED not in request.__dict__:
        signals = relayed_signals(request)
        request.__dict__[_RELAYED] = (
            None if signals is None else Visitor(request, signals=signals_from_input(signals))
        )
    found: Visitor | None = request.__dict__[_RELAYED]
    return found


def delivery_visitor(info: Any, visitor_input: Any = None) -> Visitor:
    """The visitor a grapple field decides for.

    A ``visitor`` argument first (it needs the front-end key, else a GraphQL error, as in the
    package's own schema), then the visitor relayed in the headers, then the request's own.
    """
    if visitor_input is None:
        relayed = relayed_visitor(info.context)
        if relayed is not None:
            return relayed
    return visitor_for(info, visitor_input)


def block_context(info: Any) -> dict[str, Any]:
    """The context blocks decide and represent themselves with: request, visitor, page, path.

    One per request and page, so that all of a page's blocks share it.
    """
    request = info.context
    page = getattr(request, PAGE_ATTRIBUTE, None)
    cached = request.__dict__.get(_CONTEXT)
    if cached is not None and cached["page"] is page:
        context: dict[str, Any] = cached
        return context
    next_path = page.get_url(request=request) if page is not None else None
    context = {
        "request": request,
        "visitor": delivery_visitor(info),
        "page": page,
        "next_path": next_path,
    }
    request.__dict__[_CONTEXT] = context
    return context
