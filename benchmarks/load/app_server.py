"""The demo under gunicorn, as production runs it: ``DEBUG`` off, PostgreSQL, Redis.

:func:`prepare_template` migrates and seeds the template database once per run;
:class:`AppServer` starts gunicorn (sync workers, error log with every traceback, access log
with each request's worker pid, status and duration) for one scenario.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.load import database, processes
from benchmarks.load.config import BIN, RunConfig

SECRET_KEY = "load-suite-only-4f1c2a9b7e6d5c3b2a1f0e9d8c7b6a5f4e3d2c1b"  # noqa: S105
#: time, worker pid, status, duration in ms, request line (parsed by :mod:`.logs`).
ACCESS_FORMAT = '%(t)s pid=%(p)s status=%(s)s ms=%(M)s "%(r)s"'


def django_env(config: RunConfig, *, database_name: str, redis_url: str | None) -> dict[str, str]:
    """The environment of the demo in production mode (nothing inherited but PATH and HOME)."""
    env = {
        "PATH": f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": os.environ.get("HOME", "/tmp"),  # noqa: S108
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "DJANGO_SETTINGS_MODULE": "cms_site.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECRET_KEY": SECRET_KEY,
        "DATABASE_URL": config.database_url(database_name),
    }
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def manage(
    config: RunConfig, env: dict[str, str], *args: str, timeout: float = 300.0
) -> subprocess.CompletedProcess[str]:
    """``manage.py <args>`` in the measured checkout's demo project."""
    return processes.run(
        [str(BIN / "python"), "manage.py", *args], env=env, timeout=timeout, cwd=config.root
    )


def _checked(result: subprocess.CompletedProcess[str], what: str) -> str:
    if result.returncode != 0:
        raise RuntimeError(f"{what} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return result.stdout


def site_map(config: RunConfig, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run :mod:`.site_map` inside the measured checkout (its ``cms_site`` and ``personalize``).

    The file is run by path from the checkout's directory, so that the checkout's packages come
    first on ``sys.path`` even when it is another commit without this suite.
    """
    script = Path(__file__).with_name("site_map.py")
    code = "import runpy, sys; runpy.run_path(sys.argv[1], run_name='__main__')"
    return processes.run(
        [str(BIN / "python"), "-c", code, str(script)], env=env, timeout=120, cwd=config.root
    )


def prepare_template(config: RunConfig) -> dict[str, Any]:
    """Create, migrate and seed the template database; collect static files for WhiteNoise.

    Returns:
        The site map (:mod:`.site_map`) of the seeded site.
    """
    database.drop(config, config.database)
    database.drop(config, config.template)
    database.create(config, config.template)
    env = django_env(config, database_name=config.template, redis_url=None)
    _checked(manage(config, env, "migrate", "--noinput"), "migrate")
    _checked(manage(config, env, "seed_demo"), "seed_demo")
    site = json.loads(_checked(site_map(config, env), "site map"))
    if site["whitenoise"]:
        _checked(manage(config, env, "collectstatic", "--noinput", "-v", "0"), "collectstatic")
    return dict(site)


def _no_control_socket() -> list[str]:
    """Newer gunicorn opens a control socket in the home directory, shared by every instance."""
    from gunicorn.config import KNOWN_SETTINGS

    names = {setting.name for setting in KNOWN_SETTINGS}
    return ["--no-control-socket"] if "control_socket_disable" in names else []


@dataclass
class AppServer:
    """Gunicorn serving the demo for one scenario.

    Args:
        config: the run's settings.
        port: a free port.
        env: :func:`django_env` for the scenario's database and Redis.
        logs: the scenario's log directory (``access.log``, ``error.log``).
    """

    config: RunConfig
    port: int
    env: dict[str, str]
    logs: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def access_log(self) -> Path:
        """One line per request (:data:`ACCESS_FORMAT`)."""
        return self.logs / "access.log"

    @property
    def error_log(self) -> Path:
        """Gunicorn's log and the workers' output: Django's ``django.request`` tracebacks."""
        return self.logs / "error.log"

    def start(self) -> None:
        """Start gunicorn and wait until it accepts connections."""
        command = [
            str(BIN / "gunicorn"),
            "cms_site.wsgi:application",
            "--preload",
            "--workers",
            str(self.config.workers),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--timeout",
            str(int(self.config.request_timeout)),
            "--graceful-timeout",
            "5",
            "--access-logfile",
            str(self.access_log),
            "--access-logformat",
            ACCESS_FORMAT,
            "--error-logfile",
            str(self.error_log),
            "--capture-output",
            "--log-level",
            "info",
            *_no_control_socket(),
        ]
        self.process = processes.start(
            command, env=self.env, log=self.logs / "gunicorn.out", cwd=self.config.root
        )
        processes.wait_for_port(self.port, 60.0, self.process)

    def stop(self) -> None:
        """Stop gunicorn (graceful, then killed)."""
        if self.process is not None:
            processes.end(self.process, timeout=10.0)
