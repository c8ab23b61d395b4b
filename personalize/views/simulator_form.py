"""The simulator's form: the signals of a visitor an editor wants to see the site as."""

from __future__ import annotations

import re
import zoneinfo
from functools import cache
from typing import Any

from django import forms
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from personalize.profiles.scoring import current_config
from personalize.rule_blocks import choices
from personalize.rule_blocks.regions import region_aliases, region_choices, region_label
from personalize.rule_blocks.widgets import SearchableSelect
from personalize.signals.consent import ANALYTICS, OPTIONAL_PURPOSES, PERSONALIZATION
from personalize.visitors.simulation import (
    MAX_GROUPS,
    MAX_ITEMS,
    MAX_SCORE,
    MAX_TEXT,
    MAX_VISITS,
    UTM_KEYS,
    Simulation,
    consent_purposes,
)

#: Longest ``next`` URL accepted.
NEXT_LENGTH = 2000
#: Each line (or comma-separated item) of the interests: ``tag: points``.
_INTEREST = re.compile(r"^\s*([^:=]{1,100}?)\s*[:=]\s*(\d+(?:\.\d+)?)\s*$")
#: Each line of the preferences: ``key = value``.
_PREFERENCE = re.compile(r"^\s*([^:=]{1,100}?)\s*[:=]\s*(.{1,100}?)\s*$")
_PURPOSE_LABELS = {PERSONALIZATION: _("Personalization"), ANALYTICS: _("Analytics")}


@cache
def _zones() -> list[tuple[str, str]]:
    names = sorted(
        name
        for name in zoneinfo.available_timezones()
        if "/" in name and not name.startswith(("Etc/", "posix/", "right/", "SystemV/"))
    )
    return [(name, name.replace("_", " ")) for name in names]


def _blank(label: Any) -> list[tuple[str, Any]]:
    return [("", label)]


