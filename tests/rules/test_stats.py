"""Experiment statistics: chi-square tail, sample ratio mismatch, posteriors, arm comparison."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from personalize.rules import stats
from personalize.rules.stats import (
    SRM_THRESHOLD,
    Arm,
    ArmResult,
    chi2_sf,
    compare,
    posterior_draws,
    probability_best,
    srm_p_value,
    uplift_interval,
)

# A: 100 conversions in 1000 exposures; B: 120 in 1000.
A, B = Arm(1000, 100), Arm(1000, 120)


def beta_pdf(a: float, b: float) -> Callable[[float], float]:
    log_norm = math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
    return lambda x: math.exp((a - 1) * math.log(x) + (b - 1) * math.log1p(-x) - log_norm)


def exact_p_best(arms: Sequence[Arm], high: float = 0.4, cells: int = 40000) -> list[float]:
    """P(each arm's rate is the highest), by integrating the Beta posteriors on a fine grid.

    P(i best) = ∫ f_i(x) Π_{j≠i} F_j(x) dx, midpoint rule; F_j by accumulating f_j.
    """
    width = high / cells
    xs = [(i + 0.5) * width for i in range(cells)]
    pdfs = [
        [pdf(x) for x in xs]
        for pdf in (beta_pdf(1 + arm.converted, 1 + arm.exposed - arm.converted) for arm in arms)
    ]
    cdfs = []
    for pdf_values in pdfs:
        below, cdf = 0.0, []
        for value in pdf_values:
            cdf.append(below + value * width / 2)
            below += value * width
        cdfs.append(cdf)
    result = []
    for i, pdf_values in enumerate(pdfs):
        total = 0.0
        for k, value in enumerate(pdf_values):
            product = value
            for j, cdf in enumerate(cdfs):
                if j != i:
                    product *= cdf[k]
            total += product * width
        result.append(total)
    return result


# chi2_sf() -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "df", "expected"),
    [
        (3.841458820694124, 1, 0.05),
        (5.991464547107979, 2, 0.05),
        (7.814727903251178, 3, 0.05),
        (10, 4, 0.040427),
        (20, 10, 0.029253),
        (6.6348966010212145, 1, 0.01),
        (16, 1, 6.334248e-05),
    ],
)
def test_chi2_sf_matches_known_values(x: float, df: int, expected: float) -> None:
    assert chi2_sf(x, df) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("df", [2, 4, 6, 10, 20, 40, 100])
def test_chi2_sf_matches_the_closed_form_for_even_degrees_of_freedom(df: int) -> None:
    # Q(k, z) = e^-z Σ_{i<k} z^i / i! for whole k = df / 2.
    for x in [0.01, 0.5, 1, 2, 5, df - 2, df, df + 2, 2 * df, 3 * df + 10, 200]:
        z = x / 2
        expected = math.exp(-z) * math.fsum(z**i / math.factorial(i) for i in range(df // 2))
        assert chi2_sf(x, df) == pytest.approx(expected, rel=1e-10, abs=1e-300), (x, df)


def test_chi2_sf_with_one_degree_of_freedom_is_the_normal_tail() -> None:
    for x in [1e-6, 0.1, 1, 1.5, 2, 3, 9, 25, 100, 500]:
        assert chi2_sf(x, 1) == pytest.approx(math.erfc(math.sqrt(x / 2)), rel=1e-10)


def test_chi2_sf_edges() -> None:
    assert chi2_sf(0, 3) == 1.0
    assert chi2_sf(-1, 3) == 1.0
    assert chi2_sf(math.inf, 3) == 0.0
    assert chi2_sf(2000, 3) < 1e-300
    assert chi2_sf(5e-324, 1) == 1.0
    # Many degrees of freedom: the Wilson-Hilferty approximation, 1/2 - φ(0) sqrt(2 / (9 df)).
    assert chi2_sf(9999, 9999) == pytest.approx(
        0.5 - math.sqrt(2 / (9 * 9999)) / math.sqrt(2 * math.pi), abs=1e-5
    )


@pytest.mark.parametrize(
    ("x", "df", "message"),
    [(1, 0, "df must be at least 1, got 0"), (math.nan, 2, "x must not be NaN")],
)
def test_chi2_sf_rejects_bad_input(x: float, df: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        chi2_sf(x, df)


@settings(max_examples=300, database=None)
@given(
    x=st.floats(min_value=0, max_value=1e4, allow_nan=False),
    step=st.floats(min_value=0, max_value=100),
    df=st.integers(min_value=1, max_value=500),
)
def test_chi2_sf_is_a_decreasing_probability(x: float, step: float, df: int) -> None:
    p = chi2_sf(x, df)

    assert 0 <= p <= 1
    assert chi2_sf(x + step, df) <= p + 1e-12


# srm_p_value() ---------------------------------------------------------------------------------


def test_srm_p_value_of_a_perfect_split_is_one() -> None:
    assert srm_p_value([5000, 5000], [1, 1]) == pytest.approx(1.0)
    assert srm_p_value([5000, 2500, 2500], [50, 25, 25]) == pytest.approx(1.0)


def test_srm_p_value_flags_a_skewed_split() -> None:
    # chi2 = 200² / 5000 * 2 = 16 with one degree of freedom.
    p = srm_p_value([5200, 4800], [1, 1])

    assert p == pytest.approx(math.erfc(math.sqrt(8)), rel=1e-10)
    assert p == pytest.approx(6.334e-05, abs=1e-8)
    assert p < SRM_THRESHOLD
    assert srm_p_value([5050, 4950], [1, 1]) == pytest.approx(chi2_sf(1, 1), rel=1e-12)
    assert srm_p_value([5050, 4950], [1, 1]) > SRM_THRESHOLD


def test_srm_p_value_uses_the_weights() -> None:
    # Expected 6000 / 4000: chi2 = 100² / 6000 + 100² / 4000.
    assert srm_p_value([6100, 3900], [0.6, 0.4]) == pytest.approx(
        chi2_sf(10000 / 6000 + 10000 / 4000, 1), rel=1e-12
    )


def test_srm_p_value_leaves_out_arms_without_weight() -> None:
    assert srm_p_value([5000, 0, 5000], [1, 0, 1]) == pytest.approx(1.0)
    assert srm_p_value([5000, 1, 5000], [1, 0, 1]) == 0.0
    assert srm_p_value([700, 0], [1, 0]) == 1.0


def test_srm_p_value_without_anything_to_test_is_one() -> None:
    assert srm_p_value([0, 0], [1, 1]) == 1.0
    assert srm_p_value([123], [1]) == 1.0


@pytest.mark.parametrize(
    ("observed", "weights", "message"),
    [
        ([1, 2], [1], "2 counts but 1 weights"),
        ([1, -2], [1, 1], "counts must not be negative"),
        ([1, 2], [1, -1], "weights must be finite and not negative"),
        ([1, 2], [1, math.nan], "weights must be finite and not negative"),
        ([1, 2], [0, 0], "at least one weight must be positive"),
    ],
)
def test_srm_p_value_rejects_bad_input(
    observed: list[int], weights: list[float], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        srm_p_value(observed, weights)


# Arm and posterior draws -----------------------------------------------------------------------


def test_arm_rate() -> None:
    assert Arm(8, 2).rate == 0.25
    assert Arm(0, 0).rate == 0.0


@pytest.mark.parametrize(
    ("exposed", "converted", "message"),
    [(-1, 0, "counts must not be negative"), (5, 6, "converted exceeds exposed")],
)
def test_arm_rejects_impossible_counts(exposed: int, converted: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Arm(exposed, converted)


# Beta posteriors with a closed-form distribution function.
CLOSED_FORMS: list[tuple[Arm, Callable[[float], float]]] = [
    (Arm(0, 0), lambda x: x),  # Beta(1, 1)
    (Arm(1, 1), lambda x: x**2),  # Beta(2, 1)
    (Arm(2, 1), lambda x: 3 * x**2 - 2 * x**3),  # Beta(2, 2)
    (Arm(1000, 0), lambda x: -math.expm1(1001 * math.log1p(-x))),  # Beta(1, 1001)
    (Arm(50, 50), lambda x: x**51),  # Beta(51, 1)
]


@pytest.mark.parametrize(("arm", "cdf"), CLOSED_FORMS)
def test_posterior_quantiles_are_accurate(arm: Arm, cdf: Callable[[float], float]) -> None:
    table = stats._beta_quantiles(1.0 + arm.converted, 1.0 + arm.exposed - arm.converted)
    size = len(table)

    # Far below the Monte Carlo error of any estimate from the draws (1 / sqrt(draws)).
    assert max(abs(cdf(q) - (k + 0.5) / size) for k, q in enumerate(table)) < 1e-5


@pytest.mark.parametrize(("arm", "cdf"), CLOSED_FORMS)
def test_posterior_draws_follow_the_posterior(arm: Arm, cdf: Callable[[float], float]) -> None:
    draws = sorted(posterior_draws(arm, 20000, random.Random(11)))
    # Kolmogorov-Smirnov statistic; 1.95 / sqrt(n) is the 0.1% critical value.
    ks = max(
        max(abs(cdf(x) - k / 20000), abs(cdf(x) - (k + 1) / 20000)) for k, x in enumerate(draws)
    )

    assert ks < 1.95 / math.sqrt(20000)


@pytest.mark.parametrize("arm", [Arm(1000, 100), Arm(10**7, 10**5), Arm(10**9, 3)])
def test_posterior_draws_have_the_beta_mean_and_spread(arm: Arm) -> None:
    a, b = 1 + arm.converted, 1 + arm.exposed - arm.converted
    mean = a / (a + b)
    sd = math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))

    draws = posterior_draws(arm, 20000, random.Random(12))
    draws_mean = math.fsum(draws) / len(draws)
    draws_sd = math.sqrt(math.fsum((x - draws_mean) ** 2 for x in draws) / (len(draws) - 1))

    assert draws_mean == pytest.approx(mean, abs=4 * sd / math.sqrt(20000))
    assert draws_sd == pytest.approx(sd, rel=0.03)
    assert all(0 <= x <= 1 for x in draws)


def test_posterior_draws_reject_no_draws() -> None:
    with pytest.raises(ValueError, match="draws must be at least 1, got 0"):
        posterior_draws(A, 0, random.Random(0))


# uplift_interval() -----------------------------------------------------------------------------


def test_uplift_interval_is_the_delta_method_on_the_log_ratio() -> None:
    # log(1.2) ± 1.96 * sqrt(1/100 - 1/1000 + 1/120 - 1/1000).
    low, high = uplift_interval(A, B) or (math.nan, math.nan)

    assert low == pytest.approx(-0.0658942, abs=1e-6)
    assert high == pytest.approx(0.5415813, abs=1e-6)


def test_uplift_interval_needs_conversions_in_both_arms() -> None:
    assert uplift_interval(Arm(1000, 0), B) is None
    assert uplift_interval(A, Arm(1000, 0)) is None
    assert uplift_interval(A, Arm(0, 0)) is None
    assert uplift_interval(Arm(10, 10), Arm(10, 10)) == (0.0, 0.0)


def test_uplift_interval_covers_the_true_uplift_95_times_in_100() -> None:
    rng = random.Random(13)
    runs, exposed, rate_a, rate_b = 1000, 1000, 0.10, 0.12
    covered = 0
    for _ in range(runs):
        control = Arm(exposed, sum(rng.random() < rate_a for _ in range(exposed)))
        arm = Arm(exposed, sum(rng.random() < rate_b for _ in range(exposed)))
        interval = uplift_interval(control, arm)
        assert interval is not None
        covered += interval[0] <= rate_b / rate_a - 1 <= interval[1]

    assert covered / runs == pytest.approx(0.95, abs=0.02)


# compare() -------------------------------------------------------------------------------------


def test_compare_two_arms() -> None:
    control, challenger = compare([A, B])
    exact = exact_p_best([A, B])

    assert control == ArmResult(
        index=0,
        exposed=1000,
        converted=100,
        rate=0.1,
        uplift=None,
        uplift_low=None,
        uplift_high=None,
        p_beat_control=None,
        p_best=control.p_best,
    )
    assert (challenger.index, challenger.exposed, challenger.converted) == (1, 1000, 120)
    assert challenger.rate == 0.12
    assert challenger.uplift == pytest.approx(0.2)
    assert (challenger.uplift_low, challenger.uplift_high) == uplift_interval(A, B)
    assert exact[1] == pytest.approx(0.92, abs=0.01)
    assert challenger.p_beat_control == pytest.approx(exact[1], abs=0.01)
    assert challenger.p_best == challenger.p_beat_control
    assert control.p_best + challenger.p_best == pytest.approx(1.0)


def test_compare_p_best_of_several_arms_matches_the_exact_integral() -> None:
    arms = [A, B, Arm(1000, 115), Arm(500, 55)]

    results = compare(arms)

    assert [r.p_best for r in results] == pytest.approx(exact_p_best(arms), abs=0.01)
    assert math.fsum(r.p_best for r in results) == pytest.approx(1.0)
    assert [r.p_beat_control for r in results[1:]] == pytest.approx(
        [exact_p_best([A, arm])[1] for arm in arms[1:]], abs=0.01
    )


def test_compare_is_deterministic_for_a_seed() -> None:
    arms = [A, B, Arm(900, 99)]

    assert compare(arms, seed=3) == compare(arms, seed=3)
    assert compare(arms, seed=3) != compare(arms, seed=4)
    assert [r.p_best for r in compare(arms, seed=4)] == pytest.approx(
        [r.p_best for r in compare(arms, seed=3)], abs=0.02
    )


def test_compare_without_a_base_rate_has_no_uplift() -> None:
    results = compare([Arm(1000, 0), Arm(1000, 5)], draws=2000)

    assert [(r.uplift, r.uplift_low, r.uplift_high) for r in results] == [(None,) * 3] * 2
    assert results[1].p_beat_control == pytest.approx(0.98, abs=0.02)


def test_compare_an_arm_without_exposures_or_conversions() -> None:
    unseen, lost = compare([A, Arm(0, 0), Arm(1000, 0)], draws=2000)[1:]

    assert (unseen.rate, unseen.uplift, unseen.uplift_low, unseen.uplift_high) == (
        0.0,
        None,
        None,
        None,
    )
    assert (lost.rate, lost.uplift, lost.uplift_low, lost.uplift_high) == (0.0, -1.0, None, None)
    assert lost.p_beat_control == 0.0


def test_compare_a_single_arm() -> None:
    (only,) = compare([A], draws=100)

    assert (only.p_best, only.p_beat_control, only.uplift) == (1.0, None, None)


@pytest.mark.parametrize(
    ("arms", "draws", "message"),
    [([], 100, "needs at least one arm"), ([A], 0, "draws must be at least 1, got 0")],
)
def test_compare_rejects_bad_input(arms: list[Arm], draws: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        compare(arms, draws=draws)


def test_probability_best_is_what_compare_reports() -> None:
    arms = [A, B, Arm(1000, 110)]

    assert probability_best(arms, draws=5000, rng=random.Random(21)) == [
        r.p_best for r in compare(arms, draws=5000, seed=21)
    ]
    with pytest.raises(ValueError, match="needs at least one arm"):
        probability_best([], draws=10, rng=random.Random(0))
