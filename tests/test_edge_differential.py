"""The edge manifest evaluated by GrowthBook's JavaScript SDK gives the engine's answers.

Thousands of generated visitors are evaluated twice: by the Python engine at the origin and, in
one node process, by ``evalCondition`` of ``@growthbook/growthbook`` (pinned in
tests/edge/package-lock.json) on the manifest's conditions, with the attributes typed by the
module the docs show (docs/how-to/edge/attributes.mjs). Both must find the same segments.

Needs node and npm; ``npm ci`` installs the SDK into tests/edge/node_modules when it is missing.
Without node the test is skipped with the reason, except in CI (``CI`` set), where it fails.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from hypothesis import given, settings
from hypothesis import strategies as st

from personalize.edge.manifest import build_manifest
from personalize.edge.translate import OriginOnly, edge_condition
from personalize.rules import compile_condition
from personalize.segments import SegmentRecord, SegmentSet
from personalize.visitors.context import build_context
from tests.edge_visitors import (
    OPERATOR_CONDITIONS,
    ORIGIN_ONLY,
    raw_requests,
    regex_conditions,
    rule_builder_conditions,
    typed_attributes,
)
from tests.rules.strategies import ATTRIBUTES, valid_conditions

EDGE_DIR = Path(__file__).parent / "edge"
SDK = EDGE_DIR / "node_modules" / "@growthbook" / "growthbook" / "package.json"
#: The attributes the edge computes, compared one by one before the segments are.
EDGE_GROUPS = ("geo", "time", "query", "consent", "gpc")
REQUESTS = 1500
TYPED = 3000
REGEX_PATTERNS = 150


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI needs the differential test of the edge manifest: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def node() -> str:
    """The node binary, with the pinned GrowthBook SDK installed beside the runner."""
    binary, npm = shutil.which("node"), shutil.which("npm")
    if binary is None or npm is None:
        _unavailable("node and npm are needed to run GrowthBook's JavaScript SDK")
    assert binary is not None and npm is not None
    if not SDK.exists():
        installed = subprocess.run(  # noqa: S603 (fixed arguments)
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=EDGE_DIR,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if installed.returncode != 0 or not SDK.exists():
            _unavailable(f"npm ci failed in tests/edge: {installed.stderr[-500:]}")
    return binary


def _conditions() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The fixed conditions (rule builder and operators), and the random regex ones."""
    fixed = [
        *rule_builder_conditions(),
        *OPERATOR_CONDITIONS,
        {"$and": rule_builder_conditions()[:3]},
        {"$or": rule_builder_conditions()[3:8]},
    ]
    return fixed, regex_conditions(random.Random(7), REGEX_PATTERNS)


def _segment_set() -> SegmentSet:
    fixed, regexes = _conditions()
    conditions = [*fixed, *regexes, *(condition for condition, _ in ORIGIN_ONLY)]
    records = [
        SegmentRecord(id=index, slug=f"s{index}", name=f"S{index}", condition=condition)
        for index, condition in enumerate(conditions, start=1)
    ]
    return SegmentSet(records, version=7)


def _origin_attributes(rf: Any, raw: dict[str, Any]) -> dict[str, Any]:
    """What the origin builds for the same request, behind Cloudflare (tests/settings.py)."""
    names = {
        "country": "CF-IPCountry",
        "region": "CF-Region-Code",
        "city": "CF-IPCity",
        "continent": "CF-IPContinent",
        "timezone": "CF-Timezone",
    }
    headers = {names[key]: value for key, value in raw["geo"].items() if value is not None}
    if raw["gpc"] is not None:
        headers["Sec-GPC"] = raw["gpc"]
    extra = {"HTTP_COOKIE": raw["cookie"]} if raw["cookie"] is not None else {}
    request = rf.get(raw["url"], headers=headers, REMOTE_ADDR="10.0.0.1", **extra)
    request.user = AnonymousUser()
    now = datetime.fromisoformat(raw["now"].replace("Z", "+00:00"))
    attributes = build_context(request, now=now, include_groups=False).attributes
    edge = {group: attributes[group] for group in EDGE_GROUPS}
    return {**edge, "page": {"path": attributes["page"]["path"]}}


