"""Experiment bucketing: the hash, its uniformity and stickiness, choices, Thompson weights."""

from __future__ import annotations

import math
import random
import statistics
import uuid
from collections import Counter
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from personalize.rules.bucketing import bucket, choose, fnv1a32, thompson_weights
from personalize.rules.stats import chi2_sf

SEED = "5f0c6a3b9d2e4f718a6b0c9d8e7f6a5b"
OTHER_SEED = "5f0c6a3b9d2e4f718a6b0c9d8e7f6a5c"
IDS = 100_000


def visitor_ids(count: int, seed: int = 20260101) -> list[str]:
    """Visitor ids as the package makes them (UUID4 hex), from a seeded generator."""
    rng = random.Random(seed)
    return [uuid.UUID(int=rng.getrandbits(128), version=4).hex for _ in range(count)]


@pytest.fixture(scope="module")
def ids() -> list[str]:
    return visitor_ids(IDS)


@pytest.fixture(scope="module")
def buckets(ids: list[str]) -> list[float]:
    return [bucket(visitor_id, SEED) for visitor_id in ids]


def goodness_of_fit(counts: Sequence[int], expected_shares: Sequence[float]) -> float:
    """The chi-square p-value of ``counts`` against ``expected_shares``."""
    total = sum(counts)
    statistic = sum(
        (count - total * share) ** 2 / (total * share)
        for count, share in zip(counts, expected_shares, strict=True)
    )
    return chi2_sf(statistic, len(counts) - 1)


# FNV-1a ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The published FNV-1a 32-bit test vectors.
        ("", 0x811C9DC5),
        ("a", 0xE40C292C),
        ("foobar", 0xBF9CF968),
    ],
)
def test_fnv1a32_matches_the_reference_vectors(text: str, expected: int) -> None:
    assert fnv1a32(text) == expected


def test_fnv1a32_hashes_utf8_bytes() -> None:
    expected = 0x811C9DC5
    for byte in "é€😀".encode():
        expected = ((expected ^ byte) * 0x01000193) % 2**32

    assert fnv1a32("é€😀") == expected
    assert fnv1a32("\ud800") == fnv1a32("\ud800")  # a lone surrogate does not raise


# bucket() --------------------------------------------------------------------------------------


def test_bucket_is_a_multiple_of_one_ten_thousandth_in_the_unit_interval(
    buckets: list[float],
) -> None:
    assert all(0 <= value < 1 for value in buckets)
    assert all(value == round(value * 10000) / 10000 for value in buckets)
    assert bucket("", "") == fnv1a32(str(fnv1a32(""))) % 10000 / 10000


def test_bucket_agrees_with_the_growthbook_sdk() -> None:
    growthbook = pytest.importorskip("growthbook.core")
    ids = visitor_ids(1000, seed=7)
    seeds = [SEED, OTHER_SEED, "", "homepage-hero"]

    assert [[bucket(i, seed) for i in ids] for seed in seeds] == [
        [growthbook.gbhash(seed, i, 2) for i in ids] for seed in seeds
    ]
    assert [fnv1a32(i) for i in ids] == [growthbook.fnv1a32(i) for i in ids]


def test_buckets_are_uniform_over_ten_bins(buckets: list[float]) -> None:
    counts = Counter(int(value * 10) for value in buckets)
    shares = [counts[b] / IDS for b in range(10)]

    assert goodness_of_fit([counts[b] for b in range(10)], [0.1] * 10) > 0.001
    assert shares == pytest.approx([0.1] * 10, abs=0.005)


def test_buckets_are_uniform_over_all_ten_thousand_values(buckets: list[float]) -> None:
    counts = Counter(round(value * 10000) for value in buckets)

    assert goodness_of_fit([counts[k] for k in range(10000)], [1e-4] * 10000) > 0.001


def test_a_weighted_three_way_split_follows_the_weights(buckets: list[float]) -> None:
    counts = Counter(choose(value, [50, 30, 20]) for value in buckets)
    shares = [counts[index] / IDS for index in range(3)]

    assert goodness_of_fit([counts[index] for index in range(3)], [0.5, 0.3, 0.2]) > 0.001
    assert shares == pytest.approx([0.5, 0.3, 0.2], abs=0.005)


