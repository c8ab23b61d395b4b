"""The time zone cookie written by personalize/static/personalize/timezone.js is read by the origin
(and so by the edge, which reads cookies as the origin does: docs/how-to/edge.md)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from django.http.cookie import parse_cookie

from personalize.signals.clock import pick_timezone

SCRIPT = Path(__file__).parent.parent / "personalize" / "static" / "personalize" / "timezone.js"
# The script in node, with the browser's document and location stood in for.
RUNNER = """
const cookies = [];
globalThis.document = {
  currentScript: null,
  get cookie() { return ""; },
  set cookie(value) { cookies.push(value); },
};
globalThis.location = { protocol: "https:" };
require("vm").runInThisContext(require("fs").readFileSync(process.argv[1], "utf8"));
process.stdout.write(cookies.join("\\n"));
"""


@pytest.mark.parametrize("zone", ["America/New_York", "Europe/Berlin", "America/Argentina/Salta"])
def test_the_origin_reads_the_zone_the_script_writes(zone: str) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is needed to run timezone.js")
    written = subprocess.run(  # noqa: S603 (fixed arguments)
        [node, "-e", RUNNER, str(SCRIPT)],
        env={"TZ": zone, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    pair = written.split(";")[0]
    assert pair == f"pz_tz={zone}"
    # What the browser sends back, as Django reads it, picks the visitor's zone.
    assert pick_timezone(None, parse_cookie(pair).get("pz_tz"), "UTC") == zone
