"""``python -m benchmarks.load``: run the fault matrix and write the results table.

Exits 0 when every scenario ran (whatever the figures: a missed target is printed as MISSED),
1 when the suite itself failed (a service would not start, a scenario crashed), 130 on Ctrl-C.
Everything started is stopped and the suite's databases are dropped in every case.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
import traceback
from dataclasses import replace
from pathlib import Path
from types import FrameType

from benchmarks.load import app_server, database, machine, processes, report
from benchmarks.load.config import RESULTS, ROOT, RunConfig
from benchmarks.load.faults import SCENARIOS
from benchmarks.load.metrics import ScenarioResult
from benchmarks.load.scenario import run_scenario

#: Server logs of the latest run, one directory per scenario (git-ignored).
LOGS = ROOT / "benchmarks" / "results" / "load"


def parse_args(argv: list[str]) -> tuple[RunConfig, Path]:
    """The run's settings from the command line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__)
    parser.add_argument("--duration", type=float, default=RunConfig.duration)
    parser.add_argument("--concurrency", type=int, default=RunConfig.concurrency)
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        choices=[scenario.name for scenario in SCENARIOS],
        help="run only this scenario (repeatable)",
    )
    parser.add_argument("--results", type=Path, default=RESULTS, help="markdown file written")
    parser.add_argument(
        "--root",
        type=Path,
        default=ROOT,
        help="measure the demo and package of another checkout (e.g. a git worktree)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 20 s per scenario, 6 s faults"
    )
    args = parser.parse_args(argv)
    config = RunConfig(
        duration=args.duration,
        concurrency=args.concurrency,
        only=tuple(args.only),
        root=args.root.resolve(),
    )
    if args.quick:
        config = replace(
            config,
            duration=20.0,
            cron_flush_at=0.5,
            fault_start=5.0,
            fault_length=6.0,
            restart_at=8.0,
            pg_terminations=(6.0, 9.0),
        )
    return config, args.results


def _interrupted(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def render(config: RunConfig, results: list[ScenarioResult], failures: list[str]) -> str:
    """The whole results document."""
    lines = ["# Load and fault runs: latest results", "", *machine.describe(config), ""]
    lines += [report.table(results), ""]
    if failures:
        lines += ["Scenarios that could not run:", ""]
        lines += [f"- {failure}" for failure in failures] + [""]
    lines += ["## Details", ""] + [report.details(result) for result in results]
    return "\n".join(lines)


def run(config: RunConfig, results_path: Path) -> int:
    """Prepare, run every scenario, write the results; returns the exit code."""
    started = time.monotonic()
    print("preparing the template database (migrate, seed_demo)…", flush=True)
    site = app_server.prepare_template(config)
    print(f"  ready in {time.monotonic() - started:.0f} s", flush=True)
    results: list[ScenarioResult] = []
    failures: list[str] = []
    for scenario in SCENARIOS:
        if config.only and scenario.name not in config.only:
            continue
        print(f"scenario {scenario.name}: {scenario.title}…", flush=True)
        try:
            result = run_scenario(config, scenario, site, LOGS / scenario.name)
        except Exception as exc:  # noqa: BLE001 - one broken scenario must not stop the others
            failures.append(f"{scenario.name}: {type(exc).__name__}: {exc}")
            traceback.print_exc()
            continue
        results.append(result)
        print("  " + " | ".join(report.row(result)), flush=True)
    document = render(config, results, failures)
    document += f"\nWhole run: {time.monotonic() - started:.0f} s.\n"
    print("\n" + document)
    results_path.write_text(document)
    print(f"written to {results_path}; server logs in {LOGS}")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    """Run the suite; always clean up."""
    config, results_path = parse_args(sys.argv[1:] if argv is None else argv)
    # Ctrl-C and SIGTERM both end the run through the cleanup below (also when the shell
    # started the suite with SIGINT ignored, as it does for background jobs).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupted)
    try:
        return run(config, results_path)
    except KeyboardInterrupt:
        print("interrupted; cleaning up", file=sys.stderr)
        return 130
    except Exception:  # noqa: BLE001 - the suite failed: report, clean up, exit 1
        traceback.print_exc()
        return 1
    finally:
        processes.end_all()
        for name in (config.database, config.template):
            try:
                database.drop(config, name)
            except Exception as exc:  # noqa: BLE001 - cleanup goes on
                print(f"could not drop database {name}: {exc}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
