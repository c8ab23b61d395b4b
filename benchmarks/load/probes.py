"""Watching the counting from outside, while the load runs.

* :func:`poll_impressions` reads the sum of the live impression counters in Redis every
  ``interval`` seconds: the first increase after a fault ends is when counting resumed at all
  (counts the package kept during the outage and adds back count too).
* :func:`probe_counting` checks single requests. The workload never requests the probe page
  (:data:`.visits.PROBE_PAGE`, which has a personalized block), so its impression counters move
  only for probes: a probe reads them, loads the page as a new desktop visitor, and reads them
  again. Probes run one at a time, about five a second, spread over the workers by gunicorn; the
  last probe not counted after the fault ends tells when *all* workers count again.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis.asyncio as aredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from benchmarks.load.redis_server import DAYS, PREFIX
from benchmarks.load.visits import DESKTOP_AGENTS, PROBE_PAGE, VisitContext


@dataclass(frozen=True)
class Probe:
    """One probe: the probe page for a new visitor, and whether its impression reached Redis."""

    start: float
    end: float
    #: True: counted; False: delivered, not counted; None: the page was not delivered (not 200)
    counted: bool | None


def _client(port: int) -> aredis.Redis:
    # No retries: redis-py's default (retries with backoff) would hold a probe for seconds.
    return aredis.Redis(
        port=port, socket_timeout=0.2, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0)
    )


async def read_impressions(client: Any) -> int:
    """The sum of the live impression counters (as :func:`.redis_server.impressions`)."""
    today = datetime.now(UTC).date().isoformat()
    days = {d.decode() for d in await client.smembers(DAYS)} | {today}
    pipe = client.pipeline(transaction=False)
    for day in sorted(days):
        pipe.hgetall(f"{PREFIX}{day}")
    total = 0
    for raw in await pipe.execute():
        total += sum(int(v) for f, v in raw.items() if f.startswith(b"imp|"))
    return total


async def poll_impressions(
    ctx: VisitContext, port: int, interval: float, stop: asyncio.Event
) -> list[tuple[float, int | None]]:
    """Read the impression sum every ``interval`` until ``stop``; None while unreachable."""
    client = _client(port)
    readings: list[tuple[float, int | None]] = []
    try:
        while not stop.is_set():
            try:
                value: int | None = await read_impressions(client)
            except (aredis.RedisError, OSError):
                value = None
            readings.append((ctx.recorder.now(), value))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
    finally:
        await client.aclose()
    return readings


async def page_impressions(client: Any, page_id: int) -> int:
    """The sum of today's impression counters of one page (``imp|<page_id>|…``)."""
    today = datetime.now(UTC).date().isoformat()
    prefix = f"imp|{page_id}|".encode()
    raw = await client.hgetall(f"{PREFIX}{today}")
    return sum(int(value) for field, value in raw.items() if field.startswith(prefix))


async def _probe(ctx: VisitContext, client: Any, page: dict[str, Any]) -> Probe:
    try:
        before: int | None = await page_impressions(client, page["id"])
    except (aredis.RedisError, OSError):
        before = None
    browser = ctx.browser("probe", {"User-Agent": DESKTOP_AGENTS[0]})
    start = ctx.recorder.now()
    status, _ = await browser.request(
        "GET",
        page["path"],
        kind="probe",
        page_id=page["id"],
        impressions=page["impressions"],
        headers={"Accept": "text/html"},
    )
    end = ctx.recorder.now()
    if status != 200:
        return Probe(start, end, None)
    try:
        after = await page_impressions(client, page["id"])
    except (aredis.RedisError, OSError):
        return Probe(start, end, False)
    # Unreadable before (Redis down, now back): counted if the counter moved at all.
    return Probe(start, end, after > (before if before is not None else 0))


async def probe_counting(
    ctx: VisitContext, port: int, pause: float, stop: asyncio.Event
) -> list[Probe]:
    """Probe one request at a time, ``pause`` seconds apart, until ``stop``.

    Raises:
        RuntimeError: the probe page is missing or has no personalized block.
    """
    page = next((p for p in ctx.site["pages"] if p["path"] == PROBE_PAGE), None)
    if page is None or not page["impressions"]:
        raise RuntimeError(f"the probe page {PROBE_PAGE} is missing or has no personalized block")
    client = _client(port)
    probes: list[Probe] = []
    try:
        while not stop.is_set() and ctx.open():
            probes.append(await _probe(ctx, client, page))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), pause)
    finally:
        await client.aclose()
    return probes
