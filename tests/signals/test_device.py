import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from personalize.signals import device
from personalize.signals.device import DEVICE_TYPES, MAX_USER_AGENT_LENGTH, device_from_headers

IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
ANDROID_REDUCED = (
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/125.0.0.0 Mobile Safari/537.36"
)
PIXEL_CHROME = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8 Pro) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.6367.82 Mobile Safari/537.36"
)
IPAD_SAFARI = (
    "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/16.6 Mobile/15E148 Safari/604.1"
)
WINDOWS_CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
LINUX_CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
UBUNTU_FIREFOX = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0"
GOOGLEBOT_SMARTPHONE = (
    "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/126.0.6478.126 Mobile Safari/537.36 "
    "(compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
)

USER_AGENTS = [
    # Phones
    pytest.param(IPHONE_SAFARI, "mobile", "iOS", "Mobile Safari", id="iphone-safari"),
    pytest.param(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1",
        "mobile",
        "iOS",
        "Chrome Mobile iOS",
        id="iphone-chrome",
    ),
    pytest.param(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) FxiOS/127.0 Mobile/15E148 Safari/605.1.15",
        "mobile",
        "iOS",
        "Firefox iOS",
        id="iphone-firefox",
    ),
    pytest.param(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/470.0.0.35.109;FBBV/620000000;"
        "FBDV/iPhone15,2;FBMD/iPhone;FBSN/iOS;FBSV/17.5;FBSS/3;FBID/phone;FBLC/en_US;FBOP/5]",
        "mobile",
        "iOS",
        "Facebook",
        id="iphone-facebook-in-app",
    ),
    pytest.param(ANDROID_REDUCED, "mobile", "Android", "Chrome Mobile", id="android-reduced"),
    pytest.param(PIXEL_CHROME, "mobile", "Android", "Chrome Mobile", id="pixel-chrome"),
    pytest.param(
        "Mozilla/5.0 (Linux; Android 14; SM-S928B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.0.0 Mobile Safari/537.36",
        "mobile",
        "Android",
        "Chrome Mobile",
        id="galaxy-s24-chrome",
    ),
    pytest.param(
        "Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-S918B) AppleWebKit/537.36 "
        "(KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
        "mobile",
        "Android",
        "Samsung Internet",
        id="samsung-internet-phone",
    ),
    pytest.param(
        "Mozilla/5.0 (Linux; Android 9; CUBOT P30) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Mobile Safari/537.36",
        "mobile",
        "Android",
        "Chrome Mobile",
        id="cubot-is-not-a-bot",
    ),
    pytest.param(
        "Mozilla/5.0 (Android 14; Mobile; rv:127.0) Gecko/127.0 Firefox/127.0",
        "mobile",
        "Android",
        "Firefox Mobile",
        id="android-firefox",
    ),
    pytest.param(
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.0.0 Mobile Safari/537.36 EdgA/126.0.0.0",
        "mobile",
        "Android",
        "Edge Mobile",
        id="android-edge",
    ),
    # Tablets
    pytest.param(IPAD_SAFARI, "tablet", "iOS", "Mobile Safari", id="ipad-safari"),
    pytest.param(
        "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36",
        "tablet",
        "Android",
        "Chrome",
        id="galaxy-tab-s9-chrome",
    ),
    pytest.param(
        "Mozilla/5.0 (Linux; Android 12; SAMSUNG SM-T870) AppleWebKit/537.36 "
        "(KHTML, like Gecko) SamsungBrowser/21.0 Chrome/110.0.5481.154 Safari/537.36",
        "tablet",
        "Android",
        "Samsung Internet",
        id="galaxy-tab-s7-samsung-internet",
    ),
    pytest.param(
        "Mozilla/5.0 (Linux; Android 10; AGS3-W09) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36",
        "tablet",
        "Android",
        "Chrome",
        id="huawei-matepad-chrome",
    ),
    pytest.param(
        "Mozilla/5.0 (Linux; Android 13; Pixel Tablet) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
        "tablet",
        "Android",
        "Chrome",
        id="pixel-tablet",
    ),
    pytest.param(
        "Mozilla/5.0 (Android 13; Tablet; rv:127.0) Gecko/127.0 Firefox/127.0",
        "tablet",
        "Android",
        "Firefox Mobile",
        id="android-tablet-firefox",
    ),
    pytest.param(
        "Mozilla/5.0 (Linux; Android 9; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Silk/120.3.1 like Chrome/120.0.6099.230 Safari/537.36",
        "tablet",
        "Android",
        "Amazon Silk",
        id="kindle-fire-silk",
    ),
    pytest.param(
        "Mozilla/5.0 (X11; U; Linux armv7l like Android; en-us) AppleWebKit/531.2+ "
        "(KHTML, like Gecko) Version/5.0 Safari/531.2+ Kindle/3.0+",
        "tablet",
        "Kindle",
        "Kindle",
        id="kindle-reader",
    ),
    # Desktops
    pytest.param(WINDOWS_CHROME, "desktop", "Windows", "Chrome", id="windows-chrome"),
    pytest.param(
        WINDOWS_CHROME + " Edg/126.0.0.0", "desktop", "Windows", "Edge", id="windows-edge"
    ),
    pytest.param(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0",
        "desktop",
        "Windows",
        "Firefox",
        id="windows-firefox",
    ),
    pytest.param(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/125.0.0.0 Safari/537.36 OPR/111.0.0.0",
        "desktop",
        "Windows",
        "Opera",
        id="windows-opera",
    ),
    pytest.param(
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.5 Safari/605.1.15",
        "desktop",
        "Mac OS X",
        "Safari",
        id="macos-safari",
    ),
    pytest.param(
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
        "desktop",
        "Mac OS X",
        "Chrome",
        id="macos-chrome",
    ),
    pytest.param(
        "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
        "desktop",
        "Linux",
        "Firefox",
        id="linux-firefox",
    ),
    pytest.param(UBUNTU_FIREFOX, "desktop", "Ubuntu", "Firefox", id="ubuntu-firefox"),
    pytest.param(LINUX_CHROME, "desktop", "Linux", "Chrome", id="linux-chrome"),
    pytest.param(
        "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.0.0 Safari/537.36",
        "desktop",
        "Chrome OS",
        "Chrome",
        id="chromebook",
    ),
    # Crawlers, link previews and HTTP clients
    pytest.param(
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Googlebot/2.1; "
        "+http://www.google.com/bot.html) Chrome/126.0.6478.126 Safari/537.36",
        "bot",
        None,
        "Googlebot",
        id="googlebot-desktop",
    ),
    pytest.param(GOOGLEBOT_SMARTPHONE, "bot", "Android", "Googlebot", id="googlebot-smartphone"),
    pytest.param(
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "bot",
        None,
        "bingbot",
        id="bingbot",
    ),
    pytest.param(
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 "
        "(Applebot/0.1; +http://www.apple.com/go/applebot)",
        "bot",
        "Mac OS X",
        "Applebot",
        id="applebot",
    ),
    pytest.param(
        "DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)",
        "bot",
        None,
        "DuckDuckBot",
        id="duckduckbot",
    ),
    pytest.param(
        "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
        "bot",
        None,
        "YandexBot",
        id="yandexbot",
    ),
    pytest.param(
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "bot",
        None,
        "FacebookBot",
        id="facebookexternalhit",
    ),
    pytest.param(
        "Mozilla/5.0 (compatible; GPTBot/1.0; +https://openai.com/gptbot)",
        "bot",
        None,
        "GPTBot",
        id="gptbot",
    ),
    pytest.param("curl/8.5.0", "bot", None, "curl", id="curl"),
    pytest.param("Wget/1.21.4", "bot", None, "Wget", id="wget"),
    pytest.param("python-requests/2.32.3", "bot", None, "Python Requests", id="python-requests"),
    pytest.param("Go-http-client/2.0", "bot", None, "Go-http-client", id="go-http-client"),
    pytest.param("node-fetch/1.0", "bot", None, None, id="node-fetch"),
    pytest.param(
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "HeadlessChrome/126.0.6478.126 Safari/537.36",
        "bot",
        "Linux",
        "HeadlessChrome",
        id="headless-chrome",
    ),
    pytest.param(
        "Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse",
        "bot",
        "Android",
        "Chrome Mobile",
        id="lighthouse",
    ),
    # Televisions and consoles
    pytest.param(
        "Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/538.1 (KHTML, like Gecko) "
        "Version/6.0 TV Safari/538.1",
        "other",
        "Tizen",
        "Safari",
        id="samsung-tv",
    ),
    pytest.param(
        "Mozilla/5.0 (Linux; Android 11; AFTKA) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/108.0.0.0 Safari/537.36",
        "other",
        "Android",
        "Chrome",
        id="fire-tv",
    ),
    pytest.param(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; Xbox; Xbox One) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/70.0.3538.102 Safari/537.36 Edge/18.19041",
        "other",
        "Windows",
        "Edge",
        id="xbox",
    ),
    pytest.param(
        "Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/13.0 Safari/605.1.15",
        "other",
        None,
        "Safari",
        id="playstation",
    ),
    # Nothing to go on
    pytest.param(None, "other", None, None, id="none"),
    pytest.param("", "other", None, None, id="empty"),
    pytest.param("   \t ", "other", None, None, id="blank"),
    pytest.param("\x00\xff\xfe\x80\x1b[31m", "other", None, None, id="garbage-bytes"),
    pytest.param("\ud800\udfff", "other", None, None, id="lone-surrogates"),
    pytest.param("A" * 10_000, "other", None, None, id="10-kb"),
    pytest.param("Привет, мир 🌍", "other", None, None, id="non-ascii"),
]


