"""What a segment-aware block reads from its render context: the visitor, the page, the way back."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from personalize.visitors.visitor import current_visitor

#: Visitor attribute: the decisions the page's decision key took (:func:`keyed_decisions`);
#: taking another while the page renders (a snippet's block) makes the response private.
KEYED = "_personalize_keyed_audiences"


def next_path_for(context: Any) -> str | None:
    """Where the visitor should come back to: the page (headless) or the current request."""
    if context and hasattr(context, "get") and context.get("next_path"):
        return str(context.get("next_path"))
    request = context.get("request") if context and hasattr(context, "get") else None
    if request is None:
        visitor = current_visitor()
        request = visitor.request if visitor is not None else None
    return request.get_full_path() if request is not None else None


def page_for(context: Any, visitor: Any) -> Any:
    """The page a block is delivered on: from the template context, else the served page."""
    page = context.get("page") if context and hasattr(context, "get") else None
    if page is None:
        page = getattr(getattr(visitor, "request", None), "_personalize_page", None)
    return page


def page_id_for(context: Any, visitor: Any) -> int | None:
    """The id of the page a block is delivered on (:func:`page_for`)."""
    pk = getattr(page_for(context, visitor), "pk", None)
    return pk if isinstance(pk, int) else None


def visitor_for(context: Any) -> Any:
    """The visitor a block decides for.

    In order: an explicit ``visitor`` in the context (headless delivery), ``request.visitor``
    from a template or API context, else the current request's visitor.

    ``{{ page.body }}`` renders blocks without a context; the middleware's per-request visitor
    still gives them the right decision. Outside a request there is none (default content,
    locked gates).
    """
    if context and hasattr(context, "get") and context.get("visitor") is not None:
        return context.get("visitor")
    request = context.get("request") if context and hasattr(context, "get") else None
    visitor = getattr(request, "visitor", None)
    return visitor if visitor is not None else current_visitor()


def decision_read(visitor: Any) -> AbstractContextManager[None]:
    """Mark reads of the visitor as part of a block decision, which the decision key covers.

    Anything else that reads who the visitor is while a page renders (a template asking
    ``in_segment``) makes the response private (see :mod:`personalize.caching`).
    """
    covered = getattr(visitor, "covered", None)
    return covered() if covered is not None else nullcontext()


def keyed_decisions(visitor: Any, identities: Iterable[Hashable]) -> None:
    """Remember that the decision key of ``visitor``'s page covers these decisions.

    Args:
        visitor: the visitor the key was taken for.
        identities: what each decision depends on besides the visitor
            (:func:`~personalize.blocks.decisions.variant_identity`,
            :func:`~personalize.blocks.decisions.gate_identity`,
            :func:`~personalize.blocks.decisions.preference_identity`,
            :func:`~personalize.blocks.decisions.audience_identity`).
    """
    if hasattr(visitor, "__dict__"):
        visitor.__dict__.setdefault(KEYED, set()).update(identities)


def outside_the_key(visitor: Any, identity: Callable[[], Hashable]) -> None:
    """Mark a decision the page's key did not take (when one was taken): the response is private.

    A block rendered from outside the page's own StreamFields (a snippet's, another page's) is
    decided while the page renders, but its decision is not in the key: a shared cache or the
    page cache would hand it to visitors decided otherwise.

    Args:
        visitor: the visitor decided for (None: nothing to mark).
        identity: gives what the decision depends on besides the visitor; called only when a
            key was taken.
    """
    keyed = getattr(visitor, "__dict__", {}).get(KEYED)
    if keyed is not None and identity() not in keyed:
        visitor.uncovered = True
