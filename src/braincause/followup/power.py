"""Power of t tests (noncentral t) and the sample size a contrast needs.

For a standardised effect :math:`d` and :math:`\\nu` degrees of freedom the t statistic
follows a noncentral t with noncentrality :math:`\\delta`:

* paired / one-sample (``n`` pairs): :math:`\\nu = n - 1`, :math:`\\delta = d\\sqrt{n}`;
* two independent samples (``n1``, ``n2``):
  :math:`\\nu = n_1 + n_2 - 2`, :math:`\\delta = d\\sqrt{n_1 n_2 / (n_1 + n_2)}`.

Power at level :math:`\\alpha` is :math:`1 - F_{\\nu,\\delta}(t_{1-\\alpha,\\nu})` for the
one-sided alternative ``"larger"`` and
:math:`1 - F_{\\nu,\\delta}(t_{1-\\alpha/2,\\nu}) + F_{\\nu,\\delta}(-t_{1-\\alpha/2,\\nu})`
two-sided (Cohen 1988, ch. 2). These are the formulas of statsmodels' ``TTestPower`` and
``TTestIndPower``, which the tests use as an oracle.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, stats

from braincause.exceptions import UserInputError


def _check(alpha: float, alternative: str) -> None:
    if not 0 < alpha < 1:
        raise UserInputError(f"alpha must be in (0, 1), got {alpha!r}")
    if alternative not in ("larger", "two-sided"):
        raise UserInputError(f"alternative must be 'larger' or 'two-sided', got "
                             f"{alternative!r}")


def _nct_sf(x: np.ndarray, df: np.ndarray, nc: np.ndarray) -> np.ndarray:
    """P(T > x) for a noncentral t. Where scipy returns NaN (far tails at large
    noncentrality, where the value is ~0 or ~1) the normal approximation of
    Abramowitz & Stegun 26.7.10 takes over."""
    p = np.asarray(stats.nct.sf(x, df, nc), dtype=np.float64)
    bad = ~np.isfinite(p)
    if bad.any():
        x, df, nc = (np.broadcast_to(np.asarray(a, np.float64), p.shape) for a in (x, df, nc))
        z = (x * (1 - 1 / (4 * df)) - nc) / np.sqrt(1 + x ** 2 / (2 * df))
        p = np.where(bad, stats.norm.sf(z), p)
    return p


def _power(delta: np.ndarray, df: np.ndarray, alpha: float, alternative: str) -> np.ndarray:
    if alternative == "larger":
        return _nct_sf(stats.t.isf(alpha, df), df, delta)
    crit = stats.t.isf(alpha / 2, df)
    # P(T < -c | δ) = P(T > c | -δ)
    return _nct_sf(crit, df, delta) + _nct_sf(crit, df, -delta)


def power_paired(d: float | np.ndarray, n: float | np.ndarray, *, alpha: float = 0.05,
                 alternative: str = "larger") -> np.ndarray:
    """Power of a one-sample (paired) t test with ``n`` pairs and effect ``d``.

    Parameters
    ----------
    d : float or ndarray
        Standardised mean difference :math:`d_z = \\bar\\Delta / \\sigma_\\Delta`.
    n : float or ndarray
        Number of pairs (≥ 2; non-integers allowed, as in statsmodels).
    alpha : float
    alternative : {"larger", "two-sided"}

    Returns
    -------
    power : ndarray, broadcast shape of ``d`` and ``n``
    """
    _check(alpha, alternative)
    n = np.asarray(n, dtype=np.float64)
    return _power(np.asarray(d, np.float64) * np.sqrt(n), n - 1, alpha, alternative)


def power_independent(d: float | np.ndarray, n1: float | np.ndarray,
                      n2: float | np.ndarray | None = None, *, alpha: float = 0.05,
                      alternative: str = "larger") -> np.ndarray:
    """Power of a two-sample (pooled-variance) t test with ``n1`` and ``n2`` observations.

    Parameters
    ----------
    d : float or ndarray
        Cohen's d, :math:`(\\mu_1 - \\mu_2) / \\sigma_{pooled}`.
    n1, n2 : float or ndarray
        Group sizes; ``n2`` defaults to ``n1``.
    alpha : float
    alternative : {"larger", "two-sided"}

    Returns
    -------
    power : ndarray, broadcast shape of the inputs
    """
    _check(alpha, alternative)
    n1 = np.asarray(n1, dtype=np.float64)
    n2 = n1 if n2 is None else np.asarray(n2, dtype=np.float64)
    delta = np.asarray(d, np.float64) * np.sqrt(n1 * n2 / (n1 + n2))
    return _power(delta, n1 + n2 - 2, alpha, alternative)


def _power_fn(paired: bool):
    return power_paired if paired else power_independent


def solve_n(d: float, *, power: float = 0.8, alpha: float = 0.05, paired: bool = False,
            alternative: str = "larger", n_max: float = 1e6) -> float:
    """Sample size (pairs, or observations per group) reaching ``power``, not rounded.

    Parameters
    ----------
    d : float
        Standardised effect size (Cohen's d, or :math:`d_z` when paired).
    power : float, default=0.8
        Target power, strictly between 0 and 1.
    alpha : float, default=0.05
        Significance level of the test.
    paired : bool, default=False
        A one-sample (paired) t test with ``n`` pairs (True), or an independent-samples
        t test with ``n`` observations per group (False).
    alternative : {"larger", "two-sided"}, default="larger"
    n_max : float, default=1e6
        Give up (``inf``) once the search passes this size.

    Returns
    -------
    float
        The root of ``power(d, n) = power`` in ``n`` (at least 2); ``inf`` when
        ``d ≤ 0`` (a one-sided test of a non-positive effect never reaches the power;
        two-sided uses ``|d|``) or when even ``n_max`` falls short.

    Raises
    ------
    UserInputError
        When ``power``, ``alpha`` or ``alternative`` is out of range.
    """
    if not 0 < power < 1:
        raise UserInputError(f"power must be in (0, 1), got {power!r}")
    _check(alpha, alternative)
    d = abs(d) if alternative == "two-sided" else d
    if not np.isfinite(d) or d <= 0:
        return math.inf
    f = _power_fn(paired)

    def gap(n: float) -> float:
        return float(f(d, n, alpha=alpha, alternative=alternative)) - power

    lo = 2.0
    if gap(lo) >= 0:
        return lo
    hi = 4.0
    while gap(hi) < 0:  # doubling keeps the noncentrality moderate (scipy's nct is not)
        lo, hi = hi, 2 * hi
        if lo >= n_max:
            return math.inf
    return float(optimize.brentq(gap, lo, hi, xtol=1e-10, rtol=1e-12))


def required_n(d: float, *, power: float = 0.8, alpha: float = 0.05, paired: bool = False,
               alternative: str = "larger", n_max: int = 100_000) -> int | None:
    """Smallest integer sample size with power ≥ ``power``; ``None`` if untestable.

    Parameters
    ----------
    d : float
        Standardised effect size (Cohen's d, or :math:`d_z` when paired).
    power : float, default=0.8
        Target power, strictly between 0 and 1.
    alpha : float, default=0.05
        Significance level of the test.
    paired : bool, default=False
        A one-sample (paired) t test with ``n`` pairs (True), or an independent-samples
        t test with ``n`` observations per group (False).
    alternative : {"larger", "two-sided"}, default="larger"
    n_max : int, default=100_000
        Largest sample size considered.

    Returns
    -------
    int or None
        Pairs (paired) or observations per group, at least 2; None when
        :func:`solve_n` finds no finite size.
    """
    n = solve_n(d, power=power, alpha=alpha, paired=paired, alternative=alternative,
                n_max=n_max)
    if not math.isfinite(n):
        return None
    k = max(2, math.ceil(n - 1e-9))
    f = _power_fn(paired)
    while f(d, k, alpha=alpha, alternative=alternative) < power:  # brentq tolerance guard
        k += 1
    return k


def min_detectable_d(n: float, *, power: float = 0.8, alpha: float = 0.05,
                     paired: bool = False, alternative: str = "larger") -> float:
    """Smallest effect ``d`` detected with ``power`` at sample size ``n`` (per group).

    Parameters
    ----------
    n : float
        Number of pairs (paired) or observations per group.
    power : float, default=0.8
        Target power, strictly between 0 and 1.
    alpha : float, default=0.05
        Significance level of the test.
    paired : bool, default=False
        A one-sample (paired) t test with ``n`` pairs (True), or an independent-samples
        t test with ``n`` observations per group (False).
    alternative : {"larger", "two-sided"}, default="larger"

    Returns
    -------
    float
        The root in ``d`` of ``power(d, n) = power``; ``inf`` when ``n < 2``.
    """
    if n < 2:
        return math.inf
    f = _power_fn(paired)
    return float(optimize.brentq(
        lambda d: float(f(d, n, alpha=alpha, alternative=alternative)) - power, 1e-9, 1e3,
        xtol=1e-10))
