"""A consenting visitor's analytics state: in their hash in the counter store, or in their cookie.

The hash ``"<prefix>:an:v:<visitor_id>"`` (:mod:`personalize.analytics.store`) remembers a
visitor's first exposures, goals, funnel steps and test assignments. A visitor id minted in the
current request gets no hash: the browser may keep no cookies at all (a scraper, a client with
a forged consent cookie), and every one of its requests would leave a key behind. What that
request would remember is carried in the visitor cookie instead
(:attr:`~personalize.visitors.visitor.Visitor.carried`); the aggregate counters are counted at
once, as for any visitor. The first request that brings the cookie back stores the carried
fields with ``HSETNX``, uncounted, and the cookie is written again without them.

Unique visitors per segment are counted from that returning request on: counting them needs the
visitor's hash.
"""

from __future__ import annotations

from typing import Any

from personalize.analytics.counters import VISITOR_STATE_TTL, BaseCounterStore
from personalize.analytics.store import counter_store, safely
from personalize.signals.consent import ANALYTICS

#: Attribute of the visitor holding its state for the request.
_ATTRIBUTE = "_personalize_analytics_state"


class VisitorState:
    """One visitor's analytics fields for the current request.

    Args:
        visitor: the :class:`~personalize.visitors.visitor.Visitor`.
        store: the counter store.
        visitor_id: the visitor's id.
        carried: the dict that holds a new visitor's fields (their cookie), or None to keep
            them in the store.
    """

    def __init__(
        self,
        visitor: Any,
        store: BaseCounterStore,
        visitor_id: str,
        carried: dict[str, str] | None,
    ) -> None:
        self.visitor = visitor
        self.store = store
        self.visitor_id = visitor_id
        #: A new visitor's fields, carried in their cookie (None: in the store).
        self.carried = carried
        #: Fields a returned cookie carries that could not be stored yet (store unreachable).
        self.unstored: dict[str, str] = {}

    @property
    def kept(self) -> bool:
        """Whether the fields live in the store (the browser returned the visitor id)."""
        return self.carried is None

    def fields(self) -> dict[str, str]:
        """Every field known (empty when the store is unreachable).

        Raises:
            AnalyticsUnavailable: the store is unreachable (callers use ``safely``).
        """
        if self.carried is not None:
            return dict(self.carried)
        return {**self.unstored, **self.store.visitor_fields(self.visitor_id)}

    def first(self, field: str, value: str) -> bool:
        """Set ``field`` unless it is set.

        Returns:
            True when it was not set before (the first time).

        Raises:
            AnalyticsUnavailable: the store is unreachable.
        """
        if self.carried is None:
            return self.store.first_time(self.visitor_id, field, value, VISITOR_STATE_TTL)
        if field in self.carried:
            return False
        self.carried[field] = value
        return True

    def set(self, field: str, value: str) -> None:
        """Set ``field`` to ``value``.

        Raises:
            AnalyticsUnavailable: the store is unreachable.
        """
        if self.carried is None:
            self.store.set_visitor_field(self.visitor_id, field, value, VISITOR_STATE_TTL)
        else:
            self.carried[field] = value


def visitor_state(visitor: Any, store: BaseCounterStore | None = None) -> VisitorState | None:
    """The visitor's analytics state, or None without an id or consent to analytics.

    The first call in a request that brings back a cookie with carried fields stores them
    (one round trip), so reads and counts see them.
    """
    if visitor is None or not visitor.consent.allows(ANALYTICS):
        return None
    visitor_id = visitor.visitor_id
    if not visitor_id:
        return None
    found = visitor.__dict__.get(_ATTRIBUTE)
    if isinstance(found, VisitorState) and found.visitor_id == visitor_id:
        return found
    store = store or counter_store()
    if getattr(visitor, "minted", False):
        state = VisitorState(visitor, store, visitor_id, visitor.carried)
    else:
        state = VisitorState(visitor, store, visitor_id, None)
        _store_carried(visitor, state)
    visitor.__dict__[_ATTRIBUTE] = state
    return state


def _store_carried(visitor: Any, state: VisitorState) -> None:
    """Store the fields the returned cookie carries; the cookie is then written without them."""
    cookie = getattr(visitor, "cookie", None)
    if cookie is None or not cookie.carried or cookie.visitor_id != state.visitor_id:
        return
    carried = dict(cookie.carried)

    def store() -> bool:
        state.store.remember_fields(state.visitor_id, carried, VISITOR_STATE_TTL)
        return True

    if safely(store, False):
        visitor.rewrite_cookie = True
    else:
        state.unstored = carried
