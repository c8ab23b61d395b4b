"""Exceptions raised by wagtail-personalize, importable from one place.

::

    ConditionError (ValueError)     an invalid condition; raised when a condition is compiled or a
                                    segment is saved, never while a request is served
                                    (defined in personalize.rules, which imports nothing else)
    GeoDatabaseError (Exception)    the configured GeoIP2 database cannot be opened
                                    (defined in personalize.signals.geoip)
    VersionStoreError (Exception)   the shared segment version (the cache, Redis) is unreachable;
                                    caught inside the package: pages fall back to the process's
                                    compiled segments and a warning is logged
                                    (defined in personalize.segments)

Misconfiguration raises Django's ``ImproperlyConfigured`` with the fix in the message, and is
reported by ``manage.py check``. Bad visitor input (headers, cookies, query strings) never raises:
it becomes an unknown (``None``) attribute and is logged at debug level.
"""

from __future__ import annotations

from personalize.rules import ConditionError
from personalize.segments import VersionStoreError
from personalize.signals.geoip import GeoDatabaseError

__all__ = ["ConditionError", "GeoDatabaseError", "VersionStoreError"]
