"""Known-user attributes: ``user.authenticated``, ``user.staff``, ``user.groups``, ``user.<field>``.

The user object is duck-typed (anything shaped like ``django.contrib.auth`` users), so the module
stays free of Django imports. Reading ``user.groups`` costs one query, so callers only ask for it
when a live segment reads that attribute.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

logger = logging.getLogger(__name__)

#: Scalar types copied into attributes as they are; anything else becomes ``str(value)``.
_PLAIN_TYPES = (str, int, float, bool)

#: Attribute names a site may never expose, whatever USER_FIELDS says.
_FORBIDDEN_FIELDS = frozenset({"password", "groups", "authenticated", "staff"})


def user_attributes(
    user: Any, fields: Iterable[str] = (), *, include_groups: bool = True
) -> dict[str, Any]:
    """Describe the request's user as plain attributes.

    Args:
        user: ``request.user`` (may be ``None`` or an ``AnonymousUser``).
        fields: dotted attribute names to expose, e.g. ``"first_name"`` or ``"profile.plan"``;
            values that are missing or raise while being read become ``None``.
        include_groups: whether to read the user's group names (one query).

    Returns:
        ``{"authenticated": bool, "staff": bool, "groups": [names], <field>: value, ...}``.
        Anonymous visitors get ``False``/``False``/``[]`` and ``None`` for every field.
    """
    authenticated = bool(getattr(user, "is_authenticated", False))
    attrs: dict[str, Any] = {
        "authenticated": authenticated,
        "staff": authenticated and bool(getattr(user, "is_staff", False)),
        "groups": [],
    }
    if authenticated and include_groups:
        attrs["groups"] = _group_names(user)
    for field in fields:
        if field in _FORBIDDEN_FIELDS:
            continue
        attrs[field] = _read_field(user, field) if authenticated else None
    return attrs


def _group_names(user: Any) -> list[str]:
    groups = getattr(user, "groups", None)
    if groups is None:
        return []
    return sorted(str(name) for name in groups.values_list("name", flat=True))


def _read_field(obj: Any, dotted: str) -> Any:
    value = obj
    for part in dotted.split("."):
        if part.startswith("_"):
            return None
        try:
            value = getattr(value, part)
        except (AttributeError, LookupError, ValueError, TypeError) as exc:
            # A missing related object (e.g. no profile row) is an unknown, not an error.
            logger.debug("user field %r unreadable: %s", dotted, exc)
            return None
        if value is None:
            return None
    if value is None or isinstance(value, _PLAIN_TYPES):
        return value
    return str(value)
