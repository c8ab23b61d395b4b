"""URLs: include with ``path("personalize/", include("personalize.urls"))``."""

from django.urls import path

from personalize.views import endpoints as views
from personalize.views import fragments
from personalize.views import manifest as manifest_views
from personalize.views import privacy as privacy_views

app_name = "personalize"

urlpatterns = [
    path("consent/", views.consent, name="consent"),
    path("events/", views.events, name="events"),
    path("preferences/", views.preference, name="preference"),
    path("privacy/", privacy_views.privacy, name="privacy"),
    path("privacy/export/", privacy_views.privacy_export, name="privacy_export"),
    path("privacy/erase/", privacy_views.privacy_erase, name="privacy_erase"),
    path("debug/", views.visitor_debug, name="debug"),
    path("fragments/<str:token>/", fragments.fragment, name="fragment"),
    path("manifest.json", manifest_views.manifest, name="manifest"),
]
