"""Segments and generated visitors for the differential test of the edge manifest.

Two kinds of visitors, both from a seeded ``random.Random``:

* **requests**: raw edge inputs (URL, the CDN's location, cookies, ``Sec-GPC``, the time), typed
  at the edge by ``docs/how-to/edge/attributes.mjs`` and at the origin by ``build_context``;
* **attributes**: typed attribute objects with hostile values at the paths segments read
  (wrong types, boundaries, case, unicode, arrays), evaluated as they are by both engines.
"""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, time, timedelta
from http import cookies
from typing import Any
from urllib.parse import quote

from personalize.rule_blocks.consent import ConsentRule, GpcRule
from personalize.rule_blocks.referral import QueryParameterRule
from personalize.rule_blocks.when import DateWindowRule, TimeWindowRule, WeekdayRule
from personalize.rule_blocks.where import CityRule, ContinentRule, CountryRule, RegionRule


def rule_builder_conditions() -> list[dict[str, Any]]:
    """Conditions as the rule builder writes them, for every rule kind the edge can evaluate."""
    return [
        CountryRule().condition({"values": ["DE", "AT", "CH"]}),
        ContinentRule().condition({"values": ["EU", "OC"]}),
        RegionRule().condition({"values": ["DE-BY", "AT-9", "US-CA"]}),
        CityRule().condition({"values": "Vienna, München, São Paulo"}),
        TimeWindowRule().condition({"start": time(6, 0), "end": time(11, 0)}),
        TimeWindowRule().condition({"start": time(22, 0), "end": time(5, 30)}),
        WeekdayRule().condition({"values": ["6", "7"]}),
        DateWindowRule().condition({"start": datetime(2026, 3, 29).date(), "end": None}),
        DateWindowRule().condition(
            {"start": datetime(2026, 12, 1).date(), "end": datetime(2026, 12, 24).date()}
        ),
        ConsentRule().condition({"purpose": "analytics"}),
        ConsentRule().condition({"purpose": "personalization"}),
        GpcRule().condition({"sent": "yes"}),
        GpcRule().condition({"sent": "no"}),
        QueryParameterRule().condition({"name": "ref", "value": "partner"}),
    ]


