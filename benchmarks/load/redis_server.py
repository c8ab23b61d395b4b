"""A Redis server of the suite's own: started, killed, hung, restarted on the same data dir.

The persistent server runs with the setting the production guide documents (``--appendonly yes
--appendfsync everysec --maxmemory-policy noeviction``); the other with no persistence at all
(``--save "" --appendonly no``). The shared Redis on 6379 is never touched: every server here
has a free port and a temporary directory of its own.

The impression counters live in the hashes ``personalize:an:<YYYY-MM-DD>`` (see
``personalize.analytics.store``); :func:`impressions` sums their ``imp|`` fields.
"""

from __future__ import annotations

import signal
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from benchmarks.load import processes

#: The package's default ``CACHE_KEY_PREFIX`` and the analytics key names under it.
PREFIX = "personalize:an:"
DAYS = f"{PREFIX}days"

PERSISTENT = (
    "--appendonly",
    "yes",
    "--appendfsync",
    "everysec",
    "--maxmemory-policy",
    "noeviction",
)
NO_PERSISTENCE = ("--save", "", "--appendonly", "no")
#: The suite's own clients fail at once (redis-py retries with backoff by default).
_NO_RETRY = Retry(NoBackoff(), 0)


def day_keys(client: Any) -> list[str]:
    """The day hashes holding live counters (today's, UTC, always among them)."""
    today = datetime.now(UTC).date().isoformat()
    days = {d.decode() if isinstance(d, bytes) else str(d) for d in client.smembers(DAYS)}
    return [f"{PREFIX}{day}" for day in sorted(days | {today})]


def impressions(client: Any) -> int:
    """The sum of every live impression counter (``imp|…`` fields of the day hashes)."""
    pipe = client.pipeline(transaction=False)
    for key in day_keys(client):
        pipe.hgetall(key)
    total = 0
    for raw in pipe.execute():
        for field, value in raw.items():
            if field.startswith(b"imp|"):
                total += int(value)
    return total


class RedisServer:
    """One redis-server process on ``port`` with its data in ``data_dir``.

    Args:
        data_dir: the server's ``--dir`` (kept across restarts).
        port: a free TCP port.
        persistent: the documented production persistence, or none.
        log: the file the server's output is appended to.
    """

    def __init__(self, data_dir: Path, port: int, *, persistent: bool, log: Path) -> None:
        self.data_dir = data_dir
        self.port = port
        self.persistent = persistent
        self.log = log
        self.socket = data_dir / "redis.sock"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The ``REDIS_URL`` of the server."""
        return f"redis://127.0.0.1:{self.port}/0"

    def _command(self, port: int) -> list[str]:
        return [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.data_dir),
            "--unixsocket",
            str(self.socket),
            "--unixsocketperm",
            "700",
            *(PERSISTENT if self.persistent else NO_PERSISTENCE),
        ]

    def start(self, *, listen: bool = True) -> None:
        """Start the server; with ``listen=False`` only on its Unix socket (see :meth:`listen`)."""
        self.process = processes.start(
            self._command(self.port if listen else 0), env={"PATH": "/usr/bin:/bin"}, log=self.log
        )
        if listen:
            processes.wait_for_port(self.port, 10.0, self.process)
        else:
            self._wait_for_socket()

    def _wait_for_socket(self) -> None:
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline:
            try:
                if self.local_client().ping():
                    return
            except redis.RedisError:
                time.sleep(0.02)
        raise RuntimeError("redis-server did not answer on its Unix socket")

    def listen(self) -> None:
        """Open the TCP port of a server started with ``listen=False``."""
        self.local_client().config_set("port", str(self.port))
        processes.wait_for_port(self.port, 5.0, self.process)

    def client(self) -> redis.Redis:
        """A client over TCP, with a short timeout (it must not wait on a hung server)."""
        return redis.Redis(
            port=self.port, socket_timeout=0.5, socket_connect_timeout=0.5, retry=_NO_RETRY
        )

    def local_client(self) -> redis.Redis:
        """A client over the Unix socket (reaches the server before its TCP port opens)."""
        return redis.Redis(unix_socket_path=str(self.socket), socket_timeout=2.0, retry=_NO_RETRY)

    def paused_impressions(self) -> int:
        """Stop writes for a moment (``CLIENT PAUSE … WRITE``) and read the exact count."""
        client = self.local_client()
        client.execute_command("CLIENT", "PAUSE", "2000", "WRITE")
        return impressions(client)

    def kill(self) -> None:
        """SIGKILL: the server dies at once (the append-only file keeps what was written)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        processes.end(self.process)

    def hang(self) -> None:
        """SIGSTOP: connections stay open, nothing answers."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT after :meth:`hang`."""
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def shutdown(self) -> None:
        """SIGTERM: a clean shutdown (the append-only file is synced when there is one)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(20)
        processes.end(self.process)

    def stop(self) -> None:
        """End the server if it still runs (cleanup)."""
        if self.process is not None:
            processes.end(self.process)
