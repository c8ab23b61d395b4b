"""A real Varnish (Debian's varnishd) in front of the site, with the VCL of docs/how-to/cdn.md.

A mixed workload of visitors (devices, countries through the CDN's header, referrers, consent,
A/B arms, logged-in users) goes through Varnish; every response must equal what the origin
gives that visitor directly (no leak), most must come from the cache, and publishing must purge
every variant of the page.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IPHONE, WINDOWS_CHROME
from tests.test_caching import (
    ANDROID,
    BLOCK_KEY,
    CACHE_MIDDLEWARE,
    MEMBERS_ONLY,
    TEMPLATES,
    _consent_cookie,
    _variant,
)

VCL = Path(__file__).resolve().parent.parent / "docs" / "how-to" / "personalize.vcl"
VARNISHD = shutil.which("varnishd") or "/usr/sbin/varnishd"

pytestmark = [
    pytest.mark.varnish,
    pytest.mark.skipif(
        not os.path.exists(VARNISHD) and not os.environ.get("CI"),
        reason="varnishd is not installed (apt-get install varnish); CI installs it",
    ),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def origin(live_server: Any, settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    import copy

    from cms_site.home.models import ContentPage

    settings.MIDDLEWARE = [
        CACHE_MIDDLEWARE, *(m for m in settings.MIDDLEWARE if m != CACHE_MIDDLEWARE)
    ]
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["DIRS"] = [str(TEMPLATES), *templates[0].get("DIRS", [])]
    settings.TEMPLATES = templates
    settings.PERSONALIZE = {
        **settings.PERSONALIZE,
        "PAGE_CACHE_TIMEOUT": 300,
        # Varnish does the caching; the origin only says what may be shared.
        "PAGE_CACHE_STORE": False,
        # Varnish, on this host, passes the CDN's country header on.
        "TRUSTED_PROXIES": ["127.0.0.1/32"],
    }
    monkeypatch.setattr(ContentPage, "template", "caching_page.html")
    return live_server


@pytest.fixture
def varnish(origin: Any, tmp_path: Path) -> Iterator[str]:
    yield from _varnish_for(origin, tmp_path)


def _varnish_for(origin: Any, tmp_path: Path) -> Iterator[str]:
    """varnishd with the how-to's VCL in front of ``origin``, until the generator is closed."""
    host, port = origin.url.removeprefix("http://").split(":")
    vcl = tmp_path / "site.vcl"
    vcl.write_text(
        VCL.read_text()
        .replace('.host = "127.0.0.1";', f'.host = "{host}";')
        .replace('.port = "8000";', f'.port = "{port}";')
    )
    listen = _free_port()
    process = subprocess.Popen(  # noqa: S603 - a fixed program with our own arguments
        [VARNISHD, "-F", "-j", "none", "-n", str(tmp_path / "work"), "-f", str(vcl),
         "-a", f"127.0.0.1:{listen}", "-s", "malloc,64m", "-p", "default_grace=0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while True:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", listen)) == 0:
                break
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"varnishd did not start: {process.stderr.read()!r}")
        time.sleep(0.1)
    try:
        yield f"http://127.0.0.1:{listen}"
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()


def _fetch(url: str, headers: dict[str, str]) -> tuple[int, Any, bytes]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return response.status, response.headers, response.read()