#: Hand-written conditions: every operator of the engine, on attributes the edge computes.
OPERATOR_CONDITIONS: list[dict[str, Any]] = [
    {},
    {"geo.country": "DE"},
    {"time.hour": 9},
    {"time.minute": 0},
    {"gpc": True},
    {"gpc": False},
    {"geo.city": None},
    {"consent": ["necessary", "personalization"]},
    {"geo.continent": {"$eq": "EU"}},
    {"geo.region": {"$ne": "DE-BY"}},
    {"time.hour": {"$gte": 6, "$lt": 11}},
    {"time.minute": {"$gt": 29}},
    {"time.month": {"$lte": 3}},
    {"time.time": {"$gte": "09:30", "$lt": "17:00"}},
    {"query.q": {"$gt": "m"}},
    {"geo.city": {"$lt": "M"}},
    {"query.page": {"$in": ["1", 1, True, None]}},
    {"geo.country": {"$nin": ["US", "CA"]}},
    {"query.utm_source": {"$ini": ["Google", "bing", "ǅ"]}},
    {"query.utm_medium": {"$nini": ["email"]}},
    {"consent": {"$all": ["analytics"]}},
    {"consent": {"$alli": ["Personalization", "NECESSARY"]}},
    {"consent": {"$elemMatch": {"$regex": "^pers"}}},
    {"consent": {"$elemMatch": {"$in": ["analytics"]}}},
    {"consent": {"$elemMatch": {"length": {"$gt": 10}}}},
    {"consent": {"$elemMatch": {}}},
    {"consent": {"$size": 3}},
    {"consent": {"$size": {"$gte": 2}}},
    {"consent.length": {"$gt": 1}},
    {"consent.0": "necessary"},
    {"consent": {"$all": [{"$regex": "^a"}, "necessary"]}},
    {"geo.city": {"$exists": True}},
    {"query.ref": {"$exists": False}},
    {"query.page": {"$type": "string"}},
    {"geo.region": {"$type": "null"}},
    {"page.path": {"$regex": "^/blog/"}},
    {"page.path": {"$regex": "\\.html$"}},
    {"page.path": {"$regex": "^/(de|en)/.+/$"}},
    {"page.path": {"$notRegex": "^/account/"}},
    {"query.utm_campaign": {"$regexi": "sale|kis"}},
    {"query.q": {"$regex": "^[0-9]+$"}},
    {"query.q": {"$regex": "null|ull"}},
    {"geo.city": {"$notRegexi": "^san "}},
    {"query.v": {"$vgte": "2.1.0"}},
    {"query.v": {"$vlt": "3.0.0-beta"}},
    {"query.v": {"$veq": "1.2.3"}},
    {"query.v": {"$vne": "1.0"}},
    {"query.v": {"$vlte": "2"}},
    {"time.month": {"$vgt": 6}},
    {"geo.country": {"$not": {"$in": ["DE", "AT"]}}},
    {"geo.country": {"$not": "DE"}},
    {"$not": {"geo.continent": "EU", "time.hour": {"$lt": 12}}},
    {"$and": [{"geo.country": "DE"}, {"gpc": False}]},
    {"$or": [{"query.utm_source": "google"}, {"query.ref": "partner"}]},
    {"$nor": [{"gpc": True}, {"query.debug": "1"}]},
    {"$or": []},
    {"$nor": []},
    {"geo.city": {}},
    {"query.x": {"$gt": 5, "$regex": "a"}},
    {"query.n": {"$gte": 0}},
    {"query.n": {"$lt": 10}},
    {"query.n": 0},
    {"query.n": "0"},
    # Case folding beyond ASCII, version order beyond ASCII, mixed types, empty lists.
    {"query.q": {"$ini": ["München", "STRASSE", "ας", "ǅ"]}},
    {"query.q": {"$nini": ["straße", "ΑΣ"]}},
    {"query.q": {"$alli": ["münchen"]}},
    {"query.v": {"$vgt": "1.é"}},
    {"query.v": {"$vlte": "1.Ω-beta"}},
    {"query.v": {"$vne": "1.😀"}},
    {"query.n": {"$in": [0, False, "", None]}},
    {"query.n": {"$nin": [0, "0"]}},
    {"query.n": {"$eq": -0.0}},
    {"query.n": {"$type": "array"}},
    {"query.n": {"$type": "boolean"}},
    {"query.n": {"$exists": False, "$ne": 0}},
    {"query.n": {"$size": 0}},
    {"query.n": {"$all": []}},
    {"query.n": []},
    {"query.n": {"$elemMatch": {"$exists": True}}},
    {"query.n": {"$elemMatch": {"$type": "number"}}},
    {"consent.1": {"$in": ["analytics", "personalization"]}},
    {"time.hour": 9.0},
]

#: Conditions the edge must leave to the origin, with a word of the reason each gives.
ORIGIN_ONLY: list[tuple[dict[str, Any], str]] = [
    ({"device.type": "mobile"}, "device"),
    ({"user.authenticated": True}, "user"),
    ({"visitor.score": {"$gte": 50}}, "profile"),
    ({"referral.channel": {"$in": ["email"]}}, "attribution"),
    ({"page.locale": "de"}, "language"),
    ({"page.path": {"$regex": "^/p/\\d+"}}, "\\d"),
    ({"query.q": {"$regexi": "^[a-z]+$"}}, "class"),
    ({"geo": {"country": "DE"}}, "not an attribute"),
    ({"consent": {"necessary": True}}, "whole object"),
    ({"query.constructor": {"$exists": True}}, "constructor"),
    ({"time.hour": {"$in": [9007199254740993]}}, "9007199254740993"),
    ({"consent": {"$elemMatch": {"$or": [{"a": 1}]}}}, "$elemMatch"),
    ({"query.q": {"$not": "x", "$notRegex": "y"}}, "negations"),
    ({"query.v": {"$vgt": "1.\uff01"}}, "orders differently"),
    ({"query.v": {"$vlt": "1.😀"}}, "orders differently"),
    ({"query.q": {"$ini": ["\u0264"]}}, "case mapping"),
    ({"query.q": {"$alli": ["x\ua7cb"]}}, "case mapping"),
    ({"query.q": {"$regex": "\ud83d"}}, "surrogates"),
]

