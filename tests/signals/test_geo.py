import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from personalize.signals.clock import valid_timezone
from personalize.signals.geo import (
    CDN_HEADERS,
    CONTINENTS,
    EMPTY_GEO,
    GEO_KEYS,
    CdnHeaders,
    continent_for,
    geo_from_headers,
    normalize_geo,
    parse_geo_headers,
    resolve_geo,
)
from personalize.signals.geoip import (
    BaseGeoProvider,
    GeoDatabaseError,
    GeoIP2Provider,
    InMemoryGeoProvider,
    NullGeoProvider,
)
from personalize.signals.network import parse_trusted_networks
from tests.mmdb import build_city_database, build_country_database, build_database

TRUSTED = parse_trusted_networks(["10.0.0.0/8", "2001:db8::/32"])
#: Every known CDN's headers vouched for (as before GEO_HEADERS existed).
ALL_CDNS = tuple(CDN_HEADERS.values())

LONDON = {
    "country": "GB",
    "region": "GB-ENG",
    "city": "London",
    "continent": "EU",
    "timezone": "Europe/London",
}
MUNICH = {
    "country": "DE",
    "region": "DE-BY",
    "city": "München",
    "continent": "EU",
    "timezone": "Europe/Berlin",
}
UNKNOWN = dict.fromkeys(GEO_KEYS)


@pytest.fixture(scope="module")
def city_db(tmp_path_factory):
    return build_city_database(tmp_path_factory.mktemp("geoip") / "GeoIP2-City-Test.mmdb")


@pytest.fixture(scope="module")
def geoip(city_db):
    provider = GeoIP2Provider(city_db)
    yield provider
    provider.close()


# -- continents ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "continent"),
    [("DE", "EU"), ("US", "NA"), ("BR", "SA"), ("JP", "AS"), ("NG", "AF"), ("NZ", "OC")]
    + [("AQ", "AN"), ("RU", "EU"), ("TR", "AS"), ("XK", "EU")],
)
def test_continent_for_known_countries(country, continent):
    assert continent_for(country) == continent


@pytest.mark.parametrize("country", ["XX", "ZZ", "T1", "EU", "de", "", None])
def test_continent_for_unknown_codes(country):
    assert continent_for(country) is None


def test_empty_geo_is_read_only():
    assert EMPTY_GEO == UNKNOWN
    with pytest.raises(TypeError):
        EMPTY_GEO["country"] = "DE"  # type: ignore[index]


# -- CDN headers -----------------------------------------------------------------


def test_cloudfront_headers():
    headers = {
        "cloudfront-viewer-country": "US",
        "cloudfront-viewer-country-region": "MI",
        "cloudfront-viewer-city": "Ann Arbor",
        "cloudfront-viewer-time-zone": "America/Detroit",
        "cloudfront-viewer-latitude": "42.30680",
    }

    assert geo_from_headers(headers) == {
        "country": "US",
        "region": "US-MI",
        "city": "Ann Arbor",
        "continent": "NA",
        "timezone": "America/Detroit",
    }


def test_cloudflare_visitor_location_headers():
    headers = {
        "cf-ipcountry": "BR",
        "cf-region-code": "SP",
        "cf-ipcity": "S\\u00c3\\u00a3o Paulo",
        "cf-timezone": "America/Sao_Paulo",
        "cf-ipcontinent": "SA",
        "cf-postal-code": "01000-000",
    }

    assert geo_from_headers(headers) == {
        "country": "BR",
        "region": "BR-SP",
        "city": "São Paulo",
        "continent": "SA",
        "timezone": "America/Sao_Paulo",
    }


def test_cloudflare_country_only():
    assert geo_from_headers({"cf-ipcountry": "DE"}) == {
        "country": "DE",
        "region": None,
        "city": None,
        "continent": "EU",
        "timezone": None,
    }


@pytest.mark.parametrize("pseudo_code", ["XX", "T1"])
def test_cloudflare_unknown_and_tor_are_no_country(pseudo_code):
    assert geo_from_headers({"cf-ipcountry": pseudo_code, "cf-ipcity": "Paris"}) is None


def test_vercel_headers_decode_the_city():
    headers = {
        "x-vercel-ip-country": "DE",
        "x-vercel-ip-country-region": "BY",
        "x-vercel-ip-city": "M%C3%BCnchen",
        "x-vercel-ip-timezone": "Europe/Berlin",
        "x-vercel-ip-continent": "EU",
    }

    assert geo_from_headers(headers) == MUNICH


