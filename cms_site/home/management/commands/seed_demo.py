"""Create the demo's pages, users, segments, scoring rules, goals, funnels and settings.

Safe to run again: only what is missing is created, so editors' changes survive. Pages from an
earlier run that no editor has saved since get what later versions of the demo added (tags, block
keys, the phones' A/B test, the try-it page's analytics section); the A/B test is named, given
its goal and started once, while editors have not touched it.
"""

from __future__ import annotations

import copy
import json
import uuid
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from wagtail.models import Page, Site

from cms_site.home.models import ContentPage, HomePage, ProductPage
from personalize.models import (
    Experiment,
    Funnel,
    Goal,
    PersonalizationSettings,
    ScoringRule,
    Segment,
)

ADMIN = ("admin", "admin-demo")
CUSTOMER = ("customer", "customer-demo")

SEGMENTS: list[dict[str, Any]] = [
    {
        "slug": "mobile-visitors",
        "name": "Mobile visitors",
        "description": "Anyone on a phone: short copy, tap-friendly calls to action.",
        "rules": [{"type": "device_type", "value": {"values": ["mobile"]}}],
    },
    {
        "slug": "dach",
        "name": "From DACH",
        "description": "German-speaking markets: Germany, Austria and Switzerland.",
        "rules": [{"type": "country", "value": {"values": ["DE", "AT", "CH"]}}],
    },
    {
        "slug": "paid-search",
        "name": "Paid-search arrivals",
        "description": "Visits that landed from a search ad (utm_medium=cpc, gclid or msclkid).",
        "rules": [{"type": "channel", "value": {"values": ["paid_search"]}}],
    },
    {
        "slug": "morning-readers",
        "name": "Morning readers",
        "description": "Local time between 06:00 and 11:00 on weekdays.",
        "rules": [
            {"type": "time_window", "value": {"start": "06:00:00", "end": "11:00:00"}},
            {"type": "weekdays", "value": {"values": ["1", "2", "3", "4", "5"]}},
        ],
    },
    {
        "slug": "customers",
        "name": "Logged-in customers",
        "description": "Signed-in members of the Customers group.",
        "rules": [
            {"type": "logged_in", "value": {"state": "in"}},
            {"type": "group", "value": {"values": ["Customers"]}},
        ],
    },
    {
        "slug": "newsletter-readers",
        "name": "Newsletter readers",
        "description": "Visits from our email newsletter (utm_medium=email).",
        "rules": [{"type": "channel", "value": {"values": ["email"]}}],
    },
    {
        "slug": "ready-to-buy",
        "name": "Ready to buy",
        "description": "Visitors whose engagement puts them in the consideration or intent stage.",
        "rules": [
            {
                "type": "journey_stage",
                "value": {
                    "attribute": "stage",
                    "operator": "in",
                    "stages": ["consideration", "intent"],
                    "stage": "",
                },
            }
        ],
    },
    {
        "slug": "cooling-down",
        "name": "Cooling down",
        "description": (
            "Reactivation: visitors who once reached consideration but whose score has faded "
            "back to awareness."
        ),
        "rules": [
            {
                "type": "journey_stage",
                "value": {
                    "attribute": "peak_stage",
                    "operator": "at_least",
                    "stages": [],
                    "stage": "consideration",
                },
            },
            {
                "type": "journey_stage",
                "value": {
                    "attribute": "stage",
                    "operator": "in",
                    "stages": ["awareness"],
                    "stage": "",
                },
            },
        ],
    },
    {
        "slug": "ski-touring-fans",
        "name": "Ski-touring fans",
        "description": "Readers of at least two pages tagged ski-touring (interest points decay).",
        "rules": [{"type": "interest", "value": {"tag": "ski-touring", "points": 2}}],
    },
    {
        "slug": "returning-visitors",
        "name": "Returning visitors",
        "description": "Visitors on their second visit or later.",
        "rules": [{"type": "returning", "value": {"state": "returning"}}],
    },
    {
        "slug": "tea-drinkers",
        "name": "Tea drinkers",
        "description": "Visitors who told us they would like tea at the workshop.",
        "rules": [
            {"type": "preference", "value": {"key": "drink", "operator": "eq", "value": "tea"}}
        ],
    },
]

