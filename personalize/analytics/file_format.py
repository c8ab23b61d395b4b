"""The analytics file of :class:`~personalize.analytics.file_store.FileCounterStore`.

One JSON object, written whole::

    {"format": "personalize-analytics", "version": 1, "epoch": "<32 hex>",
     "days":     {"<YYYY-MM-DD>": [<deadline>, {"<counter field>": <count>, ...}]},
     "batches":  {"<batch id>": [<deadline>, {"<counter field>": <count>, ...}]},
     "visitors": {"<visitor key>": [<deadline>, {"<field>": "<value>", ...}]},
     "uniques":  {"<segment id>:<YYYY-MM-DD>": [<deadline>, ["<visitor key>", ...]]},
     "shared":   {"<key>": [<deadline>, "<value>"]},
     "samples":  {"<YYYY-MM-DD>": [<deadline>, [<page views seen>, {"<slot>": "<snapshot>"}]]}}

A deadline is the Unix time at which the entry expires (``null``: never), so expiry survives a
restart. Visitor keys are digests of visitor ids (the file holds no cookie value).

The file is replaced atomically (a temporary file in the same directory, flushed to disk, then
``os.replace``), so a reader sees the old or the new version, never half of one. Writers take an
exclusive ``flock`` on ``<file>.lock`` where the platform has one.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from personalize.analytics.counters import batch_day

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: one process, the thread lock suffices
    fcntl = None  # type: ignore[assignment]

#: The ``format`` and ``version`` of the file.
FORMAT = "personalize-analytics"
VERSION = 1

K = TypeVar("K")
V = TypeVar("V")

#: Entries of one section: key → (value, deadline or None).
Entries = dict[K, tuple[V, float | None]]


@dataclass
class Snapshot:
    """The store's state as read from or written to the file."""

    epoch: str | None = None
    days: Entries[date, dict[str, int]] = field(default_factory=dict)
    batches: Entries[str, dict[str, int]] = field(default_factory=dict)
    visitors: Entries[str, dict[str, str]] = field(default_factory=dict)
    uniques: Entries[tuple[int, date], set[str]] = field(default_factory=dict)
    shared: Entries[str, str] = field(default_factory=dict)
    samples: Entries[date, tuple[int, dict[int, str]]] = field(default_factory=dict)


class Signature(NamedTuple):
    """What tells one version of the file from another (each write makes a new inode)."""

    inode: int
    mtime_ns: int
    size: int


def _signature_of(stat: os.stat_result) -> Signature:
    return Signature(stat.st_ino, stat.st_mtime_ns, stat.st_size)


def file_signature(path: Path) -> Signature | None:
    """The signature of the file, or None when there is none.

    Raises:
        OSError: the file's directory cannot be read.
    """
    try:
        return _signature_of(os.stat(path))
    except (FileNotFoundError, NotADirectoryError):
        return None


def read_file(path: Path) -> tuple[Snapshot, Signature | None]:
    """The snapshot in the file (empty when there is no file) and the version read.

    Raises:
        OSError: the file exists but cannot be read.
        ValueError: the file is no analytics file of this version.
    """
    try:
        with open(path, "rb") as handle:
            signature = _signature_of(os.fstat(handle.fileno()))
            raw = handle.read()
    except (FileNotFoundError, NotADirectoryError):
        return Snapshot(), None
    return loads(raw), signature


def write_file(path: Path, snapshot: Snapshot) -> Signature:
    """Replace the file with ``snapshot`` atomically and durably.

    Returns:
        The signature of the new file.

    Raises:
        OSError: the file or its directory cannot be written.
    """
    data = dumps(snapshot).encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
            signature = _signature_of(os.fstat(handle.fileno()))
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _sync_directory(path.parent)
    return signature