def test_a_holdout_takes_its_share_first(buckets: list[float]) -> None:
    counts = Counter(choose(value, [1, 1], holdout=0.1) for value in buckets)
    observed = [counts[None], counts[0], counts[1]]

    assert goodness_of_fit(observed, [0.1, 0.45, 0.45]) > 0.001
    assert [count / IDS for count in observed] == pytest.approx([0.1, 0.45, 0.45], abs=0.005)


def test_a_visitor_keeps_their_bucket(ids: list[str], buckets: list[float]) -> None:
    again = [bucket(visitor_id, SEED) for visitor_id in reversed(ids[:1000])]

    assert again[::-1] == buckets[:1000]
    assert bucket("0123456789abcdef0123456789abcdef", SEED) == bucket(
        "0123456789abcdef0123456789abcdef", SEED
    )


def test_experiments_with_different_seeds_bucket_independently(
    ids: list[str], buckets: list[float]
) -> None:
    # The seeds differ in their last character only: the double hash still separates them.
    other = [bucket(visitor_id, OTHER_SEED) for visitor_id in ids]
    joint = Counter((int(a * 4), int(b * 4)) for a, b in zip(buckets, other, strict=True))
    statistic = sum((joint[a, b] - IDS / 16) ** 2 / (IDS / 16) for a in range(4) for b in range(4))

    assert abs(statistics.correlation(buckets, other)) < 0.02
    assert chi2_sf(statistic, 9) > 0.001
    assert sum(a == b for a, b in zip(buckets, other, strict=True)) < IDS * 0.001


# choose() --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("position", "weights", "holdout", "expected"),
    [
        (0.0, [1, 1], 0.0, 0),
        (0.4999, [1, 1], 0.0, 0),
        (0.5, [1, 1], 0.0, 1),
        (0.9999, [1, 1], 0.0, 1),
        (0.0, [0.5, 0.3, 0.2], 0.0, 0),
        (0.7999, [0.5, 0.3, 0.2], 0.0, 1),
        (0.8, [0.5, 0.3, 0.2], 0.0, 2),
        (0.8, [50, 30, 20], 0.0, 2),
        (0.0999, [1, 1], 0.1, None),
        (0.1, [1, 1], 0.1, 0),
        (0.5499, [1, 1], 0.1, 0),
        (0.55, [1, 1], 0.1, 1),
        (0.9999, [1, 1], 0.1, 1),
        (0.9999, [1, 1], 1.0, None),
        (0.0, [1, 1], 1.0, None),
        (0.0, [0, 1], 0.0, 1),
        (0.9999, [1, 0], 0.0, 0),
        (0.5, [1, 0, 1], 0.0, 2),
        (0.9999, [1, 1, 0], 0.0, 1),
        (0.0, [0, 0, 0], 0.0, 0),
        (0.9999, [0, 0, 0], 0.0, 0),
        (0.1, [0, 0], 0.2, None),
        (0.3, [0, 0], 0.2, 0),
        (0.9999, [3], 0.0, 0),
    ],
)
def test_choose_splits_the_unit_interval(
    position: float, weights: list[float], holdout: float, expected: int | None
) -> None:
    assert choose(position, weights, holdout) == expected


@pytest.mark.parametrize(
    "weights",
    [[0.5, 0.5], [0.1] * 10, [0.34, 0.33, 0.33], [0.2, 0.3, 0.5], [0.05, 0.9, 0.05]],
)
def test_choose_matches_growthbook_bucket_ranges_at_full_coverage(weights: list[float]) -> None:
    growthbook = pytest.importorskip("growthbook.core")
    ranges = growthbook.getBucketRanges(len(weights), 1, weights)

    for k in range(10000):
        position = k / 10000
        assert choose(position, weights) == growthbook.chooseVariation(position, ranges), position


