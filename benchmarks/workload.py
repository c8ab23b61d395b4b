"""Deterministic workloads: segment conditions and visitor signals like a real site's."""

from __future__ import annotations

import random
from typing import Any

COUNTRIES = [
    "DE",
    "AT",
    "CH",
    "FR",
    "GB",
    "US",
    "CA",
    "IT",
    "ES",
    "NL",
    "SE",
    "PL",
    "JP",
    "BR",
    "IN",
]
CHANNELS = [
    "direct",
    "organic_search",
    "paid_search",
    "organic_social",
    "email",
    "referral",
    "display",
]
DEVICES = ["mobile", "tablet", "desktop"]
USER_AGENTS = [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
]


def segment_rules(rng: random.Random) -> tuple[list[dict[str, Any]], str]:
    """Editor-style rules for one segment (1–3 rules) and how they combine."""
    makers = [
        lambda: {"type": "country", "value": {"values": rng.sample(COUNTRIES, rng.randint(1, 4))}},
        lambda: {
            "type": "device_type",
            "value": {"values": rng.sample(DEVICES, rng.randint(1, 2))},
        },
        lambda: {"type": "channel", "value": {"values": rng.sample(CHANNELS, rng.randint(1, 2))}},
        lambda: {"type": "time_window", "value": _window(rng)},
        lambda: {
            "type": "weekdays",
            "value": {"values": sorted(rng.sample("1234567", rng.randint(1, 5)))},
        },
        lambda: {"type": "logged_in", "value": {"state": rng.choice(["in", "out"])}},
        lambda: {
            "type": "utm",
            "value": {
                "parameter": "campaign",
                "operator": "contains",
                "values": rng.choice(["spring", "sale", "launch"]),
            },
        },
        lambda: {
            "type": "query_parameter",
            "value": {"name": "ref", "value": rng.choice(["partner", "ad", "news"])},
        },
    ]
    count = rng.randint(1, 3)
    return [rng.choice(makers)() for _ in range(count)], rng.choice(["all", "all", "any"])


def _window(rng: random.Random) -> dict[str, str]:
    start = rng.randrange(0, 24)
    end = (start + rng.randint(2, 8)) % 24
    return {"start": f"{start:02d}:00:00", "end": f"{end:02d}:00:00"}


def visitor_headers(rng: random.Random) -> tuple[dict[str, str], dict[str, str]]:
    """(headers, query) for one simulated visitor arriving through a trusted CDN."""
    headers = {"User-Agent": rng.choice(USER_AGENTS), "CF-IPCountry": rng.choice(COUNTRIES)}
    query: dict[str, str] = {}
    roll = rng.random()
    if roll < 0.25:
        query = {"utm_source": "google", "utm_medium": "cpc", "utm_campaign": "spring-sale"}
    elif roll < 0.4:
        headers["Referer"] = "https://www.google.com/"
    elif roll < 0.5:
        query = {"utm_source": "newsletter", "utm_medium": "email"}
    return headers, query


def conditions(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """``count`` condition documents of the shapes the rule builder produces."""
    rng = random.Random(seed)
    docs: list[dict[str, Any]] = []
    for _ in range(count):
        parts: list[dict[str, Any]] = []
        for _ in range(rng.randint(1, 3)):
            kind = rng.randrange(6)
            if kind == 0:
                parts.append({"geo.country": {"$in": rng.sample(COUNTRIES, 3)}})
            elif kind == 1:
                parts.append({"device.type": rng.choice(DEVICES)})
            elif kind == 2:
                parts.append(
                    {"time.hour": {"$gte": rng.randrange(12), "$lt": rng.randrange(12, 24)}}
                )
            elif kind == 3:
                parts.append(
                    {
                        "$or": [
                            {"referral.channel": {"$in": rng.sample(CHANNELS, 2)}},
                            {"referral.campaign": {"$regexi": "sale|launch"}},
                        ]
                    }
                )
            elif kind == 4:
                parts.append({"user.groups": {"$elemMatch": {"$eq": "Customers"}}})
            else:
                parts.append(
                    {
                        "time.time": {"$gte": "06:00", "$lt": "11:00"},
                        "time.weekday": {"$in": [1, 2, 3, 4, 5]},
                    }
                )
        docs.append({"$and": parts} if len(parts) > 1 else parts[0])
    return docs


VISITOR = {
    "geo": {
        "country": "AT",
        "region": "AT-9",
        "city": "Vienna",
        "continent": "EU",
        "timezone": "Europe/Vienna",
    },
    "time": {
        "hour": 9,
        "minute": 30,
        "weekday": 3,
        "month": 11,
        "date": "2026-11-25",
        "time": "09:30",
        "timezone": "Europe/Vienna",
    },
    "device": {"type": "mobile", "os": "iOS", "browser": "Mobile Safari"},
    "referral": {
        "channel": "paid_search",
        "source": "google",
        "medium": "cpc",
        "campaign": "spring-sale",
        "term": None,
        "content": None,
        "host": None,
    },
    "query": {"ref": "ad"},
    "user": {"authenticated": True, "staff": False, "groups": ["Customers"]},
    "page": {"path": "/", "locale": "en"},
}
