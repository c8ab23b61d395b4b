"""Exceptions raised by wagtail-personalize.

The hierarchy is small on purpose::

    PersonalizeError                      base class of everything raised here
    ├── ConditionError (ValueError)       an invalid condition, raised at compile/save time
    │                                     (defined in personalize.rules, re-exported here)
    └── GeoDatabaseError                  the configured GeoIP2 database cannot be opened
                                          (defined in personalize.signals.geo, re-exported here)

Misconfiguration raises Django's ``ImproperlyConfigured`` with the fix in the message. Bad
visitor input (headers, cookies, query strings) never raises: it becomes an unknown (``None``)
attribute and is logged at debug level.
"""

from __future__ import annotations

from personalize.rules import ConditionError
from personalize.signals.geoip import GeoDatabaseError


class PersonalizeError(Exception):
    """Base class for errors raised by wagtail-personalize."""


__all__ = ["ConditionError", "GeoDatabaseError", "PersonalizeError"]
