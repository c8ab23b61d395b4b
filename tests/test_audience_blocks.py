"""The "Audience" setting of any StructBlock: stored value, decisions, rendering, API, search."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from wagtail import blocks

from personalize.blocks import (
    AudienceBlock,
    AudienceMixin,
    audience_decision,
    is_shown,
    with_audience,
)
from personalize.blocks.audience import EVERYONE
from personalize.blocks.decisions import choose_audience
from personalize.models import Segment
from personalize.visitors.registry import current_segments

pytestmark = pytest.mark.django_db

KEY = "a" * 32


class CtaBlock(AudienceMixin, blocks.StructBlock):
    heading = blocks.CharBlock()
    text = blocks.TextBlock(required=False)


class PlainCtaBlock(blocks.StructBlock):
    heading = blocks.CharBlock()


class _Visitor:
    def __init__(self, ids: set[int], *, authenticated: bool = False) -> None:
        self.segment_ids = frozenset(ids)
        self.segment_set = current_segments()
        self.authenticated = authenticated
        self.user_groups: frozenset[str] = frozenset()


def _ctx(ids: set[int] | None = None, **kwargs: Any) -> dict[str, Any]:
    return {"visitor": _Visitor(ids or set(), **kwargs)}


def _raw(who: str = "everyone", segments: list[int] | None = None, **extra: Any) -> dict[str, Any]:
    audience = {"who": who, "segments": segments or [], "groups": [], "key": KEY, **extra}
    return {"heading": "Join the club", "text": "Members save 10%", "audience": audience}


@pytest.fixture
def hikers(segment_factory: Any) -> Segment:
    return segment_factory(
        "Hikers", slug="hikers", rules=[{"type": "device_type", "value": {"values": ["mobile"]}}]
    )


def test_stored_format_round_trips_exactly(hikers: Segment) -> None:
    block = CtaBlock()
    raw = _raw("segments", [hikers.pk])
    assert block.get_prep_value(block.to_python(raw)) == raw
    assert list(block.child_blocks) == ["heading", "text", "audience"]


def test_value_stored_without_the_setting_is_for_everyone_and_renders_as_before() -> None:
    block = CtaBlock()
    old = {"heading": "Join the club", "text": "Members save 10%"}
    value = block.to_python(old)
    assert value["audience"]["who"] == "everyone"
    assert audience_decision(block, value, _ctx()) is EVERYONE
    before = blocks.StructBlock(
        [("heading", blocks.CharBlock()), ("text", blocks.TextBlock(required=False))]
    )
    assert block.render(value, _ctx()) == before.render(before.to_python(old), {})
    html = block.render(value, _ctx())
    assert "Join the club" in html and "Members save 10%" in html
    assert "everyone" not in html
    # Saved again by an editor, it stores the setting for everyone with nothing left over.
    saved = block.get_prep_value(block.clean(value))["audience"]
    assert (saved["who"], saved["segments"], saved["groups"]) == ("everyone", [], [])
    assert block.get_searchable_content(value) == ["Join the club", "Members save 10%"]


def test_blocks_without_the_setting_are_always_shown() -> None:
    plain = PlainCtaBlock()
    value = plain.to_python({"heading": "Hi"})
    assert is_shown(plain, value, _ctx()) is True
    assert audience_decision(plain, value, None) is EVERYONE
    assert is_shown(blocks.CharBlock(), "text", None) is True


def test_only_these_segments(hikers: Segment) -> None:
    block = CtaBlock()
    value = block.to_python(_raw("segments", [hikers.pk]))
    shown = audience_decision(block, value, _ctx({hikers.pk}))
    assert (shown.shown, shown.reason, shown.segment_ids, shown.key) == (
        True,
        "matched Hikers",
        (hikers.pk,),
        KEY,
    )
    hidden = audience_decision(block, value, _ctx())
    assert (hidden.shown, hidden.reason) == (False, "in none of its segments")
    assert block.render(value, _ctx()) == ""
    assert "Join the club" in block.render(value, _ctx({hikers.pk}))


def test_everyone_except_these_segments(hikers: Segment) -> None:
    block = CtaBlock()
    value = block.to_python(_raw("except", [hikers.pk]))
    assert is_shown(block, value, _ctx()) is True
    hidden = audience_decision(block, value, _ctx({hikers.pk}))
    assert (hidden.shown, hidden.reason, hidden.segment_ids) == (
        False,
        "hidden from Hikers",
        (hikers.pk,),
    )


def test_gate_audiences() -> None:
    block = CtaBlock()
    members = block.to_python(_raw("authenticated"))
    anonymous = block.to_python(_raw("anonymous"))
    assert is_shown(block, members, _ctx(authenticated=True)) is True
    assert is_shown(block, members, _ctx()) is False
    assert is_shown(block, anonymous, _ctx(authenticated=True)) is False
    assert is_shown(block, anonymous, _ctx()) is True
    group = block.to_python(_raw("group", groups=["Customers"]))
    visitor = _Visitor(set(), authenticated=True)
    assert is_shown(block, group, {"visitor": visitor}) is False
    visitor.user_groups = frozenset({"Customers"})
    assert is_shown(block, group, {"visitor": visitor}) is True


def test_without_a_visitor_only_blocks_for_anyone_not_logged_in_show(hikers: Segment) -> None:
    block = CtaBlock()
    shown = {
        who: is_shown(block, block.to_python(_raw(who, [hikers.pk])), None)
        for who in ("everyone", "segments", "except", "authenticated", "anonymous")
    }
    assert shown == {
        "everyone": True,
        "segments": False,
        "except": True,
        "authenticated": False,
        "anonymous": True,
    }


def test_unknown_audience_fails_closed() -> None:
    decision = choose_audience("vip", authenticated=True)
    assert (decision.shown, decision.reason) == (False, "unknown audience: hidden")


def test_api_representation_leaves_out_the_setting_and_hidden_content(hikers: Segment) -> None:
    block = CtaBlock()
    value = block.to_python(_raw("segments", [hikers.pk]))
    assert block.get_api_representation(value, _ctx()) is None
    assert block.get_api_representation(value, _ctx({hikers.pk})) == {
        "heading": "Join the club",
        "text": "Members save 10%",
    }


def test_search_indexes_only_blocks_for_everyone(hikers: Segment) -> None:
    block = CtaBlock()
    assert block.get_searchable_content(block.to_python(_raw("segments", [hikers.pk]))) == []
    assert block.get_searchable_content(block.to_python(_raw("anonymous"))) == []
    assert block.get_searchable_content(block.to_python(_raw())) == [
        "Join the club",
        "Members save 10%",
    ]


def test_clean_keeps_only_what_the_audience_uses(hikers: Segment) -> None:
    setting = AudienceBlock()
    value = setting.to_python(
        {"who": "anonymous", "segments": [hikers.pk], "groups": ["Customers"], "key": ""}
    )
    cleaned = setting.get_prep_value(setting.clean(value))
    assert (cleaned["who"], cleaned["segments"], cleaned["groups"]) == ("anonymous", [], [])
    assert len(cleaned["key"]) == 32
    needs_segments = setting.to_python({"who": "segments", "segments": [], "groups": []})
    with pytest.raises(blocks.StructBlockValidationError) as caught:
        setting.clean(needs_segments)
    assert list(caught.value.block_errors) == ["segments"]


def test_with_audience_on_a_class_and_an_instance(hikers: Segment) -> None:
    cls = with_audience(PlainCtaBlock)
    assert cls.__name__ == "PlainCtaBlock" and issubclass(cls, AudienceMixin)
    assert with_audience(PlainCtaBlock) is cls
    instance = with_audience(blocks.StructBlock([("title", blocks.CharBlock())], label="Promo"))
    assert list(instance.child_blocks) == ["title", "audience"]
    assert instance.label == "Promo"
    value = instance.to_python(
        {"title": "Hi", "audience": _raw("segments", [hikers.pk])["audience"]}
    )
    assert instance.render(value, _ctx()) == ""
    with pytest.raises(ImproperlyConfigured, match="StructBlock"):
        with_audience(blocks.CharBlock)


def test_deconstructs_as_a_plain_struct_block_with_the_setting() -> None:
    path, args, _kwargs = CtaBlock().deconstruct()
    assert path == "wagtail.blocks.StructBlock"
    assert [name for name, _child in args[0]] == ["heading", "text", "audience"]


def test_wagtail_8_puts_the_setting_in_the_settings_area_unless_the_layout_places_it() -> None:
    layout_group = getattr(blocks, "BlockGroup", None)
    if layout_group is None:
        pytest.skip("Wagtail 7.0 has no settings area: the setting is the last field")
    assert CtaBlock().meta.form_layout.settings == ["audience"]
    assert CtaBlock().meta.form_layout.children == ["heading", "text"]

    class Placed(AudienceMixin, blocks.StructBlock):
        heading = blocks.CharBlock()

        class Meta:
            form_layout = layout_group(children=["audience", "heading"])

    assert Placed().meta.form_layout.children == ["audience", "heading"]
    assert Placed().meta.form_layout.settings == []


def test_a_block_of_its_own_named_audience_is_refused_with_the_fix() -> None:
    class EventBlock(blocks.StructBlock):
        title = blocks.CharBlock()
        audience = blocks.CharBlock(help_text="Who the event is for")

    with pytest.raises(ImproperlyConfigured, match="own 'audience' block"):
        with_audience(EventBlock)()

    class Placed(AudienceMixin, blocks.StructBlock):
        audience = AudienceBlock()
        title = blocks.CharBlock()

    placed = Placed().child_blocks
    assert sorted(placed) == ["audience", "title"]
    assert isinstance(placed["audience"], AudienceBlock)