_REGEX_TOKENS = [
    "a", "b", "S", "k", "i", "é", "0", "-", "/", "\\.", "\\/", "\\-", " ", ".", ".*", ".+",
    "[a-c]", "[^/]+", "[0-9]", "[é-ü]", "(x|y)", "(?:ab)", "(?=a)", "(?!b)", "(?<=a)", "^", "$",
    "*", "+", "?", "{2}", "{1,}", "{1,3}", "*?", "|", "\\n", "\\t", "\\d", "\\w", "(.+){2}",
    "}", "]", "[!-~]", "[0-9-]", "[^0-9]*",
]
#: Strings that tell regex flavours apart: newlines, \r, surrogate pairs, odd case folding.
REGEX_PROBES = [
    "ab", "abab", "a\n", "a\r", "\ra", "a\u2028", "ſ", "S", "K", "k", "\u212a", "İ", "ı", "i",
    "I", "é", "É", "😀", "a😀b", "😀😀", "/blog/", "x-y", "0", "00", "a.b", "}", "]", "", "xy",
    "a/b", "aaa", "\n", "bS", "ab\n",
]


def regex_conditions(rng: random.Random, count: int) -> list[dict[str, Any]]:
    """Random patterns over tokens where Python's and JavaScript's flavours meet or differ."""
    conditions: list[dict[str, Any]] = []
    while len(conditions) < count:
        pattern = "".join(rng.choice(_REGEX_TOKENS) for _ in range(rng.randrange(1, 5)))
        try:
            re.compile(pattern)
        except re.error:
            continue
        op = rng.choice(["$regex", "$regexi", "$notRegex", "$notRegexi"])
        conditions.append({"query.q": {op: pattern}})
    return conditions