#: The demo's scoring rules, found again by name on later runs.
SCORING_RULES: list[dict[str, Any]] = [
    {
        "name": "Reads a guide or article",
        "trigger": "page_type",
        "page_type": "home.contentpage",
        "points": 5,
        "cap_per_visit": 15,
    },
    {
        "name": "Reads about ski touring",
        "trigger": "tag",
        "value": "ski-touring",
        "points": 10,
        "cap_per_visitor": 20,
    },
    {
        "name": "Requests a fitting",
        "trigger": "event",
        "value": "demo_request",
        "points": 25,
        "cap_per_visit": 25,
    },
    {
        "name": "Signs up for the newsletter",
        "trigger": "event",
        "value": "newsletter_signup",
        "points": 15,
        "cap_per_visitor": 15,
    },
    {
        "name": "Logged-in customer",
        "trigger": "attribute",
        "points": 20,
        "rules": [
            {"type": "logged_in", "value": {"state": "in"}},
            {"type": "group", "value": {"values": ["Customers"]}},
        ],
    },
]

#: The stated preference the "Try it" page asks for.
DRINK_QUESTION: dict[str, Any] = {
    "key": "drink",
    "question": "What would you like to drink when you visit our Innsbruck workshop?",
    "options": [
        {"value": "tea", "label": "Tea"},
        {"value": "coffee", "label": "Coffee"},
        {"value": "sparkling-water", "label": "Sparkling water"},
    ],
    "help_text": (
        "We keep your answer on your profile until you change or remove it on the privacy page."
    ),
}


#: The demo's goals, found again by name on later runs.
GOALS: list[dict[str, Any]] = [
    {"name": "Viewed a product", "kind": Goal.EVENT, "event": "product_view"},
    {"name": "Added to cart", "kind": Goal.EVENT, "event": "add_to_cart"},
    {"name": "Checked out", "kind": Goal.EVENT, "event": "checkout"},
    {"name": "Registered", "kind": Goal.REGISTRATION},
    {"name": "Requested a fitting", "kind": Goal.EVENT, "event": "demo_request"},
]

#: The demo's funnels: their steps are goal names.
FUNNELS: list[dict[str, Any]] = [
    {"name": "Cart", "steps": ["Viewed a product", "Added to cart", "Checked out"]},
]

#: The home page's phones variant runs an A/B/n test; the seed names and starts it once.
PHONES = "Phones: call us"
EXPERIMENT: dict[str, Any] = {
    "name": "Home page: phones call, message or come in?",
    "goal": "Requested a fitting",
}

#: Namespace of the seeded blocks' and variants' keys (see :func:`key`).
_KEYS = uuid.UUID("5b0f7c9e-2a41-4d3b-9e57-0c6a8d1f4e22")


def key(name: str) -> str:
    """A stable key (32 hex digits) for a seeded block or variant.

    The same in every database seeded, so reports and the A/B test are found again by it.
    """
    return uuid.uuid5(_KEYS, name).hex


def _rich(*paragraphs: str) -> str:
    return "".join(f"<p>{text}</p>" for text in paragraphs)


def _raw(items: list[Any]) -> list[dict[str, Any]]:
    """StreamField data in its stored form: ``[{"type": ..., "value": ...}]``."""
    return [
        item if isinstance(item, dict) else {"type": item[0], "value": item[1]} for item in items
    ]


def _cta(heading: str, text: str, label: str, url: str) -> dict[str, Any]:
    return {
        "type": "call_to_action",
        "value": {"heading": heading, "text": text, "link_label": label, "link_url": url},
    }


def phone_test() -> dict[str, Any]:
    """The A/B/n test of the phones variant: two alternatives to "call us", and a holdout."""
    return {
        "alternatives": [
            {
                "label": "B: WhatsApp us",
                "weight": 30,
                "content": [
                    _cta(
                        "Message the workshop on WhatsApp",
                        "Send a photo of your kit or your question: the people who make the gear answer within the hour, Monday to Friday, 8:00 to 17:00 CET.",
                        "Chat on WhatsApp",
                        "https://wa.me/43512000000",
                    )
                ],
            },
            {
                "label": "C: book a fitting",
                "weight": 30,
                "content": [
                    _cta(
                        "Come by for a fitting",
                        "Half an hour at our Innsbruck workshop, free: boots, pack and layers adjusted to you by the people who make them.",
                        "Book a fitting",
                        "/try-it/#fitting",
                    )
                ],
            },
        ],
        "weight": 40,
        "holdout": 10,
    }


def _keyed(block: dict[str, Any], name: str) -> dict[str, Any]:
    """Give a personalized block and each of its variants their stable keys (when missing)."""
    value = block["value"]
    value["key"] = value.get("key") or key(name)
    for variant in value["variants"]:
        variant["key"] = variant.get("key") or key(f"{name}/{variant.get('label', '')}")
    return block