def test_vercel_city_with_spaces():
    headers = {"x-vercel-ip-country": "US", "x-vercel-ip-city": "San%20Francisco"}

    assert geo_from_headers(headers)["city"] == "San Francisco"


def test_app_engine_headers():
    headers = {
        "x-appengine-country": "US",
        "x-appengine-region": "ca",
        "x-appengine-city": "mountain view",
        "x-appengine-citylatlong": "37.386051,-122.083851",
    }

    assert geo_from_headers(headers) == {
        "country": "US",
        "region": "US-CA",
        "city": "mountain view",
        "continent": "NA",
        "timezone": None,
    }


def test_app_engine_unknowns():
    assert geo_from_headers({"x-appengine-country": "ZZ"}) is None
    headers = {"x-appengine-country": "GB", "x-appengine-city": "?"}
    assert geo_from_headers(headers)["city"] is None


def test_no_cdn_headers():
    assert geo_from_headers({}) is None
    assert geo_from_headers({"user-agent": "Mozilla/5.0", "cf-ray": "8a1b2c3d4e5f6789-FRA"}) is None


def test_first_cdn_with_a_country_is_used_alone():
    headers = {
        "cloudfront-viewer-country": "FR",
        "cf-ipcountry": "DE",
        "cf-ipcity": "Berlin",
        "cf-timezone": "Europe/Berlin",
    }

    assert geo_from_headers(headers) == {
        "country": "FR",
        "region": None,
        "city": None,
        "continent": "EU",
        "timezone": None,
    }


def test_cdn_without_a_usable_country_is_skipped():
    headers = {"cloudfront-viewer-country": "XX", "cf-ipcountry": "DE", "cf-ipcity": "Berlin"}

    assert geo_from_headers(headers)["city"] == "Berlin"


def test_raw_utf8_city_read_as_latin1_is_repaired():
    # Under WSGI, header bytes arrive as Latin-1 text.
    raw = "Zürich".encode().decode("latin-1")

    assert geo_from_headers({"cf-ipcountry": "CH", "cf-ipcity": raw})["city"] == "Zürich"


def test_latin1_city_is_kept():
    assert geo_from_headers({"cf-ipcountry": "CH", "cf-ipcity": "Zürich"})["city"] == "Zürich"


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("cf-ipcountry", "DEU"),
        ("cf-ipcountry", "D"),
        ("cf-ipcountry", "1A"),
        ("cf-ipcountry", "QQ"),
        ("cf-ipcountry", "DE\x00"),
        ("cf-ipcountry", "ＤＥ"),
    ],
)
def test_hostile_country_is_no_country(header, value):
    assert geo_from_headers({header: value}) is None


@pytest.mark.parametrize(
    ("headers", "field", "expected"),
    [
        ({"cf-region-code": "BAYERN"}, "region", None),
        ({"cf-region-code": "B-Y"}, "region", None),
        ({"cf-region-code": "FR-IDF"}, "region", None),
        ({"cf-region-code": "DE-BY"}, "region", "DE-BY"),
        ({"cf-region-code": "by"}, "region", "DE-BY"),
        ({"cf-ipcity": "Ber\x00lin\x1b[31m"}, "city", "Berlin[31m"),
        ({"cf-ipcity": "Ber\u202elin"}, "city", "Berlin"),
        ({"cf-ipcity": "  Frankfurt \t am\nMain "}, "city", "Frankfurt am Main"),
        ({"cf-ipcity": "x" * 101}, "city", None),
        ({"cf-ipcity": "x" * 100}, "city", "x" * 100),
        ({"cf-ipcity": "%FF%FE"}, "city", None),
        ({"cf-ipcity": "\x00\x01"}, "city", None),
        ({"cf-timezone": "../../../etc/passwd"}, "timezone", None),
        ({"cf-timezone": "Europe/Nowhere"}, "timezone", None),
        ({"cf-ipcontinent": "XX"}, "continent", "EU"),
        ({"cf-ipcontinent": "eu"}, "continent", "EU"),
    ],
)
def test_hostile_values_are_dropped(headers, field, expected):
    assert geo_from_headers({"cf-ipcountry": "DE", **headers})[field] == expected


