"""Where the visitor is: CDN geolocation headers and GeoIP providers.

A geo result is a plain dict with exactly the keys of :data:`GEO_KEYS`:

``country``
    ISO 3166-1 alpha-2 code, upper case (``"DE"``).
``region``
    Full ISO 3166-2 code of the first-level subdivision (``"DE-BY"``).
``city``
    City name as the source spells it (App Engine sends it in lower case).
``continent``
    ``AF``, ``AN``, ``AS``, ``EU``, ``NA``, ``OC`` or ``SA``; taken from the
    source, or derived from the country when the source has none.
``timezone``
    IANA zone name, validated against the zone database.

Every value is ``None`` when unknown. Header values are hostile input: each is
validated, and anything that does not fit its field becomes ``None``.

CDN headers are believed only when the direct peer is a trusted proxy, because
anyone can send ``CF-IPCountry`` to an application that is reachable directly,
and only the headers of the CDNs the site names (``PERSONALIZE["GEO_HEADERS"]``,
see :func:`parse_geo_headers`): a proxy on the same host is trusted, and it
passes on whatever geo headers a client sent unless it strips them, so the
headers of a CDN the site does not use are never believed. Otherwise the client
address (see :mod:`personalize.signals.network`) is looked up with a provider
from :mod:`personalize.signals.geoip`. A result comes from a single source: a
CDN country is never combined with a GeoIP city.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Protocol
from urllib.parse import unquote

from personalize.signals.clock import valid_timezone
from personalize.signals.network import IPNetwork, client_ip, is_trusted

__all__ = [
    "CDN_HEADERS",
    "CONTINENTS",
    "EMPTY_GEO",
    "GEO_KEYS",
    "CdnHeaders",
    "GeoDict",
    "GeoLookup",
    "continent_for",
    "geo_from_headers",
    "normalize_geo",
    "parse_geo_headers",
    "resolve_geo",
]

logger = logging.getLogger(__name__)

GeoDict = dict[str, str | None]


class GeoLookup(Protocol):
    """Anything that locates an IP address (see :mod:`personalize.signals.geoip`)."""

    def lookup(self, ip: str) -> GeoDict:
        """The geo dict for ``ip`` (all ``None`` when unknown); never raises."""
        ...


#: The keys of every geo result, in display order.
GEO_KEYS = ("country", "region", "city", "continent", "timezone")

#: The all-unknown result. Read-only; functions return fresh dicts.
EMPTY_GEO: Mapping[str, str | None] = MappingProxyType(dict.fromkeys(GEO_KEYS))

#: Valid continent codes.
CONTINENTS = frozenset({"AF", "AN", "AS", "EU", "NA", "OC", "SA"})

_MAX_CITY_LENGTH = 100
#: Raw header values longer than this are not worth decoding.
_MAX_HEADER_LENGTH = 512
_SUBDIVISION = re.compile(r"[A-Z0-9]{1,3}", re.ASCII)
_ESCAPED_BYTE = re.compile(r"\\u([0-9a-fA-F]{4})")


def _empty() -> GeoDict:
    return dict(EMPTY_GEO)


@functools.cache
def country_table(name: str) -> Mapping[str, str]:
    """A table ``country code → value`` from ``personalize/data/<name>`` (read once).

    The file holds one ``CODE value`` pair a line; lines starting with ``#`` are comments.
    """
    text = resources.files("personalize").joinpath(f"data/{name}").read_text("utf-8")
    table: dict[str, str] = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) == 2 and not line.startswith("#"):
            table[fields[0]] = fields[1]
    return MappingProxyType(table)


def continent_for(country: str | None) -> str | None:
    """Return the continent code of a country.

    Args:
        country: An ISO 3166-1 alpha-2 code such as ``"DE"``.

    Returns:
        The continent code (``"EU"``), or ``None`` for an unknown country.
    """
    return country_table("continents.txt").get(country) if isinstance(country, str) else None


def _country(value: object) -> str | None:
    # Only codes in the continent table are countries; this also rejects the
    # CDNs' pseudo-codes (XX and ZZ for unknown, T1 for Tor).
    if not isinstance(value, str):
        return None
    code = value.strip().upper()
    return code if continent_for(code) is not None else None


def _region(value: object, country: str | None) -> str | None:
    """Build ``"DE-BY"`` from a bare subdivision (``"BY"``, ``"by"``) or a full code."""
    if not isinstance(value, str) or country is None:
        return None
    code = value.strip().upper()
    prefix, dash, subdivision = code.partition("-")
    if dash:
        if prefix != country:
            return None
        code = subdivision
    return f"{country}-{code}" if _SUBDIVISION.fullmatch(code) else None


def _continent(value: object, country: str | None) -> str | None:
    if isinstance(value, str) and value.strip().upper() in CONTINENTS:
        return value.strip().upper()
    return continent_for(country)


def _city(value: object) -> str | None:
    if not isinstance(value, str) or len(value) > _MAX_HEADER_LENGTH:
        return None
    decoded = _decode_text(value)
    if decoded is None:
        return None
    city = " ".join(_printable(decoded).split())
    if not city or city == "?" or len(city) > _MAX_CITY_LENGTH:
        return None
    return city


def _printable(text: str) -> str:
    # Whitespace (tabs, newlines) separates words; other control and format
    # characters, including bidi overrides, are dropped.
    return "".join(" " if ch.isspace() else ch for ch in text if ch.isspace() or ch.isprintable())


def _decode_text(value: str) -> str | None:
    """Undo the transport encodings CDNs apply to non-ASCII header values.

    Vercel percent-encodes (``S%C3%A3o%20Paulo``); Cloudflare writes each UTF-8
    byte as an escape (``S\\u00c3\\u00a3o Paulo``); raw UTF-8 bytes reach Python
    as Latin-1 text under WSGI. All three end up as ``São Paulo``.
    """
    if "%" in value:
        try:
            value = unquote(value, errors="strict")
        except UnicodeDecodeError:
            return None
    value = _ESCAPED_BYTE.sub(lambda match: chr(int(match.group(1), 16)), value)
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        # Not a UTF-8 byte sequence in disguise: the text is already decoded.
        return value


def normalize_geo(values: Mapping[str, object]) -> GeoDict:
    """Validate a geo mapping from any source into a result dict.

    Args:
        values: A mapping with any of the :data:`GEO_KEYS`. ``region`` may be a
            full ISO 3166-2 code or the bare subdivision part.

    Returns:
        A dict with exactly the :data:`GEO_KEYS`; invalid values are ``None``
        and a missing continent is derived from the country.
    """
    country = _country(values.get("country"))
    return {
        "country": country,
        "region": _region(values.get("region"), country),
        "city": _city(values.get("city")),
        "continent": _continent(values.get("continent"), country),
        "timezone": valid_timezone(_text(values.get("timezone"))),
    }


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class CdnHeaders:
    """Lower-case names of one CDN's (or one proxy's) geolocation headers."""

    country: str
    region: str | None = None
    city: str | None = None
    timezone: str | None = None
    continent: str | None = None


#: The CDNs known by name, in the order :func:`geo_from_headers` checks them by default.
CDN_HEADERS: Mapping[str, CdnHeaders] = MappingProxyType(
    {
        "cloudfront": CdnHeaders(
            country="cloudfront-viewer-country",
            region="cloudfront-viewer-country-region",
            city="cloudfront-viewer-city",
            timezone="cloudfront-viewer-time-zone",
        ),
        "cloudflare": CdnHeaders(
            country="cf-ipcountry",
            region="cf-region-code",
            city="cf-ipcity",
            timezone="cf-timezone",
            continent="cf-ipcontinent",
        ),
        "vercel": CdnHeaders(
            country="x-vercel-ip-country",
            region="x-vercel-ip-country-region",
            city="x-vercel-ip-city",
            timezone="x-vercel-ip-timezone",
            continent="x-vercel-ip-continent",
        ),
        "appengine": CdnHeaders(
            country="x-appengine-country",
            region="x-appengine-region",
            city="x-appengine-city",
        ),
    }
)
#: Checked in this order; the first CDN that reports a valid country wins.
_CDNS: tuple[CdnHeaders, ...] = tuple(CDN_HEADERS.values())
#: CDNs that add no geolocation headers of their own: the site names the ones it adds.
_NO_HEADERS_OF_THEIR_OWN = {
    "fastly": "Fastly adds none: set them in VCL from client.geo.*",
    "akamai": "Akamai adds them only as configured in the property",
}
_HEADER_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,99}", re.ASCII)


def parse_geo_headers(value: object) -> tuple[CdnHeaders, ...]:
    """Read the ``GEO_HEADERS`` setting: which geolocation headers trusted proxies vouch for.

    Args:
        value: ``None`` or ``[]`` (none: only the GeoIP provider locates visitors); a CDN's
            name (one of :data:`CDN_HEADERS`: ``"cloudflare"``, ``"cloudfront"``,
            ``"vercel"``, ``"appengine"``); a dict naming a proxy's own headers
            (``{"country": "x-geo-country", "region": ..., "city": ..., "timezone": ...,
            "continent": ...}``, only ``country`` required); or a list of these, checked in
            order.

    Returns:
        The header sets, in the order given.

    Raises:
        ValueError: an unknown CDN or a malformed dict; the message says what fits.
    """
    if value is None:
        return ()
    items = list(value) if isinstance(value, list | tuple) else [value]
    return tuple(_header_set(item) for item in items)


def _header_set(item: object) -> CdnHeaders:
    if isinstance(item, str):
        name = item.strip().lower()
        if name in CDN_HEADERS:
            return CDN_HEADERS[name]
        if name in _NO_HEADERS_OF_THEIR_OWN:
            raise ValueError(
                f"{item!r}: {_NO_HEADERS_OF_THEIR_OWN[name]}; name them with a dict such as "
                "{'country': 'x-geo-country', 'region': 'x-geo-region', 'city': 'x-geo-city'}"
            )
        raise ValueError(
            f"unknown CDN {item!r}: use one of {', '.join(map(repr, CDN_HEADERS))}, or a dict "
            "naming the headers, such as {'country': 'x-geo-country'}"
        )
    if isinstance(item, Mapping):
        fields = set(CdnHeaders.__dataclass_fields__)
        unknown = sorted(str(key) for key in item if key not in fields)
        names = {key: str(name).strip().lower() for key, name in item.items() if name}
        if unknown or "country" not in names:
            raise ValueError(
                f"{dict(item)!r}: a dict of headers needs 'country' and may have "
                "'region', 'city', 'timezone' and 'continent'"
            )
        bad = sorted(name for name in names.values() if not _HEADER_NAME.fullmatch(name))
        if bad:
            raise ValueError(f"{bad[0]!r} is not a header name")
        return CdnHeaders(**names)
    raise ValueError(f"{item!r} is neither a CDN's name nor a dict of header names")


def _header(headers: Mapping[str, str], name: str | None) -> str | None:
    if name is None:
        return None
    value = headers.get(name)
    if not isinstance(value, str) or len(value) > _MAX_HEADER_LENGTH:
        return None
    return value


def geo_from_headers(
    headers: Mapping[str, str], cdns: Sequence[CdnHeaders] = _CDNS
) -> GeoDict | None:
    """Read the geolocation headers a CDN adds to each request.

    Supported: Amazon CloudFront (``CloudFront-Viewer-*``), Cloudflare
    (``CF-IPCountry`` and the visitor location headers), Vercel
    (``X-Vercel-IP-*``) and Google App Engine (``X-AppEngine-*``). The first of
    these, in that order, that reports a valid country is used alone.

    This function does not decide whether the headers may be believed; see
    :func:`resolve_geo`.

    Args:
        headers: Request headers, looked up by lower-case name (Django's
            ``request.headers`` or a dict with lower-case keys).
        cdns: The header sets to read, in order (default: every known CDN).

    Returns:
        A geo dict, or ``None`` when no CDN reports a country.
    """
    for cdn in cdns:
        country = _country(_header(headers, cdn.country))
        if country is not None:
            return normalize_geo(
                {
                    "country": country,
                    "region": _header(headers, cdn.region),
                    "city": _header(headers, cdn.city),
                    "continent": _header(headers, cdn.continent),
                    "timezone": _header(headers, cdn.timezone),
                }
            )
    return None


def resolve_geo(
    headers: Mapping[str, str],
    remote_addr: str | None,
    trusted_networks: Sequence[IPNetwork],
    provider: GeoLookup,
    cdns: Sequence[CdnHeaders] = (),
) -> GeoDict:
    """Locate the visitor.

    The headers of ``cdns`` are used when the direct peer is a trusted proxy and
    they report a country; other CDNs' headers are ignored, whoever sent them.
    Otherwise the client address is resolved through the trusted proxies and
    looked up with ``provider``.

    Args:
        headers: Request headers, looked up by lower-case name.
        remote_addr: The direct peer's address (``REMOTE_ADDR``).
        trusted_networks: Trusted proxies, from
            :func:`~personalize.signals.network.parse_trusted_networks`.
        provider: The GeoIP provider for the fallback lookup.
        cdns: The geolocation headers the trusted proxies vouch for, from
            :func:`parse_geo_headers` (default: none).

    Returns:
        A geo dict with exactly the :data:`GEO_KEYS`. Never raises for bad input.
    """
    if cdns and is_trusted(remote_addr, trusted_networks):
        from_headers = geo_from_headers(headers, cdns)
        if from_headers is not None:
            return from_headers
    forwarded_for = headers.get("x-forwarded-for")
    if not isinstance(forwarded_for, str):
        forwarded_for = None
    ip = client_ip(remote_addr, forwarded_for, trusted_networks)
    if ip is None:
        return _empty()
    return provider.lookup(ip)