_COUNTRIES = ["DE", "de", " at ", "CH", "US", "FR", "GB", "XX", "T1", "ZZ", "", "Deutschland"]
_REGIONS = ["BY", "DE-BY", "by", "9", "AT-9", "IDF", "CA", "X-1", "ABCD", "", "fr-idf"]
_CITIES = [
    "Munich", "München", "Vienna", "vienna", "S%C3%A3o%20Paulo", "S\\u00c3\\u00a3o Paulo",
    "São Paulo", "  New\tYork ", "?", "Z%FCrich", "K\u00c3\u00b8benhavn", "Łódź", "a\u200bb",
    "San Diego", "x" * 120, "", "100% Stadt", "S%C3%A3o%zz", "%E2%82",
]
_CONTINENTS = ["EU", "eu", "NA", "XX", "", None]
_ZONES = [
    "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Asia/Calcutta", "Pacific/Chatham",
    "Australia/Lord_Howe", "europe/berlin", "Mars/Phobos", "UTC", "Etc/GMT+5", " Europe/Vienna ",
    "", "../etc/passwd", None,
]
_PATHS = [
    "/", "/blog/ski-touring/", "/de/produkte/", "/caf%C3%A9/", "/a%2Fb", "/%E2%82%AC/",
    "/account/settings", "/index.html", "/en/", "/BLOG/x", "/a%zz/", "/caf%C3%A9%FF/",
    "/100%/", "/%e2%82/x", "/%c3%a9/", "/%F0%9F%98%80/",
]
_PARAMETERS = ["utm_source", "utm_medium", "utm_campaign", "ref", "q", "page", "v", "n", "debug"]
_VALUES = [
    "google", "Google", "GOOGLE", "email", "partner", "", "1", "0", "10", "2.1.0", "3.0.0-beta",
    "1.2.3", "v1.2.3+7", "v1.0", "1.10.0", "winter SALE", "Kış", "ſki", "null", "m", "a+b", "%zz",
    "%C3", "ǆ", "😀", "x" * 250, "9", "-1", "1.é", "1.😀", "\ua7cb", "MÜNCHEN", "ΑΣ",
]
#: Query string pieces written as browsers may send them.
_RAW_QUERY_PARTS = [
    "a=1;b=2", "=x", "q==b", "", "%zz=1", "q+x=c+d", "q=%E2%82", "q=%E2%82%AC", "q=a%2Bb+c",
    "Q=1", "q", "q=", "%71=encoded-name", "q=%F0%9F%98%80", "q=%ED%A0%80",
]
_CONSENTS = [
    None, "v1:necessary,analytics:1764115200", "v1:personalization:1764115200",
    "v1:personalization,analytics:1.5e9", "v1:analytics: 17", "v2:personalization:1",
    "v1:foo:1", "v1:personalization:-1", "v1:personalization:1e11", "v1:personalization:abc",
    "v1:personalization:1_000", "v1:personalization", "garbage", "",
]
_GPC = [None, "1", " 1 ", "0", "true"]


def _url(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.choice([0, 0, 1, 2, 3, 5, 60])):
        name = rng.choice(_PARAMETERS) if rng.random() < 0.8 else f"p{rng.randrange(80)}"
        value = rng.choice(_VALUES)
        encoded = value if value.startswith("%") else quote(value, safe="")
        parts.append(f"{name}={encoded}" if rng.random() < 0.9 else name)
    if rng.random() < 0.2:
        parts.append(rng.choice(_RAW_QUERY_PARTS))
    query = "&".join(parts)
    return rng.choice(_PATHS) + (f"?{query}" if query else "")


def _moment(rng: random.Random) -> datetime:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    if rng.random() < 0.2:  # around the European DST changes
        start = rng.choice([datetime(2026, 3, 29, 0, 30), datetime(2026, 10, 25, 0, 30)])
        start = start.replace(tzinfo=UTC)
        return start + timedelta(minutes=rng.randrange(0, 60, 1))
    return start + timedelta(seconds=rng.randrange(365 * 24 * 3600))


#: Cookie header pieces around the ones read: others, blanks, pieces without "=".
_OTHER_COOKIES = ["sessionid=abc", "", " ", "flag", "=x", 'q="a\\"b"', "x=\"\\054\"", ";;"]


def _cookie(rng: random.Random, name: str, value: str) -> str:
    """One cookie as browsers send it back: as Django set it (quoted when it must be, so the
    consent cookie's comma is "\\054"), or as a script or a proxy may write it."""
    form = rng.random()
    if form < 0.5:
        return f"{name}={cookies._quote(value)}"  # noqa: SLF001 (what Set-Cookie holds)
    if form < 0.7:
        return f"{name}={value}"
    if form < 0.8:
        return f" {name} = {value} "
    if form < 0.9:
        return f'{name}="{value}"'
    return f"{name}={quote(value, safe='')}"


def _cookie_header(rng: random.Random, wanted: dict[str, str]) -> str | None:
    pieces = [_cookie(rng, name, value) for name, value in wanted.items()]
    if pieces and rng.random() < 0.15:  # the same name twice: the last one counts
        name = rng.choice(list(wanted))
        pieces.insert(0, _cookie(rng, name, rng.choice([*_CONSENTS[1:], *_ZONES[:-1]])))
    for _ in range(rng.choice([0, 0, 1, 2])):
        pieces.insert(rng.randrange(len(pieces) + 1), rng.choice(_OTHER_COOKIES))
    return rng.choice([";", "; "]).join(pieces) if pieces else None


