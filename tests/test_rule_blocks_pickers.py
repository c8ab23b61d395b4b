"""The rule builder's pickers: regions by name, channels with shortcuts, checkboxes, search."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import translation
from wagtail.blocks.base import BlockWidget
from wagtail.blocks.struct_block import StructBlockValidationError
from wagtail.test.utils.form_data import streamfield

from personalize.models import Segment
from personalize.rule_blocks import (
    BrowserRule,
    ChannelRule,
    ContinentRule,
    CountryRule,
    DeviceTypeRule,
    GroupRule,
    OperatingSystemRule,
    RegionRule,
    SegmentRulesBlock,
    WeekdayRule,
    channels,
    regions,
)
from personalize.rule_blocks.choices import CHANNELS
from personalize.rule_blocks.visitor import JourneyStageRule
from personalize.rule_blocks.widgets import CheckboxGroup, SearchableSelectMultiple
from personalize.signals import referral


def _value(block: Any, raw: dict[str, Any]) -> Any:
    """A rule's value as read from the database."""
    return block.to_python(raw)


# Regions


def test_region_choices_name_first_level_regions_with_their_country() -> None:
    choices = dict(regions.region_choices())
    assert choices["AT-7"] == "Tirol (Austria)"
    assert choices["DE-BY"] == "Bavaria (Germany)"
    assert choices["US-CA"] == "California (United States)"
    assert choices["ES-CT"] == "Catalunya (Spain)"
    # The geo signal reports first-level regions only: no French department, no province.
    assert "FR-75C" not in choices
    assert "IT-BZ" not in choices
    assert len(choices) > 3000


def test_region_aliases_find_other_names() -> None:
    aliases = regions.region_aliases()
    assert aliases["DE-BY"] == "Bayern"
    assert aliases["ES-CT"] == "Cataluña"
    assert aliases["GB-WLS"] == "Cymru"  # not "Cymru GB-CYM", as ISO writes it
    assert "AT-7" not in aliases  # Tirol has one name


def test_regions_of_one_name_in_one_country_say_their_kind() -> None:
    same = [label for code, label in regions.region_choices() if label.startswith("Maputo (")]
    assert same == ["Maputo (City, Mozambique)", "Maputo (Province, Mozambique)"]


def test_region_names_follow_the_active_language() -> None:
    with translation.override("de"):
        assert regions.region_label("DE-BY") == "Bayern (Deutschland)"
        assert regions.region_label("US-CA") == "Kalifornien (Vereinigte Staaten)"
        assert regions.region_aliases()["DE-BY"] == "Bavaria"
    assert regions.region_label("DE-BY") == "Bavaria (Germany)"


def test_region_label_of_an_unknown_code_is_the_code() -> None:
    assert regions.region_label("XX-1") == "XX-1"
    # A code below the first level is named although the picker does not offer it.
    assert regions.region_label("FR-75C") == "Paris (France)"


def test_region_rule_condition_and_phrase_by_name() -> None:
    block = RegionRule()
    value = _value(block, {"values": ["AT-7", "DE-BY"]})
    assert block.condition(value) == {"geo.region": {"$in": ["AT-7", "DE-BY"]}}
    assert block.phrase(value) == "from Tirol (Austria) or Bavaria (Germany)"
    assert block.get_prep_value(block.clean(value)) == {"values": ["AT-7", "DE-BY"]}


def test_region_rule_reads_the_comma_separated_codes_older_versions_stored() -> None:
    block = RegionRule()
    value = _value(block, {"values": "at-7, DE-BY,"})
    assert list(value["values"]) == ["AT-7", "DE-BY"]
    assert block.condition(value) == {"geo.region": {"$in": ["AT-7", "DE-BY"]}}
    assert block.phrase(value) == "from Tirol (Austria) or Bavaria (Germany)"
    # Saved again, the value is the list of codes.
    assert block.get_prep_value(block.clean(value)) == {"values": ["AT-7", "DE-BY"]}


def test_region_rule_keeps_a_well_formed_code_the_list_does_not_offer() -> None:
    block = RegionRule()
    value = block.clean(_value(block, {"values": "FR-75C"}))
    assert block.condition(value) == {"geo.region": {"$in": ["FR-75C"]}}
    assert block.phrase(value) == "from Paris (France)"


def test_region_rule_rejects_names_typed_as_codes_and_empty_lists() -> None:
    block = RegionRule()
    with pytest.raises(StructBlockValidationError) as error:
        block.clean(_value(block, {"values": "Bavaria"}))
    assert error.value.block_errors["values"].messages == [
        "BAVARIA is not an ISO 3166-2 region code: choose regions by name."
    ]
    with pytest.raises(StructBlockValidationError) as error:
        block.clean(_value(block, {"values": []}))
    assert error.value.block_errors["values"].messages == ["This field is required."]
    with pytest.raises(ValueError, match="Not ISO 3166-2 region codes: BAVARIA"):
        block.condition(_value(block, {"values": "Bavaria"}))


