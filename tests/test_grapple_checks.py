"""The system check for grapple's schema served without the block-field middleware."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from graphene_django.views import GraphQLView

from personalize.contrib.grapple.checks import MIDDLEWARE_PATH, check_grapple_views
from personalize.contrib.grapple.middleware import PersonalizeGrappleMiddleware
from personalize.contrib.grapple.views import PersonalizeGrappleView


def _urlconf(*patterns: Any) -> ModuleType:
    module = ModuleType("urlconf")
    module.urlpatterns = list(patterns)  # type: ignore[attr-defined]
    return module


def _serve(settings: Any, *patterns: Any, graphene: dict[str, Any] | None = None) -> None:
    settings.ROOT_URLCONF = _urlconf(*patterns)
    settings.GRAPHENE = {"SCHEMA": "grapple.schema.schema", **(graphene or {})}


def test_grapples_own_view_without_the_middleware_is_warned(settings: Any) -> None:
    # What grapple.urls serves: graphene-django's view on the schema of GRAPHENE["SCHEMA"].
    _serve(settings, path("graphql/", csrf_exempt(GraphQLView.as_view())))

    [warning] = check_grapple_views()

    assert warning.id == "personalize_grapple.W001"
    assert warning.msg.startswith("/graphql/ serves grapple's schema")
    assert MIDDLEWARE_PATH in warning.hint


@pytest.mark.parametrize(
    "graphene",
    [
        {"MIDDLEWARE": [MIDDLEWARE_PATH]},
        {"MIDDLEWARE": ["grapple.middleware.GrappleMiddleware", MIDDLEWARE_PATH]},
    ],
    ids=["alone", "after grapple's"],
)
def test_the_middleware_in_graphene_settings_satisfies_the_check(
    settings: Any, graphene: dict[str, Any]
) -> None:
    _serve(settings, path("graphql/", GraphQLView.as_view()), graphene=graphene)
    assert check_grapple_views() == []


def test_the_middleware_given_to_the_view_satisfies_the_check(settings: Any) -> None:
    view = GraphQLView.as_view(middleware=[PersonalizeGrappleMiddleware()])
    _serve(settings, path("graphql/", view))
    assert check_grapple_views() == []


def test_the_packages_view_and_other_schemas_are_not_warned(settings: Any) -> None:
    _serve(
        settings,
        path("grapple/", PersonalizeGrappleView.as_view()),
        path("other/", GraphQLView.as_view(schema="cms_site.schema.schema")),
        graphene={"SCHEMA": "cms_site.schema.schema"},
    )
    assert check_grapple_views() == []


def test_nested_url_patterns_are_looked_into(settings: Any) -> None:
    from django.urls import include

    inner = _urlconf(path("graphql/", GraphQLView.as_view()))
    _serve(settings, path("api/", include(inner)))

    assert [w.msg.split(" ")[0] for w in check_grapple_views()] == ["/api/graphql/"]


def test_the_demo_passes_the_check() -> None:
    assert check_grapple_views() == []