def raw_requests(rng: random.Random, count: int) -> list[dict[str, Any]]:
    """Raw edge inputs: ``{url, geo, cookie (the Cookie header), gpc, now}``."""
    requests = []
    for _ in range(count):
        wanted = {}
        if (consent := rng.choice(_CONSENTS)) is not None:
            wanted["pz_consent"] = consent
        if rng.random() < 0.3 and (zone := rng.choice(_ZONES)) is not None:
            wanted["pz_tz"] = zone
        requests.append(
            {
                "url": _url(rng),
                "geo": {
                    "country": rng.choice(_COUNTRIES),
                    "region": rng.choice(_REGIONS),
                    "city": rng.choice(_CITIES),
                    "continent": rng.choice(_CONTINENTS),
                    "timezone": rng.choice(_ZONES),
                },
                "cookie": _cookie_header(rng, wanted),
                "gpc": rng.choice(_GPC),
                "now": _moment(rng).isoformat().replace("+00:00", "Z"),
            }
        )
    return requests


_SCALARS: list[Any] = [
    None, "", "DE", "de", "EU", "5", 5, 5.5, 0, -1, 9, 11, 6, True, False, "null", "0", "1",
    "m", "M", "2.1.0", "3", 3, "09:30", "2026-12-01", "ſ", "İ", "😀", "\n", "DE-BY", "Vienna",
    "/blog/x", "/account/x", "necessary", "analytics", "Personalization", "google", 1e21,
    # Unicode the engines may fold or order differently; numbers written oddly.
    "1.😀", "1.\ue000", "1.\uffff", "1.é", "1.ω-BETA", "\ua7cb", "\u0264", "x\u0264", "MÜNCHEN",
    "münchen", "straße", "STRASSE", "ΑΣ", "ας", "ασ", "Ǆ", "ǆ", "K", "İ", -0.0, 9.0, 1e300,
    "1e3", " 9", "0x10", "Infinity", "NaN", "true", "",
]
_ARRAYS: list[Any] = [
    [], ["necessary"], ["necessary", "personalization", "analytics"], ["5", 5], [None],
    ["DE"], [["analytics"]], [{"length": 11}], ["ANALYTICS", "x" * 11], [True, 0], ["null"],
    [0], [False], [""], [None, "analytics"], ["MÜNCHEN", "x\ua7cb"], [-0.0, "0"],
]


def _value(rng: random.Random) -> Any:
    roll = rng.random()
    if roll < 0.7:
        return rng.choice(_SCALARS)
    if roll < 0.9:
        return rng.choice(_ARRAYS)
    return rng.choice([{}, {"a": 1}, {"length": 3}])


_TYPED_PATHS = {
    "geo": ["country", "region", "city", "continent", "timezone"],
    "time": ["hour", "minute", "weekday", "month", "date", "time", "timezone"],
    "query": [*_PARAMETERS, "x"],
    "page": ["path"],
}


def typed_attributes(rng: random.Random, count: int) -> list[dict[str, Any]]:
    """Attribute objects with any JSON value (or none) at each path the segments read."""
    visitors = []
    for _ in range(count):
        attributes: dict[str, Any] = {}
        for group, names in _TYPED_PATHS.items():
            values = {name: _value(rng) for name in names if rng.random() < 0.75}
            if group == "query" and rng.random() < 0.5:
                values["q"] = rng.choice(REGEX_PROBES)
            if rng.random() < 0.95:
                attributes[group] = values
        if rng.random() < 0.9:
            attributes["consent"] = _value(rng) if rng.random() < 0.3 else rng.choice(_ARRAYS)
        if rng.random() < 0.9:
            attributes["gpc"] = _value(rng)
        visitors.append(attributes)
    return visitors