def _sync_directory(directory: Path) -> None:
    """Make the rename durable (POSIX); best effort."""
    if not hasattr(os, "O_DIRECTORY"):  # pragma: no cover - Windows
        return
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``<path>.lock`` (shared by every process using the file).

    Raises:
        OSError: the lock file cannot be opened.
    """
    if fcntl is None:  # pragma: no cover - Windows
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def dumps(snapshot: Snapshot) -> str:
    """The file's text for ``snapshot``."""

    def section(entries: Entries[Any, Any], key: Callable[[Any], str], value: Any) -> Any:
        return {key(k): [deadline, value(v)] for k, (v, deadline) in entries.items()}

    return json.dumps(
        {
            "format": FORMAT,
            "version": VERSION,
            "epoch": snapshot.epoch,
            "days": section(snapshot.days, date.isoformat, dict),
            "batches": section(snapshot.batches, str, dict),
            "visitors": section(snapshot.visitors, str, dict),
            "uniques": section(snapshot.uniques, lambda k: f"{k[0]}:{k[1].isoformat()}", sorted),
            "shared": section(snapshot.shared, str, str),
            "samples": section(snapshot.samples, date.isoformat, _sample_json),
        },
        separators=(",", ":"),
    )


def loads(raw: bytes | str) -> Snapshot:
    """The snapshot in a file's text.

    Raises:
        ValueError: the text is no analytics file of this version (anything malformed).
    """
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not JSON: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"not a {FORMAT} file")
    if data.get("version") != VERSION:
        raise ValueError(f"version {data.get('version')!r}, not {VERSION}")
    epoch = data.get("epoch")
    if epoch is not None and not isinstance(epoch, str):
        raise ValueError("epoch is no text")
    return Snapshot(
        epoch=epoch,
        days=_section(data, "days", date.fromisoformat, _counts),
        batches=_section(data, "batches", _batch_id, _counts),
        visitors=_section(data, "visitors", str, _texts),
        uniques=_section(data, "uniques", _unique_key, _members),
        shared=_section(data, "shared", str, _text),
        samples=_section(data, "samples", date.fromisoformat, _sample),
    )


def _section(
    data: dict[str, Any], name: str, key: Callable[[str], K], value: Callable[[Any], V]
) -> Entries[K, V]:
    raw = data.get(name, {})
    if not isinstance(raw, dict):
        raise ValueError(f"{name} is no object")
    entries: Entries[K, V] = {}
    for text, entry in raw.items():
        if not isinstance(entry, list) or len(entry) != 2:
            raise ValueError(f"{name}[{text!r}] is no [deadline, value] pair")
        deadline, content = entry
        if deadline is not None and (
            isinstance(deadline, bool) or not isinstance(deadline, int | float)
        ):
            raise ValueError(f"{name}[{text!r}] has no deadline")
        try:
            entries[key(text)] = (value(content), None if deadline is None else float(deadline))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name}[{text!r}]: {exc}") from exc
    return entries


def _batch_id(text: str) -> str:
    if batch_day(text) is None:
        raise ValueError("not a batch id")
    return text


def _unique_key(text: str) -> tuple[int, date]:
    segment, _, day = text.partition(":")
    return int(segment), date.fromisoformat(day)


def _counts(value: Any) -> dict[str, int]:
    if not isinstance(value, dict) or not all(
        isinstance(n, int) and not isinstance(n, bool) for n in value.values()
    ):
        raise ValueError("counts must map fields to whole numbers")
    return value


def _texts(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ValueError("fields must map to text")
    return value


def _members(value: Any) -> set[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("members must be a list of text")
    return set(value)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("value must be text")
    return value


def _sample_json(value: tuple[int, dict[int, str]]) -> list[Any]:
    seen, slots = value
    return [seen, {str(slot): snapshot for slot, snapshot in slots.items()}]


def _sample(value: Any) -> tuple[int, dict[int, str]]:
    if not isinstance(value, list) or len(value) != 2:
        raise ValueError("a sample must be [page views seen, slots]")
    seen, slots = value
    if isinstance(seen, bool) or not isinstance(seen, int) or seen < 0:
        raise ValueError("page views seen must be a whole number")
    return seen, {int(slot): snapshot for slot, snapshot in _texts(slots).items()}
