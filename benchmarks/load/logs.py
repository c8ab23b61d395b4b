"""What the server logged: statuses from the access log, 500s and their exceptions from the
error log (Django's ``django.request`` logger writes ``Internal Server Error: <path>`` and the
traceback to the console, which gunicorn's ``--capture-output`` puts in the error log), worker
timeouts and restarts, and the most frequent other lines (warnings of the package).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

_ACCESS = re.compile(r'pid=<?(\d+)>? status=(\d+) ms=(\d+) "')
_GUNICORN = re.compile(r"^\[\d{4}-\d\d-\d\d [\d:]+ [+-]\d{4}\] \[\d+\] \[(\w+)\] (.*)$")
#: The last line of a traceback: ``module.ExceptionName: message`` (or the name alone).
_EXCEPTION = re.compile(
    r"^[A-Za-z_][\w.]*(Error|Exception|Timeout|Interrupted|Unavailable)\w*(:|$)"
)
_NUMBERS = re.compile(r"\d+")
#: Lines of a traceback that say nothing on their own (its frames are indented).
_FRAGMENTS = ("Traceback (most recent call last)", "^", "During handling", "The above exception")


@dataclass
class ServerLog:
    """A scenario's server log, summarized."""

    #: requests in the access log, and those answered 5xx
    requests: int = 0
    errors_5xx: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    #: ``Internal Server Error`` entries of django.request (each with its traceback)
    internal_errors: int = 0
    #: the final exception of each traceback, counted
    exceptions: Counter[str] = field(default_factory=Counter)
    worker_timeouts: int = 0
    workers_booted: int = 0
    #: other lines, numbers replaced by N, counted
    other: Counter[str] = field(default_factory=Counter)


def read_access_log(path: Path, log: ServerLog) -> None:
    """Count the statuses of the access log."""
    if not path.exists():
        return
    for line in path.read_text(errors="replace").splitlines():
        match = _ACCESS.search(line)
        if match is None:
            continue
        status = int(match.group(2))
        log.requests += 1
        log.statuses[status] += 1
        if status >= 500:
            log.errors_5xx += 1


def _finish(exception: str | None, log: ServerLog) -> None:
    if exception is not None:
        log.exceptions[exception[:160]] += 1


def read_error_log(path: Path, log: ServerLog) -> None:
    """Count 500s with their exceptions, worker timeouts and other lines of the error log."""
    if not path.exists():
        return
    in_error, exception = False, None
    for line in path.read_text(errors="replace").splitlines():
        gunicorn = _GUNICORN.match(line)
        if line.startswith("Internal Server Error:") or gunicorn is not None:
            if in_error:
                _finish(exception, log)
            in_error, exception = line.startswith("Internal Server Error:"), None
            if in_error:
                log.internal_errors += 1
            elif gunicorn is not None:
                _gunicorn_line(gunicorn.group(1), gunicorn.group(2), log)
            continue
        if in_error:
            if _EXCEPTION.match(line):
                exception = line
            continue
        if _EXCEPTION.match(line):
            # The end of a traceback logged by something else than django.request.
            log.other[_NUMBERS.sub("N", f"traceback: {line}")[:160]] += 1
        elif line.strip() and not line[0].isspace() and not line.startswith(_FRAGMENTS):
            log.other[_NUMBERS.sub("N", line.strip())[:160]] += 1
    if in_error:
        _finish(exception, log)


def _gunicorn_line(level: str, message: str, log: ServerLog) -> None:
    if "WORKER TIMEOUT" in message:
        log.worker_timeouts += 1
    elif message.startswith("Booting worker"):
        log.workers_booted += 1
    elif level not in ("INFO", "DEBUG"):
        log.other[_NUMBERS.sub("N", f"[{level}] {message}")[:160]] += 1


def read_server_log(access_log: Path, error_log: Path) -> ServerLog:
    """Summarize a scenario's access and error logs."""
    log = ServerLog()
    read_access_log(access_log, log)
    read_error_log(error_log, log)
    return log
