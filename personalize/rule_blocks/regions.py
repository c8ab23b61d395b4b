"""Regions by name: ISO 3166-2 subdivisions from pycountry, stored as their codes.

Editors pick "Tirol (Austria)" and the rule stores ``AT-7``, the code the geo signal reports
(``geo.region``: the first-level subdivision, as MaxMind's databases and CDNs give it). Names
are pycountry's (the Debian iso-codes data, maintained with each ISO 3166-2 newsletter), in the
active language where pycountry translates them, else in the official form; the other forms
are searched too, so "Bayern" and "Bavaria" both find the same region.
"""

from __future__ import annotations

import gettext as gettext_module
import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

import pycountry
from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from wagtail import blocks

from personalize.rule_blocks.base import split_values
from personalize.rule_blocks.choices import countries

#: What an ISO 3166-2 code looks like: country, hyphen, one to three letters or digits.
REGION_CODE = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")
# "Catalunya [Cataluña]": ISO lists a second official name in brackets.
_BRACKETS = re.compile(r"^(?P<name>[^\[]+?)\s*\[(?P<other>[^\]]+)\]$")


@dataclass(frozen=True)
class Subdivision:
    """An ISO 3166-2 subdivision as pycountry has it."""

    #: ``AT-7``.
    code: str
    #: ``AT``.
    country: str
    #: The official name, as ISO lists it ("Bayern", "Catalunya [Cataluña]").
    name: str
    #: "State", "Province"…
    kind: str
    #: False for a subdivision inside another (a French department, a Spanish province).
    top_level: bool


@cache
def subdivisions() -> dict[str, Subdivision]:
    """Every ISO 3166-2 subdivision, by code (read from pycountry once per process)."""
    return {
        item.code: Subdivision(
            code=item.code,
            country=item.country_code,
            name=item.name,
            kind=item.type,
            top_level=not item.parent_code,
        )
        for item in pycountry.subdivisions
    }


@lru_cache(maxsize=8)
def _catalog(language: str) -> gettext_module.NullTranslations:
    """pycountry's translations of the subdivision names into ``language``."""
    code = language.replace("-", "_")
    return gettext_module.translation(
        "iso3166-2", pycountry.LOCALES_DIR, languages=[code, code.split("_")[0]], fallback=True
    )


def _split(name: str) -> tuple[str, list[str]]:
    """``"Catalunya [Cataluña]"`` → ``("Catalunya", ["Cataluña"])``."""
    match = _BRACKETS.match(name)
    if not match:
        return name, []
    # "Wales [Cymru GB-CYM]": the other name may carry its own code, which is no name.
    other = " ".join(word for word in match["other"].split() if not REGION_CODE.match(word))
    return match["name"].strip(), [other] if other else []


def _names(subdivision: Subdivision, language: str) -> tuple[str, list[str]]:
    """The name to show in ``language`` and the other names to search by."""
    translated = _catalog(language).gettext(subdivision.name)
    english = _catalog("en").gettext(subdivision.name)
    shown, others = _split(translated)
    for name in (subdivision.name, english):
        first, more = _split(name)
        others += [first, *more]
    aliases = list(dict.fromkeys(other for other in others if other != shown))
    return shown, aliases


def _sort_key(text: str) -> str:
    """Sort "Île-de-France" with the I's."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@dataclass(frozen=True)
class _Entry:
    label: str
    alias: str


@lru_cache(maxsize=8)
def _entries(language: str) -> dict[str, _Entry]:
    """Every subdivision's label ("Tirol (Austria)") and aliases in ``language``."""
    country_names = dict(countries())
    named = {code: _names(item, language) for code, item in subdivisions().items()}
    # Two subdivisions of one country with one name (a city and its province) say their kind.
    seen: dict[tuple[str, str], int] = {}
    for code, (shown, _aliases) in named.items():
        key = (subdivisions()[code].country, shown)
        seen[key] = seen.get(key, 0) + 1
    entries = {}
    for code, (shown, aliases) in named.items():
        item = subdivisions()[code]
        country = str(country_names.get(item.country, item.country))
        where = country if seen[(item.country, shown)] == 1 else f"{item.kind}, {country}"
        entries[code] = _Entry(label=f"{shown} ({where})", alias=", ".join(aliases))
    return entries


def region_label(code: str) -> str:
    """``"AT-7"`` → ``"Tirol (Austria)"``; a code pycountry does not know stays as it is."""
    entry = _entries(get_language() or "en").get(code)
    return entry.label if entry else code


def region_choices() -> list[tuple[str, str]]:
    """The first-level subdivisions as choices, sorted by label (the geo signal's regions)."""
    return list(_sorted_choices(get_language() or "en"))


@lru_cache(maxsize=8)
def _sorted_choices(language: str) -> tuple[tuple[str, str], ...]:
    entries = _entries(language)
    pairs = [(code, entries[code].label) for code, item in subdivisions().items() if item.top_level]
    return tuple(sorted(pairs, key=lambda pair: _sort_key(pair[1])))


def region_aliases() -> dict[str, str]:
    """The other names of each region, searched by the picker ("Bayern" for Bavaria)."""
    entries = _entries(get_language() or "en")
    return {code: entry.alias for code, entry in entries.items() if entry.alias}


def region_codes(value: Any) -> list[str]:
    """The ISO codes of a stored value, old or new.

    Args:
        value: a list of codes, or the comma-separated text older versions stored
            (``"DE-BY, at-9"``).

    Returns:
        The codes in upper case, without blanks.
    """
    items = split_values(value) if isinstance(value, str) else list(value or [])
    return [str(item).strip().upper() for item in items if str(item).strip()]


class RegionField(forms.MultipleChoiceField):
    """Regions from the list, or any well-formed ISO 3166-2 code a rule already stores."""

    default_error_messages = {
        "invalid_choice": _("%(value)s is not an ISO 3166-2 region code: choose regions by name."),
    }

    def valid_value(self, value: Any) -> bool:
        return bool(REGION_CODE.match(str(value)))


class RegionListBlock(blocks.MultipleChoiceBlock):
    """Regions chosen by name and stored as a list of codes.

    Older versions stored the codes as comma-separated text; such a value reads as the list.
    """

    def get_field(self, **kwargs: Any) -> RegionField:
        return RegionField(**kwargs)

    def to_python(self, value: Any) -> list[str]:
        return region_codes(value)

    def normalize(self, value: Any) -> list[str]:
        return region_codes(value)

    def clean(self, value: Any) -> list[str]:
        return region_codes(super().clean(region_codes(value)))