def home_body(segments: dict[str, int]) -> list[Any]:
    """The home page: a personalized welcome, then the same story for everyone."""
    welcome = {
        "type": "personalized",
        "value": {
            "variants": [
                # What a visitor did outranks where they are: profile audiences come first.
                {
                    "label": "Cooling down: welcome back",
                    "segments": [segments["cooling-down"]],
                    "content": [
                        _cta(
                            "Welcome back",
                            "Good to see you again. Whatever caught your eye last time, take 15% off it this month with the code AGAIN15.",
                            "See what's new in the journal",
                            "/journal/",
                        )
                    ],
                },
                {
                    "label": "Ready to buy: book a fitting",
                    "segments": [segments["ready-to-buy"]],
                    "content": [
                        _cta(
                            "Try it on before you decide",
                            "Book a free 30-minute fitting at our Innsbruck workshop: boots, pack and layers, adjusted to you by the people who make them.",
                            "Request a fitting",
                            "/try-it/#fitting",
                        )
                    ],
                },
                {
                    "label": "Ski-touring fans: touring kit",
                    "segments": [segments["ski-touring-fans"]],
                    "content": [
                        _cta(
                            "Touring kit, tested above Innsbruck",
                            "Skins, light shells and merino base layers: the kit our guides take on every tour, with skins cut to your skis for free.",
                            "Read the layering guide",
                            "/guides/layering-for-ski-touring/",
                        )
                    ],
                },
                {
                    "label": "Ads: first-order offer",
                    "segments": [segments["paid-search"]],
                    "content": [
                        _cta(
                            "10% off your first order",
                            "You found us through a search ad: use the code WELCOME10 at checkout, valid for 30 days.",
                            "Shop rain jackets",
                            "/guides/choosing-a-rain-jacket/",
                        )
                    ],
                },
                {
                    "label": "DACH: free shipping",
                    "segments": [segments["dach"]],
                    "content": [
                        _cta(
                            "Free shipping to Germany, Austria and Switzerland",
                            "Our workshop is in Innsbruck: orders to DACH arrive in two working days, with free returns.",
                            "Read about our workshop",
                            "/journal/",
                        )
                    ],
                },
                {
                    "label": PHONES,
                    "segments": [segments["mobile-visitors"]],
                    "content": [
                        _cta(
                            "Questions? Call the workshop",
                            "Talk to the people who make the gear, Monday to Friday, 8:00 to 17:00 CET: +43 512 000 000.",
                            "Call now",
                            "tel:+43512000000",
                        )
                    ],
                    **phone_test(),
                },
            ],
            "default": [
                _cta(
                    "New here?",
                    "Start with our guide to choosing a rain jacket: the one piece of kit everyone needs.",
                    "Read the guide",
                    "/guides/choosing-a-rain-jacket/",
                )
            ],
        },
    }
    return [
        _keyed(welcome, "home/welcome"),
        ("heading", "Made to be repaired"),
        (
            "paragraph",
            _rich(
                "Every jacket we sell comes with spare parts and free repairs for ten years. We would rather fix your gear than sell you new gear."
            ),
        ),
    ]


def layering_guide() -> dict[str, Any]:
    """A guide whose second half is for registered visitors."""
    return {
        "type": "gated",
        "value": {
            "requirement": "authenticated",
            "groups": [],
            "segments": [],
            "teaser": _rich(
                "The rest of this guide — our complete layering system for ski touring, with the exact pieces our guides wear from -20 °C to +10 °C — is free for registered readers."
            ),
            "cta_label": "Create a free account to read on",
            "cta_page": None,
            "content": _raw(
                [
                    ("heading", "The system"),
                    (
                        "paragraph",
                        _rich(
                            "Base: merino, 150 g/m², long-sleeved. Mid: a grid fleece for the climb, a synthetic insulated jacket for the summit. Shell: a hardshell you carry more often than you wear."
                        ),
                    ),
                    (
                        "paragraph",
                        _rich(
                            "Adjust before you are hot or cold: one layer off at the first steep section, one layer on before the descent."
                        ),
                    ),
                ]
            ),
        },
    }


#: The heading of the try-it page's section on analytics (added to pages of earlier runs).
ANALYTICS_HEADING = "Analytics and A/B tests"


