"""One scenario, from fresh services to its figures.

1. a fresh copy of the seeded database, a fresh Redis (its own port and temporary data dir),
   gunicorn on both;
2. warm-up, then the measured workload with the impression poller, the counting probes and the
   fault running beside it;
3. gunicorn stopped (its logs complete), the live counters read, ``personalize_flush_analytics``
   run, the impressions it stored read back;
4. everything of the scenario stopped and removed (the server logs are kept).
"""

from __future__ import annotations

import asyncio
import csv
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from benchmarks.load import app_server, database, processes
from benchmarks.load.config import RunConfig
from benchmarks.load.faults import FaultState, Scenario
from benchmarks.load.logs import read_server_log
from benchmarks.load.metrics import FlushRun, ScenarioResult
from benchmarks.load.probes import Probe, poll_impressions, probe_counting
from benchmarks.load.recorder import Recorder
from benchmarks.load.redis_server import RedisServer, impressions
from benchmarks.load.visits import VisitContext
from benchmarks.load.workload import client_session, run_load, warm_up

#: Seconds between two counting probes.
PROBE_PAUSE = 0.1


@dataclass
class _Measured:
    recorder: Recorder
    state: FaultState
    readings: list[tuple[float, int | None]]
    probes: list[Probe]
    warm: float
    cron_flush: FlushRun | None


async def _cron_flush(config: RunConfig, env: dict[str, str], recorder: Recorder) -> FlushRun:
    """The flush cron would run every few minutes, once before any fault.

    It moves the counts so far into the database and lets the flush record the counter store's
    epoch, so that a later flush can tell that Redis lost its data.
    """
    delay = config.cron_flush_at - recorder.now()
    if delay > 0:
        await asyncio.sleep(delay)
    start = recorder.mark("cron flush started")
    done = await asyncio.to_thread(app_server.manage, config, env, "personalize_flush_analytics")
    end = recorder.mark(f"cron flush done (exit {done.returncode})")
    return FlushRun(done.returncode, done.stdout, done.stderr, start, end)


async def _measure(
    config: RunConfig,
    scenario: Scenario,
    site: dict[str, Any],
    app: app_server.AppServer,
    server: RedisServer,
) -> _Measured:
    """Warm up, then run the workload, the watchers, the cron flush and the fault together."""
    async with client_session(config.request_timeout, config.concurrency) as session:
        base = f"http://127.0.0.1:{app.port}"
        warm = await warm_up(
            session, base, [page["path"] for page in site["pages"]], config.workers
        )
        recorder = Recorder(t0=time.monotonic() + config.warmup)
        ctx = VisitContext(session, base, recorder, site, until=config.duration, think=config.think)
        state = FaultState(config, recorder, server)
        stop = asyncio.Event()
        poller = asyncio.create_task(poll_impressions(ctx, server.port, config.poll_interval, stop))
        prober = asyncio.create_task(probe_counting(ctx, server.port, PROBE_PAUSE, stop))
        cron = asyncio.create_task(_cron_flush(config, app.env, recorder))
        fault = asyncio.create_task(scenario.fault(state))
        load = asyncio.create_task(run_load(ctx, config.concurrency, config.seed))
        limit = config.warmup + config.duration + config.request_timeout + 15
        try:
            await asyncio.wait_for(asyncio.shield(load), limit)
            await asyncio.wait_for(fault, 30)
            cron_flush = await asyncio.wait_for(cron, 120)
        finally:
            stop.set()
            for task in (load, fault, cron):
                task.cancel()
            await asyncio.gather(load, fault, cron, return_exceptions=True)
        readings = await asyncio.wait_for(poller, 10)
        probes = await asyncio.wait_for(prober, config.request_timeout + 10)
    return _Measured(recorder, state, readings, probes, warm, cron_flush)


def _redis_end(server: RedisServer) -> int | None:
    try:
        return impressions(server.client())
    except redis.RedisError:
        return None


def _dump(logs: Path, measured: _Measured) -> None:
    """Keep the raw measurements beside the server logs (CSV), to look into a figure."""
    with (logs / "requests.csv").open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["start", "end", "kind", "visitor", "status", "error", "expected"])
        for s in measured.recorder.samples:
            writer.writerow(
                [f"{s.start:.3f}", f"{s.end:.3f}", s.kind, s.visitor, s.status, s.error, s.expected]
            )
    with (logs / "counters.csv").open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["time", "impressions_in_redis"])
        writer.writerows(
            [f"{at:.3f}", "" if value is None else value] for at, value in measured.readings
        )
    with (logs / "probes.csv").open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["start", "end", "counted"])
        writer.writerows([f"{p.start:.3f}", f"{p.end:.3f}", p.counted] for p in measured.probes)


def run_scenario(
    config: RunConfig, scenario: Scenario, site: dict[str, Any], logs: Path
) -> ScenarioResult:
    """Run one scenario on fresh services; everything it started is stopped on return."""
    started, load_before = time.monotonic(), os.getloadavg()[0]
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir(parents=True)
    data_dir = Path(tempfile.mkdtemp(prefix=f"pz-load-{scenario.name}-"))
    server = RedisServer(
        data_dir, processes.free_port(), persistent=scenario.persistent, log=logs / "redis.log"
    )
    env = app_server.django_env(config, database_name=config.database, redis_url=server.url)
    app = app_server.AppServer(config, processes.free_port(), env, logs)
    database.drop(config, config.database)
    database.create(config, config.database, template=config.template)
    try:
        server.start()
        app.start()
        measured = asyncio.run(_measure(config, scenario, site, app, server))
        app.stop()
        redis_end = _redis_end(server)
        done = app_server.manage(config, env, "personalize_flush_analytics", timeout=120)
        flush = FlushRun(done.returncode, done.stdout, done.stderr)
        stored = database.stored_impressions(config)
    finally:
        app.stop()
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
        database.drop(config, config.database)
    _dump(logs, measured)
    return ScenarioResult(
        scenario=scenario,
        recorder=measured.recorder,
        fault=measured.state,
        readings=measured.readings,
        probes=measured.probes,
        cron_flush=measured.cron_flush,
        redis_end=redis_end,
        flush=flush,
        stored_by_page=stored,
        server=read_server_log(app.access_log, app.error_log),
        seconds=time.monotonic() - started,
        notes=[
            f"workers warmed up in {measured.warm:.1f} s (crawler requests, not counted)",
            f"machine load average (1 min) {load_before:.1f} before, "
            f"{os.getloadavg()[0]:.1f} after the scenario",
        ],
    )
