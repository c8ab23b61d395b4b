"""Visitor profiles: what the site remembers about a consenting visitor, and where.

- :mod:`~personalize.profiles.store`: the store interface, profile keys and the configured store;
- :mod:`~personalize.profiles.database`, :mod:`~personalize.profiles.memory`: the two stores;
- :mod:`~personalize.profiles.scoring`: the scoring configuration (rules, stages, decay) that
  turns a profile into ``visitor.*`` attributes.

The stores are importable from here for ``PERSONALIZE["PROFILE_STORE"]``
(``"personalize.profiles.DatabaseProfileStore"``). This package reads and writes profile rows;
recording what a visitor does is :mod:`personalize.tracking`.
"""

from personalize.profiles.database import DatabaseProfileStore
from personalize.profiles.memory import MemoryProfileStore
from personalize.profiles.store import (
    BaseProfileStore,
    ProfileKey,
    ProfileStoreError,
    new_visitor_id,
    profile_store,
)

__all__ = [
    "BaseProfileStore",
    "DatabaseProfileStore",
    "MemoryProfileStore",
    "ProfileKey",
    "ProfileStoreError",
    "new_visitor_id",
    "profile_store",
]
