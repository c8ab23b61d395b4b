"""Referral signal: where a visit came from, grouped into GA4's default channels.

The attribution of a landing request is read from three witnesses, strongest first:

1. Campaign tags: ``utm_source`` and ``utm_medium`` (with ``utm_campaign``, ``utm_term`` and
   ``utm_content``) are taken at face value. A missing half becomes ``"(not set)"``.
2. Ad click identifiers: ``gclid``, ``gbraid``, ``wbraid`` and ``gad_source`` mean Google Ads
   (``google`` / ``cpc``), ``msclkid`` Microsoft Advertising (``bing`` / ``cpc``), ``dclid``
   Campaign Manager and Display & Video 360 (``dfa`` / ``cpm``, the pair Google Analytics
   has long reported for untagged clicks of that kind, which lands in ``display``).
3. The ``Referer`` header: a search engine gives ``<engine>`` / ``organic``, any other site
   ``<host>`` / ``referral``. ``fbclid`` and ``ttclid`` are added by Facebook, Instagram and
   TikTok to organic and paid links alike, so they only stand in for a missing referrer
   (``facebook`` / ``referral``), as in-app browsers often send none.

With none of these the visit is ``(direct)`` / ``(none)``. A referrer on one of the site's own
hosts carries no news, so :func:`classify_referral` returns None and callers keep the
attribution they already stored.

The channel follows Google Analytics 4's default channel group for manual traffic, rule by
rule and in the same order, with channel names in snake_case (see :data:`CHANNELS`). Source
categories (search, social, video, shopping) come from :mod:`personalize.signals.sources`;
:func:`source_in_category` and :func:`extend_source_category` are re-exported from there.

Source and medium are returned lower-cased, because GA4 matches them without regard to case
and segment conditions should too; campaign, term and content keep their case. Every value
is stripped of control characters and cut to :data:`MAX_VALUE_LENGTH` characters. Nothing
here raises on visitor input.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Collection, Mapping
from typing import Final, NamedTuple
from urllib.parse import urlsplit

from personalize.signals.sources import (
    SOURCE_CATEGORIES,
    extend_source_category,
    source_in_category,
    source_label,
)

__all__ = [
    "CHANNELS",
    "MAX_VALUE_LENGTH",
    "REFERRAL_KEYS",
    "SOURCE_CATEGORIES",
    "classify_referral",
    "default_channel",
    "extend_source_category",
    "source_in_category",
]

logger = logging.getLogger(__name__)

#: Every channel :func:`default_channel` can return, in GA4's rule order.
CHANNELS: Final = (
    "direct",
    "cross_network",
    "paid_shopping",
    "paid_search",
    "paid_social",
    "paid_video",
    "display",
    "paid_other",
    "organic_shopping",
    "organic_social",
    "organic_video",
    "organic_search",
    "referral",
    "email",
    "affiliates",
    "audio",
    "sms",
    "mobile_push",
    "unassigned",
)

#: The keys of every dict :func:`classify_referral` returns.
REFERRAL_KEYS: Final = ("channel", "source", "medium", "campaign", "term", "content", "host")

#: Longest value kept from a query parameter or referrer host.
MAX_VALUE_LENGTH: Final = 200

NOT_SET: Final = "(not set)"
DIRECT: Final = ("(direct)", "(none)")

# Referrers longer than any browser sends are cut before parsing to bound the work.
_MAX_REFERER_LENGTH: Final = 4096
_REFERER_SCHEMES: Final = frozenset({"http", "https", "android-app"})

_PAID_CLICK_IDS: Final = (
    ("gclid", "google", "cpc"),
    ("gbraid", "google", "cpc"),
    ("wbraid", "google", "cpc"),
    ("gad_source", "google", "cpc"),
    ("msclkid", "bing", "cpc"),
    ("dclid", "dfa", "cpm"),
)
_SOCIAL_CLICK_IDS: Final = (
    ("fbclid", "facebook", "referral"),
    ("ttclid", "tiktok", "referral"),
)

# GA4's published patterns, applied to lower-cased values.
_PAID_MEDIUM: Final = re.compile(r"^(.*cp.*|ppc|retargeting|paid.*)$")
_SHOPPING_CAMPAIGN: Final = re.compile(r"^(.*(([^a-df-z]|^)shop|shopping).*)$")
_VIDEO_MEDIUM: Final = re.compile(r"^(.*video.*)$")
_DISPLAY_MEDIA: Final = frozenset({"display", "banner", "expandable", "interstitial", "cpm"})
_SOCIAL_MEDIA: Final = frozenset(
    {"social", "social-network", "social-media", "sm", "social network", "social media"}
)
_REFERRAL_MEDIA: Final = frozenset({"referral", "app", "link"})
_EMAIL_VALUES: Final = frozenset({"email", "e-mail", "e_mail", "e mail"})

_CONTROL_CHARS: Final = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class _Tags(NamedTuple):
    source: str | None
    medium: str | None
    campaign: str | None
    term: str | None
    content: str | None


class _Traits(NamedTuple):
    """What the channel rules look at, computed once per classification."""

    source: str
    medium: str
    campaign: str
    paid: bool
    search: bool
    social: bool
    video: bool
    shopping: bool


def classify_referral(
    query: Mapping[str, str], referer: str | None, own_hosts: Collection[str] = ()
) -> dict[str, str | None] | None:
    """Attribute a request to a source, medium and GA4 default channel.

    Args:
        query: The request's query parameters (a ``QueryDict`` works; the last value of a
            repeated parameter is used).
        referer: The ``Referer`` header, or None. Only ``http``, ``https`` and
            ``android-app`` URLs count; anything else is ignored.
        own_hosts: The site's own host names. A referrer on one of them, or on a
            subdomain of one, is internal navigation. Ports and a ``www.`` prefix are
            ignored.

    Returns:
        None when the request brings no attribution (no campaign tags or click
        identifiers and an internal referrer). Otherwise a new dict with the keys of
        :data:`REFERRAL_KEYS`: ``channel`` (one of :data:`CHANNELS`), ``source`` and
        ``medium`` (lower case), ``campaign``, ``term`` and ``content`` (None when
        absent) and ``host``, the referrer's host name in lower case with any ``www.``
        kept, or None without a usable referrer.
    """
    tags = _campaign_tags(query)
    host = _referer_host(referer)
    internal = host is not None and _is_own_host(host, own_hosts)
    origin = _origin(query, tags, host, internal)
    if origin is None:
        return None
    source, medium = origin
    return {
        "channel": default_channel(source, medium, tags.campaign),
        "source": source,
        "medium": medium,
        "campaign": tags.campaign,
        "term": tags.term,
        "content": tags.content,
        "host": host,
    }


def default_channel(source: str, medium: str, campaign: str | None = None) -> str:
    """Apply GA4's default channel rules to a source, medium and campaign.

    Matching ignores case. The first rule that matches wins, in the order of
    :data:`CHANNELS`; ``unassigned`` is the fallback.

    Args:
        source: The traffic source, for example ``"google"`` or ``"news.example.com"``.
        medium: The traffic medium, for example ``"organic"`` or ``"cpc"``.
        campaign: The campaign name, if any.

    Returns:
        One of :data:`CHANNELS`.
    """
    source, medium = source.lower(), medium.lower()
    traits = _Traits(
        source=source,
        medium=medium,
        campaign=(campaign or "").lower(),
        paid=_PAID_MEDIUM.match(medium) is not None,
        search=source_in_category(source, "search"),
        social=source_in_category(source, "social"),
        video=source_in_category(source, "video"),
        shopping=source_in_category(source, "shopping"),
    )
    for channel, rule in _CHANNEL_RULES:
        if rule(traits):
            return channel
    return "unassigned"


# -- attribution --------------------------------------------------------------------------


def _origin(
    query: Mapping[str, str], tags: _Tags, host: str | None, internal: bool
) -> tuple[str, str] | None:
    if tags.source or tags.medium:
        return tags.source or NOT_SET, tags.medium or NOT_SET
    paid = _click_id_origin(query, _PAID_CLICK_IDS)
    if paid is not None:
        return paid
    if host is not None and not internal:
        return _referer_origin(host)
    social = _click_id_origin(query, _SOCIAL_CLICK_IDS)
    if social is not None:
        return social
    if tags.campaign:
        return NOT_SET, NOT_SET
    if internal:
        return None
    return DIRECT


def _campaign_tags(query: Mapping[str, str]) -> _Tags:
    source = _query_value(query, "utm_source")
    medium = _query_value(query, "utm_medium")
    return _Tags(
        source=source.lower()[:MAX_VALUE_LENGTH] if source else None,
        medium=medium.lower()[:MAX_VALUE_LENGTH] if medium else None,
        campaign=_query_value(query, "utm_campaign"),
        term=_query_value(query, "utm_term"),
        content=_query_value(query, "utm_content"),
    )


def _click_id_origin(
    query: Mapping[str, str], click_ids: tuple[tuple[str, str, str], ...]
) -> tuple[str, str] | None:
    for parameter, source, medium in click_ids:
        if _query_value(query, parameter):
            return source, medium
    return None


def _referer_origin(host: str) -> tuple[str, str]:
    engine = source_label(host, "search")
    if engine is not None:
        return engine, "organic"
    return _strip_www(host), "referral"


def _query_value(query: Mapping[str, str], key: str) -> str | None:
    return _clean(query.get(key))


def _clean(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    # Cut before the regex so that a huge value costs no more than a normal one.
    value = _CONTROL_CHARS.sub("", value[: MAX_VALUE_LENGTH * 4]).strip()
    return value[:MAX_VALUE_LENGTH] or None


# -- hosts --------------------------------------------------------------------------------


def _referer_host(referer: object) -> str | None:
    if not isinstance(referer, str) or not referer:
        return None
    try:
        parts = urlsplit(referer[:_MAX_REFERER_LENGTH].strip())
        host = parts.hostname
    except ValueError:
        # Malformed IPv6 brackets and NFKC-unsafe netlocs land here.
        logger.debug("Ignoring unparsable Referer %r", referer[:100])
        return None
    if parts.scheme.lower() not in _REFERER_SCHEMES or not host:
        return None
    host = _clean(host.rstrip("."))
    if host is None or " " in host:
        return None
    return host.lower()


def _is_own_host(host: str, own_hosts: Collection[str]) -> bool:
    host = _strip_www(host)
    for own in own_hosts:
        own = _normalise_own_host(own)
        if own and (host == own or host.endswith("." + own)):
            return True
    return False


def _normalise_own_host(value: object) -> str:
    if not isinstance(value, str):
        return ""
    value = value.strip().lower()
    if value.count(":") == 1:
        value = value.partition(":")[0]
    return _strip_www(value.strip("[]").rstrip("."))


def _strip_www(host: str) -> str:
    return host[4:] if host.startswith("www.") and host.count(".") >= 2 else host


# -- channel rules ------------------------------------------------------------------------


def _is_direct(t: _Traits) -> bool:
    return t.source == DIRECT[0] and t.medium in (NOT_SET, DIRECT[1])


def _is_shopping(t: _Traits) -> bool:
    return t.shopping or _SHOPPING_CAMPAIGN.match(t.campaign) is not None


def _is_mobile_push(t: _Traits) -> bool:
    return (
        t.medium.endswith("push")
        or "mobile" in t.medium
        or "notification" in t.medium
        or t.source == "firebase"
    )


# GA4's rules for manual traffic, in its order; the first match wins.
_CHANNEL_RULES: Final[tuple[tuple[str, Callable[[_Traits], bool]], ...]] = (
    ("direct", _is_direct),
    ("cross_network", lambda t: "cross-network" in t.campaign),
    ("paid_shopping", lambda t: t.paid and _is_shopping(t)),
    ("paid_search", lambda t: t.paid and t.search),
    ("paid_social", lambda t: t.paid and t.social),
    ("paid_video", lambda t: t.paid and t.video),
    ("display", lambda t: t.medium in _DISPLAY_MEDIA),
    ("paid_other", lambda t: t.paid),
    ("organic_shopping", _is_shopping),
    ("organic_social", lambda t: t.social or t.medium in _SOCIAL_MEDIA),
    ("organic_video", lambda t: t.video or _VIDEO_MEDIUM.match(t.medium) is not None),
    ("organic_search", lambda t: t.search or t.medium == "organic"),
    ("referral", lambda t: t.medium in _REFERRAL_MEDIA),
    ("email", lambda t: t.source in _EMAIL_VALUES or t.medium in _EMAIL_VALUES),
    ("affiliates", lambda t: t.medium == "affiliate"),
    ("audio", lambda t: t.medium == "audio"),
    ("sms", lambda t: t.source == "sms" or t.medium == "sms"),
    ("mobile_push", _is_mobile_push),
)