def _site(segment_factory: Any) -> Any:
    """The page: variants for phones (with an A/B test), Austria and search, and a gate."""
    from cms_site.home.models import ContentPage
    from personalize.models import Experiment

    phones = segment_factory("Phones", condition={"device.type": "mobile"}, slug="phones")
    austria = segment_factory("Austria", condition={"geo.country": "AT"}, slug="austria")
    search = segment_factory(
        "Search", condition={"referral.channel": "organic_search"}, slug="search"
    )
    phone_variant = _variant("Phones", phones.pk, "For phones", "1" * 32, alternatives=[
        {"label": "B", "weight": 50, "content": [{"type": "heading", "value": "Phones B"}]}
    ])  # fmt: skip
    body = [
        {"type": "heading", "value": "Offers"},
        {
            "type": "personalized",
            "value": {
                "variants": [
                    phone_variant,
                    _variant("Austria", austria.pk, "Servus", "2" * 32),
                    _variant("Search", search.pk, "Found us", "3" * 32),
                ],
                "default": [{"type": "heading", "value": "For everyone"}],
                "key": BLOCK_KEY,
            },
        },
        MEMBERS_ONLY,
    ]
    page = ContentPage(title="Offers", slug="offers", body=body)
    root = _default_site_root()
    root.add_child(instance=page)
    page.save_revision().publish()
    Experiment.objects.filter(key="1" * 32).update(status="running")
    return page


def _default_site_root() -> Any:
    """The default site's root page; created when a transactional test flushed the tables."""
    from django.conf import settings
    from wagtail.models import Locale, Page, Site

    site = Site.objects.filter(is_default_site=True).first()
    if site is not None:
        return site.root_page
    locale, _ = Locale.objects.get_or_create(language_code=settings.LANGUAGE_CODE)
    root = Page.get_first_root_node() or Page.add_root(
        instance=Page(title="Root", slug="root", locale=locale)
    )
    home = root.add_child(instance=Page(title="Home", slug="home", locale=locale))
    Site.objects.create(hostname="localhost", root_page=home, is_default_site=True)
    return home