def test_segment_with_an_old_region_rule_saves_the_same_condition(segment_factory: Any) -> None:
    rule = {"type": "region", "value": {"values": "de-by, AT-9"}}
    segment = segment_factory(rules=[rule])
    assert segment.condition == {"$and": [{"geo.region": {"$in": ["DE-BY", "AT-9"]}}]}
    assert segment.summary == "Visitors from Bavaria (Germany) or Wien (Austria)"
    stored = Segment.objects.get(pk=segment.pk).rules.raw_data
    assert stored[0]["value"] == {"values": ["DE-BY", "AT-9"]}


def test_invalid_region_rule_rejected_on_save(segment_factory: Any) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        segment_factory(rules=[{"type": "region", "value": {"values": "Bavaria"}}])
    assert not Segment.objects.exists()


def test_visitors_read_their_region_by_name() -> None:
    from personalize.blocks.explanations import format_value

    assert format_value("AT-7", "geo.region") == "Tirol (Austria)"
    assert format_value(["DE-BY", "XX-9"], "geo.region") == "Bavaria (Germany), XX-9"
    with translation.override("de"):
        assert format_value("AT-9", "geo.region") == "Wien (Österreich)"


# Channels


def test_every_channel_of_the_signal_is_offered_once() -> None:
    offered = [value for _group, items in channels.channel_choices() for value, _ in items]
    plain = [value for value in offered if value not in channels.SHORTCUTS]
    assert sorted(plain) == sorted(referral.CHANNELS)
    assert len(offered) == len(set(offered))
    assert sorted(plain) == sorted(code for code, _ in CHANNELS)
    assert set(channels.DESCRIPTIONS) == set(offered)
    assert [str(group) for group, _items in channels.channel_choices()] == [
        "Search",
        "Social",
        "Email & messaging",
        "Ads & other paid",
        "Other",
    ]


def test_shortcuts_stand_for_channels_the_signal_reports() -> None:
    for shortcut, members in channels.SHORTCUTS.items():
        assert set(members) <= set(referral.CHANNELS), shortcut
    assert set(channels.SHORTCUTS["any_paid"]) == {
        channel
        for channel in referral.CHANNELS
        if channel.startswith("paid_") or channel in {"display", "cross_network", "audio"}
    }


def test_channel_shortcut_is_one_pick_for_search() -> None:
    block = ChannelRule()
    value = block.clean(_value(block, {"values": ["any_search"]}))
    assert block.condition(value) == {
        "referral.channel": {"$in": ["paid_search", "organic_search"]}
    }
    assert block.phrase(value) == "arriving from a search engine"
    compiled_for_social = block.condition(_value(block, {"values": ["any_social"]}))
    assert compiled_for_social == {"referral.channel": {"$in": ["paid_social", "organic_social"]}}


def test_channels_stored_before_the_shortcuts_keep_their_meaning() -> None:
    block = ChannelRule()
    value = block.clean(_value(block, {"values": ["paid_search", "email"]}))
    assert block.condition(value) == {"referral.channel": {"$in": ["paid_search", "email"]}}
    assert block.phrase(value) == "arriving from paid search or email"
    assert block.get_prep_value(value) == {"values": ["paid_search", "email"]}


def test_a_channel_a_chosen_shortcut_covers_is_named_once() -> None:
    block = ChannelRule()
    value = _value(block, {"values": ["organic_search", "any_search", "referral"]})
    assert block.condition(value) == {
        "referral.channel": {"$in": ["organic_search", "paid_search", "referral"]}
    }
    assert block.phrase(value) == "arriving from a search engine or a link on another website"


def test_direct_visits_read_as_arriving_directly() -> None:
    block = ChannelRule()
    assert block.phrase(_value(block, {"values": ["direct"]})) == "arriving directly"
    both = _value(block, {"values": ["direct", "email"]})
    assert block.phrase(both) == "arriving directly or arriving from email"


def test_channel_rule_rejects_an_empty_or_unknown_choice() -> None:
    block = ChannelRule()
    with pytest.raises(StructBlockValidationError) as error:
        block.clean(_value(block, {"values": []}))
    assert error.value.block_errors["values"].messages == ["This field is required."]
    with pytest.raises(StructBlockValidationError) as error:
        block.clean(_value(block, {"values": ["carrier_pigeon"]}))
    assert "carrier_pigeon" in error.value.block_errors["values"].messages[0]


def test_channel_words_in_german() -> None:
    block = ChannelRule()
    with translation.override("de"):
        phrase = block.phrase(_value(block, {"values": ["any_search"]}))
    assert phrase == "mit Zugriff über eine Suchmaschine"


# Widgets


@pytest.mark.parametrize(
    "rule",
    [DeviceTypeRule, OperatingSystemRule, BrowserRule, ContinentRule, WeekdayRule, ChannelRule],
)
def test_short_lists_are_checkboxes(rule: Any) -> None:
    widget = rule().child_blocks["values"].field.widget
    assert isinstance(widget, CheckboxGroup)


