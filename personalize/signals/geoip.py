"""GeoIP providers: locate a client address with a GeoIP2 database or a table.

Providers are pluggable: ``PERSONALIZE["GEO_PROVIDER"]`` names a :class:`BaseGeoProvider`
subclass by dotted path. :class:`GeoIP2Provider` reads a MaxMind GeoIP2/GeoLite2 City or Country
database the site supplies (nothing is downloaded); :class:`InMemoryGeoProvider` serves tests and
demos; :class:`NullGeoProvider` knows nothing.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import os
from collections.abc import Callable, Mapping, Sequence

import geoip2.database
import geoip2.errors
import geoip2.models
import maxminddb

from personalize.signals.geo import EMPTY_GEO, GeoDict, normalize_geo
from personalize.signals.network import IPAddress, IPNetwork, parse_address

__all__ = [
    "BaseGeoProvider",
    "GeoDatabaseError",
    "GeoIP2Provider",
    "InMemoryGeoProvider",
    "NullGeoProvider",
]

logger = logging.getLogger(__name__)


class GeoDatabaseError(Exception):
    """A GeoIP database file is missing, unreadable, corrupt or of the wrong kind."""


class BaseGeoProvider:
    """Looks up the location of an IP address.

    Subclasses implement :meth:`lookup_address`; :meth:`lookup` validates the
    address, normalises the result and caches it per address, because the same
    visitor requests many pages.
    """

    #: How many addresses the per-instance cache keeps.
    cache_size: int = 4096

    def lookup(self, ip: str) -> GeoDict:
        """Locate an address.

        Args:
            ip: The address, as returned by
                :func:`~personalize.signals.network.client_ip`.

        Returns:
            A geo dict; all values are ``None`` when the address is malformed or
            unknown. Never raises for a bad address.
        """
        address = parse_address(ip)
        if address is None:
            return dict(EMPTY_GEO)
        return dict(self._cached_lookup(address))

    @functools.cached_property
    def _cached_lookup(self) -> Callable[[IPAddress], GeoDict]:
        # Built per instance rather than decorating the method, so each provider
        # has its own cache and subclasses need not call an __init__.
        return functools.lru_cache(maxsize=self.cache_size)(self._normalized_lookup)

    def _normalized_lookup(self, address: IPAddress) -> GeoDict:
        return normalize_geo(self.lookup_address(address))

    def lookup_address(self, address: IPAddress) -> Mapping[str, object]:
        """Locate a parsed address; override this in subclasses.

        Args:
            address: A valid IPv4 or IPv6 address (IPv4-mapped IPv6 already
                unwrapped).

        Returns:
            A mapping with any of the :data:`GEO_KEYS`; it is normalised by
            :func:`normalize_geo`, so bare region codes and missing continents
            are fine. Return :data:`EMPTY_GEO` when the address is unknown.
        """
        raise NotImplementedError


class NullGeoProvider(BaseGeoProvider):
    """Knows no addresses; for sites that use CDN headers only."""

    def lookup_address(self, address: IPAddress) -> Mapping[str, object]:
        """Return :data:`EMPTY_GEO` for every address."""
        return EMPTY_GEO


class InMemoryGeoProvider(BaseGeoProvider):
    """Locates addresses from a fixed table; for tests, demos and local development.

    Args:
        table: Maps a network (``"81.2.69.0/24"``) or a single address
            (``"127.0.0.1"``) to a geo mapping. The most specific network
            containing an address wins. Private and loopback addresses may be
            listed, which lets a site running on localhost show localized content.

    Raises:
        ValueError: If a key is not a network or an address.
    """

    def __init__(self, table: Mapping[str, Mapping[str, object]]) -> None:
        entries = [(_table_network(key), normalize_geo(geo)) for key, geo in table.items()]
        entries.sort(key=lambda entry: entry[0].prefixlen, reverse=True)
        self._entries: Sequence[tuple[IPNetwork, GeoDict]] = tuple(entries)

    def lookup_address(self, address: IPAddress) -> Mapping[str, object]:
        """Return the geo of the most specific listed network containing ``address``."""
        for network, geo in self._entries:
            if address in network:
                return geo
        return EMPTY_GEO


def _table_network(key: str) -> IPNetwork:
    try:
        return ipaddress.ip_network(key.strip(), strict=False)
    except (ValueError, AttributeError) as error:
        raise ValueError(f"Invalid network {key!r} in the geo table.") from error


class GeoIP2Provider(BaseGeoProvider):
    """Locates addresses with a MaxMind GeoIP2 / GeoLite2 database file.

    City databases give every field; Country databases give country and
    continent only. Compatible files from other vendors work when their
    database type names ``City`` or ``Country``. The file is opened once, when
    the provider is created, and memory-mapped; nothing is ever downloaded.

    Args:
        path: Path of the ``.mmdb`` file.

    Raises:
        GeoDatabaseError: If the file is missing, unreadable or not a GeoIP2
            City or Country database.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._reader = _open_reader(self.path)
        self._query = _query_for(self._reader, self.path)

    def lookup_address(self, address: IPAddress) -> Mapping[str, object]:
        """Look ``address`` up in the database."""
        if not address.is_global:
            # Private, loopback and reserved ranges are never in the database.
            return EMPTY_GEO
        try:
            record = self._query(address)
        except (geoip2.errors.AddressNotFoundError, ValueError):
            return EMPTY_GEO
        except maxminddb.InvalidDatabaseError:
            logger.warning("GeoIP database %s has a corrupt record for %s", self.path, address)
            return EMPTY_GEO
        return _geo_from_record(record)

    def close(self) -> None:
        """Close the database file."""
        self._reader.close()


def _open_reader(path: str) -> geoip2.database.Reader:
    try:
        return geoip2.database.Reader(path)
    except FileNotFoundError as error:
        raise GeoDatabaseError(
            f"GeoIP database not found at {path!r}. Download a GeoIP2 or GeoLite2 City "
            f"database (.mmdb) and set its path, or use another geo provider."
        ) from error
    except (OSError, ValueError, maxminddb.InvalidDatabaseError) as error:
        raise GeoDatabaseError(
            f"Cannot read the GeoIP database at {path!r} ({error}). Check that it is a "
            f"GeoIP2 or GeoLite2 .mmdb file."
        ) from error


def _query_for(
    reader: geoip2.database.Reader, path: str
) -> Callable[[IPAddress], geoip2.models.Country]:
    database_type = reader.metadata().database_type
    if "Enterprise" in database_type:
        return reader.enterprise
    if "City" in database_type:
        return reader.city
    if "Country" in database_type:
        return reader.country
    reader.close()
    raise GeoDatabaseError(
        f"The GeoIP database at {path!r} is of type {database_type!r}; a City or "
        f"Country database is needed."
    )


def _geo_from_record(record: geoip2.models.Country) -> Mapping[str, object]:
    geo: dict[str, object] = {
        "country": record.country.iso_code,
        "continent": record.continent.code,
    }
    if isinstance(record, geoip2.models.City):
        # The first subdivision is the largest, matching what CDNs report.
        subdivisions = record.subdivisions
        geo["region"] = subdivisions[0].iso_code if subdivisions else None
        geo["city"] = record.city.name
        geo["timezone"] = record.location.time_zone
    return geo
