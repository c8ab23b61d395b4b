"""Rules on where the visitor is: country, continent, region, city."""

from __future__ import annotations

import re

from personalize.rule_blocks import choices
from personalize.rule_blocks.base import ChoiceInRule, TextListRule

_REGION = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")


class CountryRule(ChoiceInRule):
    """The visitor's country is one of the chosen countries."""

    path = "geo.country"
    choice_list = staticmethod(choices.countries)
    field_label = "Countries"
    phrase_template = "from {values}"

    class Meta:
        label = "Country is one of"
        icon = "site"


class ContinentRule(ChoiceInRule):
    """The visitor's continent is one of the chosen ones."""

    path = "geo.continent"
    choice_list = choices.CONTINENTS
    field_label = "Continents"
    phrase_template = "from {values}"

    class Meta:
        label = "Continent is one of"
        icon = "site"


class RegionRule(TextListRule):
    """The visitor's region (ISO 3166-2) is one of the given codes."""

    path = "geo.region"
    phrase_template = "from the region {values}"
    help = "ISO 3166-2 codes, comma separated, e.g. DE-BY, AT-9, US-CA"

    def clean_values(self, items: list[str]) -> list[str]:
        codes = [item.upper() for item in items]
        bad = [code for code in codes if not _REGION.match(code)]
        if bad:
            raise ValueError(
                f"Not ISO 3166-2 region codes: {', '.join(bad)} (expected e.g. DE-BY)."
            )
        return codes

    class Meta:
        label = "Region is one of"
        icon = "site"


class CityRule(TextListRule):
    """The visitor's city is one of the given names (case-insensitive)."""

    path = "geo.city"
    operator = "$ini"
    phrase_template = "from {values}"
    help = "City names in English, comma separated, e.g. Vienna, Munich"

    class Meta:
        label = "City is one of"
        icon = "site"
