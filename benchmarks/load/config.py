"""What one run measures: durations, concurrency, fault timings, names of the services used."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

#: The repository root (``manage.py`` lives here).
ROOT = Path(__file__).resolve().parents[2]
#: The interpreter running the suite; gunicorn and ``manage.py`` run in the same environment.
BIN = Path(os.environ.get("VIRTUAL_ENV") or ROOT / ".venv") / "bin"
#: Where the latest run's table is written (committed: the figures of the latest run).
RESULTS = Path(__file__).resolve().parent / "results.md"


@dataclass(frozen=True)
class RunConfig:
    """The knobs of one run (all times in seconds from the start of the measured workload)."""

    #: Measured workload per scenario.
    duration: float = 40.0
    #: Requests before the measured workload (counted as sent, left out of the latencies).
    warmup: float = 4.0
    #: Concurrent simulated visitors (closed loop: each waits for its answer).
    concurrency: int = 8
    #: Mean pause of a visitor after each page or call (uniform over 0.5–1.5 times this), so
    #: the server runs below saturation (~60% on 2 cores) and latencies are not all queueing.
    think: float = 0.4
    #: Gunicorn sync workers.
    workers: int = 3
    #: The flush cron would run, once, before any fault (it records the store's epoch).
    cron_flush_at: float = 1.0
    #: Redis killed or hung: from when, for how long.
    fault_start: float = 10.0
    fault_length: float = 15.0
    #: Redis restarted (with and without persistence): when.
    restart_at: float = 20.0
    #: PostgreSQL connections terminated: when each 1-second burst starts.
    pg_terminations: tuple[float, ...] = (12.0, 17.0, 22.0)
    #: How often the impression counters in Redis are read.
    poll_interval: float = 0.1
    #: A request slower than this is given up (gunicorn's worker timeout is the same).
    request_timeout: float = 30.0
    #: Random seed of the workload (visitors, pages, order).
    seed: int = 20_240_601
    #: PostgreSQL: server and database names (created and dropped by the suite).
    pg_host: str = "127.0.0.1"
    pg_port: int = 5432
    pg_user: str = "postgres"
    database: str = "pz_load"
    template: str = "pz_load_template"
    #: The checkout whose demo and package are measured (a git worktree of another commit, to
    #: compare); the suite itself always runs from this one.
    root: Path = ROOT
    #: Scenario names to run (empty: all).
    only: tuple[str, ...] = field(default_factory=tuple)

    def database_url(self, name: str | None = None) -> str:
        """A ``DATABASE_URL`` for the scenario database (or ``name``)."""
        return f"postgres://{self.pg_user}@{self.pg_host}:{self.pg_port}/{name or self.database}"

    @property
    def fault_end(self) -> float:
        """When a kill or hang ends (Redis restarted or continued)."""
        return self.fault_start + self.fault_length
