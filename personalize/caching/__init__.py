"""Caching personalized pages correctly: decision keys, the page cache, shared caches.

- :mod:`~personalize.caching.index`: what each published page's response depends on, found
  by path without rendering;
- :mod:`~personalize.caching.keys`: the decision key of a page for a visitor;
- :mod:`~personalize.caching.policy`: which responses may be shared;
- :mod:`~personalize.caching.sharing`: the response contract (``X-Personalize-Key``,
  ``Vary``, ``s-maxage``, the preflight) the middleware applies;
- :mod:`~personalize.caching.responses`: the server-side page cache.

See docs/how-to/cdn.md.
"""