@pytest.mark.parametrize(
    ("position", "weights", "holdout", "message"),
    [
        (1.0, [1], 0.0, r"bucket must be in \[0, 1\), got 1.0"),
        (-0.1, [1], 0.0, r"bucket must be in \[0, 1\), got -0.1"),
        (math.nan, [1], 0.0, r"bucket must be in \[0, 1\), got nan"),
        (0.5, [1], 1.5, r"holdout must be in \[0, 1\], got 1.5"),
        (0.5, [1], math.nan, r"holdout must be in \[0, 1\], got nan"),
        (0.5, [], 0.0, "needs at least one weight"),
        (0.5, [-1, 2], 0.0, r"weights must be finite and not negative: \[-1, 2\]"),
        (0.5, [math.inf, 1], 0.0, "weights must be finite and not negative"),
        (0.5, [math.nan], 0.0, "weights must be finite and not negative"),
    ],
)
def test_choose_rejects_bad_input(
    position: float, weights: list[float], holdout: float, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        choose(position, weights, holdout)


@settings(max_examples=300, database=None)
@given(
    position=st.integers(min_value=0, max_value=9999).map(lambda k: k / 10000),
    weights=st.lists(
        st.floats(min_value=0, max_value=1e6, allow_nan=False) | st.just(0.0),
        min_size=1,
        max_size=6,
    ),
    holdout=st.floats(min_value=0, max_value=1),
)
def test_choose_never_picks_an_alternative_without_weight(
    position: float, weights: list[float], holdout: float
) -> None:
    chosen = choose(position, weights, holdout)

    if position < holdout:
        assert chosen is None
    elif not any(weights):
        assert chosen == 0
    else:
        assert chosen is not None
        assert weights[chosen] > 0


# thompson_weights() ----------------------------------------------------------------------------


def test_thompson_weights_favour_the_better_arm() -> None:
    weights = thompson_weights(
        [(1000, 50), (1000, 100)], floor=0.05, draws=5000, rng=random.Random(1)
    )

    assert weights[1] > 0.94
    assert weights[0] == pytest.approx(0.05, abs=1e-3)
    assert sum(weights) == pytest.approx(1)


def test_thompson_weights_respect_the_floor() -> None:
    weights = thompson_weights(
        [(1000, 10), (1000, 100), (1000, 200)], floor=0.1, draws=5000, rng=random.Random(2)
    )

    assert weights == pytest.approx([0.1, 0.1, 0.8], abs=1e-9)
    assert min(weights) >= 0.1 - 1e-12
    assert sum(weights) == pytest.approx(1)


def test_thompson_weights_share_equally_between_arms_that_look_alike() -> None:
    alike = thompson_weights([(500, 50)] * 4, floor=0.05, draws=20000, rng=random.Random(3))
    unseen = thompson_weights([(0, 0), (0, 0)], floor=0.0, draws=20000, rng=random.Random(4))

    assert alike == pytest.approx([0.25] * 4, abs=0.02)
    assert unseen == pytest.approx([0.5, 0.5], abs=0.02)


def test_thompson_weights_follow_the_evidence_gradually() -> None:
    weights = thompson_weights(
        [(1000, 100), (1000, 120)], floor=0.05, draws=20000, rng=random.Random(5)
    )

    # P(B best) is about 0.92 here (see test_stats), so B gets 0.05 + 0.9 * 0.92.
    assert weights == pytest.approx([0.05 + 0.9 * 0.08, 0.05 + 0.9 * 0.92], abs=0.01)


def test_thompson_weights_are_uniform_when_the_floor_takes_everything() -> None:
    assert (
        thompson_weights(
            [(100, 1), (100, 90), (100, 5)], floor=0.4, draws=100, rng=random.Random(0)
        )
        == [1 / 3] * 3
    )
    assert thompson_weights([(10, 1), (10, 9)], floor=0.5, draws=10, rng=random.Random(0)) == [
        0.5,
        0.5,
    ]


def test_thompson_weights_are_reproducible_with_a_seeded_generator() -> None:
    arms = [(300, 30), (310, 35), (290, 33)]

    first = thompson_weights(arms, floor=0.05, draws=2000, rng=random.Random(9))
    second = thompson_weights(arms, floor=0.05, draws=2000, rng=random.Random(9))

    assert first == second
    assert first != thompson_weights(arms, floor=0.05, draws=2000, rng=random.Random(10))


@pytest.mark.parametrize(
    ("arms", "floor", "draws", "message"),
    [
        ([], 0.05, 100, "needs at least one arm"),
        ([(10, 1)], 1.5, 100, r"floor must be in \[0, 1\], got 1.5"),
        ([(10, 1)], -0.1, 100, r"floor must be in \[0, 1\], got -0.1"),
        ([(10, 1)], 0.05, 0, "draws must be at least 1, got 0"),
        ([(10, 11)], 0.05, 100, "converted exceeds exposed"),
        ([(-1, 0)], 0.05, 100, "counts must not be negative"),
    ],
)
def test_thompson_weights_reject_bad_input(
    arms: list[tuple[int, int]], floor: float, draws: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        thompson_weights(arms, floor=floor, draws=draws, rng=random.Random(0))
