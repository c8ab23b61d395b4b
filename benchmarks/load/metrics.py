"""Figures of one scenario, computed from what the client, the probes and the server saw.

Latencies cover the measured workload (warm-up left out) and include requests that got no
answer (with the time they took to fail). 5xx counts cover the whole scenario, warm-up
included, on both sides: the client's answers and the server's access log.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from benchmarks.load.faults import FaultState, Scenario
from benchmarks.load.logs import ServerLog
from benchmarks.load.probes import Probe
from benchmarks.load.recorder import Recorder, Sample


@dataclass
class FlushRun:
    """``manage.py personalize_flush_analytics`` as it ran after the workload."""

    exit_code: int
    stdout: str
    stderr: str
    #: when it ran, on the recorder's clock (the cron flush only)
    start: float | None = None
    end: float | None = None


@dataclass
class ScenarioResult:
    """Everything one scenario produced."""

    scenario: Scenario
    recorder: Recorder
    fault: FaultState
    readings: list[tuple[float, int | None]]
    probes: list[Probe]
    #: impression sum in Redis after the workload, before the flush
    redis_end: int | None
    flush: FlushRun
    stored_by_page: dict[int | None, int]
    server: ServerLog
    #: the flush run once during the workload, as cron would (None: it did not finish)
    cron_flush: FlushRun | None = None
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


def percentile(values: list[float], q: float) -> float | None:
    """The ``q`` quantile (0–1) by nearest rank, or None without values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q * len(ordered) + 0.5) - 1))
    return ordered[rank]


def measured(result: ScenarioResult) -> list[Sample]:
    """Requests of the measured workload (not the warm-up, not cancelled at the end)."""
    return [s for s in result.recorder.samples if s.start >= 0 and s.error != "cancelled"]


def in_window(result: ScenarioResult) -> list[Sample]:
    """Measured requests that overlapped the fault window."""
    window = result.fault.window
    if window is None:
        return []
    start, end = window
    return [s for s in measured(result) if s.start <= end and s.end >= start]


def client_5xx(result: ScenarioResult) -> int:
    """Answers with a 5xx status, warm-up included."""
    return sum(1 for s in result.recorder.samples if s.status >= 500)


def no_answer(result: ScenarioResult) -> int:
    """Requests that got no answer (timeout, connection error), warm-up included."""
    return sum(1 for s in result.recorder.samples if s.status == 0 and s.error != "cancelled")


def first_count_after(result: ScenarioResult) -> float | None:
    """Seconds from recovery to the first increase of the impression sum in Redis.

    The sum right after recovery is the one the restarted server loaded (read before its port
    opened) or, for a hang, the first reading after it continued.
    """
    recovered = result.fault.recovered_at
    if recovered is None:
        return None
    base = result.fault.after
    for at, value in result.readings:
        if at < recovered or value is None:
            continue
        if base is None:
            base = value
        elif value > base:
            return at - recovered
    return float("inf")


def _during_cron_flush(result: ScenarioResult, probe: Probe) -> bool:
    cron = result.cron_flush
    if cron is None or cron.start is None or cron.end is None:
        return False
    return probe.start <= cron.end and probe.end >= cron.start


def usable_probes(result: ScenarioResult) -> list[Probe]:
    """Probes that were delivered and did not overlap the cron flush.

    The flush moves the live counters out of Redis, so a probe reading them across that moment
    sees them drop and cannot tell whether it was counted.
    """
    return [p for p in result.probes if p.counted is not None and not _during_cron_flush(result, p)]


def all_counting_after(result: ScenarioResult) -> float | None:
    """Seconds from recovery until every probe is counted (the end of the first counted probe
    after the last one that was not); ``inf`` when the last probe was not counted."""
    recovered = result.fault.recovered_at
    if recovered is None:
        return None
    probes = [p for p in usable_probes(result) if p.start >= recovered]
    if not probes:
        return float("inf")
    missed = [index for index, probe in enumerate(probes) if not probe.counted]
    if not missed:
        return max(0.0, probes[0].end - recovered)
    if missed[-1] == len(probes) - 1:
        return float("inf")
    return probes[missed[-1] + 1].end - recovered


def probes_in_window(result: ScenarioResult) -> tuple[int, int]:
    """Probes delivered during the fault window: (counted, all)."""
    window = result.fault.window
    if window is None:
        return (0, 0)
    inside = [p for p in usable_probes(result) if window[0] <= p.start <= window[1]]
    return (sum(1 for p in inside if p.counted), len(inside))


def stored(result: ScenarioResult) -> int:
    """Impressions the flush stored in ``DailyCount``."""
    return sum(result.stored_by_page.values())


def lost_at_restart(result: ScenarioResult) -> int | None:
    """Counts Redis had before going down and not after coming back (None: no restart)."""
    if result.fault.before is None or result.fault.after is None:
        return None
    return result.fault.before - result.fault.after


def flush_reports_loss(result: ScenarioResult) -> bool:
    """Whether the flush reported lost counters (a non-zero exit or a message saying so)."""
    output = f"{result.flush.stdout}\n{result.flush.stderr}".lower()
    return result.flush.exit_code != 0 or "lost" in output
