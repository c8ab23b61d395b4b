"""The machine and the code a run measured, for the head of the results."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import psycopg

from benchmarks.load.config import ROOT, RunConfig
from benchmarks.load.database import connect


def _cpu() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _memory() -> str:
    try:
        with open("/proc/meminfo") as meminfo:
            kib = int(meminfo.readline().split()[1])
        return f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        return "unknown memory"


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "?"


def _output(*command: str, cwd: Path = ROOT) -> str:
    try:
        done = subprocess.run(  # noqa: S603 - fixed commands
            list(command), capture_output=True, text=True, timeout=10, check=False, cwd=cwd
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip()


def _code(root: Path) -> str:
    commit = _output("git", "rev-parse", "--short", "HEAD", cwd=root) or "?"
    status = _output("git", "status", "--porcelain", cwd=root)
    changed = [line[3:] for line in status.splitlines() if line[3:]]
    package = [path for path in changed if path.startswith("personalize/")]
    if not package:
        return f"commit {commit}"
    return (
        f"commit {commit} plus uncommitted changes in {len(package)} files of personalize/ "
        "(the working tree as it was)"
    )


def _postgres(config: RunConfig) -> str:
    try:
        with connect(config) as conn:
            row = conn.execute("SHOW server_version").fetchone()
    except (psycopg.Error, OSError):
        return "?"
    return str(row[0]) if row else "?"


def describe(config: RunConfig) -> list[str]:
    """Markdown bullet lines: when, where, which versions, which settings."""
    redis_version = _output("redis-server", "--version").split(" v=")[-1].split(" ")[0]
    return [
        f"- run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node()}: {_cpu()}, "
        f"{os.cpu_count()} cores, {_memory()}, {platform.system()} {platform.release()}",
        f"- Python {platform.python_version()}, Django {_version('django')}, "
        f"Wagtail {_version('wagtail')}, gunicorn {_version('gunicorn')} "
        f"({config.workers} sync workers), aiohttp {_version('aiohttp')}, "
        f"Redis {redis_version}, PostgreSQL {_postgres(config)}",
        f"- code measured: {_code(config.root)}"
        + ("" if config.root == ROOT else f" (checkout {config.root})"),
        f"- workload: {config.concurrency} concurrent visitors (closed loop), "
        f"{config.warmup:.0f} s warm-up + {config.duration:.0f} s measured per scenario; "
        f"Redis faults at {config.fault_start:.0f}–{config.fault_end:.0f} s, restarts at "
        f"{config.restart_at:.0f} s, PostgreSQL terminations at "
        + ", ".join(f"{t:.0f}" for t in config.pg_terminations)
        + " s",
    ]
