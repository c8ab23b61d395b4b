"""The channel picker: GA4's channels in plain words, grouped, with one-pick shortcuts.

The stored values are GA4's default channels in snake case (``organic_search``), as the
referral signal reports them (``referral.channel``), plus shortcuts such as ``any_search``
that the condition expands to the channels they stand for. Values stored before the shortcuts
existed keep their meaning.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from personalize.rule_blocks.choices import join_or

#: Shortcuts and the channels each stands for, in the order of the signal's channel list.
SHORTCUTS: dict[str, tuple[str, ...]] = {
    "any_search": ("paid_search", "organic_search"),
    "any_social": ("paid_social", "organic_social"),
    "any_messages": ("email", "sms", "mobile_push"),
    "any_paid": (
        "cross_network",
        "paid_shopping",
        "paid_search",
        "paid_social",
        "paid_video",
        "display",
        "paid_other",
        "audio",
    ),
}


#: The picker's choices: (heading, [(value, label), …]).
GROUPS: list[tuple[Any, list[tuple[str, Any]]]] = [
    (
        _("Search"),
        [
            ("any_search", _("A search engine (organic or paid)")),
            ("organic_search", pgettext_lazy("marketing channel", "Search results (organic)")),
            ("paid_search", pgettext_lazy("marketing channel", "Search ads (paid)")),
        ],
    ),
    (
        _("Social"),
        [
            ("any_social", _("A social network (organic or paid)")),
            (
                "organic_social",
                pgettext_lazy("marketing channel", "Social network posts (organic)"),
            ),
            ("paid_social", pgettext_lazy("marketing channel", "Social network ads (paid)")),
        ],
    ),
    (
        _("Email & messaging"),
        [
            ("any_messages", _("An email, text message or push notification")),
            ("email", pgettext_lazy("marketing channel", "Email")),
            ("sms", pgettext_lazy("marketing channel", "Text message (SMS)")),
            ("mobile_push", pgettext_lazy("marketing channel", "Push notification")),
        ],
    ),
    (
        _("Ads & other paid"),
        [
            ("any_paid", _("Any ad or paid campaign")),
            ("display", pgettext_lazy("marketing channel", "Display and banner ads")),
            ("paid_video", pgettext_lazy("marketing channel", "Video ads")),
            ("paid_shopping", pgettext_lazy("marketing channel", "Shopping ads")),
            ("audio", pgettext_lazy("marketing channel", "Audio ads")),
            (
                "cross_network",
                pgettext_lazy("marketing channel", "Ads on several networks (cross-network)"),
            ),
            ("paid_other", pgettext_lazy("marketing channel", "Other paid campaigns")),
            ("affiliates", pgettext_lazy("marketing channel", "Affiliate partners")),
        ],
    ),
    (
        _("Other"),
        [
            (
                "direct",
                pgettext_lazy("marketing channel", "Typed the address or used a bookmark (direct)"),
            ),
            (
                "referral",
                pgettext_lazy("marketing channel", "A link on another website (referral)"),
            ),
            ("organic_video", pgettext_lazy("marketing channel", "Video sites (not ads)")),
            ("organic_shopping", pgettext_lazy("marketing channel", "Shopping sites (not ads)")),
            (
                "unassigned",
                pgettext_lazy("marketing channel", "Tagged links no other channel fits"),
            ),
        ],
    ),
]

#: What each choice covers, shown under its label.
DESCRIPTIONS: dict[str, Any] = {
    "any_search": _("Search results and search ads together."),
    "organic_search": _("Unpaid results on Google, Bing, DuckDuckGo, Ecosia and other engines."),
    "paid_search": _("Ads on a search engine: Google Ads, Microsoft Advertising."),
    "any_social": _("Posts and ads together."),
    "organic_social": _("Links shared on Facebook, Instagram, LinkedIn, TikTok and the like."),
    "paid_social": _("Ads on a social network (a paid utm_medium such as cpc or paid_social)."),
    "any_messages": _("Email, SMS and push notifications together."),
    "email": _("Newsletters and other emails whose links say utm_medium=email."),
    "sms": _("Links in text messages (utm_source or utm_medium sms)."),
    "mobile_push": _("App and browser push notifications (utm_medium ending in push)."),
    "any_paid": _("Every paid channel below except affiliates."),
    "display": _("Banner ads (utm_medium display, banner, cpm; Campaign Manager clicks)."),
    "paid_video": _("Ads on YouTube and other video sites."),
    "paid_shopping": _("Paid product listings, e.g. Google Shopping."),
    "audio": _("Podcast and streaming audio ads (utm_medium audio)."),
    "cross_network": _("Campaigns that run across networks, e.g. Google's Performance Max."),
    "paid_other": _("Paid campaigns that fit none of the above."),
    "affiliates": _("Partner sites paid per sale or click (utm_medium affiliate)."),
    "direct": _("No referring site and no campaign tags."),
    "referral": _("An ordinary link on a site that is not a search engine or social network."),
    "organic_video": _("Unpaid links from YouTube, Vimeo and other video sites."),
    "organic_shopping": _("Unpaid links from shopping sites such as Amazon or eBay."),
    "unassigned": _("Campaign tags that match no channel, e.g. an unknown utm_medium."),
}

#: How the segment sentence names each choice after "arriving from".
_WORDS: dict[str, Any] = {
    "any_search": pgettext_lazy("arriving from …", "a search engine"),
    "any_social": pgettext_lazy("arriving from …", "a social network"),
    "any_messages": pgettext_lazy("arriving from …", "an email, text message or push notification"),
    "any_paid": pgettext_lazy("arriving from …", "an ad or paid campaign"),
    "organic_search": pgettext_lazy("arriving from …", "organic search"),
    "paid_search": pgettext_lazy("arriving from …", "paid search"),
    "organic_social": pgettext_lazy("arriving from …", "organic social"),
    "paid_social": pgettext_lazy("arriving from …", "paid social"),
    "email": pgettext_lazy("arriving from …", "email"),
    "sms": pgettext_lazy("arriving from …", "a text message"),
    "mobile_push": pgettext_lazy("arriving from …", "a push notification"),
    "display": pgettext_lazy("arriving from …", "display ads"),
    "paid_video": pgettext_lazy("arriving from …", "video ads"),
    "paid_shopping": pgettext_lazy("arriving from …", "shopping ads"),
    "audio": pgettext_lazy("arriving from …", "audio ads"),
    "cross_network": pgettext_lazy("arriving from …", "cross-network ads"),
    "paid_other": pgettext_lazy("arriving from …", "other paid campaigns"),
    "affiliates": pgettext_lazy("arriving from …", "an affiliate"),
    "referral": pgettext_lazy("arriving from …", "a link on another website"),
    "organic_video": pgettext_lazy("arriving from …", "a video site"),
    "organic_shopping": pgettext_lazy("arriving from …", "a shopping site"),
    "unassigned": pgettext_lazy("arriving from …", "an unrecognised campaign"),
}


def channel_choices() -> list[tuple[Any, list[tuple[str, Any]]]]:
    """The channel picker's grouped choices (a callable, so migrations do not copy them)."""
    return GROUPS


def expand_channels(values: list[str]) -> list[str]:
    """The channels the chosen values stand for, each once, shortcuts expanded.

    Args:
        values: stored choices, e.g. ``["any_search", "email"]``.

    Returns:
        ``["paid_search", "organic_search", "email"]``.
    """
    channels: list[str] = []
    for value in values:
        channels.extend(SHORTCUTS.get(value, (value,)))
    return list(dict.fromkeys(channels))


def channel_phrase(values: list[str]) -> str:
    """The sentence's phrase: "arriving from a search engine or email".

    A channel that a chosen shortcut covers is not named again; "direct" reads "directly".
    """
    covered = {channel for value in values for channel in SHORTCUTS.get(value, ())}
    kept = [value for value in dict.fromkeys(values) if value not in covered]
    sources = [str(_WORDS.get(value, value)) for value in kept if value != "direct"]
    parts = []
    if "direct" in kept:
        # Translators: a rule phrase after "Visitors", for visits without a referrer.
        parts.append(gettext("arriving directly"))
    if sources:
        # Translators: a rule phrase after "Visitors", e.g. "arriving from a search engine".
        parts.append(gettext("arriving from %(channels)s") % {"channels": join_or(sources)})
    return join_or(parts)