@pytest.mark.parametrize("rule", [CountryRule, RegionRule, GroupRule])
def test_long_lists_are_searchable(rule: Any) -> None:
    widget = rule().child_blocks["values"].field.widget
    assert isinstance(widget, SearchableSelectMultiple)


def test_journey_stages_are_checkboxes() -> None:
    widget = JourneyStageRule().child_blocks["stages"].field.widget
    assert isinstance(widget, CheckboxGroup)


def test_checkbox_group_is_labelled_and_groups_channels_with_explanations() -> None:
    block = ChannelRule().child_blocks["values"]
    html = block.field.widget.render("channel", ["any_search"], attrs={"id": "channel"})
    assert 'role="group" aria-label="Came from"' in html
    assert '<legend class="personalize-checkboxes__legend">Search</legend>' in html
    assert 'value="any_search" id="channel_0_0" checked' in html
    assert 'value="organic_search" id="channel_0_1" aria-describedby' in html
    assert 'aria-describedby="channel_0_0-description"' in html
    description = 'id="channel_0_0-description">Search results and search ads together.'
    assert description in html
    assert html.index("A search engine (organic or paid)") < html.index("Search ads (paid)")


def test_searchable_list_escapes_labels_and_keeps_values_it_no_longer_offers() -> None:
    widget = SearchableSelectMultiple(
        choices=[("a", "<A & B>"), ("b", "B")], aliases=lambda: {"a": 'say "a"'}
    )
    html = widget.render("values", ["b", "gone"], attrs={"id": "id_values"})
    assert html.startswith('<select name="values"')
    assert 'data-controller="personalize-picker"' in html
    assert 'data-personalize-picker-placeholder-value="Type to search…"' in html
    assert " multiple" in html
    assert '<option value="a" data-alias="say &quot;a&quot;">&lt;A &amp; B&gt;</option>' in html
    assert '<option value="b" selected>B</option>' in html
    assert '<option value="gone" selected>gone</option>' in html


def test_searchable_list_brings_tom_select_and_the_picker_script() -> None:
    media = str(SearchableSelectMultiple().media)
    assert "personalize/vendor/tom-select/tom-select.complete.min.js" in media
    assert "personalize/vendor/tom-select/tom-select.min.css" in media
    assert "personalize/pickers.js" in media
    assert "https://" not in media


def test_the_regions_are_sent_once_although_two_rule_lists_offer_them(db: Any) -> None:
    """Top-level rules and "Group of rules" both offer regions; telepath refers to the list."""
    block = SegmentRulesBlock()
    block.set_name("rules")
    payload = json.loads(BlockWidget(block).block_json)
    text = json.dumps(payload)
    assert text.count("Tirol (Austria)") == 1
    assert text.count("personalize.widgets.Picker") >= 2


# The admin form


@pytest.fixture
def editor_client(client: Any, db: Any) -> Any:
    admin = User.objects.create_superuser("admin", "admin@example.com", "pw")
    client.force_login(admin)
    return client


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Like wagtail's nested_form_data, but lists stay lists (multiple-choice fields)."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}-"))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _form(rules: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    return _flatten(
        {
            "name": "Alpine searchers",
            "slug": "alpine-searchers",
            "description": "",
            "enabled": "on",
            "match": "all",
            "rules": streamfield(rules),
        }
    )


def test_admin_saves_regions_and_a_channel_shortcut(editor_client: Any) -> None:
    url = reverse("wagtailsnippets_personalize_segment:add")
    response = editor_client.post(
        url,
        _form(
            [
                ("region", {"values": ["AT-7", "DE-BY"]}),
                ("channel", {"values": ["any_search"]}),
            ]
        ),
    )
    assert response.status_code == 302
    segment = Segment.objects.get(slug="alpine-searchers")
    assert segment.condition == {
        "$and": [
            {"geo.region": {"$in": ["AT-7", "DE-BY"]}},
            {"referral.channel": {"$in": ["paid_search", "organic_search"]}},
        ]
    }
    assert segment.summary == (
        "Visitors from Tirol (Austria) or Bavaria (Germany) arriving from a search engine"
    )


def test_admin_shows_a_bad_region_code_on_its_field(editor_client: Any) -> None:
    url = reverse("wagtailsnippets_personalize_segment:add")
    response = editor_client.post(url, _form([("region", {"values": ["Tirol"]})]))
    assert response.status_code == 200
    error = response.context["form"].errors.as_data()["rules"][0]
    assert error.block_errors[0].block_errors["values"].messages == [
        "TIROL is not an ISO 3166-2 region code: choose regions by name."
    ]
    assert not Segment.objects.exists()


def test_segment_form_page_offers_the_pickers(editor_client: Any) -> None:
    html = editor_client.get(reverse("wagtailsnippets_personalize_segment:add")).content.decode()
    assert "personalize/pickers.js" in html
    assert "personalize/vendor/tom-select/tom-select.complete.min.js" in html
    assert "Tirol (Austria)" in html
    assert "A search engine (organic or paid)" in html
