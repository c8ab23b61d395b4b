"""The visitor-facing views: consent, events, preferences, the privacy page and the debug page.

- :mod:`~personalize.views.endpoints`: the consent choice, script events, stated preferences and
  the debug page (staff);
- :mod:`~personalize.views.privacy`: the privacy page, its export and erasure;
- :mod:`~personalize.views.forms`: the forms they validate input with.

Routed by :mod:`personalize.urls`.
"""
