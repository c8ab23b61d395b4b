"""The results as markdown: one table row per scenario, targets checked, details below.

Targets (the package is meant to meet them; a miss is printed as ``MISSED`` next to the figure
and does not fail the run):

* ``no_5xx`` — Redis killed or hung: no 5xx, neither seen by the client nor in the server log;
* ``fast`` — Redis killed or hung: p99 under 1 s during the fault;
* ``resume`` — after Redis is back, all counting resumes within 5 s (probes);
* ``no_loss`` — Redis restarted with persistence: no count lost (stored = sent, and the
  restarted server has every count it had before);
* ``loss_reported`` — Redis restarted without persistence: the flush reports the lost counts;
* ``exact`` — baseline: the flush stores exactly the impressions sent.
"""

from __future__ import annotations

import math

from benchmarks.load import metrics
from benchmarks.load.metrics import ScenarioResult

MISSED = "**MISSED**"
P99_TARGET = 1.0
RESUME_TARGET = 5.0


def _ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1000:,.0f}"


def _s(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return "never" if math.isinf(seconds) else f"{seconds:.1f}"


def _missed(text: str, missed: bool, target: str) -> str:
    return f"{text} {MISSED} ({target})" if missed else text


def _p99(result: ScenarioResult) -> float | None:
    return metrics.percentile([s.seconds for s in metrics.measured(result)], 0.99)


def _against(seconds: float | None, baseline: float | None) -> str:
    """Milliseconds, with the ratio to the baseline's p99 of the same run."""
    if seconds is None or not baseline:
        return _ms(seconds)
    return f"{_ms(seconds)} (×{seconds / baseline:.1f})"


def row(result: ScenarioResult, baseline_p99: float | None = None) -> list[str]:
    """The table cells of one scenario (``baseline_p99``: the baseline's p99, for a ratio)."""
    targets = result.scenario.targets
    samples = metrics.measured(result)
    seconds = [s.seconds for s in samples]
    window = [s.seconds for s in metrics.in_window(result)]
    c5, s5 = metrics.client_5xx(result), result.server.errors_5xx
    p99_fault = metrics.percentile(window, 0.99)
    first = metrics.first_count_after(result)
    resumed = metrics.all_counting_after(result)
    sent, stored = result.recorder.expected, metrics.stored(result)
    lost = metrics.lost_at_restart(result)
    flush = f"exit {result.flush.exit_code}"
    return [
        f"{result.scenario.name}: {result.scenario.title}",
        f"{len(samples):,}",
        _missed(f"{c5} / {s5}", "no_5xx" in targets and c5 + s5 > 0, "target 0"),
        str(metrics.no_answer(result)),
        _ms(metrics.percentile(seconds, 0.5)),
        _ms(metrics.percentile(seconds, 0.99)),
        _missed(
            _against(p99_fault, baseline_p99),
            "fast" in targets and (p99_fault is None or p99_fault >= P99_TARGET),
            "target < 1,000",
        ),
        _s(first),
        _missed(
            _s(resumed),
            "resume" in targets and (resumed is None or resumed > RESUME_TARGET),
            "target ≤ 5",
        ),
        f"{sent:,}",
        _missed(
            f"{stored:,} ({stored - sent:+,})",
            ("no_loss" in targets or "exact" in targets) and stored != sent,
            "target = sent",
        ),
        _missed(
            "—" if lost is None else f"{lost:,}", "no_loss" in targets and bool(lost), "target 0"
        ),
        _missed(
            flush,
            "loss_reported" in targets and not metrics.flush_reports_loss(result),
            "target: loss reported",
        ),
    ]


HEADER = [
    "scenario",
    "requests",
    "5xx client / server log",
    "no answer",
    "p50 ms",
    "p99 ms",
    "p99 in fault ms (× baseline p99)",
    "first count after recovery s",
    "all counting resumed s",
    "impressions sent",
    "stored after flush (diff)",
    "lost at restart",
    "flush",
]


def table(results: list[ScenarioResult]) -> str:
    """The markdown table of all scenarios."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    baseline = next((_p99(r) for r in results if r.scenario.name == "baseline"), None)
    lines += ["| " + " | ".join(row(result, baseline)) + " |" for result in results]
    return "\n".join(lines)


def _block(text: str, limit: int = 1200) -> str:
    text = text.strip()
    if len(text) > limit:
        text = "…" + text[-limit:]
    return "```\n" + (text or "(nothing)") + "\n```"


def details(result: ScenarioResult) -> str:
    """What happened in one scenario, beyond the table."""
    server, recorder = result.server, result.recorder
    kinds: dict[str, int] = {}
    for sample in metrics.measured(result):
        kinds[sample.kind] = kinds.get(sample.kind, 0) + 1
    counted, probed = metrics.probes_in_window(result)
    usable = metrics.usable_probes(result)
    usable_counted = sum(1 for p in usable if p.counted)
    lines = [
        f"### {result.scenario.name}: {result.scenario.title}",
        "",
        f"- ran {result.seconds:.0f} s; requests by kind: "
        + ", ".join(f"{kind} {n:,}" for kind, n in sorted(kinds.items())),
        "- timeline: "
        + ("; ".join(f"{at:.1f} s {what}" for at, what in recorder.events) or "no fault"),
        f"- server log: {server.requests:,} requests, statuses "
        + ", ".join(f"{code}: {n:,}" for code, n in sorted(server.statuses.items()))
        + f"; {server.internal_errors} `Internal Server Error` tracebacks; "
        f"{server.worker_timeouts} worker timeouts; {server.workers_booted} workers booted",
        f"- probes during the fault counted: {counted} of {probed}; all probes: {usable_counted} "
        f"of {len(usable)} counted ({len(result.probes) - len(usable)} left out: not answered "
        "200, or overlapping the cron flush)",
        "- impressions sent per visitor class: "
        + ", ".join(f"{v} {n:,}" for v, n in sorted(recorder.expected_by_visitor.items())),
        "- per page, sent / stored: "
        + ", ".join(
            f"page {page} {recorder.expected_by_page.get(page, 0):,} / "
            f"{result.stored_by_page.get(page, 0):,}"
            for page in sorted(set(recorder.expected_by_page) | set(result.stored_by_page), key=str)
        ),
        f"- impressions in Redis after the workload: "
        f"{'unreadable' if result.redis_end is None else f'{result.redis_end:,}'}",
    ]
    if result.fault.before is not None:
        lines.append(
            f"- Redis impression sum before going down {result.fault.before:,}, "
            f"after coming back {result.fault.after:,}"
        )
    if result.fault.terminated:
        lines.append(f"- PostgreSQL backends terminated per round: {result.fault.terminated}")
    lines += [f"- note: {note}" for note in result.notes]
    if server.exceptions:
        lines += ["", "Exceptions of the 500s (server log):", ""]
        lines += [f"- {n} × `{text}`" for text, n in server.exceptions.most_common(6)]
    if server.other:
        lines += ["", "Most frequent other server log lines:", ""]
        lines += [f"- {n} × `{text}`" for text, n in server.other.most_common(5)]
    cron = result.cron_flush
    if cron is not None:
        lines += [
            "",
            f"Flush during the workload (as cron): exit code {cron.exit_code}, output:",
            "",
            _block(cron.stdout + "\n" + cron.stderr, limit=600),
        ]
    lines += [
        "",
        f"`personalize_flush_analytics` after the workload: exit code {result.flush.exit_code}, "
        "output:",
        "",
        _block(result.flush.stdout + "\n" + result.flush.stderr),
        "",
    ]
    return "\n".join(lines)
