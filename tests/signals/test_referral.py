from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from personalize.signals import referral, sources
from personalize.signals.referral import (
    CHANNELS,
    MAX_VALUE_LENGTH,
    REFERRAL_KEYS,
    classify_referral,
    default_channel,
)
from personalize.signals.sources import (
    SOURCE_CATEGORIES,
    extend_source_category,
    source_in_category,
    source_label,
)

OWN = ("example.com",)


def attribution(channel, source, medium, host=None, campaign=None, term=None, content=None):
    return {
        "channel": channel,
        "source": source,
        "medium": medium,
        "campaign": campaign,
        "term": term,
        "content": content,
        "host": host,
    }


CASES = [
    # Search engines
    pytest.param(
        {},
        "https://www.google.com/",
        attribution("organic_search", "google", "organic", "www.google.com"),
        id="google-organic",
    ),
    pytest.param(
        {},
        "https://www.google.co.uk/",
        attribution("organic_search", "google", "organic", "www.google.co.uk"),
        id="google-co-uk",
    ),
    pytest.param(
        {},
        "https://www.google.de/search?q=wagtail",
        attribution("organic_search", "google", "organic", "www.google.de"),
        id="google-de",
    ),
    pytest.param(
        {},
        "https://www.bing.com/search?q=wagtail",
        attribution("organic_search", "bing", "organic", "www.bing.com"),
        id="bing-organic",
    ),
    pytest.param(
        {},
        "https://duckduckgo.com/",
        attribution("organic_search", "duckduckgo", "organic", "duckduckgo.com"),
        id="duckduckgo-organic",
    ),
    pytest.param(
        {},
        "https://uk.search.yahoo.com/search?p=wagtail",
        attribution("organic_search", "yahoo", "organic", "uk.search.yahoo.com"),
        id="yahoo-country-subdomain",
    ),
    pytest.param(
        {},
        "https://yandex.com.tr/",
        attribution("organic_search", "yandex", "organic", "yandex.com.tr"),
        id="yandex-com-tr",
    ),
    pytest.param(
        {},
        "android-app://com.google.android.googlequicksearchbox/",
        attribution(
            "organic_search", "google", "organic", "com.google.android.googlequicksearchbox"
        ),
        id="google-app",
    ),
    pytest.param(
        {},
        "https://mail.google.com/mail/u/0/",
        attribution("referral", "mail.google.com", "referral", "mail.google.com"),
        id="gmail-is-not-search",
    ),
    # Ad click identifiers
    pytest.param(
        {"gclid": "Cj0KCQjw"},
        "https://www.google.com/",
        attribution("paid_search", "google", "cpc", "www.google.com"),
        id="gclid",
    ),
    pytest.param(
        {"gbraid": "0AAAAA"},
        None,
        attribution("paid_search", "google", "cpc"),
        id="gbraid",
    ),
    pytest.param(
        {"msclkid": "abc123"},
        "https://www.bing.com/",
        attribution("paid_search", "bing", "cpc", "www.bing.com"),
        id="msclkid",
    ),
    pytest.param(
        {"dclid": "CJKu8LrQ"},
        None,
        attribution("display", "dfa", "cpm"),
        id="dclid",
    ),
    pytest.param(
        {"fbclid": "IwAR1"},
        None,
        attribution("organic_social", "facebook", "referral"),
        id="fbclid-without-referrer",
    ),
    pytest.param(
        {"fbclid": "IwAR1"},
        "https://l.facebook.com/",
        attribution("organic_social", "l.facebook.com", "referral", "l.facebook.com"),
        id="fbclid-with-referrer",
    ),
    # Campaign tags
    pytest.param(
        {"utm_source": "Google", "utm_medium": "CPC", "utm_campaign": "Spring_Sale"},
        None,
        attribution("paid_search", "google", "cpc", campaign="Spring_Sale"),
        id="utm-google-cpc",
    ),
    pytest.param(
        {"utm_source": "instagram", "utm_medium": "paid_social", "utm_content": "Reel 2"},
        "https://l.instagram.com/",
        attribution("paid_social", "instagram", "paid_social", "l.instagram.com", content="Reel 2"),
        id="instagram-paid-social",
    ),
    pytest.param(
        {"utm_source": "youtube", "utm_medium": "cpv"},
        None,
        attribution("paid_video", "youtube", "cpv"),
        id="youtube-paid-video",
    ),
    pytest.param(
        {"utm_source": "newsletter", "utm_medium": "email", "utm_campaign": "May"},
        None,
        attribution("email", "newsletter", "email", campaign="May"),
        id="newsletter-email",
    ),
    pytest.param(
        {"utm_source": "e-mail", "utm_medium": "newsletter"},
        None,
        attribution("email", "e-mail", "newsletter"),
        id="email-as-source",
    ),
    pytest.param(
        {"utm_source": "adnetwork", "utm_medium": "banner"},
        None,
        attribution("display", "adnetwork", "banner"),
        id="display-banner",
    ),
    pytest.param(
        {"utm_source": "adnetwork", "utm_medium": "retargeting"},
        None,
        attribution("paid_other", "adnetwork", "retargeting"),
        id="paid-other",
    ),
    pytest.param(
        {"utm_source": "partnerblog", "utm_medium": "affiliate"},
        None,
        attribution("affiliates", "partnerblog", "affiliate"),
        id="affiliate",
    ),
    pytest.param(
        {"utm_source": "twilio", "utm_medium": "sms"},
        None,
        attribution("sms", "twilio", "sms"),
        id="sms",
    ),
    pytest.param(
        {"utm_source": "onesignal", "utm_medium": "web-push"},
        None,
        attribution("mobile_push", "onesignal", "web-push"),
        id="push",
    ),
    pytest.param(
        {"utm_source": "firebase", "utm_medium": "inapp"},
        None,
        attribution("mobile_push", "firebase", "inapp"),
        id="firebase",
    ),
    pytest.param(
        {"utm_source": "spotify", "utm_medium": "audio"},
        None,
        attribution("audio", "spotify", "audio"),
        id="audio",
    ),
    pytest.param(
        {"utm_source": "google", "utm_medium": "cpc", "utm_campaign": "PMax cross-network"},
        None,
        attribution("cross_network", "google", "cpc", campaign="PMax cross-network"),
        id="cross-network",
    ),
    pytest.param(
        {"utm_source": "google", "utm_medium": "cpc", "utm_campaign": "Summer Shopping"},
        None,
        attribution("paid_shopping", "google", "cpc", campaign="Summer Shopping"),
        id="paid-shopping-by-campaign",
    ),
    pytest.param(
        {"utm_source": "amazon", "utm_medium": "ppc"},
        None,
        attribution("paid_shopping", "amazon", "ppc"),
        id="paid-shopping-by-source",
    ),
    pytest.param(
        {},
        "https://www.amazon.co.uk/dp/B0",
        attribution("organic_shopping", "amazon.co.uk", "referral", "www.amazon.co.uk"),
        id="organic-shopping-referrer",
    ),
    pytest.param(
        {"utm_source": "partner", "utm_medium": "referral", "utm_campaign": "eshop-launch"},
        None,
        attribution("organic_shopping", "partner", "referral", campaign="eshop-launch"),
        id="organic-shopping-by-campaign",
    ),
    pytest.param(
        {"utm_source": "partner", "utm_medium": "referral", "utm_campaign": "workshop"},
        None,
        attribution("referral", "partner", "referral", campaign="workshop"),
        id="workshop-is-not-shopping",
    ),
    pytest.param(
        {"utm_source": "partner", "utm_medium": "foo"},
        None,
        attribution("unassigned", "partner", "foo"),
        id="unassigned",
    ),
    pytest.param(
        {"utm_source": "partner"},
        None,
        attribution("unassigned", "partner", "(not set)"),
        id="source-without-medium",
    ),
    pytest.param(
        {"utm_medium": "email"},
        None,
        attribution("email", "(not set)", "email"),
        id="medium-without-source",
    ),
    pytest.param(
        {"utm_source": "google", "utm_medium": "cpc", "gclid": "x", "utm_term": "Shoes"},
        "https://www.google.com/",
        attribution("paid_search", "google", "cpc", "www.google.com", term="Shoes"),
        id="tags-and-gclid-agree",
    ),
    pytest.param(
        {"utm_source": "newsletter", "utm_medium": "email"},
        "https://www.google.com/",
        attribution("email", "newsletter", "email", "www.google.com"),
        id="tags-win-over-referrer",
    ),
    # Social and video referrers
    pytest.param(
        {},
        "https://www.facebook.com/",
        attribution("organic_social", "facebook.com", "referral", "www.facebook.com"),
        id="facebook",
    ),
    pytest.param(
        {},
        "https://m.facebook.com/story.php",
        attribution("organic_social", "m.facebook.com", "referral", "m.facebook.com"),
        id="m-facebook",
    ),
    pytest.param(
        {},
        "https://lm.facebook.com/l.php?u=x",
        attribution("organic_social", "lm.facebook.com", "referral", "lm.facebook.com"),
        id="lm-facebook",
    ),
    pytest.param(
        {},
        "https://t.co/AbCdEf",
        attribution("organic_social", "t.co", "referral", "t.co"),
        id="t-co",
    ),
    pytest.param(
        {},
        "https://www.linkedin.com/feed/",
        attribution("organic_social", "linkedin.com", "referral", "www.linkedin.com"),
        id="linkedin",
    ),
    pytest.param(
        {},
        "https://old.reddit.com/r/django/",
        attribution("organic_social", "old.reddit.com", "referral", "old.reddit.com"),
        id="reddit-subdomain",
    ),
    pytest.param(
        {},
        "https://www.youtube.com/watch?v=abc",
        attribution("organic_video", "youtube.com", "referral", "www.youtube.com"),
        id="youtube-organic-video",
    ),
    pytest.param(
        {"utm_source": "ig", "utm_medium": "social"},
        None,
        attribution("organic_social", "ig", "social"),
        id="short-social-source",
    ),
    # Other referrers, direct and internal navigation
    pytest.param(
        {},
        "https://someones-blog.net/2024/05/post.html",
        attribution("referral", "someones-blog.net", "referral", "someones-blog.net"),
        id="random-blog",
    ),
    pytest.param(
        {},
        "https://ig.com/markets",
        attribution("referral", "ig.com", "referral", "ig.com"),
        id="short-names-never-match-hosts",
    ),
    pytest.param(
        {},
        None,
        attribution("direct", "(direct)", "(none)"),
        id="direct",
    ),
    pytest.param(
        {"utm_campaign": "spring"},
        "https://www.example.com/",
        attribution("unassigned", "(not set)", "(not set)", "www.example.com", campaign="spring"),
        id="campaign-only-on-internal-referrer",
    ),
    pytest.param(
        {"utm_source": "newsletter", "utm_medium": "email"},
        "https://www.example.com/",
        attribution("email", "newsletter", "email", "www.example.com"),
        id="tags-on-internal-referrer",
    ),
]


