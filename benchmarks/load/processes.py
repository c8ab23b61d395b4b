"""Child processes the suite starts, and ending exactly those again.

Every server is started in a session of its own, so that it and its children (gunicorn's
workers) are ended by their process group id, never by a name. :data:`STARTED` remembers every
process still running; :func:`end_all` ends them, also on Ctrl-C or an error.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

#: Processes started and not yet ended (ended again by :func:`end_all`).
STARTED: list[subprocess.Popen[bytes]] = []


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:``port``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def wait_for_port(port: int, timeout: float, process: subprocess.Popen[bytes] | None) -> None:
    """Wait until ``port`` accepts connections.

    Raises:
        RuntimeError: the process exited first, or ``timeout`` passed.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(port):
            return
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {timeout:.0f} s")


def start(
    command: Sequence[str], *, env: Mapping[str, str], log: Path, cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start ``command`` in a new session, its output appended to ``log``."""
    with log.open("ab") as out:
        process = subprocess.Popen(  # noqa: S603 - our own fixed commands
            list(command),
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    STARTED.append(process)
    return process


def signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    """Send ``signum`` to the process group of a process this module started."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signum)


def end(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """End a started process (and its group): SIGTERM, then SIGKILL after ``timeout``."""
    if process.poll() is None:
        signal_group(process, signal.SIGCONT)  # a hung (stopped) process cannot exit
        signal_group(process, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            signal_group(process, signal.SIGKILL)
            process.wait(5)
    if process in STARTED:
        STARTED.remove(process)


def end_all() -> None:
    """End every process still running that this module started."""
    for process in list(reversed(STARTED)):
        end(process, timeout=5.0)


def run(
    command: Sequence[str], *, env: Mapping[str, str], timeout: float, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a command to completion, capturing its output (bounded by ``timeout``)."""
    return subprocess.run(  # noqa: S603 - our own fixed commands
        list(command),
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )
