"""The file counter store: counts survive restarts, the flush counts each once, bad files."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import textwrap
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from personalize.analytics import file_sync
from personalize.analytics.counters import DAY_TTL, AnalyticsUnavailable
from personalize.analytics.file_store import FileCounterStore, visitor_key
from personalize.analytics.flush import FlushResult, flush
from personalize.analytics.store import counter_store, reset_counter_store
from personalize.checks import check_settings
from personalize.models import DailyCount

DAY = date(2026, 11, 25)
NEXT_DAY = DAY + timedelta(days=1)
VISITOR = "0123456789abcdef0123456789abcdef"
IMP = "imp|12|" + "b" * 32 + "|" + "c" * 32 + "|0|3"

#: Saves only when a test asks (or at close): no timer runs during the test.
MANUAL = 3600.0


class FakeClock:
    """A wall clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "analytics.json"


def _store(path: Path, **options: Any) -> FileCounterStore:
    options.setdefault("save_delay", MANUAL)
    options.setdefault("check_interval", 0)
    return FileCounterStore(path, **options)


def _totals() -> dict[tuple[date, str], int]:
    return {(row.date, row.field): row.count for row in DailyCount.objects.all()}


# -- restarts ------------------------------------------------------------------------------------


def test_everything_survives_a_restart(path: Path) -> None:
    before = _store(path)
    before.add(DAY, {IMP: 3, "seg|3": 1})
    before.add(NEXT_DAY, {"seg|3": 2})
    assert before.first_time(VISITOR, "seen|x", "100", 3600) is True
    before.set_visitor_field(VISITOR, "a|key", "h", 3600)
    before.add_unique(3, DAY, VISITOR)
    before.add_unique(3, DAY, "f" * 32)
    before.shared_set("ts:abc", "[0.5, 0.5]", 300)
    batch_id = before.start_batch(NEXT_DAY)
    before.close()

    after = _store(path)
    assert after.live_counts([DAY, NEXT_DAY]) == {DAY: {IMP: 3, "seg|3": 1}, NEXT_DAY: {}}
    assert after.pending_batches() == [batch_id]
    assert after.batch_counts(batch_id) == (NEXT_DAY, {"seg|3": 2})
    assert after.first_time(VISITOR, "seen|x", "200", 3600) is False
    assert after.visitor_fields(VISITOR) == {"seen|x": "100", "a|key": "h"}
    assert after.unique_visitors(3, [DAY]) == 2
    assert after.shared_get("ts:abc") == "[0.5, 0.5]"
    assert after.epoch() is not None and after.epoch() == before.epoch()


def test_the_file_holds_no_visitor_id(path: Path) -> None:
    store = _store(path)
    store.first_time(VISITOR, "seen|x", "1", 3600)
    store.add_unique(3, DAY, VISITOR)
    store.save()
    text = path.read_text()
    assert VISITOR not in text
    data = json.loads(text)
    assert list(data["visitors"]) == [visitor_key(VISITOR)]
    assert data["uniques"]["3:2026-11-25"][1] == [visitor_key(VISITOR)]
    assert len(visitor_key(VISITOR)) == 32


def test_expiry_runs_on_across_a_restart(path: Path) -> None:
    clock = FakeClock()
    before = _store(path, clock=clock)
    before.first_time(VISITOR, "seen|x", "1", 100)
    before.shared_set("k", "v", 10)
    before.add(DAY, {"seg|1": 1})
    before.close()
    clock.now += 50
    after = _store(path, clock=clock)
    assert after.shared_get("k") is None
    assert after.visitor_fields(VISITOR) == {"seen|x": "1"}
    clock.now += 60
    assert after.visitor_fields(VISITOR) == {}
    assert after.live_days() == [DAY]
    after.add(NEXT_DAY, {"seg|1": 1})
    after.save()
    data = json.loads(path.read_text())
    assert (data["visitors"], data["shared"]) == ({}, {})  # expired entries are not written
    assert data["days"]["2026-11-25"] == [1_800_000_000.0 + DAY_TTL, {"seg|1": 1}]


def test_a_timer_saves_soon_and_no_request_writes(path: Path, monkeypatch: Any) -> None:
    writes: list[str] = []
    write_file = file_sync.write_file

    def recording(*args: Any) -> Any:
        writes.append(threading.current_thread().name)
        return write_file(*args)

    monkeypatch.setattr(file_sync, "write_file", recording)
    store = _store(path, save_delay=0.3)
    started = time.monotonic()
    for _ in range(500):
        store.add(DAY, {IMP: 1})
        store.first_time(VISITOR, "seen|x", "1", 3600)
    counting = time.monotonic() - started
    deadline = time.monotonic() + 10
    while _saved_impressions(path) != 500 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _saved_impressions(path) == 500
    assert 1 <= len(writes) <= 1 + counting / 0.3  # at most one save per delay
    assert threading.main_thread().name not in writes
    store.close()


def _saved_impressions(path: Path) -> int | None:
    if not path.exists():
        return None
    return json.loads(path.read_text())["days"]["2026-11-25"][1][IMP]


def test_a_slow_save_spaces_out_the_next(path: Path, monkeypatch: Any) -> None:
    write_file = file_sync.write_file

    def slow(*args: Any) -> Any:
        time.sleep(0.1)
        return write_file(*args)

    monkeypatch.setattr(file_sync, "write_file", slow)
    store = _store(path, save_delay=0.2)
    store.add(DAY, {IMP: 1})
    assert store.save() is True
    assert store._delay >= 1.0  # ten times the save's duration
    store.close()


def test_concurrent_counting_is_exact_and_saved(path: Path) -> None:
    store = _store(path, save_delay=0.01)
    start = threading.Barrier(8)

    def work() -> None:
        start.wait()
        for _ in range(300):
            store.add(DAY, {IMP: 1, "seg|3": 2})

    workers = [threading.Thread(target=work) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    store.close()
    assert _store(path).live_counts([DAY]) == {DAY: {IMP: 2400, "seg|3": 4800}}


def test_close_waits_for_a_save_in_flight(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = _store(path)
    store.add(DAY, {IMP: 5})
    writing = threading.Event()
    write_file = file_sync.write_file

    def slow_write(target: Path, snapshot: Any) -> Any:
        writing.set()
        time.sleep(0.3)  # the timer's save is still writing when the process closes the store
        return write_file(target, snapshot)

    monkeypatch.setattr(file_sync, "write_file", slow_write)
    timer_save = threading.Thread(target=store.save)
    timer_save.start()
    assert writing.wait(5)
    store.close()
    assert _store(path).live_counts([DAY]) == {DAY: {IMP: 5}}
    timer_save.join()


# -- other processes -----------------------------------------------------------------------------


COUNTING_PROCESS = textwrap.dedent(
    """
    import sys, threading
    from datetime import date

    from personalize.analytics.file_store import FileCounterStore

    store = FileCounterStore(sys.argv[1], save_delay=3600)  # only the exit saves
    day = date(2026, 11, 25)

    def serve():  # a request thread, as runserver's
        for _ in range(100):
            store.add(day, {"seg|3": 1})
        print(store.first_time("0123456789abcdef0123456789abcdef", "seen|x", "1", 3600))

    worker = threading.Thread(target=serve, daemon=True)
    worker.start()
    worker.join()
    if sys.argv[2] == "reload":
        sys.exit(3)  # how runserver's autoreloader ends its child
    if sys.argv[2] == "interrupt":
        raise KeyboardInterrupt  # Ctrl-C
    """
)


def _count_in_a_process(path: Path, how: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", COUNTING_PROCESS, str(path), how],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parent.parent,
        check=False,
    )


def test_counts_of_a_process_are_read_by_the_next(path: Path) -> None:
    first = _count_in_a_process(path, "exit")
    reloaded = _count_in_a_process(path, "reload")
    interrupted = _count_in_a_process(path, "interrupt")
    assert (first.returncode, first.stdout) == (0, "True\n")
    assert (reloaded.returncode, reloaded.stdout) == (3, "False\n")
    assert interrupted.stdout == "False\n"
    assert "KeyboardInterrupt" in interrupted.stderr
    store = _store(path)
    assert store.live_counts([DAY]) == {DAY: {"seg|3": 300}}
    assert store.visitor_fields(VISITOR) == {"seen|x": "1"}


def test_another_process_erasing_a_visitor_is_not_undone(path: Path) -> None:
    web = _store(path)
    web.set_visitor_field(VISITOR, "a|key", "h", 3600)
    web.add(DAY, {IMP: 1})
    web.save()
    eraser = _store(path)
    eraser.forget_visitor(VISITOR)
    eraser.save()
    assert web.visitor_fields(VISITOR) == {}
    web.add(DAY, {IMP: 1})
    web.save()
    assert _store(path).visitor_fields(VISITOR) == {}
    assert _store(path).live_counts([DAY]) == {DAY: {IMP: 2}}


# -- the flush -----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_restarts_and_flushes_count_everything_once(path: Path) -> None:
    web = _store(path)
    web.add(DAY, {IMP: 3})
    assert flush(web) == FlushResult(batches=1, fields=1, counts=3)
    web.add(DAY, {IMP: 2})
    web.add(NEXT_DAY, {IMP: 1})
    web.close()  # the server restarts
    web = _store(path)
    web.add(DAY, {IMP: 4})
    assert flush(web) == FlushResult(batches=2, fields=2, counts=7)
    web.close()
    assert flush(_store(path)) == FlushResult()
    assert _totals() == {(DAY, IMP): 9, (NEXT_DAY, IMP): 1}


@pytest.mark.django_db(transaction=True)
def test_a_flush_in_another_process_is_not_undone_by_the_web_process(path: Path) -> None:
    web = _store(path)
    web.add(DAY, {IMP: 5})
    web.save()
    web.add(DAY, {IMP: 3})  # not saved yet when the flush runs
    flusher = _store(path)
    assert flush(flusher) == FlushResult(batches=1, fields=1, counts=5)
    assert web.live_counts([DAY]) == {DAY: {IMP: 3}}  # the flush's write, and the 3 kept
    web.save()
    assert flush(_store(path)) == FlushResult(batches=1, fields=1, counts=3)
    web.add(DAY, {IMP: 1})
    web.close()
    assert flush(_store(path)) == FlushResult(batches=1, fields=1, counts=1)
    assert _totals() == {(DAY, IMP): 9}
    assert _store(path).live_days() == []


class Crash(Exception):
    """The flush process died here."""


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("where", ["after the commit", "before the commit"])
def test_a_flush_killed_midway_is_finished_by_the_next(
    path: Path, monkeypatch: Any, where: str
) -> None:
    web = _store(path)
    web.add(DAY, {IMP: 3, "seg|3": 1})
    web.close()
    killed = _store(path)
    method = "drop_batch" if where == "after the commit" else "batch_counts"

    def crash(batch_id: str) -> Any:
        raise Crash(batch_id)

    monkeypatch.setattr(killed, method, crash)
    with pytest.raises(Crash):
        flush(killed)
    # The process is gone: the next flush starts from the file.
    assert len(_store(path).pending_batches()) == 1
    expected = FlushResult() if where == "after the commit" else FlushResult(1, 2, 4)
    assert flush(_store(path)) == expected
    assert _totals() == {(DAY, IMP): 3, (DAY, "seg|3"): 1}
    assert _store(path).pending_batches() == []


@pytest.mark.django_db(transaction=True)
def test_a_lost_file_is_reported_by_the_next_flush(path: Path) -> None:
    store = _store(path)
    store.add(DAY, {IMP: 1})
    assert flush(store).lost_since is None
    path.unlink()
    store.add(DAY, {IMP: 2})
    result = flush(store)
    assert result.lost_since is not None
    assert (result.batches, result.counts) == (1, 2)


# -- bad files -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "not JSON"),
        (b'{"format": "personalize-analytics", "version": 1, "days": {', "not JSON"),
        (b"\xff\xfe\x00", "not JSON"),
        (b"[]", "not a personalize-analytics file"),
        (b'{"format": "personalize-analytics", "version": 2}', "version 2, not 1"),
        (
            b'{"format": "personalize-analytics", "version": 1, "days": {"2026-11-25": 3}}',
            "no \\[deadline, value\\] pair",
        ),
        (
            b'{"format": "personalize-analytics", "version": 1,'
            b' "days": {"2026-11-25": [null, {"seg|1": "3"}]}}',
            "whole numbers",
        ),
        (
            b'{"format": "personalize-analytics", "version": 1,'
            b' "batches": {"nonsense": [null, {}]}}',
            "not a batch id",
        ),
    ],
)
def test_a_corrupt_file_is_moved_aside_with_one_warning(
    path: Path, caplog: Any, content: bytes, reason: str
) -> None:
    path.write_bytes(content)
    caplog.set_level(logging.WARNING, logger="personalize.analytics")
    store = _store(path)
    assert store.live_days() == []
    assert store.visitor_fields(VISITOR) == {}
    assert store.epoch() is None
    [record] = caplog.records
    assert record.getMessage().startswith(f"analytics file {path} cannot be read (")
    assert record.getMessage().endswith(f"it was moved to {path}.corrupt and counting starts empty")
    assert re.search(reason, record.getMessage())
    assert Path(f"{path}.corrupt").read_bytes() == content
    store.add(DAY, {IMP: 1})
    store.save()
    assert _store(path).live_counts([DAY]) == {DAY: {IMP: 1}}
    assert len(caplog.records) == 1


def test_an_unreadable_file_starts_empty(path: Path, caplog: Any) -> None:
    path.mkdir()  # open() fails with an OSError, as for a file without read permission
    caplog.set_level(logging.WARNING, logger="personalize.analytics")
    store = _store(path)
    assert store.live_counts([DAY]) == {DAY: {}}
    assert len(caplog.records) == 1
    assert "Is a directory" in caplog.records[0].getMessage()
    assert Path(f"{path}.corrupt").is_dir()


def test_an_unwritable_file_keeps_counts_in_memory(tmp_path: Path, caplog: Any) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the directory should be")
    path = blocker / "analytics.json"
    caplog.set_level(logging.WARNING, logger="personalize.analytics")
    store = _store(path)
    store.add(DAY, {IMP: 2})
    assert store.first_time(VISITOR, "seen|x", "1", 3600) is True
    assert store.save() is False
    assert store.save() is False
    assert store.live_counts([DAY]) == {DAY: {IMP: 2}}
    assert [r.getMessage() for r in caplog.records] == [
        f"analytics file {path} cannot be written, counts wait in memory: "
        f"[Errno 17] File exists: '{blocker}'"
    ]
    with pytest.raises(AnalyticsUnavailable, match="analytics file .*File exists"):
        store.start_batch(DAY)  # the flush stops before it moved anything
    blocker.unlink()
    assert store.save() is True
    after = _store(path)
    assert after.live_counts([DAY]) == {DAY: {IMP: 2}}
    assert after.visitor_fields(VISITOR) == {"seen|x": "1"}
    assert after.pending_batches() == []


def test_a_batch_that_cannot_be_written_stops_the_flush_and_is_kept(
    path: Path, monkeypatch: Any
) -> None:
    store = _store(path)
    store.add(DAY, {IMP: 2})
    store.save()

    def disk_full(*args: Any) -> Any:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(file_sync, "write_file", disk_full)
    with pytest.raises(AnalyticsUnavailable, match="No space left on device"):
        store.start_batch(DAY)
    assert _store(path).live_counts([DAY]) == {DAY: {IMP: 2}}  # the file: not moved yet
    monkeypatch.undo()
    assert store.save() is True  # the move is written with the next save
    after = _store(path)
    assert after.live_counts([DAY]) == {DAY: {}}
    [batch_id] = after.pending_batches()
    assert after.batch_counts(batch_id) == (DAY, {IMP: 2})


# -- settings ------------------------------------------------------------------------------------


def test_analytics_file_selects_the_file_store(settings: Any, path: Path) -> None:
    settings.PERSONALIZE = {**settings.PERSONALIZE, "ANALYTICS_FILE": str(path)}
    reset_counter_store()
    store = counter_store()
    assert isinstance(store, FileCounterStore)
    assert store.path == path
    store.add(DAY, {IMP: 4})
    reset_counter_store()  # settings changed: the store writes what it holds
    assert json.loads(path.read_text())["days"]["2026-11-25"][1] == {IMP: 4}
    assert counter_store().live_counts([DAY]) == {DAY: {IMP: 4}}
    reset_counter_store()


