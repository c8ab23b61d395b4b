"""The language code of a page's locale without a query per request.

A page holds only ``locale_id``; reading ``page.locale`` costs a query each time. Locales are few
and their codes do not change once pages use them, so the whole table is read once per process
and read again when an unknown id turns up (a locale added in another process) or when a locale
is saved or deleted here.
"""

from __future__ import annotations

from typing import Any

_codes: dict[int, str] = {}


def _load() -> None:
    from wagtail.models import Locale

    _codes.clear()
    _codes.update(Locale.objects.values_list("pk", "language_code"))


def locale_code(page: Any) -> str:
    """The language code of ``page``'s locale (``""`` for an object without one).

    Args:
        page: a Wagtail page, or any object with a ``locale_id``.
    """
    locale_id = getattr(page, "locale_id", None)
    if not isinstance(locale_id, int):
        return ""
    if locale_id not in _codes:
        _load()
    return _codes.get(locale_id, "")


def locales_changed(**kwargs: Any) -> None:
    """Receiver for ``Locale`` saves and deletes: the table is read again when next needed."""
    _codes.clear()