def test_normalize_geo_fills_the_continent_and_builds_the_region():
    assert normalize_geo({"country": "at", "region": "9", "city": "Vienna"}) == {
        "country": "AT",
        "region": "AT-9",
        "city": "Vienna",
        "continent": "EU",
        "timezone": None,
    }


def test_normalize_geo_drops_unknown_keys_and_non_strings():
    assert normalize_geo({"country": 49, "city": ["Berlin"], "postal": "10115"}) == UNKNOWN


# -- GeoIP2 provider -------------------------------------------------------------


@pytest.mark.parametrize(
    ("ip", "expected"),
    [
        ("81.2.69.142", LONDON),
        ("2.16.3.4", MUNICH),
        (
            "89.160.20.112",
            {
                "country": "SE",
                "region": "SE-E",
                "city": "Linköping",
                "continent": "EU",
                "timezone": "Europe/Stockholm",
            },
        ),
        (
            "62.46.200.1",
            {
                "country": "AT",
                "region": "AT-9",
                "city": "Vienna",
                "continent": "EU",
                "timezone": "Europe/Vienna",
            },
        ),
        (
            "2a01:4f8:c17:1234::1",
            {
                "country": "DE",
                "region": "DE-SN",
                "city": "Falkenstein",
                "continent": "EU",
                "timezone": "Europe/Berlin",
            },
        ),
        ("::ffff:81.2.69.142", LONDON),
        (
            "67.43.156.1",
            {"country": "BT", "region": None, "city": None, "continent": "AS", "timezone": None},
        ),
    ],
)
def test_geoip2_city_records(geoip, ip, expected):
    assert geoip.lookup(ip) == expected


@pytest.mark.parametrize(
    "ip", ["8.8.8.8", "2606:4700::1111", "10.1.2.3", "127.0.0.1", "::1", "fe80::1", "nonsense", ""]
)
def test_geoip2_unknown_private_and_malformed_addresses(geoip, ip):
    # 10.0.0.0/8 is in the test database on purpose: private ranges are never looked up.
    assert geoip.lookup(ip) == UNKNOWN


def test_geoip2_results_are_copies(geoip):
    first = geoip.lookup("81.2.69.142")
    first["city"] = "Paris"

    assert geoip.lookup("81.2.69.142") == LONDON


def test_geoip2_country_database(tmp_path):
    provider = GeoIP2Provider(build_country_database(tmp_path / "GeoLite2-Country.mmdb"))

    assert provider.lookup("2.16.3.4") == {
        "country": "DE",
        "region": None,
        "city": None,
        "continent": "EU",
        "timezone": None,
    }
    provider.close()


def test_geoip2_missing_file(tmp_path):
    path = tmp_path / "absent.mmdb"

    with pytest.raises(GeoDatabaseError, match=f"GeoIP database not found at '{path}'"):
        GeoIP2Provider(path)


def test_geoip2_corrupt_file(tmp_path):
    path = tmp_path / "corrupt.mmdb"
    path.write_bytes(b"this is not a MaxMind database")

    with pytest.raises(GeoDatabaseError, match="Cannot read the GeoIP database at"):
        GeoIP2Provider(path)


def test_geoip2_wrong_database_type(tmp_path):
    path = build_database(
        tmp_path / "asn.mmdb", {"81.2.69.0/24": {"autonomous_system_number": 20712}}, "GeoLite2-ASN"
    )

    with pytest.raises(GeoDatabaseError, match="of type 'GeoLite2-ASN'; a City or Country"):
        GeoIP2Provider(path)


# -- other providers -------------------------------------------------------------


def test_in_memory_provider_most_specific_network_wins():
    provider = InMemoryGeoProvider(
        {
            "203.0.113.0/24": {"country": "FR", "city": "Paris"},
            "203.0.113.7": {"country": "DE", "region": "BY", "timezone": "Europe/Berlin"},
            "127.0.0.1": {"country": "AT", "city": "Vienna"},
        }
    )

    assert provider.lookup("203.0.113.7") == {
        "country": "DE",
        "region": "DE-BY",
        "city": None,
        "continent": "EU",
        "timezone": "Europe/Berlin",
    }
    assert provider.lookup("203.0.113.8")["city"] == "Paris"
    assert provider.lookup("127.0.0.1")["country"] == "AT"
    assert provider.lookup("198.51.100.1") == UNKNOWN


