"""Rules on where the visitor is: country, continent, region, city."""

from __future__ import annotations

import re

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from personalize.rule_blocks import choices
from personalize.rule_blocks.base import ChoiceInRule, TextListRule

_REGION = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")


class CountryRule(ChoiceInRule):
    """The visitor's country is one of the chosen countries."""

    path = "geo.country"
    choice_list = staticmethod(choices.countries)
    field_label = _("Countries")
    # Translators: a rule phrase after "Visitors", e.g. "from Germany, Austria or Switzerland".
    phrase_template = _("from %(values)s")

    class Meta:
        label = _("Country is one of")
        icon = "site"


class ContinentRule(ChoiceInRule):
    """The visitor's continent is one of the chosen ones."""

    path = "geo.continent"
    choice_list = choices.CONTINENTS
    field_label = _("Continents")
    # Translators: a rule phrase after "Visitors", e.g. "from Europe or Asia".
    phrase_template = _("from %(values)s")

    class Meta:
        label = _("Continent is one of")
        icon = "site"


class RegionRule(TextListRule):
    """The visitor's region (ISO 3166-2) is one of the given codes."""

    path = "geo.region"
    # Translators: a rule phrase after "Visitors", e.g. "from the region DE-BY or AT-9".
    phrase_template = _("from the region %(values)s")
    help = _("ISO 3166-2 codes, comma separated, e.g. DE-BY, AT-9, US-CA")

    def clean_values(self, items: list[str]) -> list[str]:
        codes = [item.upper() for item in items]
        bad = [code for code in codes if not _REGION.match(code)]
        if bad:
            raise ValueError(
                gettext("Not ISO 3166-2 region codes: %(codes)s (expected e.g. DE-BY).")
                % {"codes": ", ".join(bad)}
            )
        return codes

    class Meta:
        label = _("Region is one of")
        icon = "site"


class CityRule(TextListRule):
    """The visitor's city is one of the given names (case-insensitive)."""

    path = "geo.city"
    operator = "$ini"
    # Translators: a rule phrase after "Visitors", e.g. "from Vienna or Munich".
    phrase_template = _("from %(values)s")
    help = _("City names in English, comma separated, e.g. Vienna, Munich")

    class Meta:
        label = _("City is one of")
        icon = "site"
