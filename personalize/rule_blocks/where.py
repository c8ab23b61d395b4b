"""Rules on where the visitor is: country, continent, region, city."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from personalize.rule_blocks import choices
from personalize.rule_blocks.base import ChoiceInRule, RuleBlock, TextListRule, fill, invalid
from personalize.rule_blocks.choices import join_or
from personalize.rule_blocks.regions import (
    REGION_CODE,
    RegionListBlock,
    region_aliases,
    region_choices,
    region_codes,
    region_label,
)
from personalize.rule_blocks.widgets import SearchableSelectMultiple


class CountryRule(ChoiceInRule):
    """The visitor's country is one of the chosen countries."""

    path = "geo.country"
    choice_list = staticmethod(choices.countries)
    field_label = _("Countries")
    picker = "search"
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


class RegionRule(RuleBlock):
    """The visitor's region (ISO 3166-2, first level) is one of the chosen regions.

    Editors pick regions by name; the rule stores their codes (``["AT-7"]``). A rule saved by
    an older version, whose value is comma-separated text (``"AT-7, DE-BY"``), reads the same.
    """

    path = "geo.region"
    # Translators: a rule phrase after "Visitors", e.g. "from Tirol (Austria) or Bavaria
    # (Germany)".
    phrase_template = _("from %(values)s")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            [
                (
                    "values",
                    RegionListBlock(
                        choices=region_choices,
                        label=_("Regions"),
                        help_text=_("Type a region's name, e.g. Tirol or Bavaria."),
                        widget=SearchableSelectMultiple(
                            options=region_choices, aliases=region_aliases
                        ),
                    ),
                )
            ],
            **kwargs,
        )

    def codes(self, value: Any) -> list[str]:
        """The rule's region codes.

        Raises:
            ValueError: a code is not an ISO 3166-2 code (in a value written around the form).
        """
        codes = region_codes(value["values"])
        bad = [code for code in codes if not REGION_CODE.match(code)]
        if bad:
            raise ValueError(
                gettext("Not ISO 3166-2 region codes: %(codes)s (expected e.g. DE-BY).")
                % {"codes": ", ".join(bad)}
            )
        return codes

    def condition(self, value: Any) -> dict[str, Any]:
        return {self.path: {"$in": self.codes(value)}}

    def phrase(self, value: Any) -> str:
        return fill(self.phrase_template, join_or([region_label(c) for c in self.codes(value)]))

    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        try:
            if not self.codes(value):
                raise ValueError(gettext("Choose at least one region."))
        except ValueError as exc:
            raise invalid("values", str(exc)) from exc
        return value

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
