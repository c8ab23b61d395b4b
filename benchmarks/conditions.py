"""Compiled condition evaluation against the growthbook package's own evaluator."""

from __future__ import annotations

from growthbook.core import evalCondition

from benchmarks.timing import interleaved
from benchmarks.workload import VISITOR, conditions
from personalize.rules import compile_condition


def run(quick: bool = False) -> list[str]:
    """Return the result table as Markdown lines."""
    docs = conditions(1000)
    compiled = [compile_condition(doc) for doc in docs]
    ours = [c(VISITOR) for c in compiled]
    theirs = [evalCondition(VISITOR, doc) for doc in docs]
    agree = sum(a == b for a, b in zip(ours, theirs, strict=True))

    def run_compiled() -> None:
        for condition in compiled:
            condition(VISITOR)

    def run_growthbook() -> None:
        for doc in docs:
            evalCondition(VISITOR, doc)

    rounds, repeat = (20, 5) if quick else (100, 10)
    result = interleaved({"compiled": run_compiled, "growthbook": run_growthbook}, rounds, repeat)
    speedup = result["growthbook/compiled"]
    return [
        "## 1,000 conditions evaluated for one visitor",
        "",
        "| evaluator | median per 1,000 conditions (ms) |",
        "|---|---:|",
        f"| personalize.rules (compiled once) | {result['compiled'] * 1000:.3f} |",
        f"| growthbook.core.evalCondition | {result['growthbook'] * 1000:.3f} |",
        "",
        f"Speed-up: {speedup:.1f}×. Results agree on {agree}/1000 conditions "
        f"({sum(ours)} matched).",
    ]
