"""Experiment statistics: Bayesian arm comparison, uplift intervals, sample ratio mismatch.

Pure functions over plain counts: no Django, no storage, standard library only.

* :func:`compare` reads each arm's conversion rate as a Beta(1 + converted, 1 + exposed -
  converted) posterior (a uniform prior updated with the observed counts) and estimates by Monte
  Carlo the probability that each arm beats the control (arm 0) and that it is the best arm. It
  also gives the relative uplift over the control with a 95% confidence interval.
* :func:`srm_p_value` tests for a sample ratio mismatch: exposures split across arms in other
  proportions than the configured weights, which means the assignment (or the counting) is
  broken and the results cannot be trusted. A p-value below :data:`SRM_THRESHOLD` is the alarm.
* :func:`chi2_sf` is the chi-square survival function the test needs, written out here (the
  regularized upper incomplete gamma function, as in *Numerical Recipes*, §6.2).

Posterior draws come from a tabulated inverse distribution function of the Beta posterior (see
:func:`posterior_draws`) rather than :meth:`random.Random.betavariate`: the draws are several
times cheaper, and for a given seed they are the same on every Python version, since only
:meth:`random.Random.random` is used.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "SRM_THRESHOLD",
    "Arm",
    "ArmResult",
    "chi2_sf",
    "compare",
    "posterior_draws",
    "probability_best",
    "srm_p_value",
    "uplift_interval",
]

#: A sample ratio mismatch p-value below this means the split is broken.
SRM_THRESHOLD = 0.001

# The 97.5% quantile of the standard normal distribution (two-sided 95% intervals).
_Z_95 = 1.959963984540054
# Posterior tables span the mean ± this many standard deviations (clipped to [0, 1]); the mass
# left outside is far below anything the Monte Carlo estimates can resolve.
_SPAN_SDS = 12.0
# Cells of the density grid, and equally likely quantiles the draws pick from.
_GRID_CELLS = 2048
_QUANTILES = 4096
# Incomplete gamma function: relative precision, the smallest safe divisor, the iteration cap.
_EPS = 1e-15
_FPMIN = 1e-300
_MAX_ITERATIONS = 100_000


@dataclass(frozen=True, slots=True)
class Arm:
    """The counts of one experiment arm.

    Raises:
        ValueError: If a count is negative or ``converted`` exceeds ``exposed``.
    """

    #: Visitors who saw the arm.
    exposed: int
    #: Visitors among them who converted.
    converted: int

    def __post_init__(self) -> None:
        if self.exposed < 0 or self.converted < 0:
            raise ValueError(f"counts must not be negative: {self!r}")
        if self.converted > self.exposed:
            raise ValueError(f"converted exceeds exposed: {self!r}")

    @property
    def rate(self) -> float:
        """The observed conversion rate, 0.0 when nobody was exposed."""
        return self.converted / self.exposed if self.exposed else 0.0


@dataclass(frozen=True, slots=True)
class ArmResult:
    """How one arm compares with the control (arm 0) and with the other arms."""

    #: Position of the arm; 0 is the control.
    index: int
    #: Visitors who saw the arm.
    exposed: int
    #: Visitors among them who converted.
    converted: int
    #: Observed conversion rate.
    rate: float
    #: Relative uplift of the rate over the control's, ``(rate - control) / control``; None for
    #: the control itself, when the control's rate is 0 and when the arm has no exposures.
    uplift: float | None
    #: Lower bound of the 95% confidence interval of ``uplift`` (see :func:`uplift_interval`);
    #: None when ``uplift`` is None or either arm has no conversions.
    uplift_low: float | None
    #: Upper bound of that interval.
    uplift_high: float | None
    #: Posterior probability that the arm's true rate exceeds the control's; None for the control.
    p_beat_control: float | None
    #: Posterior probability that the arm has the highest true rate of all arms.
    p_best: float


def compare(arms: Sequence[Arm], *, draws: int = 20000, seed: int = 0) -> list[ArmResult]:
    """Compare experiment arms with the first one, the control.

    Args:
        arms: The arms, control first.
        draws: Monte Carlo draws from each arm's posterior.
        seed: Seed of the draws; the same arms, draws and seed give the same results.

    Returns:
        One :class:`ArmResult` per arm, in order. The ``p_best`` values sum to 1.

    Raises:
        ValueError: If ``arms`` is empty or ``draws`` is less than 1.
    """
    if not arms:
        raise ValueError("compare() needs at least one arm")
    rng = random.Random(seed)  # noqa: S311 - reproducible statistics, not secrets
    samples = [posterior_draws(arm, draws, rng) for arm in arms]
    p_best = _best_shares(samples)
    control, control_samples = arms[0], samples[0]
    results = []
    for index, (arm, arm_samples) in enumerate(zip(arms, samples, strict=True)):
        uplift, low, high = (None, None, None) if index == 0 else _uplift(control, arm)
        p_beat = (
            None
            if index == 0
            else sum(x > c for x, c in zip(arm_samples, control_samples, strict=True)) / draws
        )
        results.append(
            ArmResult(
                index=index,
                exposed=arm.exposed,
                converted=arm.converted,
                rate=arm.rate,
                uplift=uplift,
                uplift_low=low,
                uplift_high=high,
                p_beat_control=p_beat,
                p_best=p_best[index],
            )
        )
    return results


def probability_best(arms: Sequence[Arm], *, draws: int, rng: random.Random) -> list[float]:
    """Estimate the posterior probability that each arm has the highest rate.

    Args:
        arms: The arms.
        draws: Monte Carlo draws from each arm's posterior.
        rng: The source of randomness (advanced by ``draws * len(arms)`` numbers).

    Returns:
        The share of draws in which each arm's draw was the highest (ties go to the lower
        index); the shares sum to 1.

    Raises:
        ValueError: If ``arms`` is empty or ``draws`` is less than 1.
    """
    if not arms:
        raise ValueError("probability_best() needs at least one arm")
    return _best_shares([posterior_draws(arm, draws, rng) for arm in arms])


def posterior_draws(arm: Arm, draws: int, rng: random.Random) -> list[float]:
    """Draw conversion rates from an arm's Beta(1 + converted, 1 + exposed - converted) posterior.

    Each draw picks one of 4096 equally likely quantiles of the posterior at random. The
    quantiles come from its density integrated numerically on a fine grid over the mean ± 12
    standard deviations, so they match the exact Beta quantiles far more closely than the Monte
    Carlo error of any estimate built from the draws.

    Args:
        arm: The arm.
        draws: How many rates to draw.
        rng: The source of randomness (advanced by ``draws`` numbers).

    Returns:
        ``draws`` rates in [0, 1].

    Raises:
        ValueError: If ``draws`` is less than 1.
    """
    if draws < 1:
        raise ValueError(f"draws must be at least 1, got {draws}")
    table = _beta_quantiles(1.0 + arm.converted, 1.0 + arm.exposed - arm.converted)
    size = len(table)
    uniform = rng.random
    return [table[int(uniform() * size)] for _ in range(draws)]


def uplift_interval(control: Arm, arm: Arm) -> tuple[float, float] | None:
    """The 95% confidence interval of the relative uplift of ``arm`` over ``control``.

    The interval is built on the log of the ratio of the rates (the delta method): the log of an
    observed rate ``c / n`` has a variance of about ``1 / c - 1 / n``, so the log ratio has a
    standard error ``se = sqrt(1/c_a - 1/n_a + 1/c_b - 1/n_b)`` and the interval is
    ``exp(log(rate_b / rate_a) ± 1.96 se) - 1``. Unlike a Wald interval on the difference, it
    stays above -100% and is skewed the way a ratio is.

    Args:
        control: The control arm.
        arm: The arm compared with it.

    Returns:
        ``(low, high)``, or None when either arm has no exposures or no conversions.
    """
    if not (control.converted and arm.converted):
        return None
    log_ratio = math.log(arm.rate / control.rate)
    se = math.sqrt(
        1 / control.converted - 1 / control.exposed + 1 / arm.converted - 1 / arm.exposed
    )
    return math.expm1(log_ratio - _Z_95 * se), math.expm1(log_ratio + _Z_95 * se)


def srm_p_value(observed: Sequence[int], weights: Sequence[float]) -> float:
    """Test whether exposures split across arms in the configured proportions.

    A chi-square goodness-of-fit test of the observed counts against the counts the weights
    predict. Arms with weight 0 are left out of the test, unless they were exposed, which the
    design rules out: then the p-value is 0.

    Args:
        observed: Exposures per arm.
        weights: Relative weights per arm (need not sum to 1).

    Returns:
        The p-value: the probability of a split at least this uneven if the assignment works.
        1.0 when there is nothing to test (no exposures, or a single weighted arm).

    Raises:
        ValueError: If the lengths differ, a count is negative, a weight is negative or not
            finite, or all weights are 0.
    """
    if len(observed) != len(weights):
        raise ValueError(f"{len(observed)} counts but {len(weights)} weights")
    if any(count < 0 for count in observed):
        raise ValueError(f"counts must not be negative: {list(observed)}")
    _check_weights(weights)
    total_weight = math.fsum(weights)
    if total_weight == 0:
        raise ValueError("at least one weight must be positive")
    total = sum(observed)
    if total == 0:
        return 1.0
    statistic = 0.0
    tested = 0
    for count, weight in zip(observed, weights, strict=True):
        if weight == 0:
            if count:
                return 0.0
            continue
        expected = total * weight / total_weight
        statistic += (count - expected) ** 2 / expected
        tested += 1
    if tested < 2:
        return 1.0
    return chi2_sf(statistic, tested - 1)


def chi2_sf(x: float, df: int) -> float:
    """The chi-square survival function: P(X >= x) for X with ``df`` degrees of freedom.

    Computed as the regularized upper incomplete gamma function Q(df / 2, x / 2), by its series
    below ``x / 2 < df / 2 + 1`` and by its continued fraction above (*Numerical Recipes*, §6.2).

    Args:
        x: The statistic; values up to 0 give 1.0.
        df: Degrees of freedom, at least 1.

    Returns:
        The probability, in [0, 1].

    Raises:
        ValueError: If ``df`` is less than 1 or ``x`` is NaN.
    """
    if df < 1:
        raise ValueError(f"df must be at least 1, got {df}")
    if math.isnan(x):
        raise ValueError("x must not be NaN")
    if x <= 0:
        return 1.0
    if math.isinf(x):
        return 0.0
    a, z = df / 2, x / 2
    if z == 0:  # x was the smallest subnormal
        return 1.0
    if z < a + 1:
        return max(0.0, 1.0 - _gamma_series(a, z))
    return min(1.0, _gamma_continued_fraction(a, z))


def _gamma_series(a: float, x: float) -> float:
    # P(a, x) = e^-x x^a / Γ(a) · Σ x^n / (a (a+1) … (a+n)).
    term = total = 1 / a
    denominator = a
    for _ in range(_MAX_ITERATIONS):
        denominator += 1
        term *= x / denominator
        total += term
        if abs(term) < abs(total) * _EPS:
            break
    return total * math.exp(-x + a * math.log(x) - math.lgamma(a))


def _gamma_continued_fraction(a: float, x: float) -> float:
    # Q(a, x) = e^-x x^a / Γ(a) · 1 / (x + 1 - a - 1 (1 - a) / (x + 3 - a - …)), evaluated by
    # the modified Lentz method.
    b = x + 1 - a
    c = 1 / _FPMIN
    d = 1 / b
    fraction = d
    for i in range(1, _MAX_ITERATIONS):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        if abs(d) < _FPMIN:
            d = _FPMIN
        c = b + an / c
        if abs(c) < _FPMIN:
            c = _FPMIN
        d = 1 / d
        step = d * c
        fraction *= step
        if abs(step - 1) < _EPS:
            break
    return math.exp(-x + a * math.log(x) - math.lgamma(a)) * fraction


def _uplift(control: Arm, arm: Arm) -> tuple[float | None, float | None, float | None]:
    if control.rate == 0 or arm.exposed == 0:
        return None, None, None
    uplift = (arm.rate - control.rate) / control.rate
    interval = uplift_interval(control, arm)
    return (uplift, None, None) if interval is None else (uplift, *interval)


def _best_shares(samples: Sequence[Sequence[float]]) -> list[float]:
    counts = [0] * len(samples)
    for row in zip(*samples, strict=True):
        counts[row.index(max(row))] += 1
    draws = len(samples[0])
    return [count / draws for count in counts]


def _check_weights(weights: Sequence[float]) -> None:
    for weight in weights:
        if not (math.isfinite(weight) and weight >= 0):
            raise ValueError(f"weights must be finite and not negative: {list(weights)}")


@lru_cache(maxsize=256)
def _beta_quantiles(a: float, b: float) -> tuple[float, ...]:
    """The Beta(a, b) quantiles at probabilities (k + 1/2) / _QUANTILES, for a, b >= 1."""
    mean = a / (a + b)
    sd = math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
    low = max(0.0, mean - _SPAN_SDS * sd)
    high = min(1.0, mean + _SPAN_SDS * sd)
    width = (high - low) / _GRID_CELLS
    # The density at each cell's midpoint (never 0 or 1, so the logs are finite), scaled by its
    # maximum so that nothing overflows; the constant cancels out.
    logs = [
        (a - 1) * math.log(x) + (b - 1) * math.log1p(-x)
        for x in (low + (i + 0.5) * width for i in range(_GRID_CELLS))
    ]
    peak = max(logs)
    masses = [math.exp(value - peak) for value in logs]
    total = math.fsum(masses)
    quantiles = []
    cell, below = 0, 0.0
    last = _GRID_CELLS - 1
    for k in range(_QUANTILES):
        target = (k + 0.5) / _QUANTILES * total
        while cell < last and below + masses[cell] <= target:
            below += masses[cell]
            cell += 1
        # The density is taken as flat within a cell.
        inside = (target - below) / masses[cell] if masses[cell] else 0.5
        quantiles.append(low + (cell + min(1.0, max(0.0, inside))) * width)
    return tuple(quantiles)
