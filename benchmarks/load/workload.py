"""The closed-loop load: ``concurrency`` simulated visitors, each waiting for its answers.

:func:`warm_up` first makes every gunicorn worker load its templates and lazy imports (as a
crawler, which the package does not count); :func:`run_load` then runs visits of the classes in
:data:`.visits.CLASSES` until the workload's end on the recorder's clock. Nothing new starts
after that; requests in flight end within the request timeout.
"""

from __future__ import annotations

import asyncio
import random
import time

import aiohttp

from benchmarks.load.visits import BOT_AGENTS, CLASSES, VisitContext


def client_session(timeout: float, concurrency: int) -> aiohttp.ClientSession:
    """The shared HTTP session: no cookie jar (visitors keep their own), bounded timeouts."""
    return aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=timeout, connect=5.0),
        cookie_jar=aiohttp.DummyCookieJar(),
        connector=aiohttp.TCPConnector(limit=concurrency * 2 + 4, force_close=True),
    )


async def warm_up(
    session: aiohttp.ClientSession, base: str, paths: list[str], workers: int
) -> float:
    """Request every page as a crawler, ``workers`` at a time, until a whole round is fast.

    One request per worker at a time, so a slow answer is a cold worker, not a queue. Rounds
    go on until every answer of a round takes under 1 s (a cold worker takes several), for at
    most 20 s.

    Returns:
        Seconds spent.
    """
    started = time.monotonic()
    headers = {"User-Agent": BOT_AGENTS[0]}
    slots = asyncio.Semaphore(workers)

    async def fetch(path: str) -> float:
        async with slots:
            begin = time.monotonic()
            try:
                async with session.get(
                    base + path, headers=headers, allow_redirects=False
                ) as answer:
                    await answer.read()
            except (TimeoutError, aiohttp.ClientError):
                return 99.0
            return time.monotonic() - begin

    while time.monotonic() - started < 20.0:
        durations = await asyncio.gather(*(fetch(path) for path in paths * workers))
        if max(durations) < 1.0:
            break
    return time.monotonic() - started


async def _visitor(ctx: VisitContext, rng: random.Random) -> None:
    names = [visit for _, _, visit in CLASSES]
    weights = [weight for _, weight, _ in CLASSES]
    while ctx.open():
        visit = rng.choices(names, weights)[0]
        await visit(ctx, rng)
        await ctx.pause(rng)


async def run_load(ctx: VisitContext, concurrency: int, seed: int) -> None:
    """Run ``concurrency`` visitors until ``ctx.until`` (each with its own seeded random)."""
    await asyncio.gather(
        *(_visitor(ctx, random.Random(seed * 1000 + index)) for index in range(concurrency))
    )
