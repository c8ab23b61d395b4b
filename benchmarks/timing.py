"""Interleaved timing: each round measures every variant once, in rotating order."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable


def interleaved(
    variants: dict[str, Callable[[], object]], rounds: int, repeat: int
) -> dict[str, float]:
    """Median seconds per call of each variant.

    Args:
        variants: name → zero-argument callable.
        rounds: rounds; each times every variant ``repeat`` times in a row.
        repeat: calls per variant per round.

    Returns:
        name → median seconds per call over the rounds.
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
    return {name: statistics.median(values) for name, values in samples.items()}
