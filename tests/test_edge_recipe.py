"""The recipe's Worker and manifest loader (docs/how-to/edge/*.mjs) run as the how-to says.

The files are copied beside the pinned GrowthBook SDK (tests/edge/node_modules) and run in node
with ``fetch`` replaced: the loader's ETag revalidation and fallbacks, and the Worker deciding a
request's segments from a manifest built by the package.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from personalize.edge.manifest import build_manifest
from personalize.segments import SegmentRecord, SegmentSet
from tests.test_edge_differential import EDGE_DIR, node  # noqa: F401 (the fixture)

RECIPE = Path(__file__).parent.parent / "docs" / "how-to" / "edge"

LOADER_SCRIPT = """
const answers = JSON.parse(process.argv[2]);
const calls = [];
globalThis.fetch = async (url, init) => {
  calls.push({url: String(url), headers: init.headers});
  const answer = answers.shift();
  if (answer === "throw") throw new TypeError("fetch failed");
  return new Response(answer.body, {status: answer.status, headers: answer.headers});
};
const { loadManifest } = await import("./manifest.mjs");
const options = { origin: "https://cms.example", key: "k1", maxAgeMs: 0 };
const seen = [];
for (let i = 0; i < 5; i += 1) seen.push(await loadManifest(options));
seen.push(await loadManifest({ ...options, maxAgeMs: 60_000 }));
const fresh = await import("./manifest.mjs?fresh");
seen.push(await fresh.loadManifest(options));
process.stdout.write(JSON.stringify({ calls, seen }));
"""

WORKER_SCRIPT = """
const manifest = JSON.parse(process.argv[2]);
let forwarded = null;
globalThis.fetch = async (input, init) => {
  if (String(input.url ?? input).includes("/personalize/manifest.json")) {
    return new Response(JSON.stringify(manifest), { headers: { ETag: '"m"' } });
  }
  forwarded = input;
  return new Response("ok");
};
const { default: worker } = await import("./worker.mjs");
const request = new Request("https://shop.example/?utm_source=x", {
  headers: {
    Cookie: 'sessionid=1; pz_consent="v1:necessary\\\\054personalization:1764115200"',
    "X-Edge-Segments": "forged",
  },
});
request.cf = { country: "at", regionCode: "9", city: "Vienna", continent: "EU",
               timezone: "Europe/Vienna" };
const env = { PERSONALIZE_ORIGIN: "https://cms.example", PERSONALIZE_FRONTEND_KEY: "k1" };
const body = await (await worker.fetch(request, env)).text();
process.stdout.write(JSON.stringify({ body, segments: forwarded.headers.get("X-Edge-Segments"),
                                      url: forwarded.url }));
"""


def _run(binary: str, script: str, argument: Any) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(dir=EDGE_DIR) as folder:
        for name in ("attributes.mjs", "manifest.mjs", "worker.mjs"):
            shutil.copy(RECIPE / name, folder)
        (Path(folder) / "run.mjs").write_text(script)
        done = subprocess.run(  # noqa: S603 (fixed arguments)
            [binary, "run.mjs", json.dumps(argument)],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_the_loader_revalidates_by_etag_and_keeps_the_last_good_manifest(node: str) -> None:  # noqa: F811
    first, second = {"schema": 1, "n": 1}, {"schema": 1, "n": 2}
    answers = [
        {"status": 200, "body": json.dumps(first), "headers": {"ETag": '"e1"'}},
        {"status": 304, "body": None, "headers": {"ETag": '"e1"'}},
        {"status": 503, "body": '{"error": "x"}', "headers": {}},
        "throw",
        {"status": 200, "body": json.dumps(second), "headers": {"ETag": '"e2"'}},
        {"status": 403, "body": '{"error": "x"}', "headers": {}},
    ]
    result = _run(node, LOADER_SCRIPT, answers)
    assert result["seen"] == [first, first, first, first, second, second, None]
    calls = result["calls"]
    assert [call["url"] for call in calls] == ["https://cms.example/personalize/manifest.json"] * 6
    assert calls[0]["headers"] == {"X-Personalize-Frontend-Key": "k1"}
    assert [call["headers"].get("If-None-Match") for call in calls] == [
        None, '"e1"', '"e1"', '"e1"', '"e1"', None,
    ]


def test_the_worker_forwards_the_edge_segments(node: str) -> None:  # noqa: F811
    conditions = {
        "dach": {"geo.country": {"$in": ["DE", "AT", "CH"]}},
        "consenting": {"consent": {"$all": ["personalization"]}},
        "google": {"query.utm_source": "google"},
        "phones": {"device.type": "mobile"},
    }
    records = [
        SegmentRecord(id=index, slug=slug, name=slug, condition=condition)
        for index, (slug, condition) in enumerate(conditions.items(), start=1)
    ]
    manifest = build_manifest(SegmentSet(records, version=1), experiments_version=1).data
    result = _run(node, WORKER_SCRIPT, manifest)
    assert result == {
        "body": "ok",
        # The consent cookie as Django writes it (quoted, "\\054" for the comma) is read.
        "segments": "dach,consenting",
        "url": "https://shop.example/?utm_source=x",
    }
