"""Run every benchmark in one process and print ratios against vanilla Wagtail.

Usage: ``make benchmark`` (or ``python -m benchmarks [--quick]``). Machines are noisy, so every
figure is a ratio against a baseline measured in the same run, interleaved round by round.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a smoke run)")
    parser.add_argument(
        "--only",
        choices=[
            "pages",
            "profiles",
            "blocks",
            "caching",
            "graphql",
            "grapple",
            "conditions",
            "redis",
        ],
        action="append",
        help="run only these benchmarks (repeatable)",
    )
    args = parser.parse_args()
    db = Path(tempfile.gettempdir()) / f"personalize-bench-{os.getpid()}.sqlite3"
    os.environ["BENCHMARK_DB"] = str(db)
    os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.settings"
    import django

    django.setup()
    from benchmarks import (
        blocks_page,
        caching,
        conditions,
        graphql_page,
        grapple_page,
        pages,
        profiles_page,
        redis_commands,
    )

    try:
        lines = ["# wagtail-personalize benchmarks", ""]
        benchmarks = {
            "pages": pages,
            "profiles": profiles_page,
            "blocks": blocks_page,
            "caching": caching,
            "graphql": graphql_page,
            "grapple": grapple_page,
            "conditions": conditions,
            "redis": redis_commands,
        }
        for name, module in benchmarks.items():
            if args.only and name not in args.only:
                continue
            lines += module.run(quick=args.quick)
            lines += [""]
    finally:
        db.unlink(missing_ok=True)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