@pytest.mark.parametrize(("user_agent", "device_type", "os", "browser"), USER_AGENTS)
def test_device_from_user_agent(user_agent, device_type, os, browser):
    assert device_from_headers(user_agent) == {"type": device_type, "os": os, "browser": browser}


def test_long_user_agent_is_cut_before_parsing():
    padded = WINDOWS_CHROME + " " + "x" * (MAX_USER_AGENT_LENGTH * 10)
    assert device_from_headers(padded) == {"type": "desktop", "os": "Windows", "browser": "Chrome"}


def test_tokens_beyond_the_cut_are_not_read():
    hidden = "x" * MAX_USER_AGENT_LENGTH + " Googlebot/2.1"
    assert device_from_headers(hidden) == {"type": "other", "os": None, "browser": None}


def test_repeated_user_agent_is_served_from_cache():
    user_agent = WINDOWS_CHROME + " CacheProbe/1.0"
    device_from_headers(user_agent)
    hits = device._parse_cached.cache_info().hits
    assert device_from_headers(user_agent)["type"] == "desktop"
    assert device._parse_cached.cache_info().hits == hits + 1


def test_result_is_a_fresh_dict_each_call():
    first = device_from_headers(IPHONE_SAFARI)
    first["type"] = "changed"
    assert device_from_headers(IPHONE_SAFARI)["type"] == "mobile"


