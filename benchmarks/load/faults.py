"""The fault matrix: what each scenario does to Redis or PostgreSQL, and when.

Times are on the recorder's clock (0 is the start of the measured workload). Each fault notes
its window (for the p99 during the fault), the moment the service is back (for how soon
counting resumes), and for a Redis restart the exact counter sum before the shutdown and after
the restart: writes are paused (``CLIENT PAUSE … WRITE``) for the reading before, and the new
server is read on its Unix socket before its TCP port opens, so no request slips in between.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from benchmarks.load import database
from benchmarks.load.config import RunConfig
from benchmarks.load.recorder import Recorder
from benchmarks.load.redis_server import RedisServer, impressions

#: Seconds after a restarted Redis opens its port that still count as the fault window.
RESTART_SETTLING = 1.0


@dataclass
class FaultState:
    """A scenario's fault as it happened."""

    config: RunConfig
    recorder: Recorder
    redis: RedisServer
    #: (start, end) of the fault on the recorder's clock
    window: tuple[float, float] | None = None
    #: when the service was back
    recovered_at: float | None = None
    #: impression sum in Redis right before it went down, and right after it came back
    before: int | None = None
    after: int | None = None
    #: backends terminated per ``pg_terminate_backend`` round
    terminated: list[int] = field(default_factory=list)


async def _at(state: FaultState, when: float) -> None:
    delay = when - state.recorder.now()
    if delay > 0:
        await asyncio.sleep(delay)


async def no_fault(state: FaultState) -> None:
    """Baseline: nothing happens."""


async def _restart(state: FaultState) -> None:
    """Start Redis on the same data dir; read what it loaded before opening its port."""
    await asyncio.to_thread(state.redis.start, listen=False)
    state.after = await asyncio.to_thread(impressions, state.redis.local_client())
    await asyncio.to_thread(state.redis.listen)


async def redis_killed(state: FaultState) -> None:
    """SIGKILL Redis at ``fault_start``; start it again on the same dir at ``fault_end``."""
    config = state.config
    await _at(state, config.fault_start)
    state.before = await asyncio.to_thread(state.redis.paused_impressions)
    await asyncio.to_thread(state.redis.kill)
    start = state.recorder.mark("redis killed (SIGKILL)")
    await _at(state, config.fault_end)
    await _restart(state)
    state.recovered_at = state.recorder.mark("redis started again")
    state.window = (start, state.recovered_at)


async def redis_hung(state: FaultState) -> None:
    """SIGSTOP Redis at ``fault_start``, SIGCONT at ``fault_end``."""
    config = state.config
    await _at(state, config.fault_start)
    state.redis.hang()
    start = state.recorder.mark("redis stopped (SIGSTOP)")
    await _at(state, config.fault_end)
    state.redis.resume()
    state.recovered_at = state.recorder.mark("redis continued (SIGCONT)")
    state.window = (start, state.recovered_at)


async def redis_restarted(state: FaultState) -> None:
    """Shut Redis down cleanly (SIGTERM) at ``restart_at`` and start it on the same dir."""
    await _at(state, state.config.restart_at)
    state.before = await asyncio.to_thread(state.redis.paused_impressions)
    await asyncio.to_thread(state.redis.shutdown)
    start = state.recorder.mark("redis shut down (SIGTERM)")
    await _restart(state)
    state.recovered_at = state.recorder.mark("redis started again")
    # The outage itself is a fraction of a second: the window takes in the reconnections.
    state.window = (start, state.recovered_at + RESTART_SETTLING)


async def postgres_terminated(state: FaultState) -> None:
    """``pg_terminate_backend`` every connection to the scenario's database, in short bursts.

    A single call hits only the connections open at that instant (with ``CONN_MAX_AGE = 0``,
    only the requests in flight); each round therefore terminates every 0.1 s for 1 s, like a
    database failover.
    """
    config = state.config
    start = None
    for when in config.pg_terminations:
        await _at(state, when)
        at = state.recorder.now()
        start = at if start is None else start
        count = 0
        while state.recorder.now() < at + 1.0:
            count += await asyncio.to_thread(
                database.terminate_connections, config, config.database
            )
            await asyncio.sleep(0.1)
        state.terminated.append(count)
        state.recorder.events.append((at, f"{count} PostgreSQL connections terminated in 1 s"))
    state.recovered_at = state.recorder.now()
    state.window = (start if start is not None else state.recovered_at, state.recovered_at)


@dataclass(frozen=True)
class Scenario:
    """One row of the matrix.

    Args:
        name: short id (``--only``).
        title: what happens, for the table.
        persistent: Redis runs with the documented persistence (else none at all).
        fault: the coroutine that injects the fault.
        targets: which targets apply (see :mod:`.report`).
    """

    name: str
    title: str
    persistent: bool
    fault: Callable[[FaultState], Awaitable[None]]
    targets: frozenset[str]


SCENARIOS: list[Scenario] = [
    Scenario("baseline", "no fault", True, no_fault, frozenset({"no_5xx", "exact"})),
    Scenario(
        "redis-kill",
        "Redis SIGKILL, 15 s, restarted",
        True,
        redis_killed,
        frozenset({"no_5xx", "fast", "resume"}),
    ),
    Scenario(
        "redis-hang",
        "Redis SIGSTOP, 15 s, SIGCONT",
        True,
        redis_hung,
        frozenset({"no_5xx", "fast", "resume"}),
    ),
    Scenario(
        "redis-restart-aof",
        "Redis restarted, appendonly yes",
        True,
        redis_restarted,
        frozenset({"no_loss"}),
    ),
    Scenario(
        "redis-restart-none",
        "Redis restarted, no persistence",
        False,
        redis_restarted,
        frozenset({"loss_reported"}),
    ),
    Scenario(
        "pg-terminate",
        "PostgreSQL connections terminated, 3 bursts of 1 s",
        True,
        postgres_terminated,
        frozenset(),
    ),
]
