"""Shared fixtures: requests with chosen signals, segments, the registry, Redis."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
WINDOWS_CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
)
#: A fixed instant: Wednesday 2026-11-25 08:30 UTC (09:30 in Berlin).
NOW = datetime(2026, 11, 25, 8, 30, tzinfo=UTC)

#: Wagtail's own suite runs under Django's runner with its own settings (``make test-wagtail``).
collect_ignore = ["wagtail_suite"]


@pytest.fixture
def make_request(rf: Any) -> Any:
    """Build a GET request with the given signals (middleware-free, user optional)."""
    from django.contrib.auth.models import AnonymousUser

    def build(
        path: str = "/",
        *,
        headers: dict[str, str] | None = None,
        remote_addr: str = "203.0.113.9",
        user: Any = None,
        cookies: dict[str, str] | None = None,
        data: dict[str, str] | None = None,
    ) -> Any:
        request = rf.get(path, data=data or {}, headers=headers or {}, REMOTE_ADDR=remote_addr)
        request.user = user if user is not None else AnonymousUser()
        for name, value in (cookies or {}).items():
            request.COOKIES[name] = value
        return request

    return build


@pytest.fixture(autouse=True)
def _fresh_registry(request: Any) -> Iterator[None]:
    """Every test starts with an empty cache and no compiled segments (Django tests only)."""
    if not request.config.pluginmanager.hasplugin("django"):
        yield
        return
    request.getfixturevalue("settings")
    from django.core.cache import cache

    from personalize.analytics.experiments import experiment_registry
    from personalize.analytics.goals import goal_registry
    from personalize.analytics.pending import pending
    from personalize.analytics.store import reset_counter_store
    from personalize.cache import breaker
    from personalize.conf import personalize_settings
    from personalize.profiles.scoring import config_registry
    from personalize.profiles.store import reset_profile_store
    from personalize.tracking.events import page_tags_changed
    from personalize.visitors.registry import registry

    def reset() -> None:
        registry.reset()
        config_registry.reset()
        experiment_registry.reset()
        goal_registry.reset()
        reset_counter_store()
        reset_profile_store()
        page_tags_changed()
        personalize_settings.reload()
        breaker.reset()
        pending.take()

    cache.clear()
    reset()
    yield
    reset()


@pytest.fixture
def segment_factory(db: Any) -> Any:
    """Create a segment from rule blocks or a raw condition."""
    from personalize.models import Segment

    counter = iter(range(1, 10_000))

    def create(
        name: str | None = None,
        *,
        rules: list[dict[str, Any]] | None = None,
        condition: dict[str, Any] | None = None,
        **fields: Any,
    ) -> Segment:
        number = next(counter)
        name = name or f"Segment {number}"
        segment = Segment(name=name, slug=fields.pop("slug", f"segment-{number}"), **fields)
        if rules is not None:
            segment.rules = rules
        if condition is not None:
            segment.condition = condition
        segment.full_clean()
        segment.save()
        return segment

    return create


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.3)
        return sock.connect_ex((host, port)) == 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real Redis: REDIS_URL, else a local server, else one started here; never skipped in CI."""
    url = os.environ.get("REDIS_URL")
    if url:
        yield url
        return
    if _port_open("127.0.0.1", 6379):
        yield "redis://127.0.0.1:6379/15"
        return
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("CI needs Redis: set REDIS_URL or install redis-server")
        pytest.skip("no Redis: redis-server is not installed and REDIS_URL is not set")
    port = _free_port()
    process = subprocess.Popen(  # noqa: S603
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(50):
        if _port_open("127.0.0.1", port):
            break
        time.sleep(0.1)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=5)


def without_clock_segments() -> None:
    """Disable the demo's "Morning readers" segment, whose match depends on the time of day
    the suite runs at (tests that count per matched segment must not)."""
    from personalize.models import Segment
    from personalize.visitors.registry import segments_changed

    Segment.objects.filter(slug="morning-readers").update(enabled=False)
    segments_changed()  # update() sends no signals


def redis_cache(url: str) -> dict[str, Any]:
    """A django-redis cache on ``url`` with a key prefix of its own and short timeouts."""
    import uuid

    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": url,
        "KEY_PREFIX": f"test-{uuid.uuid4().hex[:8]}",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.3, "SOCKET_TIMEOUT": 0.3},
    }
