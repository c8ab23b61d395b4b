"""URLs: include with ``path("personalize/", include("personalize.urls"))``."""

from django.urls import path

from personalize.views import visitor_debug

app_name = "personalize"

urlpatterns = [
    path("debug/", visitor_debug, name="debug"),
]