class SimulationForm(forms.Form):
    """Who to simulate: place, device, clock, arrival, sign-in, consent and profile.

    Every field is optional except the device; what is left empty stays unknown (the clock:
    the current time in the visitor's zone).
    """

    country = forms.ChoiceField(label=_("Country"), required=False)
    # Chosen by name ("Tirol (Austria)") as in the rule builder, kept as its code (AT-7).
    region = forms.ChoiceField(
        label=_("Region"),
        required=False,
        widget=SearchableSelect(aliases=region_aliases),
        help_text=_("Type a region's name, e.g. Tirol or Bavaria."),
    )
    city = forms.CharField(label=_("City"), required=False, max_length=MAX_TEXT)
    timezone = forms.ChoiceField(
        label=_("Time zone"), required=False, help_text=_("Empty: the country's time zone.")
    )
    device = forms.ChoiceField(label=_("Device"), initial="desktop")
    os = forms.ChoiceField(label=_("Operating system"), required=False)
    browser = forms.ChoiceField(label=_("Browser"), required=False)
    date = forms.DateField(
        label=_("Local date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Empty: today."),
    )
    time = forms.TimeField(
        label=_("Local time"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("Empty: the current time."),
    )
    channel = forms.ChoiceField(label=_("Arrived by"), required=False)
    referrer = forms.CharField(
        label=_("Came from"),
        required=False,
        max_length=MAX_TEXT,
        help_text=_("The address of the page they came from, such as www.google.com."),
    )
    utm_source = forms.CharField(label="utm_source", required=False, max_length=MAX_TEXT)
    utm_medium = forms.CharField(label="utm_medium", required=False, max_length=MAX_TEXT)
    utm_campaign = forms.CharField(label="utm_campaign", required=False, max_length=MAX_TEXT)
    utm_term = forms.CharField(label="utm_term", required=False, max_length=MAX_TEXT)
    utm_content = forms.CharField(label="utm_content", required=False, max_length=MAX_TEXT)
    logged_in = forms.BooleanField(label=_("Signed in"), required=False)
    groups = forms.MultipleChoiceField(label=_("Groups"), required=False)
    consent = forms.MultipleChoiceField(
        label=_("Allowed"),
        required=False,
        initial=list(OPTIONAL_PURPOSES),
        widget=forms.CheckboxSelectMultiple,
    )
    visits = forms.IntegerField(
        label=_("Visits"), required=False, min_value=0, max_value=MAX_VISITS
    )
    score = forms.FloatField(
        label=_("Engagement score"), required=False, min_value=0, max_value=MAX_SCORE
    )
    stage = forms.ChoiceField(label=_("Journey stage"), required=False)
    peak_stage = forms.ChoiceField(label=_("Furthest stage reached"), required=False)
    interests = forms.CharField(
        label=_("Interests"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line, a tag and its points: ski-touring: 3"),
    )
    prefs = forms.CharField(
        label=_("Stated preferences"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line, a question's key and the answer: drink = tea"),
    )
    next = forms.CharField(required=False, max_length=NEXT_LENGTH, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        fields = self.fields
        unknown = _("Unknown")
        fields["country"].choices = _blank(unknown) + choices.countries()  # type: ignore[attr-defined]
        fields["region"].choices = _blank(unknown) + region_choices()  # type: ignore[attr-defined]
        fields["timezone"].choices = _blank(_("From the country")) + _zones()  # type: ignore[attr-defined]
        fields["device"].choices = choices.DEVICE_TYPES  # type: ignore[attr-defined]
        fields["os"].choices = _blank(unknown) + choices.OPERATING_SYSTEMS  # type: ignore[attr-defined]
        fields["browser"].choices = _blank(unknown) + choices.BROWSERS  # type: ignore[attr-defined]
        fields["channel"].choices = (  # type: ignore[attr-defined]
            _blank(_("From the tags (else direct)")) + choices.CHANNELS
        )
        groups = Group.objects.order_by("name").values_list("name", flat=True)[:100]
        fields["groups"].choices = [(name, name) for name in groups]  # type: ignore[attr-defined]
        fields["consent"].choices = list(_PURPOSE_LABELS.items())  # type: ignore[attr-defined]
        stages = [(stage.name, stage.name) for stage in current_config().stages]
        fields["stage"].choices = _blank(_("From the score")) + stages  # type: ignore[attr-defined]
        fields["peak_stage"].choices = _blank(_("The journey stage")) + stages  # type: ignore[attr-defined]

    @classmethod
    def initial_for(cls, simulation: Simulation | None) -> dict[str, Any]:
        """The form's initial values for a running simulation (its defaults without one)."""
        if simulation is None or simulation.view_as is not None:
            return {}
        data = {key: value for key, value in simulation.to_data().items() if value is not None}
        data.update(dict(simulation.utm))
        data["consent"] = list(simulation.consent)
        data["groups"] = list(simulation.groups)
        data["interests"] = "\n".join(f"{tag}: {points:g}" for tag, points in simulation.interests)
        data["prefs"] = "\n".join(f"{key} = {value}" for key, value in simulation.prefs)
        return data

    def clean(self) -> dict[str, Any]:
        """A region without a country gives its country; one of another country is an error."""
        data: dict[str, Any] = super().clean() or {}
        region, country = data.get("region"), data.get("country")
        if not region or "country" in self.errors:
            return data
        own = region.partition("-")[0]
        if not country:
            data["country"] = own
        elif country != own:
            names = dict(choices.countries())
            self.add_error(
                "region",
                _("%(region)s is not in %(country)s.")
                % {"region": region_label(region), "country": names.get(country, country)},
            )
        return data

    def clean_groups(self) -> list[str]:
        groups: list[str] = self.cleaned_data["groups"]
        if len(groups) > MAX_GROUPS:
            raise forms.ValidationError(
                _("Choose at most %(count)d groups.") % {"count": MAX_GROUPS}
            )
        return groups

    def clean_interests(self) -> list[tuple[str, float]]:
        return [(tag.lower(), float(points)) for tag, points in self._pairs("interests", _INTEREST)]

    def clean_prefs(self) -> list[tuple[str, str]]:
        return self._pairs("prefs", _PREFERENCE)

    def _pairs(self, name: str, pattern: re.Pattern[str]) -> list[tuple[str, str]]:
        text: str = self.cleaned_data[name]
        lines = [line for line in re.split(r"[\n,]", text) if line.strip()]
        if len(lines) > MAX_ITEMS:
            raise forms.ValidationError(_("Give at most %(count)d.") % {"count": MAX_ITEMS})
        pairs = []
        for line in lines:
            found = pattern.match(line)
            if found is None:
                raise forms.ValidationError(
                    _("“%(line)s” is not in the form shown below.") % {"line": line.strip()[:40]}
                )
            pairs.append((found.group(1).strip(), found.group(2).strip()))
        return pairs

    def simulation(self, user_id: int) -> Simulation:
        """The simulation the valid form describes, for the editor ``user_id``."""
        data = self.cleaned_data
        clock = data["time"]
        return Simulation(
            user_id=user_id,
            country=data["country"] or None,
            region=data["region"] or None,
            city=data["city"].strip() or None,
            timezone=data["timezone"] or None,
            device=data["device"],
            os=data["os"] or None,
            browser=data["browser"] or None,
            date=data["date"].isoformat() if data["date"] else None,
            time=clock.strftime("%H:%M") if clock else None,
            channel=data["channel"] or None,
            referrer=data["referrer"].strip() or None,
            utm=tuple((key, data[key].strip()) for key in UTM_KEYS if data[key].strip()),
            logged_in=data["logged_in"],
            groups=tuple(data["groups"]) if data["logged_in"] else (),
            consent=consent_purposes(data["consent"]),
            visits=data["visits"],
            score=data["score"],
            stage=data["stage"] or None,
            peak_stage=data["peak_stage"] or None,
            interests=tuple(data["interests"]),
            prefs=tuple(data["prefs"]),
        )