@pytest.mark.parametrize(
    ("user_agent", "hints", "expected"),
    [
        pytest.param(
            ANDROID_REDUCED,
            {"sec-ch-ua-mobile": "?0", "sec-ch-ua-platform": '"Android"'},
            {"type": "desktop", "os": "Android", "browser": "Chrome Mobile"},
            id="reduced-mobile-ua-asking-for-desktop",
        ),
        pytest.param(
            PIXEL_CHROME,
            {"sec-ch-ua-mobile": "?0"},
            {"type": "mobile", "os": "Android", "browser": "Chrome Mobile"},
            id="named-phone-keeps-mobile",
        ),
        pytest.param(
            WINDOWS_CHROME,
            {"sec-ch-ua-mobile": "?1"},
            {"type": "mobile", "os": "Windows", "browser": "Chrome"},
            id="mobile-hint-wins-over-desktop-ua",
        ),
        pytest.param(
            IPAD_SAFARI,
            {"sec-ch-ua-mobile": "?1"},
            {"type": "tablet", "os": "iOS", "browser": "Mobile Safari"},
            id="tablet-stays-tablet",
        ),
        pytest.param(
            GOOGLEBOT_SMARTPHONE,
            {"sec-ch-ua-mobile": "?1"},
            {"type": "bot", "os": "Android", "browser": "Googlebot"},
            id="bot-stays-bot",
        ),
        pytest.param(
            LINUX_CHROME,
            {"sec-ch-ua-mobile": "?0", "sec-ch-ua-platform": '"Android"'},
            {"type": "desktop", "os": "Android", "browser": "Chrome"},
            id="android-desktop-site-mode",
        ),
        pytest.param(
            WINDOWS_CHROME,
            {"sec-ch-ua-platform": '"macOS"'},
            {"type": "desktop", "os": "Mac OS X", "browser": "Chrome"},
            id="platform-hint-maps-to-ua-parser-family",
        ),
        pytest.param(
            LINUX_CHROME,
            {"sec-ch-ua-platform": '"Chrome OS"'},
            {"type": "desktop", "os": "Chrome OS", "browser": "Chrome"},
            id="chrome-os",
        ),
        pytest.param(
            LINUX_CHROME,
            {"sec-ch-ua-platform": '"Chromium OS"'},
            {"type": "desktop", "os": "Chrome OS", "browser": "Chrome"},
            id="chromium-os",
        ),
        pytest.param(
            UBUNTU_FIREFOX,
            {"sec-ch-ua-platform": '"Linux"'},
            {"type": "desktop", "os": "Ubuntu", "browser": "Firefox"},
            id="specific-linux-family-kept",
        ),
        pytest.param(
            IPHONE_SAFARI,
            {"sec-ch-ua-platform": '"iOS"'},
            {"type": "mobile", "os": "iOS", "browser": "Mobile Safari"},
            id="ios",
        ),
        pytest.param(
            None,
            {"sec-ch-ua-mobile": "?1", "sec-ch-ua-platform": '"Android"'},
            {"type": "mobile", "os": "Android", "browser": None},
            id="hints-without-user-agent-mobile",
        ),
        pytest.param(
            "",
            {"sec-ch-ua-mobile": "?0", "sec-ch-ua-platform": '"Windows"'},
            {"type": "desktop", "os": "Windows", "browser": None},
            id="hints-without-user-agent-desktop",
        ),
        pytest.param(
            None,
            {"sec-ch-ua-mobile": "?0", "sec-ch-ua-platform": '"Android"'},
            {"type": "other", "os": "Android", "browser": None},
            id="non-mobile-android-without-ua-stays-other",
        ),
        pytest.param(
            ANDROID_REDUCED,
            {"sec-ch-ua-mobile": " ?1 ", "sec-ch-ua-platform": ' "android" '},
            {"type": "mobile", "os": "Android", "browser": "Chrome Mobile"},
            id="surrounding-space-and-case-tolerated",
        ),
        pytest.param(
            WINDOWS_CHROME,
            {},
            {"type": "desktop", "os": "Windows", "browser": "Chrome"},
            id="empty-hints",
        ),
    ],
)
def test_client_hints_refine_the_user_agent(user_agent, hints, expected):
    assert device_from_headers(user_agent, hints) == expected


