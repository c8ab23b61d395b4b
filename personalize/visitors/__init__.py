"""Who the visitor is: their signals as one context, their segments, and ``request.visitor``.

- :mod:`~personalize.visitors.context`: every signal of a request as plain nested attributes
  (the only code that reads ``HttpRequest`` for signals), with the visit's landing attribution
  (:mod:`~personalize.visitors.attribution`);
- :mod:`~personalize.visitors.registry`: the process's compiled set of live segments, versioned
  in the shared cache;
- :mod:`~personalize.visitors.identity`: the signed visitor id cookie;
- :mod:`~personalize.visitors.visitor`: ``request.visitor``, built lazily once per request, with
  the profile's ``visitor.*`` attributes;
- :mod:`~personalize.visitors.skip_paths` and :mod:`~personalize.visitors.ratelimit`: requests
  that need no personalization, and limits per client address.
"""