def analytics_section() -> list[Any]:
    """The try-it page's section on goals, the phones' A/B/n test, the shop funnel and reports."""
    return [
        ("heading", ANALYTICS_HEADING),
        (
            "paragraph",
            _rich(
                "With analytics allowed (“Allow all” in the banner, or on the privacy page), the site remembers for 7 days which version of each personalized block you saw. Reach a goal in that time, such as requesting a fitting, adding a product to your cart or checking out, and it counts as a conversion for that version. Without analytics only anonymous totals are counted: how often each version was shown.",
                "The phones' greeting on the home page runs an A/B/n test. One phone visitor in ten is held out and gets the greeting everyone else sees, which shows whether the phone version helps at all; the others are split 40/30/30 between “Call the workshop”, a WhatsApp link and an invitation to a fitting. Your version follows from your visitor id, so it stays the same on every visit. To see another one, open the home page in a new browser profile or a private window (or clear this site's cookies), allow analytics again and switch to a phone in your browser's developer tools.",
                'The <a href="/shop/">shop</a> is a funnel: viewing a product, adding it to the cart and checking out are three goals, and the “Cart” funnel shows how many visitors get from each step to the next, so you see where shoppers abandon their carts. Nothing is for sale: checking out just says thank you.',
                "Editors read the results in the admin under Reports → Personalization: impressions, visitors and conversions of every version, and the chance that each alternative beats the original. The Analytics menu holds the goals, funnels and experiments: start, pause or end a test there, or let it send more visitors to the version that converts best. Counts are collected in the cache; <code>manage.py personalize_flush_analytics</code>, run every few minutes, moves them into the database, and the report adds the counts not yet moved, so your own clicks show up at once.",
            ),
        ),
    ]


def try_it_body(segments: dict[str, int]) -> list[Any]:
    """The "Try personalization" page: every signal, then the visitor profile, step by step."""
    return [
        ("heading", "Your choice comes first"),
        (
            "paragraph",
            _rich(
                "On your first visit a banner asks what you allow. Until you choose, the site uses only what each request tells it (country, device, local time, the link you followed) and stores nothing about you: no visitor id, no profile, no tracking cookie.",
                'Choose “Allow all” to try everything on this page; “Only necessary” keeps you anonymous. If your browser sends the <a href="https://globalprivacycontrol.org/">Global Privacy Control</a> signal, we honour it: nothing optional is switched on unless you choose it yourself.',
            ),
        ),
        ("heading", "Referral channel"),
        (
            "paragraph",
            _rich(
                'Arrive from a search ad: <a href="/?utm_source=google&amp;utm_medium=cpc&amp;utm_campaign=autumn-boots">/?utm_source=google&amp;utm_medium=cpc</a> or with a click id: <a href="/?gclid=demo-click">/?gclid=demo-click</a>.',
                'Arrive from the newsletter: <a href="/?utm_source=newsletter&amp;utm_medium=email&amp;utm_campaign=november">/?utm_source=newsletter&amp;utm_medium=email</a>.',
                "The landing channel sticks for the whole visit (30 minutes of inactivity), just as in analytics: browse around after clicking one of these links and the panel keeps it. The site remembers it between pages only if you allowed personalization.",
            ),
        ),
        ("heading", "Country"),
        ("country_picker", None),
        (
            "paragraph",
            _rich(
                "Choose a country above: the demo plays the part of a CDN such as Cloudflare, which tells the site where each visitor is with a <code>CF-IPCountry</code> header. The site believes that header only from its trusted proxy, here 127.0.0.1. From a terminal: <code>curl -H 'CF-IPCountry: AT' http://127.0.0.1:8000/personalize/debug/</code>.",
                "With a GeoIP2 City database, set <code>GEOIP_PATH</code> and visitors' IP addresses are looked up instead.",
            ),
        ),
        ("heading", "Device"),
        (
            "paragraph",
            _rich(
                "Open this page on your phone, or switch your browser's developer tools to a phone. The panel shows the device type, operating system and browser."
            ),
        ),
        ("heading", "Local time"),
        (
            "paragraph",
            _rich(
                'The "Morning readers" segment matches between 06:00 and 11:00 on weekdays, in your time zone (from geo, else from your browser, else the site\'s).'
            ),
        ),
        ("heading", "Your profile and score"),
        (
            "paragraph",
            _rich(
                "With personalization allowed, the site keeps a small profile for this browser: your visits (a visit ends after 30 minutes without a click), the topics of the pages you read, and an engagement score. Reading earns 5 points a page, at most 15 a visit; pages tagged <em>ski-touring</em> earn 10 more, at most 20 in all. Points fade: after 30 days without a visit they count half.",
                "The score places you in a journey stage: awareness from 0 points, interest from 20, consideration from 50 and intent from 80. The site also remembers the furthest stage you reached, so it can welcome you back when your score fades: that is the “Cooling down” audience.",
                'Read <a href="/guides/layering-for-ski-touring/">Layering for ski touring</a> and <a href="/journal/first-tour-of-the-season/">First tour of the season</a> to join “Ski-touring fans”, then look at the home page and at the panel at the bottom of this page. Editors change the points under Settings → Scoring rules in the admin, and the stages under Settings → Personalization.',
            ),
        ),
        ("heading", "Tell us one thing"),
        ("preference", DRINK_QUESTION),
        _keyed(
            {
                "type": "personalized",
                "value": {
                    "variants": [
                        {
                            "label": "Tea drinkers: the kettle",
                            "segments": [segments["tea-drinkers"]],
                            "content": _raw(
                                [
                                    (
                                        "paragraph",
                                        _rich(
                                            "We'll have the kettle on. Our workshop keeps a loose-leaf mountain herb blend from a farm in the Stubai valley, and black tea for anyone who needs it stronger."
                                        ),
                                    )
                                ]
                            ),
                        }
                    ],
                    "default": _raw(
                        [
                            (
                                "paragraph",
                                _rich(
                                    "Your answer becomes <code>visitor.prefs.drink</code> on your profile, and segments can use it at once: answer “Tea” and this paragraph changes."
                                ),
                            )
                        ]
                    ),
                },
            },
            "try-it/drink",
        ),
        (
            "fitting_request",
            {
                "heading": "Book a fitting in Innsbruck",
                "text": "Half an hour with one of our fitters: boots, pack and layers, adjusted to you. Free, with a drink of your choice.",
                "button_label": "Request a fitting",
            },
        ),
        (
            "paragraph",
            _rich(
                'The button posts to a small view of this demo that calls <code>personalize.track(request, "demo_request")</code>: this is how a shop reports a conversion from its own code. A scoring rule gives the event 25 points. Read the two ski-touring pages above, then request a fitting: 15 + 20 + 25 = 60 points puts you in the consideration stage and the “Ready to buy” audience, and the home page offers you a fitting.',
                "Scripts report events too, with a POST to <code>/personalize/events/</code>: a newsletter form that sends <code>name=newsletter_signup</code> earns 15 points.",
            ),
        ),
        ("heading", "Logged-in customers"),
        (
            "paragraph",
            _rich(
                '<a href="/accounts/login/?next=/try-it/">Log in</a> as <code>customer</code> with the password <code>customer-demo</code>: you join the "Logged-in customers" segment, and a scoring rule gives members of the Customers group 20 points, once.',
                "What this browser collected before you logged in is merged into the account's profile: visits, interests and answers follow you to your other devices. The privacy page lists every merge.",
            ),
        ),
        *analytics_section(),
        ("heading", "What we know, and how to take it back"),
        (
            "paragraph",
            _rich(
                'The <a href="/personalize/privacy/">privacy page</a> shows everything the site knows about you: the signals of this visit, your stored profile, and why you are in each audience. There you can change your choice, download your data as JSON or erase it.',
                "Personalized content carries a “Why am I seeing this?” note that names the audience and the values of yours that put you in it.",
            ),
        ),
    ]