@pytest.mark.parametrize(
    "hints",
    [
        {"sec-ch-ua-mobile": "?2"},
        {"sec-ch-ua-mobile": "1"},
        {"sec-ch-ua-mobile": "true"},
        {"sec-ch-ua-mobile": "?1?1"},
        {"sec-ch-ua-platform": "macOS"},
        {"sec-ch-ua-platform": '"Unknown"'},
        {"sec-ch-ua-platform": '"'},
        {"sec-ch-ua-platform": '""'},
        {"sec-ch-ua-platform": '"mac' + "O" * 100 + 'S"'},
        {"sec-ch-ua-platform": '"Windows'},
        {"Sec-CH-UA-Mobile": "?1"},  # keys are expected in lower case
    ],
)
def test_malformed_client_hints_are_ignored(hints):
    assert device_from_headers(WINDOWS_CHROME, hints) == {
        "type": "desktop",
        "os": "Windows",
        "browser": "Chrome",
    }


any_text = st.text(st.characters(exclude_categories=()), max_size=2_000)
hint_values = st.one_of(
    any_text, st.sampled_from(["?0", "?1", '"Android"', '"macOS"', '"Windows"', '"iOS"'])
)


# No deadline: the first call of a run builds ua-parser's resolver.
@settings(deadline=None)
@given(
    user_agent=st.one_of(st.none(), any_text),
    hints=st.one_of(
        st.none(),
        st.dictionaries(
            st.one_of(st.sampled_from(["sec-ch-ua-mobile", "sec-ch-ua-platform"]), any_text),
            hint_values,
            max_size=4,
        ),
    ),
)
def test_any_headers_give_the_documented_keys(user_agent, hints):
    result = device_from_headers(user_agent, hints)
    assert list(result) == ["type", "os", "browser"]
    assert result["type"] in DEVICE_TYPES
    assert result["os"] is None or (isinstance(result["os"], str) and result["os"] != "Other")
    assert result["browser"] is None or (
        isinstance(result["browser"], str) and result["browser"] != "Other"
    )


@settings(deadline=None)
@given(prefix=any_text, suffix=any_text)
def test_real_user_agent_inside_noise_never_raises(prefix, suffix):
    result = device_from_headers(prefix + IPHONE_SAFARI + suffix)
    assert result["type"] in DEVICE_TYPES
    assert set(result) == {"type", "os", "browser"}
