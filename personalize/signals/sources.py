"""Source categories: which traffic sources count as search, social, video or shopping.

GA4's default channel rules ask whether a source is a search engine, a social network, a
video site or a shopping site. Each of the :data:`SOURCE_CATEGORIES` answers from a list in
``personalize/data/<category>.txt``, read once on first use and shared by every thread.

A list has one entry a line; ``#`` starts a comment and matching ignores case:

- A bare name (no dot, ``"facebook"``) matches that source value, and a host whose
  registrable name it is on any top-level domain (``facebook.com``, ``www.facebook.de``).
  Names shorter than three characters match the source value only.
- A host (``"reddit.com"``) matches itself and its subdomains.
- ``"entry = label"`` sets the source to report for a match; the search list uses it to name
  the engine (``search.brave.com = brave``).

Hosts lose a leading ``www.``, ``m.``, ``l.`` or ``lm.`` before matching. Sites add their own
entries at start-up with :func:`extend_source_category`. Nothing here raises on visitor
input; only an unknown category name is an error.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from importlib import resources
from typing import Final, NamedTuple

__all__ = [
    "SOURCE_CATEGORIES",
    "extend_source_category",
    "source_in_category",
    "source_label",
]

#: Source categories, each loaded from ``personalize/data/<category>.txt``.
SOURCE_CATEGORIES: Final = ("search", "social", "video", "shopping")

_HOST_PREFIXES: Final = ("www.", "m.", "l.", "lm.")
# Second-level labels under which ccTLDs register names (google.co.uk, yandex.com.tr).
_SECOND_LEVELS: Final = frozenset(
    {"co", "com", "net", "org", "ac", "edu", "gov", "gob", "ne", "or", "go", "ltd", "plc"}
)
# Parent domains tried per host; real hosts are far shallower.
_MAX_LABELS: Final = 8
# Bare names this short match only as a source value: "ig" must not claim ig.com.
_MIN_NAME_LENGTH: Final = 3


class _Category(NamedTuple):
    """One source category: bare names and hosts, each mapped to the label to report."""

    names: dict[str, str]
    hosts: dict[str, str]


_categories: dict[str, _Category] = {}
_categories_lock = threading.Lock()


def source_in_category(source: str, category: str) -> bool:
    """Tell whether a source value or host belongs to a source category.

    Args:
        source: A source value (``"facebook"``, ``"ig"``) or a host name
            (``"l.facebook.com"``, ``"www.google.co.uk"``); case is ignored.
        category: One of :data:`SOURCE_CATEGORIES`.

    Returns:
        True when the source matches an entry of the category's list.

    Raises:
        KeyError: If ``category`` is not one of :data:`SOURCE_CATEGORIES`.
    """
    return source_label(source, category) is not None


def source_label(source: str, category: str) -> str | None:
    """The label of the category entry a source value or host matches.

    The label is the entry itself, or the name after ``=`` in an ``"entry = label"`` line:
    ``source_label("search.brave.com", "search")`` is ``"brave"``.

    Args:
        source: A source value or a host name; case is ignored.
        category: One of :data:`SOURCE_CATEGORIES`.

    Returns:
        The matching entry's label in lower case, or None when nothing matches.

    Raises:
        KeyError: If ``category`` is not one of :data:`SOURCE_CATEGORIES`.
    """
    return _lookup(source.lower(), _load_categories()[category])


def extend_source_category(category: str, entries: Iterable[str]) -> None:
    """Add entries to a source category for the rest of the process.

    Entries follow the format of the bundled lists: a bare name (``"mastodon"``) matches
    that source value and the name on any top-level domain, a host (``"social.example"``)
    matches itself and its subdomains, and ``"entry = label"`` sets the source reported
    for a search engine. Call it once at start-up, for example from an ``AppConfig.ready``.

    Args:
        category: One of :data:`SOURCE_CATEGORIES`.
        entries: Lines in the list format; blank lines and ``#`` comments are skipped.

    Raises:
        KeyError: If ``category`` is not one of :data:`SOURCE_CATEGORIES`.
    """
    current = _load_categories()[category]
    added = _parse_entries(entries)
    merged = _Category({**current.names, **added.names}, {**current.hosts, **added.hosts})
    with _categories_lock:
        _categories[category] = merged


# -- matching -----------------------------------------------------------------------------


def _strip_prefix(host: str) -> str:
    for prefix in _HOST_PREFIXES:
        if host.startswith(prefix) and host.count(".") >= 2:
            return host[len(prefix) :]
    return host


def _registrable_name(labels: list[str]) -> str | None:
    """The label in front of the public suffix, when nothing stands in front of it."""
    suffix = 1
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVELS:
        suffix = 2
    return labels[0] if len(labels) == suffix + 1 else None


def _lookup(value: str, category: _Category) -> str | None:
    """The label of the entry ``value`` matches, or None."""
    if "." not in value or " " in value:
        return category.names.get(value)
    host = _strip_prefix(value)
    labels = host.split(".")[-_MAX_LABELS:]
    for start in range(len(labels) - 1):
        label = category.hosts.get(".".join(labels[start:]))
        if label is not None:
            return label
    name = _registrable_name(labels)
    if name is not None and len(name) >= _MIN_NAME_LENGTH:
        return category.names.get(name)
    return None


# -- lists --------------------------------------------------------------------------------


def _load_categories() -> dict[str, _Category]:
    if len(_categories) == len(SOURCE_CATEGORIES):
        return _categories
    with _categories_lock:
        for category in SOURCE_CATEGORIES:
            if category not in _categories:
                _categories[category] = _read_category(category)
    return _categories


def _read_category(category: str) -> _Category:
    path = resources.files("personalize").joinpath(f"data/{category}.txt")
    return _parse_entries(path.read_text("utf-8").splitlines())


def _parse_entries(lines: Iterable[str]) -> _Category:
    names: dict[str, str] = {}
    hosts: dict[str, str] = {}
    for line in lines:
        entry, _, label = line.partition("#")[0].partition("=")
        entry = entry.strip().lower()
        if not entry:
            continue
        target = hosts if "." in entry else names
        target[entry] = label.strip().lower() or entry
    return _Category(names, hosts)
