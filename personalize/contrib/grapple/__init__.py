"""wagtail-grapple integration: the package's blocks, visitor and cache key in grapple's schema.

Install the extra (``pip install "wagtail-personalize[grapple]"``), then::

    INSTALLED_APPS = [..., "personalize.contrib.grapple", "grapple", ...]
    GRAPHENE = {"SCHEMA": "grapple.schema.schema"}
    GRAPPLE = {"APPS": ["home"]}

and serve grapple's schema with
:class:`~personalize.contrib.grapple.views.PersonalizeGrappleView`. PersonalizedBlock,
GatedBlock and PreferenceBlock become grapple types decided per visitor
(:mod:`~personalize.contrib.grapple.types`); ``personalizeVisitor`` and ``personalizeCacheKey``
join the root query (:mod:`~personalize.contrib.grapple.query`); grapple's generic ``rawValue``
and ``value`` show only what the visitor gets
(:mod:`~personalize.contrib.grapple.middleware`). See docs/how-to/grapple.md.
"""