def _run_node(node: str, payload: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run(  # noqa: S603 (fixed arguments)
        [node, "evaluate.mjs"],
        cwd=EDGE_DIR,
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _first_difference(
    segments: SegmentSet,
    manifest: dict[str, Any],
    visitors: list[Any],
    python: list[set[str]],
    javascript: list[list[str]],
) -> str | None:
    conditions = {entry["slug"]: entry.get("condition") for entry in manifest["segments"]}
    for visitor, mine, theirs in zip(visitors, python, javascript, strict=True):
        if mine != set(theirs):
            slug = sorted(mine ^ set(theirs))[0]
            segment = segments.get(slug)
            assert segment is not None
            return (
                f"visitor {json.dumps(visitor, ensure_ascii=False)}\n"
                f"segment {slug}: engine condition {json.dumps(segment.condition.condition)}, "
                f"manifest condition {json.dumps(conditions[slug])}\n"
                f"engine says {slug in mine}, GrowthBook's JavaScript SDK says {slug in theirs}"
            )
    return None


def test_the_sdk_finds_the_engines_segments(node: str, rf: Any) -> None:
    segments = _segment_set()
    manifest = build_manifest(segments, experiments_version=3).data
    edge = [s for s in segments.segments if segments.get(s.slug) and _is_edge(manifest, s.slug)]
    rng = random.Random(20261207)
    requests = raw_requests(rng, REQUESTS)
    typed = typed_attributes(rng, TYPED)
    result = _run_node(node, {"manifest": manifest, "requests": requests, "attributes": typed})

    origin = [_origin_attributes(rf, raw) for raw in requests]
    for raw, mine, theirs in zip(requests, origin, result["requests"], strict=True):
        assert mine == theirs["attributes"], f"request {json.dumps(raw, ensure_ascii=False)}"
    python = [{s.slug for s in edge if s.condition(attrs)} for attrs in origin]
    javascript = [entry["matched"] for entry in result["requests"]]
    assert _first_difference(segments, manifest, requests, python, javascript) is None

    round_tripped = json.loads(json.dumps(typed))
    python = [{s.slug for s in edge if s.condition(attrs)} for attrs in round_tripped]
    difference = _first_difference(segments, manifest, typed, python, result["attributes"])
    assert difference is None, difference
    fixed, regexes = _conditions()
    edge_fixed = [s for s in edge if s.id <= len(fixed)]
    assert len(edge_fixed) == len(fixed)
    # Most random patterns are rewritten for the edge; the others are origin-only.
    assert len(edge) - len(edge_fixed) >= REGEX_PATTERNS * 3 // 5
    # Every segment gets both answers, except those that give one answer whatever the visitor.
    answers = [*_answers(edge_fixed, origin), *_answers(edge_fixed, round_tripped)]
    constant = [
        s.condition.condition for s in edge_fixed if len({a[s.slug] for a in answers}) == 1
    ]
    assert constant == [{}, {"$or": []}, {"$nor": []}, {"geo.city": {}}, NEVER_CONDITION]


#: Needs a number and a string at once: no visitor matches.
NEVER_CONDITION = {"query.x": {"$gt": 5, "$regex": "a"}}


def _answers(edge: list[Any], visitors: list[dict[str, Any]]) -> list[dict[str, bool]]:
    return [{s.slug: s.condition(attrs) for s in edge} for attrs in visitors]


def _is_edge(manifest: dict[str, Any], slug: str) -> bool:
    return any(entry["slug"] == slug and entry["edge"] for entry in manifest["segments"])


FUZZ_EXAMPLES = 2000
FUZZ_SCRIPT = """
import { evalCondition } from "@growthbook/growthbook";
import { readFileSync } from "node:fs";
const cases = JSON.parse(readFileSync(0, "utf8"));
const answers = cases.map(([condition, visitors]) =>
  visitors.map((attributes) => evalCondition(attributes, condition)));
process.stdout.write(JSON.stringify(answers));
"""


def test_any_rewritten_condition_gives_the_engines_answers(node: str) -> None:
    """Generated conditions (every operator, nested, on any path) against generated attributes."""
    cases: list[tuple[dict[str, Any], dict[str, Any], list[Any]]] = []

    @settings(max_examples=FUZZ_EXAMPLES, derandomize=True, database=None, deadline=None)
    @given(valid_conditions(), st.lists(ATTRIBUTES, min_size=4, max_size=4))
    def collect(condition: dict[str, Any], visitors: list[Any]) -> None:
        try:
            edge = edge_condition(condition, lambda path: None)
            visitors = json.loads(json.dumps(visitors, allow_nan=False))
        except (OriginOnly, ValueError):
            return
        cases.append((condition, edge, visitors))

    collect()
    assert len(cases) > FUZZ_EXAMPLES // 2
    with tempfile.NamedTemporaryFile("w", suffix=".mjs", dir=EDGE_DIR, delete=False) as script:
        script.write(FUZZ_SCRIPT)
    try:
        done = subprocess.run(  # noqa: S603 (fixed arguments)
            [node, script.name],
            cwd=EDGE_DIR,
            input=json.dumps([[edge, visitors] for _, edge, visitors in cases]),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    finally:
        os.unlink(script.name)
    assert done.returncode == 0, done.stderr[-2000:]
    for (condition, edge, visitors), answers in zip(cases, json.loads(done.stdout), strict=True):
        engine = compile_condition(condition)
        for visitor, answer in zip(visitors, answers, strict=True):
            assert engine(visitor) == answer, (condition, edge, visitor)


def test_origin_only_segments_say_why() -> None:
    segments = _segment_set()
    manifest = build_manifest(segments, experiments_version=None).data
    origin_only = [entry for entry in manifest["segments"] if not entry["edge"]]
    origin_only = origin_only[-len(ORIGIN_ONLY) :]
    assert [entry["slug"] for entry in origin_only] == [
        segment.slug for segment in segments.segments[-len(ORIGIN_ONLY) :]
    ]
    for entry, (_, word) in zip(origin_only, ORIGIN_ONLY, strict=True):
        assert word in entry["reason"], entry
        assert "condition" not in entry
