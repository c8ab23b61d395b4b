"""Consent: which purposes the visitor allowed, kept in a first-party cookie.

Purposes are ``necessary`` (always granted: the consent cookie itself, security),
``personalization`` (a visitor id, a stored profile, the visit's attribution and time zone
cookies) and ``analytics``
(counting what the visitor saw and did, attributed to them). Before a choice, only ``necessary``
is granted unless the site runs in ``"opt-out"`` mode, where ``Sec-GPC: 1`` still withholds
everything that was not explicitly allowed.

The cookie is plain text (``v1:necessary,personalization,analytics:1764115200``): it is the
visitor's own choice, so forging it gains nothing, and a consent script may read it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

NECESSARY = "necessary"
PERSONALIZATION = "personalization"
ANALYTICS = "analytics"
#: Every purpose, in display order.
PURPOSES: tuple[str, ...] = (NECESSARY, PERSONALIZATION, ANALYTICS)
#: The purposes a visitor can grant or refuse.
OPTIONAL_PURPOSES: tuple[str, ...] = (PERSONALIZATION, ANALYTICS)
#: ``CONSENT_MODE`` values.
CONSENT_MODES = ("opt-in", "opt-out")
_VERSION = "v1"
_MAX_COOKIE_LENGTH = 200


@dataclass(frozen=True, slots=True)
class ConsentState:
    """What the visitor allowed.

    Attributes:
        granted: the purposes granted (always includes ``necessary``).
        explicit: whether the visitor made a choice (else the site's default applies).
        gpc: whether the browser sent ``Sec-GPC: 1``.
        at: Unix time of the choice (None without one).
    """

    granted: frozenset[str]
    explicit: bool = False
    gpc: bool = False
    at: float | None = None

    def allows(self, purpose: str) -> bool:
        """Whether ``purpose`` is granted."""
        return purpose in self.granted

    @property
    def purposes(self) -> list[str]:
        """The granted purposes in display order (the ``consent`` attribute)."""
        return [p for p in PURPOSES if p in self.granted]


def clean_purposes(purposes: Iterable[object]) -> frozenset[str]:
    """The known purposes among ``purposes``, plus ``necessary``; unknown values are dropped."""
    return frozenset({NECESSARY, *(p for p in purposes if p in OPTIONAL_PURPOSES)})


def parse_consent_cookie(value: str | None) -> tuple[frozenset[str], float] | None:
    """Read the consent cookie.

    Args:
        value: the raw cookie value (hostile input).

    Returns:
        ``(purposes, time)`` or None when absent or malformed.
    """
    if not value or not isinstance(value, str) or len(value) > _MAX_COOKIE_LENGTH:
        return None
    parts = value.split(":")
    if len(parts) != 3 or parts[0] != _VERSION:
        return None
    try:
        at = float(parts[2])
    except ValueError:
        return None
    if not 0 <= at < 1e11:
        return None
    return clean_purposes(p for p in parts[1].split(",") if p), at


def dump_consent_cookie(purposes: Iterable[str], at: float) -> str:
    """The cookie value for a choice made at Unix time ``at``."""
    granted = clean_purposes(purposes)
    return f"{_VERSION}:{','.join(p for p in PURPOSES if p in granted)}:{int(at)}"


def gpc_enabled(header: str | None) -> bool:
    """Whether a ``Sec-GPC`` header value asks not to sell or share (``"1"``)."""
    return isinstance(header, str) and header.strip() == "1"


def resolve_consent(
    cookie: str | None,
    gpc_header: str | None,
    *,
    mode: str = "opt-in",
    stored: tuple[Iterable[str], float | None] | None = None,
) -> ConsentState:
    """The visitor's consent from their cookie, the GPC header and a stored choice.

    Args:
        cookie: the consent cookie value.
        gpc_header: the ``Sec-GPC`` header value.
        mode: ``"opt-in"`` (nothing optional before a choice) or ``"opt-out"`` (every purpose
            until refused, except when GPC is sent).
        stored: a known user's choice on their profile, used when this browser made none.

    Returns:
        The consent state. An explicit choice always wins over GPC and the mode.
    """
    gpc = gpc_enabled(gpc_header)
    parsed = parse_consent_cookie(cookie)
    if parsed is not None:
        return ConsentState(parsed[0], explicit=True, gpc=gpc, at=parsed[1])
    if stored is not None and stored[1] is not None:
        return ConsentState(clean_purposes(stored[0]), explicit=True, gpc=gpc, at=stored[1])
    if mode == "opt-out" and not gpc:
        return ConsentState(frozenset(PURPOSES), gpc=gpc)
    return ConsentState(frozenset({NECESSARY}), gpc=gpc)
