"""Redis round trips and commands per request, for an anonymous and a consenting visitor.

Counted at the redis-py client: a round trip is one packet of commands sent (a single command,
a pipeline or a script); commands are what Redis executes on the client's behalf. Needs a real
Redis: ``BENCHMARK_REDIS_URL``. The personalized home page is requested by a first-time anonymous
visitor, and by a consenting visitor coming back with a warm profile.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.test import Client

URL = "/"
VISITOR_ID = "7" * 32


@contextmanager
def counting() -> Iterator[dict[str, int]]:
    """Count round trips and commands sent by every redis-py client while the block runs."""
    from redis.client import Pipeline, Redis

    counts = {"round trips": 0, "commands": 0}
    single = Redis.execute_command
    pipeline = Pipeline.execute

    def execute_command(self: Any, *args: Any, **options: Any) -> Any:
        if not isinstance(self, Pipeline):
            counts["round trips"] += 1
            counts["commands"] += 1
        return single(self, *args, **options)

    def execute(self: Any, raise_on_error: bool = True) -> Any:
        if self.command_stack:
            counts["round trips"] += 1
            counts["commands"] += len(self.command_stack) + (2 if self.transaction else 0)
        return pipeline(self, raise_on_error)

    Redis.execute_command = execute_command  # type: ignore[method-assign]
    Pipeline.execute = execute  # type: ignore[method-assign]
    try:
        yield counts
    finally:
        Redis.execute_command = single  # type: ignore[method-assign]
        Pipeline.execute = pipeline  # type: ignore[method-assign]


def measure(call: Callable[[], object]) -> dict[str, int]:
    """Round trips and commands of one call."""
    with counting() as counts:
        call()
    return dict(counts)


def _consenting_client() -> Client:
    from personalize.signals.consent import dump_consent_cookie
    from personalize.visitors.identity import dump_visitor_id

    client = Client()
    client.cookies["pz_consent"] = dump_consent_cookie(
        ["personalization", "analytics"], time.time()
    )
    client.cookies["pz_vid"] = dump_visitor_id(VISITOR_ID)
    for _ in range(3):  # a returning visitor: profile row, cached copy, analytics state
        assert client.get(URL).status_code == 200
    return client


def run(quick: bool = False) -> list[str]:
    """Return the result table as Markdown lines (needs ``BENCHMARK_REDIS_URL``)."""
    from django.conf import settings
    from django.core.management import call_command

    if "django_redis" not in settings.CACHES["default"]["BACKEND"]:
        return ["## Redis commands per request", "", "Skipped: set BENCHMARK_REDIS_URL."]
    call_command("migrate", verbosity=0)
    call_command("seed_demo", stdout=io.StringIO())
    anonymous = Client()
    anonymous.get(URL)  # warm the process: compiled segments, configuration
    consenting = _consenting_client()
    rows = {
        "anonymous visitor, first request": measure(lambda: Client().get(URL)),
        "anonymous visitor, next request": measure(lambda: anonymous.get(URL)),
        "consenting visitor with a warm profile": measure(lambda: consenting.get(URL)),
    }
    lines = [
        "## Redis commands per request",
        "",
        f"The demo's home page (`{URL}`), counted at the redis-py client.",
        "",
        "| visitor | round trips | commands |",
        "|---|---:|---:|",
    ]
    for label, counts in rows.items():
        lines.append(f"| {label} | {counts['round trips']} | {counts['commands']} |")
    return lines