def test_in_memory_provider_rejects_bad_networks():
    with pytest.raises(ValueError, match="Invalid network 'not-a-network' in the geo table"):
        InMemoryGeoProvider({"not-a-network": {"country": "DE"}})


def test_null_provider_knows_nothing():
    assert NullGeoProvider().lookup("81.2.69.142") == UNKNOWN


class CountingProvider(BaseGeoProvider):
    cache_size = 2

    def __init__(self):
        self.calls: list[str] = []

    def lookup_address(self, address):
        self.calls.append(str(address))
        return {"country": "DE"}


def test_lookups_are_cached_per_address_with_a_bounded_cache():
    provider = CountingProvider()

    for ip in ["81.2.69.1", "81.2.69.1", "::ffff:81.2.69.1", "81.2.69.2", "81.2.69.3", "81.2.69.1"]:
        assert provider.lookup(ip)["country"] == "DE"

    assert provider.calls == ["81.2.69.1", "81.2.69.2", "81.2.69.3", "81.2.69.1"]


# -- resolve_geo -----------------------------------------------------------------


def test_spoofed_cdn_header_from_untrusted_peer_is_ignored(geoip):
    headers = {"cf-ipcountry": "US", "cf-ipcity": "New York", "x-forwarded-for": "2.16.3.4"}

    assert resolve_geo(headers, "81.2.69.142", TRUSTED, geoip, ALL_CDNS) == LONDON


def test_cdn_header_from_trusted_peer_is_believed(geoip):
    headers = {"cf-ipcountry": "US", "cf-ipcity": "New York", "x-forwarded-for": "81.2.69.142"}

    assert resolve_geo(headers, "10.0.0.2", TRUSTED, geoip, ALL_CDNS) == {
        "country": "US",
        "region": None,
        "city": "New York",
        "continent": "NA",
        "timezone": None,
    }


def test_cdn_country_is_not_mixed_with_a_geoip_city(geoip):
    headers = {"cloudfront-viewer-country": "FR", "x-forwarded-for": "81.2.69.142"}

    assert resolve_geo(headers, "10.0.0.2", TRUSTED, geoip, ALL_CDNS) == {
        "country": "FR",
        "region": None,
        "city": None,
        "continent": "EU",
        "timezone": None,
    }


def test_trusted_peer_without_cdn_country_looks_up_the_forwarded_client(geoip):
    headers = {"cf-ipcountry": "XX", "x-forwarded-for": "2.16.3.4, 10.8.0.1, 10.0.0.9"}

    assert resolve_geo(headers, "10.0.0.2", TRUSTED, geoip, ALL_CDNS) == MUNICH


def test_ipv6_client_behind_ipv6_proxy(geoip):
    headers = {"x-forwarded-for": "[2a01:4f8::7]:50000, 2001:db8::20"}

    assert resolve_geo(headers, "2001:db8::1", TRUSTED, geoip)["city"] == "Falkenstein"


def test_unknown_client_yields_unknown_geo(geoip):
    assert resolve_geo({"x-forwarded-for": "garbage"}, "10.0.0.2", TRUSTED, geoip) == UNKNOWN
    assert resolve_geo({}, None, TRUSTED, geoip) == UNKNOWN


def test_no_trusted_proxies_means_headers_are_never_believed(geoip):
    headers = {"cf-ipcountry": "US", "x-forwarded-for": "2.16.3.4"}

    assert resolve_geo(headers, "81.2.69.142", (), geoip, ALL_CDNS) == LONDON


def test_without_geo_headers_no_cdn_header_is_believed(geoip):
    headers = {"cf-ipcountry": "US", "x-forwarded-for": "81.2.69.142"}

    assert resolve_geo(headers, "10.0.0.2", TRUSTED, geoip) == LONDON


def test_only_the_named_cdns_headers_are_believed_from_a_trusted_peer(geoip):
    # Behind CloudFront and a proxy on the same host, a client's own CF-IPCountry gets through.
    headers = {
        "cf-ipcountry": "US",
        "cloudfront-viewer-country": "FR",
        "x-forwarded-for": "81.2.69.142",
    }
    cloudfront = parse_geo_headers("cloudfront")

    assert resolve_geo(headers, "10.0.0.2", TRUSTED, geoip, cloudfront)["country"] == "FR"
    del headers["cloudfront-viewer-country"]
    assert resolve_geo(headers, "10.0.0.2", TRUSTED, geoip, cloudfront) == LONDON