PAGES: list[dict[str, Any]] = [
    {
        "slug": "journal",
        "title": "Journal",
        "search_description": "Field notes and trip reports from the team.",
        "intro": _rich("Field notes, trip reports and the occasional gear rant from our team."),
        "children": [
            {
                "slug": "three-days-in-the-dolomites",
                "title": "Three days in the Dolomites",
                "tags": ["hiking", "hut-to-hut"],
                "search_description": "A hut-to-hut route for a long weekend, with what we packed.",
                "intro": _rich(
                    "A hut-to-hut route for a long weekend, with what we packed and what we should have."
                ),
                "body": [
                    ("heading", "Day one: Passo Gardena to Puez"),
                    (
                        "paragraph",
                        _rich(
                            "We started early to beat the heat. The climb out of the pass is steep for the first hour, then opens onto the Puez plateau, where the only sound is the wind and the occasional marmot."
                        ),
                    ),
                    ("quote", "Pack for four seasons; you will meet at least three."),
                    ("heading", "What we would change"),
                    (
                        "paragraph",
                        _rich(
                            "Lighter boots, a warmer mid-layer and one more litre of water capacity. Huts sell water, but not always when you need it."
                        ),
                    ),
                ],
            },
            {
                "slug": "waxing-skis-at-home",
                "title": "Waxing skis at home",
                "tags": ["skiing", "care"],
                "search_description": "Twenty minutes, an old iron and a scraper.",
                "intro": _rich(
                    "Twenty minutes, an old iron and a scraper: everything you need for a season of smooth glides."
                ),
                "body": [
                    (
                        "paragraph",
                        _rich(
                            "Clean the base with a brass brush, drip the wax along the ski, and iron it in with slow, even passes. Let it cool for at least half an hour before you scrape."
                        ),
                    ),
                ],
            },
            {
                "slug": "first-tour-of-the-season",
                "title": "First tour of the season",
                "tags": ["ski-touring", "safety"],
                "search_description": "Skins on at first light: an easy tour to shake off the summer.",
                "intro": _rich(
                    "Skins on at first light: how we ease into the winter, and what always goes in the pack."
                ),
                "body": [
                    ("heading", "Start easy"),
                    (
                        "paragraph",
                        _rich(
                            "The first tour of the winter is not the day for a summit. We pick a gentle slope close to home, check every binding and skin at the car park, and go slowly enough to talk. If you cannot finish a sentence, you are going too fast."
                        ),
                    ),
                    (
                        "quote",
                        "Turn around when it stops being fun; the mountain will still be there next weekend.",
                    ),
                    ("heading", "What goes in the pack"),
                    (
                        "paragraph",
                        _rich(
                            "Transceiver, shovel and probe, always, and a partner who knows how to use theirs. Then a warm jacket for the top, spare gloves, a thermos and something sweet. Read the avalanche bulletin the evening before, and again in the morning."
                        ),
                    ),
                ],
            },
        ],
    },
    {
        "slug": "guides",
        "title": "Guides",
        "search_description": "Practical advice for choosing gear that lasts.",
        "intro": _rich("Practical advice for choosing gear that lasts."),
        "children": [
            {
                "slug": "layering-for-ski-touring",
                "title": "Layering for ski touring",
                "tags": ["ski-touring", "skiing", "layering"],
                "search_description": "Our guides' layering system, from -20 °C to +10 °C.",
                "intro": _rich("Stay warm on the summit without overheating on the climb."),
                "body": [
                    (
                        "paragraph",
                        _rich(
                            "Ski touring is two sports in one day: a sweaty climb and a cold, fast descent. The trick is not the warmest jacket but the right layers, changed at the right time."
                        ),
                    ),
                    layering_guide(),
                ],
            },
            {
                "slug": "choosing-a-rain-jacket",
                "title": "Choosing a rain jacket",
                "tags": ["hiking", "rain-gear"],
                "search_description": "Membranes, seams and hoods: what matters and what is marketing.",
                "intro": _rich("Membranes, seams and hoods: what matters and what is marketing."),
                "body": [
                    ("heading", "Breathability is a trade-off"),
                    (
                        "paragraph",
                        _rich(
                            "No jacket stays dry inside on a steep climb. Pit zips and a loose cut do more for comfort than the membrane's lab figures."
                        ),
                    ),
                    (
                        "call_to_action",
                        {
                            "heading": "Try before you buy",
                            "text": "Every jacket in our shop can be returned within 60 days, worn or not.",
                            "link_label": "Read the returns policy",
                            "link_url": "/guides/",
                        },
                    ),
                ],
            },
        ],
    },
    {
        "slug": "shop",
        "title": "Shop",
        "search_description": "Jackets, base layers and touring skins from our workshop.",
        "intro": _rich(
            "Clothing and equipment from our workshop in Innsbruck, with spare parts and free repairs for ten years."
        ),
        "body": [
            (
                "paragraph",
                _rich(
                    "This is a demo shop: put something in your cart and check out to walk through the “Cart” funnel that editors see in the admin. Nothing is charged or shipped."
                ),
            ),
        ],
        "children": [
            {
                "type": "product",
                "slug": "alpine-shell-jacket",
                "title": "Alpine shell jacket",
                "price": "389.00",
                "tags": ["shop", "rain-gear", "hiking"],
                "search_description": "A three-layer shell for tours and wet hut-to-hut days: 390 g, helmet hood, pit zips.",
                "intro": _rich(
                    "Our lightest three-layer shell, cut long at the back and roomy enough for a fleece underneath."
                ),
                "body": [
                    ("heading", "Made for the climb and the storm"),
                    (
                        "paragraph",
                        _rich(
                            "Recycled nylon with a PFC-free membrane, taped seams and a hood that fits over a helmet. Two-way pit zips let the heat out on the skin track; the chest pockets sit above a hip belt or a harness. 390 g in size M.",
                            "Like everything we make, it comes with spare parts and ten years of free repairs.",
                        ),
                    ),
                    (
                        "add_to_cart",
                        {
                            "button_label": "Add to cart",
                            "note": "Free shipping to Germany, Austria and Switzerland. Return it within 60 days, worn or not.",
                        },
                    ),
                ],
            },
            {
                "type": "product",
                "slug": "merino-base-layer",
                "title": "Merino base layer",
                "price": "89.00",
                "tags": ["shop", "layering", "ski-touring"],
                "search_description": "150 g/m² merino, long-sleeved: warm on the summit, dry on the climb.",
                "intro": _rich(
                    "The long-sleeved base layer our guides wear from the first tour in November to the last in May."
                ),
                "body": [
                    (
                        "paragraph",
                        _rich(
                            "150 g/m² merino from mulesing-free farms, knitted in Austria. Flat seams where the pack straps sit, a long back and thumb loops. It still smells fine after three days in a hut, and it goes in the washing machine at 30 °C."
                        ),
                    ),
                    (
                        "add_to_cart",
                        {
                            "button_label": "Add to cart",
                            "note": "Free shipping to Germany, Austria and Switzerland.",
                        },
                    ),
                ],
            },
            {
                "type": "product",
                "slug": "touring-skins",
                "title": "Touring skins",
                "price": "165.00",
                "tags": ["shop", "ski-touring", "skiing"],
                "search_description": "Mohair-mix climbing skins, cut to your skis in our workshop for free.",
                "intro": _rich(
                    "Mohair-mix skins that grip on an icy skin track and glide on the flat, cut to your skis for free."
                ),
                "body": [
                    (
                        "paragraph",
                        _rich(
                            "70% mohair and 30% nylon: grip and glide that last for several seasons. The tip and tail fixings fit most touring skis; after you order, tell us your skis' model and length and we cut the skins before they ship.",
                            "With a storage bag and skin savers. Re-gluing is free for as long as you own them.",
                        ),
                    ),
                    (
                        "add_to_cart",
                        {
                            "button_label": "Add to cart",
                            "note": "Cut to your skis and shipped within two working days.",
                        },
                    ),
                ],
            },
        ],
    },
    {
        "slug": "try-it",
        "title": "Try personalization",
        "search_description": "Every visitor signal, and how to send it from your browser or curl.",
        "intro": _rich(
            'Every segment on this site is built from signals of your visit. Use the links below, then look at the panel at the bottom of each page or at the <a href="/personalize/debug/">visitor debug page</a>.'
        ),
        "body": try_it_body,
    },
]