@pytest.mark.parametrize(("query", "referer", "expected"), CASES)
def test_classify_referral(query, referer, expected):
    assert classify_referral(query, referer, OWN) == expected


@pytest.mark.parametrize(
    ("referer", "own_hosts"),
    [
        ("https://example.com/", ["example.com"]),
        ("https://www.example.com/about/", ["example.com"]),
        ("https://shop.example.com/cart", ["example.com"]),
        ("https://EXAMPLE.com./", ["example.com"]),
        ("https://example.com:8443/", ["Example.COM:8443"]),
        ("https://example.com/", ["www.example.com"]),
        ("https://example.org/", ["example.com", "example.org"]),
    ],
)
def test_internal_referrer_brings_no_attribution(referer, own_hosts):
    assert classify_referral({}, referer, own_hosts) is None


@pytest.mark.parametrize(
    ("referer", "own_hosts", "source"),
    [
        ("https://notexample.com/", ["example.com"], "notexample.com"),
        ("https://example.com.evil.net/", ["example.com"], "example.com.evil.net"),
        ("https://example.com/", ["", "   "], "example.com"),
    ],
)
def test_lookalike_hosts_are_external(referer, own_hosts, source):
    assert classify_referral({}, referer, own_hosts) == attribution(
        "referral", source, "referral", referer.split("/")[2]
    )


