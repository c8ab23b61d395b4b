"""The demo's set-up: port, users, SQLite locking and front-end keys from the environment."""

from __future__ import annotations

import importlib
import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command


@pytest.fixture
def demo_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """``cms_site.settings`` evaluated again under the environment the test sets."""
    import cms_site.settings

    for name in ("PORT", "WAGTAILADMIN_BASE_URL", "PERSONALIZE_FRONTEND_KEYS", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)

    def load() -> Any:
        return importlib.reload(cms_site.settings)

    yield load
    monkeypatch.undo()
    importlib.reload(cms_site.settings)


def test_the_port_reaches_the_admin_address(
    demo_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert demo_settings().WAGTAILADMIN_BASE_URL == "http://127.0.0.1:8000"
    monkeypatch.setenv("PORT", "8080")
    assert demo_settings().WAGTAILADMIN_BASE_URL == "http://127.0.0.1:8080"


def test_front_end_keys_come_from_the_environment(
    demo_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert demo_settings().PERSONALIZE["FRONTEND_KEYS"] == []
    monkeypatch.setenv("PERSONALIZE_FRONTEND_KEYS", "first-key, ,second-key")
    assert demo_settings().PERSONALIZE["FRONTEND_KEYS"] == ["first-key", "second-key"]


def test_the_demos_sqlite_waits_for_the_write_lock(demo_settings: Any) -> None:
    options = demo_settings().DATABASES["default"]["OPTIONS"]
    assert options == {"transaction_mode": "IMMEDIATE", "timeout": 20}


def test_seeded_users_have_full_names_and_the_admin_address_follows_the_port(
    db: Any, settings: Any
) -> None:
    from django.contrib.auth import get_user_model

    settings.WAGTAILADMIN_BASE_URL = "http://127.0.0.1:8080"
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    users = get_user_model().objects.in_bulk(["admin", "customer"], field_name="username")

    assert (users["admin"].first_name, users["admin"].last_name) == ("Ada", "Lovelace")
    assert (users["customer"].first_name, users["customer"].last_name) == ("Cleo", "Meyer")
    assert "http://127.0.0.1:8080/admin/" in out.getvalue()
    assert "8000" not in out.getvalue()


def test_without_redis_the_demos_analytics_live_in_a_file_beside_its_database(
    demo_settings: Any, monkeypatch: pytest.MonkeyPatch, settings: Any, tmp_path: Path
) -> None:
    from personalize.analytics.file_store import FileCounterStore
    from personalize.analytics.store import counter_store, reset_counter_store

    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("SQLITE_PATH", raising=False)
    demo = demo_settings()
    assert demo.PERSONALIZE["ANALYTICS_FILE"] == demo.BASE_DIR / "demo-analytics.json"
    monkeypatch.setenv("SQLITE_PATH", str(tmp_path / "site.sqlite3"))
    demo = demo_settings()
    assert demo.PERSONALIZE["ANALYTICS_FILE"] == tmp_path / "site-analytics.json"

    settings.CACHES = demo.CACHES
    settings.PERSONALIZE = demo.PERSONALIZE
    store = counter_store()
    assert isinstance(store, FileCounterStore)
    store.add(date(2026, 11, 25), {"seg|3": 2})
    reset_counter_store()  # as a restart: the store writes its file
    assert counter_store().live_counts([date(2026, 11, 25)]) == {date(2026, 11, 25): {"seg|3": 2}}

    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    assert demo_settings().PERSONALIZE["ANALYTICS_FILE"] is None
