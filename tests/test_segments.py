"""Segments: rules compile to conditions and sentences; the registry resolves without queries."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from personalize.models import Segment
from personalize.rules import ConditionError
from personalize.segments import (
    MemoryVersionStore,
    SegmentRecord,
    SegmentRegistry,
    SegmentSet,
    VersionStoreError,
)
from personalize.visitors.registry import current_segments, registry
from personalize.visitors.visitor import Visitor
from tests.conftest import IPHONE, NOW

pytestmark = pytest.mark.django_db(transaction=True)

DACH = {"type": "country", "value": {"values": ["DE", "AT", "CH"]}}
MOBILE = {"type": "device_type", "value": {"values": ["mobile"]}}
PAID = {"type": "channel", "value": {"values": ["paid_search"]}}


def test_rules_compile_into_condition_and_sentence(segment_factory: Any) -> None:
    segment = segment_factory("Mobile DACH paid", rules=[DACH, MOBILE, PAID])
    assert segment.condition == {
        "$and": [
            {"geo.country": {"$in": ["DE", "AT", "CH"]}},
            {"device.type": {"$in": ["mobile"]}},
            {"referral.channel": {"$in": ["paid_search"]}},
        ]
    }
    assert segment.summary == (
        "Visitors from Germany, Austria or Switzerland on a mobile phone arriving from paid search"
    )


def test_any_match_uses_or(segment_factory: Any) -> None:
    segment = segment_factory(rules=[DACH, MOBILE], match="any")
    assert segment.condition == {
        "$or": [{"geo.country": {"$in": ["DE", "AT", "CH"]}}, {"device.type": {"$in": ["mobile"]}}]
    }
    assert segment.summary == "Visitors from Germany, Austria or Switzerland, or on a mobile phone"


def test_time_window_wrapping_midnight(segment_factory: Any) -> None:
    rule = {"type": "time_window", "value": {"start": "22:00:00", "end": "02:00:00"}}
    segment = segment_factory(rules=[rule])
    assert segment.condition == {
        "$and": [{"$or": [{"time.time": {"$gte": "22:00"}}, {"time.time": {"$lt": "02:00"}}]}]
    }
    assert segment.summary == "Visitors between 22:00 and 02:00 local time"


def test_nested_group_and_weekdays(segment_factory: Any) -> None:
    group = {
        "type": "rule_group",
        "value": {
            "match": "none",
            "rules": [MOBILE, {"type": "logged_in", "value": {"state": "in"}}],
        },
    }
    weekend = {"type": "weekdays", "value": {"values": ["6", "7"]}}
    segment = segment_factory(rules=[weekend, group])
    assert segment.condition["$and"][0] == {"time.weekday": {"$in": [6, 7]}}
    assert segment.condition["$and"][1] == {
        "$nor": [{"device.type": {"$in": ["mobile"]}}, {"user.authenticated": True}]
    }
    assert segment.summary == (
        "Visitors on Saturday or Sunday (not on a mobile phone, nor who are logged in)"
    )


def test_code_may_set_condition_directly(segment_factory: Any) -> None:
    segment = segment_factory(condition={"device.type": "tablet"})
    assert segment.condition == {"device.type": "tablet"}
    assert segment.summary == "Visitors matching a condition set in code"


def test_invalid_condition_rejected_at_save(segment_factory: Any) -> None:
    with pytest.raises(ValidationError, match="Invalid condition"):
        segment_factory(condition={"geo.country": {"$bogus": 1}})
    segment = Segment(name="x", slug="x", condition={"$or": "nope"})
    with pytest.raises(ConditionError):
        segment.save()
    assert not Segment.objects.filter(slug="x").exists()


def test_invalid_advanced_json_rule_rejected(segment_factory: Any) -> None:
    rule = {
        "type": "advanced",
        "value": {"description": "", "condition_json": '{"a": {"$regex": "("}}'},
    }
    with pytest.raises(ValidationError):
        segment_factory(rules=[rule])


def test_invalid_region_rule_rejected(segment_factory: Any) -> None:
    rule = {"type": "region", "value": {"values": "Bavaria"}}
    with pytest.raises(ValidationError):
        segment_factory(rules=[rule])


def test_visitor_segments_in_stable_order(segment_factory: Any, make_request: Any) -> None:
    segment_factory("Zeta mobile", rules=[MOBILE], slug="zeta")
    segment_factory("Alpha mobile", rules=[MOBILE], slug="alpha")
    segment_factory("From DACH", rules=[DACH], slug="dach")
    segment_factory("Disabled mobile", rules=[MOBILE], slug="off", enabled=False)
    visitor = Visitor(make_request(headers={"User-Agent": IPHONE}), NOW)
    assert [s.slug for s in visitor.segments] == ["alpha", "zeta"]
    assert isinstance(visitor.segments[0], Segment)
    assert visitor.in_segment("zeta") is True
    assert visitor.in_segment("dach") is False
    assert visitor.in_segment("off") is False


def test_warm_resolution_makes_no_queries(
    segment_factory: Any, make_request: Any, django_assert_num_queries: Any
) -> None:
    for number in range(20):
        segment_factory(rules=[MOBILE if number % 2 else DACH])
    Visitor(make_request(), NOW).segments  # noqa: B018  (warms the registry)
    with django_assert_num_queries(0):
        visitor = Visitor(make_request(headers={"User-Agent": IPHONE}), NOW)
        assert len(visitor.segments) == 10


def test_save_and_delete_invalidate_every_process(segment_factory: Any, make_request: Any) -> None:
    first = current_segments()
    segment = segment_factory(rules=[MOBILE], slug="phones")
    second = current_segments()
    assert second is not first
    assert second.get("phones") is not None
    assert current_segments() is second
    segment.delete()
    assert current_segments().get("phones") is None


def test_other_process_sees_change_through_shared_version(segment_factory: Any) -> None:
    loads: list[int] = []

    def loader() -> list[SegmentRecord]:
        loads.append(1)
        return [s.to_record() for s in Segment.objects.live()]

    from personalize.cache import CacheVersionStore

    other = SegmentRegistry(loader, CacheVersionStore())
    assert len(other.current()) == 0
    segment_factory(rules=[MOBILE], slug="phones")
    assert other.current().get("phones") is not None
    other.current()
    assert len(loads) == 2


def test_explain_lists_rules(segment_factory: Any, make_request: Any) -> None:
    segment_factory("Mobile DACH", rules=[DACH, MOBILE], slug="md")
    visitor = Visitor(make_request(headers={"User-Agent": IPHONE}), NOW)
    assert visitor.explain() == [
        {
            "slug": "md",
            "name": "Mobile DACH",
            "matched": False,
            "match": "all",
            "rules": [
                {
                    "summary": "from Germany, Austria or Switzerland",
                    "matched": False,
                    "attributes": {"geo.country": None},
                },
                {
                    "summary": "on a mobile phone",
                    "matched": True,
                    "attributes": {"device.type": "mobile"},
                },
            ],
        }
    ]


def test_invalid_stored_condition_is_skipped_not_fatal(
    segment_factory: Any, make_request: Any
) -> None:
    good = segment_factory(rules=[MOBILE], slug="good")
    bad = segment_factory(rules=[MOBILE], slug="bad")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE personalize_segment SET condition = %s WHERE id = %s",
            ['{"$and": "broken"}', bad.pk],
        )
    registry.reset()
    visitor = Visitor(make_request(headers={"User-Agent": IPHONE}), NOW)
    assert [s.slug for s in visitor.segments] == [good.slug]


class _DownStore:
    def current(self) -> int:
        raise VersionStoreError("connection refused")

    def bump(self) -> None:
        raise VersionStoreError("connection refused")


def test_unreachable_store_keeps_last_set_and_logs(caplog: Any) -> None:
    records = [SegmentRecord(id=1, slug="m", name="M", condition={"device.type": "mobile"})]
    reg = SegmentRegistry(lambda: records, _DownStore())
    first = reg.current()
    assert [s.slug for s in first.resolve({"device": {"type": "mobile"}})] == ["m"]
    assert reg.current() is first
    assert "unreachable" in caplog.text
    reg.invalidate()
    assert "not announced" in caplog.text


class _FlakyStore(MemoryVersionStore):
    down = False

    def current(self) -> int:
        if self.down:
            raise VersionStoreError("connection refused", reported=True)
        return super().current()

    def bump(self) -> None:
        if self.down:
            raise VersionStoreError("connection refused", reported=True)
        super().bump()


def test_a_change_made_while_the_store_is_down_is_announced_when_it_is_back() -> None:
    records = [SegmentRecord(id=1, slug="m", name="M", condition={"device.type": "mobile"})]
    store = _FlakyStore()
    this_process = SegmentRegistry(lambda: records, store)
    other_process = SegmentRegistry(lambda: list(records), store)
    assert other_process.current().version == this_process.current().version == 1
    store.down = True
    records.append(SegmentRecord(id=2, slug="t", name="T", condition={"device.type": "tablet"}))
    this_process.invalidate()  # an editor saved a segment during the outage
    assert store.version == 1
    assert this_process.current().get("t") is not None  # rebuilt locally at once
    store.down = False
    assert this_process.current().version == 2  # the first read that gets through announces it
    assert other_process.current().get("t") is not None
    this_process.current()
    assert store.version == 2  # announced once


def test_segment_set_paths_and_reads() -> None:
    records = [
        SegmentRecord(id=1, slug="a", name="A", condition={"user.groups": {"$in": ["x"]}}),
        SegmentRecord(id=2, slug="b", name="B", condition={"geo.country": "DE"}),
    ]
    segment_set = SegmentSet(records, version=1)
    assert segment_set.paths == frozenset({"user.groups", "geo.country"})
    assert segment_set.reads("user.groups") is True
    assert segment_set.reads("user") is True
    assert segment_set.reads("device") is False


def test_memory_version_store_drives_rebuilds() -> None:
    store = MemoryVersionStore()
    calls: list[int] = []

    def loader() -> list[SegmentRecord]:
        calls.append(1)
        return []

    reg = SegmentRegistry(loader, store)
    reg.current()
    reg.current()
    store.bump()
    reg.current()
    assert len(calls) == 2


def test_relative_clauses_are_joined_with_and(segment_factory: Any) -> None:
    segment = segment_factory(
        rules=[
            {"type": "logged_in", "value": {"state": "in"}},
            {"type": "group", "value": {"values": ["Customers", "Beta"]}},
            MOBILE,
        ]
    )
    assert segment.summary == (
        "Visitors who are logged in and who are in the groups Customers or Beta on a mobile phone"
    )


def test_decisions_memoized_per_fingerprint() -> None:
    records = [
        SegmentRecord(id=1, slug="one", name="One", condition={"flag": 1}),
        SegmentRecord(id=2, slug="yes", name="Yes", condition={"flag": True}),
        SegmentRecord(id=3, slug="tags", name="Tags", condition={"tags": {"$in": ["a"]}}),
    ]
    segment_set = SegmentSet(records, version=1)
    assert [s.slug for s in segment_set.resolve({"flag": 1, "tags": ["a"]})] == ["one", "tags"]
    # True == 1 in Python, but not in conditions: the memo must keep them apart.
    assert [s.slug for s in segment_set.resolve({"flag": True, "tags": ["b"]})] == ["yes"]
    assert [s.slug for s in segment_set.resolve({"flag": 1, "tags": ["a"]})] == ["one", "tags"]
    assert len(segment_set._memo) == 2


def test_object_values_are_not_memoized() -> None:
    records = [SegmentRecord(id=1, slug="q", name="Q", condition={"query": {"ref": "x"}})]
    segment_set = SegmentSet(records, version=1)
    assert [s.slug for s in segment_set.resolve({"query": {"ref": "x"}})] == ["q"]
    assert segment_set.resolve({"query": {"ref": "y"}}) == ()
    assert segment_set._memo == {}


def test_memo_is_bounded(monkeypatch: Any) -> None:
    from personalize import segments

    monkeypatch.setattr(segments, "DECISION_MEMO_SIZE", 3)
    segment_set = SegmentSet(
        [SegmentRecord(id=1, slug="big", name="Big", condition={"n": {"$gt": 5}})], version=1
    )
    results = [len(segment_set.resolve({"n": n})) for n in range(10)]
    assert results == [0, 0, 0, 0, 0, 0, 1, 1, 1, 1]
    assert len(segment_set._memo) == 3