def _consenting(url: str, agent: str) -> dict[str, str]:
    """A consenting visitor's headers, with the cookies a browser keeps from its first visit."""
    jar = {"pz_consent": _consent_cookie()}
    for _ in range(2):
        cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
        _, headers, _ = _fetch(url, {"User-Agent": agent, "Cookie": cookie})
        for line in headers.get_all("Set-Cookie") or []:
            name, value = line.split(";", 1)[0].split("=", 1)
            jar[name] = value
    assert "pz_vid" in jar
    return {"User-Agent": agent, "Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())}


def _visitors(origin_url: str, page_url: str, session: str) -> list[dict[str, str]]:
    """Visitors as header sets: devices, countries, referrers, consent with ids, a logged-in one."""
    visitors = []
    for agent in (IPHONE, ANDROID, WINDOWS_CHROME):
        for country in ("AT", "DE", "US"):
            for referer in ("", "https://www.google.com/"):
                headers = {"User-Agent": agent, "CF-IPCountry": country}
                if referer:
                    headers["Referer"] = referer
                visitors.append(headers)
    for n in range(6):
        # Consenting visitors with their own visitor id: each keeps their A/B arm.
        agent = (IPHONE, ANDROID, WINDOWS_CHROME)[n % 3]
        visitors.append(_consenting(origin_url + page_url, agent))
    visitors.append({"User-Agent": IPHONE, "Cookie": f"sessionid={session}"})
    return visitors


# The live server needs committed data.
@pytest.mark.django_db(transaction=True)
def test_mixed_visitors_through_varnish_see_only_their_own_page(
    origin: Any, varnish: str, segment_factory: Any, django_user_model: Any
) -> None:
    from django.contrib.auth import SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    page = _site(segment_factory)
    user = django_user_model.objects.create_user("member", password="pw")  # noqa: S106
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.save()

    visitors = _visitors(origin.url, page.url, str(session.session_key))
    rng = random.Random(7)  # noqa: S311 - a reproducible workload
    workload = [rng.choice(visitors) for _ in range(300)]
    leaks, hits, shared = 0, 0, 0
    for headers in workload:
        status, got, body = _fetch(varnish + page.url, headers)
        _, direct_headers, direct = _fetch(origin.url + page.url, headers)
        assert status == 200
        leaks += body != direct
        if got.get("X-Cache") == "hit":
            hits += 1
        if "sessionid" not in headers.get("Cookie", ""):
            shared += 1
    members = _fetch(varnish + page.url, visitors[-1])[2]
    anonymous = _fetch(varnish + page.url, visitors[0])[2]

    assert leaks == 0
    assert b"Members only" in members and b"Members only" not in anonymous
    assert hits / shared >= 0.85, (hits, shared)


# The live server needs committed data.
@pytest.mark.django_db(transaction=True)
def test_publishing_purges_every_variant_of_the_page(
    origin: Any, varnish: str, settings: Any, segment_factory: Any
) -> None:
    from wagtail.contrib.frontend_cache.utils import purge_page_from_cache

    page = _site(segment_factory)
    settings.WAGTAILFRONTENDCACHE = {
        "varnish": {
            "BACKEND": "wagtail.contrib.frontend_cache.backends.HTTPBackend",
            "LOCATION": varnish,
        }
    }
    phone = {"User-Agent": IPHONE, "CF-IPCountry": "DE"}
    desktop = {"User-Agent": WINDOWS_CHROME, "CF-IPCountry": "DE"}
    for headers in (phone, desktop, phone, desktop):
        _fetch(varnish + page.url, headers)
    assert _fetch(varnish + page.url, phone)[1]["X-Cache"] == "hit"
    assert _fetch(varnish + page.url, desktop)[1]["X-Cache"] == "hit"

    page.title = "New offers"
    page.save_revision().publish()
    purge_page_from_cache(page)

    assert _fetch(varnish + page.url, phone)[1]["X-Cache"] == "miss"
    assert _fetch(varnish + page.url, desktop)[1]["X-Cache"] == "miss"


def test_the_how_to_shows_the_tested_vcl() -> None:
    how_to = (VCL.parent / "cdn.md").read_text()
    assert f"```vcl\n{VCL.read_text()}```" in how_to


@pytest.fixture
def demo_origin(live_server: Any, settings: Any) -> Any:
    import io

    from django.core.management import call_command

    settings.MIDDLEWARE = [
        CACHE_MIDDLEWARE, *(m for m in settings.MIDDLEWARE if m != CACHE_MIDDLEWARE)
    ]
    settings.PERSONALIZE = {
        **settings.PERSONALIZE,
        "PAGE_CACHE_TIMEOUT": 300,
        "PAGE_CACHE_STORE": False,
        "TRUSTED_PROXIES": ["127.0.0.1/32"],
        "EXPLAIN_LINKS": True,
        "GATE_URL": "/accounts/register/",
    }
    _default_site_root()
    call_command("seed_demo", stdout=io.StringIO())
    return live_server


@pytest.fixture
def demo_varnish(demo_origin: Any, tmp_path: Path) -> Iterator[str]:
    yield from _varnish_for(demo_origin, tmp_path)


@pytest.mark.django_db(transaction=True)
def test_the_demo_behind_varnish_shares_its_pages_without_a_leak(
    demo_origin: Any, demo_varnish: str
) -> None:
    varnish = demo_varnish
    paths = ["/", "/journal/", "/guides/"]
    visitors = []
    for agent in (IPHONE, ANDROID, WINDOWS_CHROME):
        for country in ("AT", "US"):
            for referer in ("", "https://www.google.com/"):
                headers = {"User-Agent": agent, "CF-IPCountry": country}
                if referer:
                    headers["Referer"] = referer
                visitors.append(headers)
    visitors += [_consenting(demo_origin.url + "/", agent) for agent in (IPHONE, WINDOWS_CHROME)]
    rng = random.Random(11)  # noqa: S311 - a reproducible workload
    leaks, hits = 0, 0
    requests = [(rng.choice(paths), rng.choice(visitors)) for _ in range(150)]
    for path, headers in requests:
        _, got, body = _fetch(varnish + path, headers)
        _, _, direct = _fetch(demo_origin.url + path, headers)
        leaks += body != direct
        hits += got.get("X-Cache") == "hit"

    assert leaks == 0
    assert hits / len(requests) >= 0.7, hits
