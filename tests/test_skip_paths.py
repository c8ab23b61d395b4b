"""Requests personalization cannot affect cost nothing: skipped paths, no needless profile read."""

from __future__ import annotations

import io
import time
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.http import HttpRequest, HttpResponse
from django.urls import path

from cms_site import urls as demo_urls
from personalize.profiles.memory import MemoryProfileStore
from personalize.profiles.store import ProfileKey, profile_store
from personalize.signals.consent import dump_consent_cookie
from personalize.tracking.choices import record_consent
from personalize.visitors.skip_paths import is_skipped, skipped_prefixes
from personalize.visitors.visitor import Visitor

pytestmark = pytest.mark.django_db


def plain_view(request: HttpRequest) -> HttpResponse:
    """A view that neither personalizes nor is a Wagtail page."""
    return HttpResponse("plain")


#: The demo's URLs, Django's admin and :func:`plain_view` (``@pytest.mark.urls(__name__)``).
urlpatterns = [
    path("plain/", plain_view),
    path("django-admin/", admin.site.urls),
    # Spread, not included: the demo's page URLs are i18n_patterns, which only a root URLconf
    # may hold.
    *demo_urls.urlpatterns,
]


class CountingProfileStore(MemoryProfileStore):
    """The in-memory store, remembering which profiles were loaded."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[ProfileKey] = []

    def load(self, key: ProfileKey) -> Any:
        """Record the key, then load as the memory store does."""
        self.loads.append(key)
        return super().load(key)


@pytest.fixture
def counting_store(settings: Any) -> CountingProfileStore:
    settings.PERSONALIZE = {
        **settings.PERSONALIZE,
        "PROFILE_STORE": "tests.test_skip_paths.CountingProfileStore",
    }
    store = profile_store()
    assert isinstance(store, CountingProfileStore)
    return store


@pytest.fixture
def demo(db: Any) -> None:
    call_command("seed_demo", stdout=io.StringIO())


def consent_cookie(*purposes: str) -> str:
    return dump_consent_cookie(purposes, time.time())


def test_prefixes_come_from_the_urlconf_and_settings(settings: Any) -> None:
    settings.PERSONALIZE = {**settings.PERSONALIZE, "SKIP_PATHS": ["/healthz", "/robots.txt"]}
    assert skipped_prefixes("cms_site.urls") == (
        "/admin/",
        "/static/",
        "/media/",
        "/healthz",
        "/robots.txt",
    )


def test_django_admin_is_skipped_when_its_urls_are_included(settings: Any) -> None:
    settings.STATIC_URL = "https://cdn.example.com/static/"
    settings.MEDIA_URL = "/"
    # A CDN's URL and a bare "/" are never skipped.
    assert skipped_prefixes(__name__) == ("/admin/", "/django-admin/")


def test_urlconf_without_admin_skips_only_files() -> None:
    assert skipped_prefixes("personalize.urls") == ("/static/", "/media/")


@pytest.mark.parametrize(
    ("path", "skipped"),
    [
        ("/admin/", True),
        ("/admin/pages/3/edit/", True),
        ("/static/css/site.css", True),
        ("/media/images/a.jpg", True),
        ("/", False),
        ("/administration/", False),
        ("/guides/", False),
    ],
)
def test_is_skipped(rf: Any, path: str, skipped: bool) -> None:
    assert is_skipped(rf.get(path)) is skipped


@pytest.mark.parametrize("value", ["/healthz", ["healthz"], [None]])
def test_skip_paths_must_be_a_list_of_paths(settings: Any, rf: Any, value: Any) -> None:
    settings.PERSONALIZE = {**settings.PERSONALIZE, "SKIP_PATHS": value}
    with pytest.raises(ImproperlyConfigured, match=r"SKIP_PATHS'\] must be a list of path"):
        is_skipped(rf.get("/"))


def test_admin_request_gets_a_lazy_visitor_and_nothing_else(
    client: Any, demo: None, counting_store: CountingProfileStore
) -> None:
    user = User.objects.get(username="admin")
    record_consent(ProfileKey(user_id=user.pk), ("personalization", "analytics"), time.time())
    client.force_login(user)
    counting_store.loads.clear()  # logging in merged and read the profile
    response = client.get("/admin/", {"utm_source": "google", "utm_medium": "cpc"})
    assert response.status_code == 200
    visitor = response.wsgi_request.visitor
    assert isinstance(visitor, Visitor)
    assert {"consent", "context", "profile", "matches"} & visitor.__dict__.keys() == set()
    assert "pz_attr" not in response.cookies
    # Wagtail's own header, unchanged.
    assert response["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"
    assert counting_store.loads == []


def test_configured_path_is_skipped(client: Any, demo: None, settings: Any) -> None:
    settings.PERSONALIZE = {**settings.PERSONALIZE, "SKIP_PATHS": ["/guides/"]}
    client.cookies["pz_consent"] = consent_cookie("personalization")
    response = client.get("/guides/", {"utm_source": "google", "utm_medium": "cpc"})
    assert response.status_code == 200
    assert "pz_attr" not in response.cookies
    assert "pz_attr" in client.get("/", {"utm_source": "google", "utm_medium": "cpc"}).cookies


def test_admin_logout_still_forgets_the_browser(client: Any, demo: None) -> None:
    client.force_login(User.objects.get(username="admin"))
    client.cookies["pz_vid"] = "some-visitor"
    response = client.post("/admin/logout/")
    assert response.cookies["pz_vid"].value == ""
    assert response.cookies["pz_vid"]["max-age"] == 0


@pytest.mark.urls(__name__)
def test_unpersonalized_request_reads_no_stored_consent(
    client: Any, demo: None, counting_store: CountingProfileStore
) -> None:
    user = User.objects.get(username="admin")
    record_consent(ProfileKey(user_id=user.pk), ("personalization",), time.time())
    client.force_login(user)
    counting_store.loads.clear()  # logging in merged and read the profile
    response = client.get("/plain/", {"utm_source": "google", "utm_medium": "cpc"})
    assert response.content == b"plain"
    # The account's choice would decide; nothing in the request was worth reading it for.
    assert counting_store.loads == []
    assert "pz_attr" not in response.cookies


@pytest.mark.urls(__name__)
def test_explicit_cookie_decides_without_a_profile_read(
    client: Any, demo: None, counting_store: CountingProfileStore
) -> None:
    client.force_login(User.objects.get(username="admin"))
    counting_store.loads.clear()  # logging in merged and read the profile
    client.cookies["pz_consent"] = consent_cookie("personalization")
    response = client.get("/plain/", {"utm_source": "newsletter", "utm_medium": "email"})
    assert counting_store.loads == []
    assert "pz_attr" in response.cookies


def test_page_view_reads_the_stored_consent_and_remembers_attribution(
    client: Any, demo: None, counting_store: CountingProfileStore
) -> None:
    user = User.objects.get(username="admin")
    record_consent(ProfileKey(user_id=user.pk), ("personalization",), time.time())
    client.force_login(user)
    counting_store.loads.clear()  # logging in merged and read the profile
    response = client.get("/journal/", {"utm_source": "newsletter", "utm_medium": "email"})
    assert response.status_code == 200
    assert ProfileKey(user_id=user.pk) in counting_store.loads
    assert "pz_attr" in response.cookies
