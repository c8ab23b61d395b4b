"""Device signal: device type, operating system and browser from request headers.

The User-Agent header is parsed with ua-parser (its Rust resolver when installed), and the
result is cached per distinct User-Agent string, so a returning browser costs a dictionary
lookup. The low-entropy User-Agent Client Hints that Chromium browsers send on every secure
request (``Sec-CH-UA-Mobile`` and ``Sec-CH-UA-Platform``) then refine the answer, because
Chromium freezes most of its User-Agent string.

The device type is decided in this order, first match wins:

1. ``bot``: ua-parser's ``Spider`` device family, a ``<name>bot/<version>`` token, an HTTP
   library or command-line client (curl, Wget, python-requests, ...), or headless automation
   (HeadlessChrome, PhantomJS, Lighthouse).
2. ``other``: televisions, set-top boxes and game consoles.
3. ``tablet``: iPad, Kindle and Silk, a ``Tablet`` token, a tablet model known to ua-parser, or
   Android without the ``Mobile`` token (the convention Android browsers follow on tablets).
4. ``mobile``: a phone operating system, an iPhone or iPod, or a ``Mobi`` token.
5. ``desktop``: Windows, macOS, Chrome OS, Linux and the BSDs.
6. ``other``: everything else, including an empty or unreadable header.

iPadOS Safari presents itself as a Mac unless the user asks for the mobile site, so it is
reported as a desktop: nothing in its headers tells the two apart.

Client hints refine that answer; malformed values are ignored:

- A valid ``Sec-CH-UA-Platform`` sets ``os`` (mapped to ua-parser's names, ``"macOS"``
  becomes ``"Mac OS X"``), unless it only generalises the User-Agent (``"Linux"`` for Ubuntu).
- ``Sec-CH-UA-Mobile: ?1`` makes the device ``mobile`` unless it is a ``tablet`` or ``bot``.
- ``?0`` overrules a ``mobile`` answer only when it came from Chromium's reduced string
  (``Android 10; K``), which names no model: the browser has asked for the desktop site. A
  named phone model stays ``mobile``.
- Without a usable User-Agent, ``?1`` still gives ``mobile``, and ``?0`` with a desktop
  platform gives ``desktop``.

User-Agent strings are cut to :data:`MAX_USER_AGENT_LENGTH` characters before parsing (real
ones are far shorter), which bounds the work per request and the memory of the cache. Nothing
here raises on visitor input: any text, of any length, yields the three keys.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Mapping
from typing import Final, NamedTuple

import ua_parser
from ua_parser import BasicResolver, Device, Domain, Resolver, load_builtins, load_lazy_builtins

__all__ = [
    "DEVICE_TYPES",
    "MAX_USER_AGENT_LENGTH",
    "USER_AGENT_CACHE_SIZE",
    "device_from_headers",
]

logger = logging.getLogger(__name__)

#: Every value the ``type`` key can take.
DEVICE_TYPES: Final = ("mobile", "tablet", "desktop", "bot", "other")

#: User-Agent strings are cut to this many characters before parsing. Real ones stay well
#: below it; the cut bounds parsing time and the memory held by the cache.
MAX_USER_AGENT_LENGTH: Final = 1000

#: Distinct User-Agent strings whose parse result is kept (least recently used are dropped).
USER_AGENT_CACHE_SIZE: Final = 4096

_MOBILE_HINT: Final = "sec-ch-ua-mobile"
_PLATFORM_HINT: Final = "sec-ch-ua-platform"

# Sec-CH-UA-Platform values (lower-cased) mapped to ua-parser's OS family names, so that a
# condition on ``device.os`` does not care which header supplied the value.
_PLATFORMS: Final[Mapping[str, str]] = {
    "android": "Android",
    "chrome os": "Chrome OS",
    "chromium os": "Chrome OS",
    "ios": "iOS",
    "linux": "Linux",
    "macos": "Mac OS X",
    "windows": "Windows",
}

_LINUX_FAMILIES: Final = frozenset(
    {
        "Linux", "Ubuntu", "Kubuntu", "Lubuntu", "Linux Mint", "Debian", "Fedora", "Red Hat",
        "CentOS", "SUSE", "openSUSE", "Arch Linux", "Gentoo", "Slackware", "Mandriva",
        "Mageia", "PCLinuxOS", "Puppy",
    }
)  # fmt: skip

_DESKTOP_FAMILIES: Final = _LINUX_FAMILIES | {
    "Windows", "Mac OS X", "Mac OS", "Chrome OS", "FreeBSD", "OpenBSD", "NetBSD", "BSD",
    "Solaris",
}  # fmt: skip

_MOBILE_FAMILIES: Final = frozenset(
    {
        "iOS", "Android", "Windows Phone", "Windows Mobile", "BlackBerry OS", "KaiOS",
        "Firefox OS", "Symbian OS", "Symbian^3", "Symbian^3 Anna", "Symbian^3 Belle",
        "Nokia Series 40", "Nokia Series 30 Plus", "Bada", "Sailfish", "MeeGo", "Brew MP",
        "BREW", "HarmonyOS",
    }
)  # fmt: skip

_TABLET_DEVICES: Final = frozenset({"iPad", "Kindle", "Generic Tablet"})
_PHONE_DEVICES: Final = frozenset({"iPhone", "iPod", "Generic Smartphone", "Generic Feature Phone"})

# ua-parser already knows the big crawlers; these catch clients it leaves unclassified.
# Plain substring tests on the lower-cased string: case-insensitive regex alternations cost
# tens of microseconds per string, these a microsecond or two.
_BOT_PREFIXES: Final = re.compile(
    r"(?:curl|wget|python-requests|python-urllib|python-httpx|httpx|aiohttp|httpie"
    r"|libwww-perl|lwp-trivial|go-http-client|okhttp|axios|node-fetch|undici|got"
    r"|java|apache-httpclient|guzzlehttp|postmanruntime|insomnia|powershell|ruby"
    r"|faraday|scrapy|colly|winhttp|dart)\b"
)
_BOT_SUBSTRINGS: Final = ("headlesschrome", "phantomjs", "slimerjs", "chrome-lighthouse")
# "<name>bot/<version>"; the slash keeps phone brands such as Cubot out.
_NAMED_BOT: Final = re.compile(r"\w(?:bot|crawler|spider)/\d")
_BOT_SUFFIXES: Final = ("bot/", "crawler/", "spider/")
_TV_OR_CONSOLE_SUBSTRINGS: Final = (
    "smart-tv", "smarttv", "googletv", "google tv", "android tv", "androidtv", "hbbtv",
    "netcast", "web0s", "crkey/", "roku/", "appletv", "apple tv", "tv safari", "bravia",
    "xbox", "playstation", "nintendo",
)  # fmt: skip
# Fire TV models (AFTKA, AFTMM, ...); upper case only, so that words like "after" never match.
_FIRE_TV: Final = re.compile(r";\s?AFT[A-Z0-9]{1,8}[;) ]")
_TABLET_SUBSTRINGS: Final = ("ipad", "tablet", "kindle", "silk/", "playbook")
_MOBILE_TOKEN: Final = re.compile(r"Mobi")
# Chromium's reduced User-Agent hides the model behind a fixed "Android 10; K".
_REDUCED_ANDROID: Final = re.compile(r"\(Linux; Android 10; K\)")


class _Parsed(NamedTuple):
    """What the User-Agent string alone says, cached per distinct string."""

    type: str
    os: str | None
    browser: str | None
    #: True for Chromium's reduced User-Agent, which says "Mobile" but hides the model.
    reduced: bool


_UNKNOWN: Final = _Parsed("other", None, None, False)


def device_from_headers(
    user_agent: str | None, client_hints: Mapping[str, str] | None = None
) -> dict[str, str | None]:
    """Classify the visitor's device from the User-Agent header and client hints.

    Args:
        user_agent: The ``User-Agent`` header value, or None when the header is absent.
            Longer values are cut to :data:`MAX_USER_AGENT_LENGTH` characters.
        client_hints: Request headers keyed by lower-case name; ``sec-ch-ua-mobile`` and
            ``sec-ch-ua-platform`` are read and malformed values ignored.

    Returns:
        A new dict with exactly the keys ``type`` (one of :data:`DEVICE_TYPES`), ``os``
        and ``browser`` (ua-parser family names such as ``"iOS"`` or ``"Mobile Safari"``,
        or None when unknown).
    """
    parsed = _parse_user_agent(user_agent)
    device_type, os = parsed.type, parsed.os
    if client_hints:
        device_type, os = _apply_client_hints(parsed, client_hints)
    return {"type": device_type, "os": os, "browser": parsed.browser}


def _parse_user_agent(user_agent: str | None) -> _Parsed:
    if not user_agent or not isinstance(user_agent, str):
        return _UNKNOWN
    if len(user_agent) > MAX_USER_AGENT_LENGTH:
        logger.debug("User-Agent of %d characters cut for parsing", len(user_agent))
        user_agent = user_agent[:MAX_USER_AGENT_LENGTH]
    return _parse_cached(user_agent)


@functools.lru_cache(maxsize=USER_AGENT_CACHE_SIZE)
def _parse_cached(user_agent: str) -> _Parsed:
    text = _encodable(user_agent).strip()
    if not text:
        return _UNKNOWN
    result = _resolver()(text, Domain.ALL)
    os = _family(result.os)
    device_type = _classify(text, os, result.device)
    reduced = device_type == "mobile" and _REDUCED_ANDROID.search(text) is not None
    return _Parsed(device_type, os, _family(result.user_agent), reduced)


@functools.cache
def _resolver() -> Resolver:
    # Built on first use: loading the regexes takes a noticeable fraction of a second.
    if ua_parser.RegexResolver is not None:
        return ua_parser.RegexResolver(load_lazy_builtins())
    return BasicResolver(load_builtins())


def _encodable(text: str) -> str:
    # The Rust resolver needs valid UTF-8; lone surrogates would make it raise.
    if text.isascii():
        return text
    return text.encode("utf-8", "replace").decode("utf-8")


def _family(component: object) -> str | None:
    family = getattr(component, "family", None)
    if not isinstance(family, str) or family in ("", "Other"):
        return None
    return family


def _classify(text: str, os: str | None, device: Device | None) -> str:
    lowered = text.lower()
    device_family = device.family if device else None
    if device_family == "Spider" or _is_bot(lowered):
        return "bot"
    if _contains_any(lowered, _TV_OR_CONSOLE_SUBSTRINGS) or _FIRE_TV.search(text):
        return "other"
    if _is_tablet(text, lowered, os, device):
        return "tablet"
    if os in _MOBILE_FAMILIES or device_family in _PHONE_DEVICES or _MOBILE_TOKEN.search(text):
        return "mobile"
    if os in _DESKTOP_FAMILIES:
        return "desktop"
    return "other"


def _is_bot(lowered: str) -> bool:
    if _BOT_PREFIXES.match(lowered) or _contains_any(lowered, _BOT_SUBSTRINGS):
        return True
    return _contains_any(lowered, _BOT_SUFFIXES) and _NAMED_BOT.search(lowered) is not None


def _is_tablet(text: str, lowered: str, os: str | None, device: Device | None) -> bool:
    if device is not None and (
        device.family in _TABLET_DEVICES or device.brand == "Generic_Android_Tablet"
    ):
        return True
    # "Tablet PC" marks Windows laptops with pen input, not tablets.
    if _contains_any(lowered, _TABLET_SUBSTRINGS) and "tablet pc" not in lowered:
        return True
    if os == "BlackBerry Tablet OS":
        return True
    return os == "Android" and _MOBILE_TOKEN.search(text) is None


def _contains_any(text: str, needles: tuple[str, ...]) -> bool:
    return any(needle in text for needle in needles)


def _apply_client_hints(parsed: _Parsed, hints: Mapping[str, str]) -> tuple[str, str | None]:
    platform = _platform_hint(hints.get(_PLATFORM_HINT))
    mobile = _mobile_hint(hints.get(_MOBILE_HINT))
    os = parsed.os
    if platform is not None and not _same_platform(os, platform):
        os = platform
    device_type = parsed.type
    if device_type in ("bot", "tablet") or mobile is None:
        return device_type, os
    if mobile:
        return "mobile", os
    if device_type == "mobile" and parsed.reduced:
        # A reduced "Android 10; K ... Mobile" string next to ?0 means the browser asked
        # for the desktop experience; the hint is the fresher witness.
        return "desktop", os
    if device_type == "other" and os in _DESKTOP_FAMILIES:
        return "desktop", os
    return device_type, os


def _platform_hint(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    if len(value) < 3 or len(value) > 40 or value[0] != '"' or value[-1] != '"':
        if value:
            logger.debug("Ignoring malformed Sec-CH-UA-Platform %r", value[:40])
        return None
    return _PLATFORMS.get(value[1:-1].lower())


def _mobile_hint(value: object) -> bool | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    if value == "?1":
        return True
    if value == "?0":
        return False
    if value:
        logger.debug("Ignoring malformed Sec-CH-UA-Mobile %r", value[:40])
    return None


def _same_platform(os: str | None, platform: str) -> bool:
    # Keep the User-Agent's more specific family ("Ubuntu") when the hint agrees ("Linux").
    return os == platform or (platform == "Linux" and os in _LINUX_FAMILIES)