def _seeded_only(page: Page) -> bool:
    """Whether every revision of ``page`` was made by this command (none by an editor)."""
    return not page.revisions.exclude(user=None).exists()


class Command(BaseCommand):
    """``manage.py seed_demo``: the demo's content, users and segments."""

    help = (
        "Create the demo site's pages, users, segments, scoring rules, goals, funnels and "
        "settings, and start its A/B test (only what is missing)."
    )

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        self._users()
        PersonalizationSettings.load()  # default stages and half-life, editable in the admin
        for spec in SEGMENTS:
            self._segment(spec)
        home = self._home()
        self._upgrade_home(home)
        for spec in PAGES:
            self._page(home, spec)
        self._upgrade_try_it(home)
        for spec in SCORING_RULES:
            self._scoring_rule(spec)
        for spec in GOALS:
            self._goal(spec)
        for spec in FUNNELS:
            self._funnel(spec)
        self._start_experiment()
        self.stdout.write(self.style.SUCCESS("Demo content ready."))
        self.stdout.write(
            f"Admin:    http://127.0.0.1:8000/admin/  user {ADMIN[0]!r}, password {ADMIN[1]!r}"
        )
        self.stdout.write(f"Customer: user {CUSTOMER[0]!r}, password {CUSTOMER[1]!r}")

    def _home(self) -> HomePage:
        existing = HomePage.objects.first()
        if existing:
            return existing
        root = Page.get_first_root_node()
        for page in root.get_children():
            if page.slug == "home" and not isinstance(page.specific, HomePage):
                page.delete()
        root.refresh_from_db()  # the tree changed under this instance
        home = HomePage(
            title="Gear for people who go outside",
            slug="home",
            intro=_rich(
                "Northwind Outdoor makes and sells clothing and equipment for hiking, climbing and ski touring, from our workshop in Innsbruck."
            ),
            body=_raw(home_body(self._segment_ids())),
        )
        root.add_child(instance=home)
        home.save_revision().publish()
        site = Site.objects.filter(is_default_site=True).first()
        if site is None:
            Site.objects.create(
                hostname="localhost",
                port=80,
                root_page=home,
                is_default_site=True,
                site_name="Northwind Outdoor",
            )
        else:
            site.root_page = home
            site.site_name = "Northwind Outdoor"
            site.save()
        return home

    def _page(self, parent: Page, spec: dict[str, Any]) -> None:
        existing = parent.get_children().filter(slug=spec["slug"]).first()
        if existing is None:
            body = spec.get("body", [])
            if callable(body):
                body = body(self._segment_ids())
            fields = {
                "title": spec["title"],
                "slug": spec["slug"],
                "intro": spec.get("intro", ""),
                "search_description": spec.get("search_description", ""),
                "body": _raw(body),
            }
            if spec.get("type") == "product":
                page = ProductPage(price=Decimal(spec["price"]), **fields)
            else:
                page = ContentPage(**fields)
            page.tags.add(*spec.get("tags", []))
            parent.add_child(instance=page)
            page.save_revision().publish()
        else:
            page = existing.specific
            self._tag(page, spec.get("tags", []))
        for child in spec.get("children", []):
            self._page(page, child)

    def _tag(self, page: Page, tags: list[str]) -> None:
        """Give a page from an earlier run its tags, unless an editor already tagged it."""
        if not tags or not isinstance(page, ContentPage | ProductPage) or page.tags.exists():
            return
        page.tags.add(*tags)
        page.save_revision().publish()

    def _upgrade_home(self, home: HomePage) -> None:
        """Give a home page from an earlier run its keys and the phones' A/B test.

        Only while no editor has saved the page (they would have given it keys themselves):
        the welcome block without a key, every revision made by this command.
        """
        body = copy.deepcopy(list(home.body.raw_data))
        welcome = next((item for item in body if item.get("type") == "personalized"), None)
        if welcome is None or welcome["value"].get("key") or not _seeded_only(home):
            return
        for variant in welcome["value"].get("variants", []):
            if variant.get("label") == PHONES and not variant.get("alternatives"):
                variant.update(phone_test())
        _keyed(welcome, "home/welcome")
        home.body = body
        home.save_revision().publish()

    def _upgrade_try_it(self, home: HomePage) -> None:
        """Add the analytics section to a try-it page from an earlier run no editor has saved."""
        page = home.get_children().filter(slug="try-it").specific().first()
        if not isinstance(page, ContentPage) or not _seeded_only(page):
            return
        body = copy.deepcopy(list(page.body.raw_data))
        headings = [item.get("value") for item in body if item.get("type") == "heading"]
        if ANALYTICS_HEADING in headings:
            return
        at = next(
            (
                index
                for index, item in enumerate(body)
                if item.get("type") == "heading"
                and item.get("value") == "What we know, and how to take it back"
            ),
            len(body),
        )
        body[at:at] = _raw(analytics_section())
        page.body = body
        page.save_revision().publish()

    def _goal(self, spec: dict[str, Any]) -> None:
        if Goal.objects.filter(name=spec["name"]).exists():
            return
        goal = Goal(**spec)
        goal.full_clean()
        goal.save()

    def _funnel(self, spec: dict[str, Any]) -> None:
        if Funnel.objects.filter(name=spec["name"]).exists():
            return
        goals = {goal.name: goal for goal in Goal.objects.filter(name__in=spec["steps"])}
        if len(goals) < len(spec["steps"]):
            return  # an editor renamed or deleted a step's goal: leave the funnel to them
        Funnel.objects.create(
            name=spec["name"], steps=[("goal", goals[name]) for name in spec["steps"]]
        )

    def _start_experiment(self) -> None:
        """Name the phones' test, give it its goal and start it, unless editors already did."""
        experiment = Experiment.objects.filter(key=key(f"home/welcome/{PHONES}")).first()
        if experiment is None or experiment.status != Experiment.DRAFT:
            return
        if experiment.started_at is not None or experiment.goal_id is not None:
            return
        experiment.name = EXPERIMENT["name"]
        experiment.goal = Goal.objects.filter(name=EXPERIMENT["goal"]).first()
        experiment.status = Experiment.RUNNING
        experiment.started_at = timezone.now()
        experiment.full_clean()
        experiment.save()

    def _scoring_rule(self, spec: dict[str, Any]) -> None:
        if ScoringRule.objects.filter(name=spec["name"]).exists():
            return
        fields = {key: value for key, value in spec.items() if key != "rules"}
        rule = ScoringRule(**fields)
        rule.rules = json.loads(json.dumps(spec.get("rules", [])))
        rule.full_clean()
        rule.save()

    def _users(self) -> None:
        user_model = get_user_model()
        if not user_model.objects.filter(username=ADMIN[0]).exists():
            user_model.objects.create_superuser(
                ADMIN[0], "admin@example.com", ADMIN[1], first_name="Ada"
            )
        customers, _ = Group.objects.get_or_create(name="Customers")
        customer = user_model.objects.filter(username=CUSTOMER[0]).first()
        if customer is None:
            customer = user_model.objects.create_user(
                CUSTOMER[0], "customer@example.com", CUSTOMER[1], first_name="Cleo"
            )
        customer.groups.add(customers)

    def _segment_ids(self) -> dict[str, int]:
        return dict(Segment.objects.values_list("slug", "pk"))

    def _segment(self, spec: dict[str, Any]) -> None:
        if Segment.objects.filter(slug=spec["slug"]).exists():
            return
        segment = Segment(slug=spec["slug"], name=spec["name"], description=spec["description"])
        segment.rules = json.loads(json.dumps(spec["rules"]))
        segment.full_clean()
        segment.save()
