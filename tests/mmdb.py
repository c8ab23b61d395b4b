"""Build small GeoIP2-compatible databases for tests.

The records are shaped like MaxMind's City and Country records, so
``geoip2.database.Reader.city()`` and ``.country()`` read them as they read the
real files. The networks are public ranges with plausible locations; the data
is made up for tests and is not a geolocation source.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mmdb_writer import MMDBWriter
from netaddr import IPSet


def _place(
    country: str,
    continent: str,
    *,
    subdivision: str | None = None,
    city: str | None = None,
    time_zone: str | None = None,
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "continent": {"code": continent, "names": {"en": continent}},
        "country": {"iso_code": country, "names": {"en": country}},
        "registered_country": {"iso_code": country, "names": {"en": country}},
    }
    if subdivision is not None:
        record["subdivisions"] = [{"iso_code": subdivision, "names": {"en": subdivision}}]
    if city is not None:
        record["city"] = {"names": {"en": city}}
    if time_zone is not None:
        record["location"] = {"time_zone": time_zone, "accuracy_radius": 100}
    return record


#: The networks of the test City database.
CITY_RECORDS: Mapping[str, dict[str, Any]] = {
    "81.2.69.0/24": _place("GB", "EU", subdivision="ENG", city="London", time_zone="Europe/London"),
    "89.160.20.0/24": _place(
        "SE", "EU", subdivision="E", city="Linköping", time_zone="Europe/Stockholm"
    ),
    "2.16.0.0/16": _place("DE", "EU", subdivision="BY", city="München", time_zone="Europe/Berlin"),
    "62.46.0.0/16": _place("AT", "EU", subdivision="9", city="Vienna", time_zone="Europe/Vienna"),
    # A record without subdivision, city or time zone, as real databases have.
    "67.43.156.0/24": _place("BT", "AS"),
    "2a01:4f8::/32": _place(
        "DE", "EU", subdivision="SN", city="Falkenstein", time_zone="Europe/Berlin"
    ),
    "2001:67c:2e8::/48": _place(
        "NL", "EU", subdivision="NH", city="Amsterdam", time_zone="Europe/Amsterdam"
    ),
    # Never returned: private ranges are not looked up at all.
    "10.0.0.0/8": _place("US", "NA", subdivision="CA", city="San Jose"),
}


def build_database(
    path: Path,
    records: Mapping[str, Mapping[str, Any]],
    database_type: str = "GeoIP2-City",
) -> Path:
    """Write an IPv6 database (IPv4 mapped in, as MaxMind's are) and return its path."""
    writer = MMDBWriter(
        ip_version=6,
        ipv4_compatible=True,
        database_type=database_type,
        languages=["en"],
        description="wagtail-personalize test database",
    )
    for network, record in records.items():
        writer.insert_network(IPSet([network]), dict(record))
    writer.to_db_file(str(path))
    return path


def build_city_database(path: Path) -> Path:
    """Write the test City database (``GeoIP2-City``) to ``path``."""
    return build_database(path, CITY_RECORDS, "GeoIP2-City")


def build_country_database(path: Path) -> Path:
    """Write a ``GeoLite2-Country`` database with the country parts of the City records."""
    countries = {
        network: {key: record[key] for key in ("continent", "country", "registered_country")}
        for network, record in CITY_RECORDS.items()
    }
    return build_database(path, countries, "GeoLite2-Country")