@pytest.mark.parametrize(
    "referer",
    [
        "",
        "/relative/path",
        "example.com/no-scheme",
        "javascript:alert(1)",
        "ftp://files.example.net/",
        "http://[::1",
        "https://",
        "https:///path-only",
        "\x00\x01\x02",
        "https://exa mple.net/",
    ],
)
def test_unusable_referrer_counts_as_direct(referer):
    assert classify_referral({}, referer, OWN) == attribution("direct", "(direct)", "(none)")


@pytest.mark.parametrize(
    ("referer", "host"),
    [
        ("https://[2001:db8::1]:8080/x", "2001:db8::1"),
        ("http://192.0.2.7/", "192.0.2.7"),
        ("https://XN--BCHER-KVA.de/", "xn--bcher-kva.de"),
        ("https://Bücher.DE/", "bücher.de"),
        ("https://user:secret@news.example.net:8080/a?b#c", "news.example.net"),
    ],
)
def test_unusual_referrer_hosts(referer, host):
    assert classify_referral({}, referer, OWN) == attribution("referral", host, "referral", host)


def test_values_are_cleaned_and_cut():
    query = {
        "utm_source": "  News\x00Letter\n ",
        "utm_medium": "EMAIL",
        "utm_campaign": "C" * 10_000,
        "utm_term": "\x1b[31mred\x1b[0m",
        "utm_content": "   ",
    }
    assert classify_referral(query, None) == attribution(
        "email", "newsletter", "email", campaign="C" * MAX_VALUE_LENGTH, term="[31mred[0m"
    )


