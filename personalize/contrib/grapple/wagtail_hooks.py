"""Adds the package's root fields to grapple's schema (grapple's ``register_schema_query``)."""

from __future__ import annotations

from typing import Any

from wagtail import hooks

from personalize.contrib.grapple.query import PersonalizeQuery


@hooks.register("register_schema_query")
def register_personalize_query(query_mixins: list[Any]) -> None:
    """``personalizeVisitor`` and ``personalizeCacheKey`` on grapple's root query."""
    if PersonalizeQuery not in query_mixins:
        query_mixins.append(PersonalizeQuery)
