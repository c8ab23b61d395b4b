"""Interleaved timing: each round measures every variant once, in rotating order."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable


def interleaved(
    variants: dict[str, Callable[[], object]], rounds: int, repeat: int
) -> dict[str, float]:
    """Median seconds per call of each variant, and paired ratios against the first variant.

    Args:
        variants: name → zero-argument callable; the first one is the baseline.
        rounds: rounds; each times every variant ``repeat`` times in a row.
        repeat: calls per variant per round.

    Returns:
        name → median seconds per call over the rounds, plus ``"<name>/<baseline>"`` → the median
        of the per-round ratios (robust against the machine speeding up or slowing down between
        rounds, since both sides of a ratio come from the same round).
    """
    samples: dict[str, list[float]] = {name: [] for name in variants}
    names = list(variants)
    gc.disable()
    try:
        for number in range(rounds):
            order = names[number % len(names) :] + names[: number % len(names)]
            for name in order:
                call = variants[name]
                start = time.perf_counter()
                for _ in range(repeat):
                    call()
                samples[name].append((time.perf_counter() - start) / repeat)
            gc.collect()
    finally:
        gc.enable()
    result = {name: statistics.median(values) for name, values in samples.items()}
    baseline = names[0]
    for name in names[1:]:
        ratios = [a / b for a, b in zip(samples[name], samples[baseline], strict=True)]
        result[f"{name}/{baseline}"] = statistics.median(ratios)
    return result


def count_queries(call: Callable[[], object]) -> int:
    """How many SQL statements ``call`` runs (counted at the database wrapper)."""
    from django.db import connection

    count = 0

    def counter(execute: Callable[..., object], *args: object) -> object:
        nonlocal count
        count += 1
        return execute(*args)

    with connection.execute_wrapper(counter):
        call()
    return count