@pytest.mark.django_db(transaction=True)
def test_the_flush_command_names_the_lost_file(settings: Any, path: Path) -> None:
    from django.core.management import CommandError, call_command

    settings.PERSONALIZE = {**settings.PERSONALIZE, "ANALYTICS_FILE": str(path)}
    reset_counter_store()
    try:
        counter_store().add(DAY, {IMP: 1})
        call_command("personalize_flush_analytics", "--quiet")
        reset_counter_store()  # the process ends and writes what it holds
        path.unlink()  # the file does not survive a deploy
        counter_store().add(DAY, {IMP: 2})  # the next process counts into a new file
        with pytest.raises(CommandError) as raised:
            call_command("personalize_flush_analytics", "--quiet")
    finally:
        reset_counter_store()
    message = str(raised.value)
    assert message.startswith("DATA LOST: the analytics store lost its data after the flush of ")
    assert "(the analytics file was deleted, replaced or unreadable)" in message
    assert "Keep ANALYTICS_FILE on a disk that survives restarts" in message
    assert "Redis" not in message.split("or use Redis")[0]


@pytest.mark.redis
def test_redis_wins_over_the_file(settings: Any, redis_url: str, path: Path) -> None:
    from personalize.analytics.redis_store import RedisCounterStore
    from tests.conftest import redis_cache

    settings.CACHES = {**settings.CACHES, "shared": redis_cache(redis_url)}
    settings.PERSONALIZE = {
        **settings.PERSONALIZE,
        "CACHE_ALIAS": "shared",
        "ANALYTICS_FILE": path,
    }
    reset_counter_store()
    assert isinstance(counter_store(), RedisCounterStore)
    reset_counter_store()


def _ids(messages: list[Any]) -> list[str]:
    return sorted(message.id for message in messages)


def test_checks_know_the_file_store(settings: Any, path: Path, monkeypatch: Any) -> None:
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    settings.DEBUG = False
    assert "personalize.W003" in _ids(check_settings())
    settings.PERSONALIZE = {**settings.PERSONALIZE, "ANALYTICS_FILE": path}
    assert "personalize.W003" not in _ids(check_settings())
    assert "personalize.W009" not in _ids(check_settings())
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    [warning] = [m for m in check_settings() if m.id == "personalize.W009"]
    assert warning.msg.startswith(
        "PERSONALIZE['ANALYTICS_FILE'] is used with WEB_CONCURRENCY=4: the file store is for a "
        "site served by one process"
    )
    settings.PERSONALIZE = {**settings.PERSONALIZE, "ANALYTICS_FILE": 42}
    [error] = check_settings()
    assert error.id == "personalize.E001"
    assert error.msg == (
        "PERSONALIZE['ANALYTICS_FILE'] must be a file path, e.g. BASE_DIR / 'analytics.json', "
        "or None, not 42."
    )


def test_the_lock_file_and_the_file_are_private(path: Path) -> None:
    store = _store(path)
    store.add(DAY, {IMP: 1})
    store.save()
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    assert Path(f"{path}.lock").exists()
    assert sorted(p.name for p in path.parent.iterdir()) == [
        "analytics.json",
        "analytics.json.lock",
    ]


def test_every_section_of_the_local_store_is_kept_in_the_file() -> None:
    from personalize.analytics.local_store import LocalCounterStore, _Expiring

    local = vars(LocalCounterStore())
    sections = {name[1:] for name, value in local.items() if isinstance(value, _Expiring)}
    assert {"days", "batches", "visitors", "uniques", "shared"} <= sections
    assert sections - set(file_sync.SECTIONS) == set()


def test_page_view_samples_survive_a_restart(path: Path) -> None:
    from personalize.analytics import counters

    sample_class = getattr(counters, "VisitSample", None)
    if sample_class is None:
        pytest.skip("this version keeps no page-view samples")
    before = _store(path)
    before.add_sample(DAY, sample_class(snapshot='{"country":"AT"}', draw=0.5, size=2))
    before.add_sample(DAY, sample_class(snapshot='{"country":"DE"}', draw=0.5, size=2))
    before.close()
    assert _store(path).samples([DAY, NEXT_DAY]) == {
        DAY: (2, ['{"country":"AT"}', '{"country":"DE"}']),
        NEXT_DAY: (0, []),
    }
