"""Experiment bucketing: which alternative a visitor sees, the same on every channel.

Pure functions, standard library only. :func:`bucket` hashes a visitor id with an experiment's
seed into a number in [0, 1) exactly as GrowthBook's SDKs do (hash version 2), so server-side
rendering, the GraphQL and REST APIs and a GrowthBook SDK in the browser all put a visitor in the
same bucket. :func:`choose` turns the bucket into an alternative (or the holdout), and
:func:`thompson_weights` gives the weights that auto-optimizing experiments pass to it.

Typical use::

    position = bucket(visitor_id, experiment_key)
    alternative = choose(position, [50, 50], holdout=0.1)  # None, 0 (control) or 1

A visitor keeps their alternative for as long as the seed, the weights and the holdout stay the
same; changing any of them moves some visitors.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

from .stats import Arm, probability_best

__all__ = ["bucket", "choose", "fnv1a32", "thompson_weights"]

_FNV_OFFSET_BASIS = 0x811C9DC5
_FNV_PRIME = 0x01000193
_MASK_32 = 0xFFFFFFFF
# GrowthBook's hash version 2 keeps four decimal digits.
_BUCKETS = 10000


def fnv1a32(text: str) -> int:
    """The 32-bit FNV-1a hash of a string's UTF-8 bytes.

    For ASCII text, which visitor ids and experiment keys are, this is the hash every GrowthBook
    SDK computes. (Beyond ASCII the SDKs disagree: the JavaScript SDK hashes UTF-16 code units,
    others UTF-8 bytes.)

    Args:
        text: The text; lone surrogates are hashed as their ``surrogatepass`` bytes.

    Returns:
        The hash, in [0, 2**32).
    """
    value = _FNV_OFFSET_BASIS
    for byte in text.encode("utf-8", "surrogatepass"):
        value = ((value ^ byte) * _FNV_PRIME) & _MASK_32
    return value


def bucket(visitor_id: str, seed: str) -> float:
    """A visitor's position in an experiment: GrowthBook's hash version 2.

    ``fnv1a32(str(fnv1a32(seed + visitor_id))) % 10000 / 10000``: hashing twice removes the bias
    that similar ids (and similar seeds) have under a single FNV-1a hash.

    Args:
        visitor_id: The visitor's id.
        seed: The experiment's seed (its key); different seeds bucket visitors independently.

    Returns:
        A multiple of 0.0001 in [0, 1), the same for the same visitor id and seed.
    """
    return fnv1a32(str(fnv1a32(seed + visitor_id))) % _BUCKETS / _BUCKETS


def choose(bucket: float, weights: Sequence[float], holdout: float = 0.0) -> int | None:
    """The alternative for a bucket.

    The first ``holdout`` of [0, 1) is the holdout; the rest is split in proportion to the
    weights, in order. Without a holdout this matches GrowthBook's bucket ranges at full
    coverage.

    Args:
        bucket: A position from :func:`bucket`, in [0, 1).
        weights: Relative weights of the alternatives, control (index 0) first; an alternative
            with weight 0 is never chosen.
        holdout: The fraction of visitors who see none of the alternatives, in [0, 1].

    Returns:
        The index of the alternative, 0 when every weight is 0, or None in the holdout.

    Raises:
        ValueError: If ``bucket`` is outside [0, 1), ``holdout`` outside [0, 1], ``weights`` is
            empty or a weight is negative or not finite.
    """
    if not 0 <= bucket < 1:
        raise ValueError(f"bucket must be in [0, 1), got {bucket!r}")
    if not 0 <= holdout <= 1:
        raise ValueError(f"holdout must be in [0, 1], got {holdout!r}")
    if not weights:
        raise ValueError("choose() needs at least one weight")
    if not all(math.isfinite(weight) and weight >= 0 for weight in weights):
        raise ValueError(f"weights must be finite and not negative: {list(weights)}")
    if bucket < holdout:
        return None
    total = math.fsum(weights)
    if total == 0:
        return 0
    position = (bucket - holdout) / (1 - holdout)
    cumulative = 0.0
    chosen = 0
    for index, weight in enumerate(weights):
        if weight > 0:
            chosen = index
            cumulative += weight / total
            if position < cumulative:
                return index
    # Rounding left the cumulative weight a hair below 1: the last weighted alternative.
    return chosen


def thompson_weights(
    arms: Sequence[tuple[int, int]], *, floor: float, draws: int, rng: random.Random
) -> list[float]:
    """Weights that send more visitors to the arms likely to convert best (Thompson sampling).

    Each arm's weight is its posterior probability of being the best arm (estimated from
    ``draws`` draws of Beta(1 + converted, 1 + exposed - converted) per arm), mixed with a
    uniform share so that every arm keeps at least ``floor`` of the traffic and goes on being
    measured: ``weight = floor + (1 - len(arms) * floor) * p_best``.

    Args:
        arms: ``(exposed, converted)`` per arm.
        floor: The least weight of any arm, in [0, 1]. When ``floor * len(arms)`` reaches 1,
            every arm gets the same weight.
        draws: Monte Carlo draws per arm.
        rng: The source of randomness; a seeded one gives reproducible weights.

    Returns:
        One weight per arm; the weights sum to 1.

    Raises:
        ValueError: If ``arms`` is empty, a count is negative, converted exceeds exposed,
            ``floor`` is outside [0, 1] or ``draws`` is less than 1.
    """
    if not arms:
        raise ValueError("thompson_weights() needs at least one arm")
    if not 0 <= floor <= 1:
        raise ValueError(f"floor must be in [0, 1], got {floor!r}")
    if draws < 1:
        raise ValueError(f"draws must be at least 1, got {draws}")
    counted = [Arm(exposed, converted) for exposed, converted in arms]
    explore = len(counted) * floor
    if explore >= 1:
        return [1 / len(counted)] * len(counted)
    shares = probability_best(counted, draws=draws, rng=rng)
    return [floor + (1 - explore) * share for share in shares]
