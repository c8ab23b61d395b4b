"""The demo's URLs, and grapple's own view (no personalization) as the grapple baseline."""

from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from graphene_django.views import GraphQLView

from cms_site.urls import urlpatterns as site_urlpatterns
from personalize.contrib.grapple.views import grapple_schema

#: As grapple's ``grapple.urls`` serves it: graphene-django's view, no limits, no middleware.
VANILLA_GRAPPLE_URL = "/vanilla-grapple/"

urlpatterns = [
    path("vanilla-grapple/", csrf_exempt(GraphQLView.as_view(schema=grapple_schema()))),
    *site_urlpatterns,
]