def test_long_referrer_host_is_cut():
    host = "a" * 300 + ".example.net"
    result = classify_referral({}, f"https://{host}/")
    assert result is not None
    assert result["host"] == host[:MAX_VALUE_LENGTH]
    assert result["channel"] == "referral"


def test_non_string_values_are_ignored():
    query = {"utm_source": ["google"], "utm_medium": None, "gclid": 42}
    assert classify_referral(query, None) == attribution("direct", "(direct)", "(none)")


@pytest.mark.parametrize(
    ("source", "medium", "campaign", "channel"),
    [
        ("(direct)", "(none)", None, "direct"),
        ("(direct)", "(not set)", None, "direct"),
        ("(DIRECT)", "(None)", None, "direct"),
        ("Facebook", "CPC", None, "paid_social"),
        ("GOOGLE", "Organic", None, "organic_search"),
        ("partner", "Social Media", None, "organic_social"),
        ("partner", "video-ads", None, "organic_video"),
        ("partner", "app", None, "referral"),
        ("partner", "link", None, "referral"),
        ("partner", "e mail", None, "email"),
        ("partner", "mobile-app", None, "mobile_push"),
        ("partner", "notification", None, "mobile_push"),
        ("google", "cpm", None, "paid_search"),
        ("partner", "cpm", None, "display"),
        ("partner", "paidsearch", None, "paid_other"),
        ("partner", "referral", "Shop_Week", "organic_shopping"),
        ("(not set)", "(not set)", None, "unassigned"),
    ],
)
def test_default_channel(source, medium, campaign, channel):
    assert default_channel(source, medium, campaign) == channel


@pytest.mark.parametrize(
    ("source", "category", "expected"),
    [
        ("google", "search", True),
        ("www.google.com.au", "search", True),
        ("news.google.com", "search", False),
        ("l.instagram.com", "social", True),
        ("fb", "social", True),
        ("fb.com", "social", True),
        ("music.youtube.com", "video", True),
        ("youtu.be", "video", True),
        ("ebay.de", "shopping", True),
        ("example.com", "shopping", False),
        ("", "search", False),
    ],
)
def test_source_in_category(source, category, expected):
    assert source_in_category(source, category) is expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("search.brave.com", "brave"),
        ("UK.Search.Yahoo.com", "yahoo"),
        ("www.google.co.uk", "google"),
        ("example.com", None),
    ],
)
def test_source_label(source, expected):
    assert source_label(source, "search") == expected


