"""The demo's SQLite settings let a publish wait for an autosave instead of failing.

Wagtail 8 autosaves while the editor publishes: two requests write at once. In SQLite's default
(deferred) transactions a transaction that read first and then wants to write while another
holds the write lock fails at once with "database is locked", whatever the timeout. The demo's
``transaction_mode: IMMEDIATE`` takes the lock when the transaction starts, and ``timeout``
makes the second writer wait for it.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import OperationalError
from django.db.backends.sqlite3.base import DatabaseWrapper

import cms_site.settings


def _connection(path: Path, options: dict[str, Any], alias: str) -> DatabaseWrapper:
    settings = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "OPTIONS": options,
        "ATOMIC_REQUESTS": False,
        "AUTOCOMMIT": True,
        "CONN_MAX_AGE": 0,
        "CONN_HEALTH_CHECKS": False,
        "TIME_ZONE": None,
        "USER": "",
        "PASSWORD": "",
        "HOST": "",
        "PORT": "",
        "TEST": {},
    }
    return DatabaseWrapper(settings, alias=alias)


def _race(path: Path, options: dict[str, Any]) -> list[str]:
    """An "autosave" holds the write lock for 0.3 s while a "publish" reads, then writes."""
    setup = _connection(path, {}, "setup")
    with setup.cursor() as cursor:
        cursor.execute("CREATE TABLE page (id INTEGER PRIMARY KEY, title TEXT)")
        cursor.execute("INSERT INTO page (id, title) VALUES (1, 'Draft')")
    setup.close()
    locked = threading.Event()
    outcome: list[str] = []

    def autosave() -> None:
        connection = _connection(path, options, "autosave")
        with _atomic(connection):
            with connection.cursor() as cursor:
                cursor.execute("UPDATE page SET title = 'Autosaved' WHERE id = 1")
            locked.set()
            time.sleep(0.3)
        connection.close()

    writer = threading.Thread(target=autosave)
    writer.start()
    locked.wait(5)
    publish = _connection(path, options, "publish")
    try:
        with _atomic(publish), publish.cursor() as cursor:
            cursor.execute("SELECT title FROM page WHERE id = 1")
            cursor.execute("UPDATE page SET title = 'Published' WHERE id = 1")
        outcome.append("published")
    except OperationalError as error:
        outcome.append(str(error))
    finally:
        publish.close()
        writer.join()
    return outcome


class _atomic:
    """A transaction opened the way Django's ``atomic`` opens one on SQLite.

    ``_start_transaction_under_autocommit`` is what ``atomic`` runs: ``BEGIN`` or, with a
    ``transaction_mode`` option, ``BEGIN IMMEDIATE``.
    """

    def __init__(self, connection: DatabaseWrapper) -> None:
        self.connection = connection

    def __enter__(self) -> None:
        self.connection.ensure_connection()
        self.connection._start_transaction_under_autocommit()

    def __exit__(self, kind: Any, error: Any, trace: Any) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute("COMMIT" if kind is None else "ROLLBACK")


def test_the_demos_options_make_a_publish_wait_for_an_autosave(
    tmp_path: Path, django_db_blocker: Any
) -> None:
    options = cms_site.settings.DATABASES["default"].get("OPTIONS")
    if cms_site.settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
        pytest.skip("DATABASE_URL is set: the demo runs on PostgreSQL here")
    with django_db_blocker.unblock():  # files of this test's own, not the test database
        assert _race(tmp_path / "demo.sqlite3", dict(options)) == ["published"]


def test_without_them_the_publish_fails_with_database_is_locked(
    tmp_path: Path, django_db_blocker: Any
) -> None:
    with django_db_blocker.unblock():
        assert _race(tmp_path / "plain.sqlite3", {"timeout": 5}) == ["database is locked"]