def test_a_proxys_own_geo_headers_by_name(geoip):
    own = parse_geo_headers({"country": "X-Geo-Country", "city": "x-geo-city"})
    headers = {"x-geo-country": "de", "x-geo-city": "Bonn", "cf-ipcountry": "US"}

    assert resolve_geo(headers, "10.0.0.2", TRUSTED, geoip, own) == {
        "country": "DE",
        "region": None,
        "city": "Bonn",
        "continent": "EU",
        "timezone": None,
    }


def test_parse_geo_headers_reads_names_dicts_and_lists():
    assert parse_geo_headers(None) == ()
    assert parse_geo_headers([]) == ()
    assert parse_geo_headers("Cloudflare") == (CDN_HEADERS["cloudflare"],)
    assert parse_geo_headers(["vercel", {"country": "x-c"}]) == (
        CDN_HEADERS["vercel"],
        CdnHeaders(country="x-c"),
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("akamia", "unknown CDN 'akamia'"),
        ("fastly", "Fastly adds none"),
        ({"city": "x-city"}, "needs 'country'"),
        ({"country": "x-c", "zip": "x-zip"}, "needs 'country'"),
        ({"country": "x c"}, "'x c' is not a header name"),
        (3, "neither a CDN's name nor a dict"),
    ],
)
def test_parse_geo_headers_refuses_what_it_cannot_read(value, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_geo_headers(value)


# -- properties ------------------------------------------------------------------

HEADER_NAMES = [
    "cloudfront-viewer-country",
    "cloudfront-viewer-country-region",
    "cloudfront-viewer-city",
    "cloudfront-viewer-time-zone",
    "cf-ipcountry",
    "cf-region-code",
    "cf-ipcity",
    "cf-timezone",
    "cf-ipcontinent",
    "x-vercel-ip-country",
    "x-vercel-ip-country-region",
    "x-vercel-ip-city",
    "x-vercel-ip-timezone",
    "x-vercel-ip-continent",
    "x-appengine-country",
    "x-appengine-region",
    "x-appengine-city",
    "x-forwarded-for",
]
header_values = st.one_of(
    st.text(max_size=120),
    st.sampled_from(["DE", "us", "XX", "T1", "ZZ", "BY", "EU", "Europe/Berlin", "M%C3%BCnchen"]),
    st.ip_addresses().map(str),
    st.text(alphabet="%0123456789ABCDEFu\\", max_size=40),
)
header_dicts = st.dictionaries(
    st.one_of(st.sampled_from(HEADER_NAMES), st.text(max_size=20)), header_values, max_size=12
)
peers = st.one_of(st.none(), st.text(max_size=40), st.ip_addresses().map(str), st.just("10.0.0.2"))

REGION = re.compile(r"[A-Z]{2}-[A-Z0-9]{1,3}")


def assert_valid_geo(geo):
    assert tuple(geo) == GEO_KEYS
    country, region, city, continent, timezone = (geo[key] for key in GEO_KEYS)
    assert country is None or continent_for(country) is not None
    assert region is None or (REGION.fullmatch(region) and region[:2] == country)
    assert city is None or (0 < len(city) <= 100 and city.isprintable() and city == city.strip())
    assert continent is None or continent in CONTINENTS
    assert timezone is None or valid_timezone(timezone) == timezone


@settings(deadline=None, max_examples=300)
@given(headers=header_dicts)
def test_geo_from_headers_never_raises_and_yields_valid_values(headers):
    geo = geo_from_headers(headers)

    if geo is not None:
        assert_valid_geo(geo)
        assert geo["country"] is not None


@settings(deadline=None, max_examples=300)
@given(
    headers=header_dicts,
    remote_addr=peers,
    names=st.lists(st.sampled_from(sorted(CDN_HEADERS)), max_size=4),
)
def test_resolve_geo_never_raises_and_yields_valid_values(geoip, headers, remote_addr, names):
    cdns = parse_geo_headers(names)
    geo = resolve_geo(headers, remote_addr, TRUSTED, geoip, cdns)

    assert_valid_geo(geo)
    if not cdns:
        # No CDN named: geo headers never decide, whatever the peer; only the client address.
        forwarded = {k: v for k, v in headers.items() if k == "x-forwarded-for"}
        assert geo == resolve_geo(forwarded, remote_addr, TRUSTED, geoip)