def test_referral_reexports_the_source_category_api():
    assert referral.source_in_category is source_in_category
    assert referral.extend_source_category is extend_source_category
    assert referral.SOURCE_CATEGORIES is SOURCE_CATEGORIES
    assert {"SOURCE_CATEGORIES", "extend_source_category", "source_in_category"} <= set(
        referral.__all__
    )


def test_unknown_category_raises():
    with pytest.raises(KeyError, match="podcasts"):
        source_in_category("spotify", "podcasts")


def test_extend_source_category(monkeypatch):
    source_in_category("google", "social")  # make sure the bundled lists are loaded
    monkeypatch.setitem(sources._categories, "social", sources._categories["social"])
    extend_source_category("social", ["# a comment", "", "fediverse", "social.example.org"])

    assert source_in_category("fediverse", "social") is True
    assert source_in_category("fediverse.de", "social") is True
    assert source_in_category("chat.social.example.org", "social") is True
    assert source_in_category("facebook", "social") is True
    assert classify_referral({}, "https://social.example.org/@me") == attribution(
        "organic_social", "social.example.org", "referral", "social.example.org"
    )


def test_extend_search_category_names_the_engine(monkeypatch):
    source_in_category("google", "search")
    monkeypatch.setitem(sources._categories, "search", sources._categories["search"])
    extend_source_category("search", ["find.example.net = finder"])

    assert classify_referral({}, "https://find.example.net/?q=x") == attribution(
        "organic_search", "finder", "organic", "find.example.net"
    )


@pytest.mark.parametrize("category", SOURCE_CATEGORIES)
def test_bundled_lists_state_origin_and_licence(category):
    text = resources.files("personalize").joinpath(f"data/{category}.txt").read_text("utf-8")
    header = text.split("\n\n")[0]
    assert "Part of wagtail-personalize, BSD-3-Clause." in header
    assert "Compiled by the wagtail-personalize authors" in header
    entries = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    assert len(entries) >= 15


any_text = st.text(st.characters(exclude_categories=()), max_size=500)
query_keys = st.one_of(
    st.sampled_from(
        [
            "utm_source",
            "utm_medium",
            "utm_campaign",
            "utm_term",
            "utm_content",
            "utm_id",
            "utm_source_platform",
            "gclid",
            "msclkid",
            "dclid",
            "fbclid",
        ]
    ),
    any_text,
)
referers = st.one_of(
    st.none(),
    any_text,
    st.builds(
        lambda scheme, host, rest: f"{scheme}://{host}{rest}",
        st.sampled_from(["http", "https", "android-app", "HTTPS", "ftp"]),
        any_text,
        any_text,
    ),
)


@settings(deadline=None)
@given(
    query=st.dictionaries(query_keys, any_text, max_size=8),
    referer=referers,
    own_hosts=st.lists(any_text, max_size=3),
)
def test_any_input_gives_the_documented_shape(query, referer, own_hosts):
    result = classify_referral(query, referer, own_hosts)
    if result is None:
        return
    assert tuple(result) == REFERRAL_KEYS
    assert result["channel"] in CHANNELS
    assert result["channel"] == default_channel(
        result["source"], result["medium"], result["campaign"]
    )
    assert result["source"] == result["source"].lower()
    assert result["medium"] == result["medium"].lower()
    for value in result.values():
        assert value is None or (0 < len(value) <= MAX_VALUE_LENGTH)
        assert value is None or not any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in value)


ATTRIBUTION_PARAMETERS = (
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "gclid",
    "gbraid",
    "wbraid",
    "gad_source",
    "msclkid",
    "dclid",
    "fbclid",
    "ttclid",
)


@given(
    query=st.dictionaries(st.one_of(st.sampled_from(ATTRIBUTION_PARAMETERS), any_text), any_text)
)
def test_internal_referrer_without_tags_or_click_ids_is_none(query):
    tagged = any(referral._clean(query.get(key)) for key in ATTRIBUTION_PARAMETERS)
    result = classify_referral(query, "https://www.example.com/page", OWN)
    assert (result is None) is (not tagged)
