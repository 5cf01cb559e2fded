"""Statistical efficiency of an event-related run (first-level GLM, nilearn).

The design matrix :math:`X` of a run is nilearn's
``make_first_level_design_matrix`` (Glover HRF, cosine drifts with a 1/128 Hz
high-pass, constant) over the frame times :math:`0, TR, 2TR, …`; null trials get no
regressor (they are the implicit baseline). The efficiency of a contrast vector
:math:`c` is :math:`e = 1 / (c (X^\\top X)^{-1} c^\\top)`: the inverse of the contrast
estimate's variance in units of the noise variance (Friston et al. 1999; Dale 1999).
Runs are independent, so efficiencies add over runs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

HIGH_PASS_HZ = 1.0 / 128


def run_events(order: np.ndarray, conditions: Sequence[str], *, on_s: float, trial_s: float,
               lead_in_s: float):
    """Events of one run for the design matrix (null trials dropped).

    Parameters
    ----------
    order : ndarray of int, shape (n_trials,)
        Stimulus index per slot, -1 for a null trial.
    conditions : sequence of str, length n_stimuli
        Condition of each stimulus.

    Returns
    -------
    events : pandas.DataFrame
        Columns ``onset``, ``duration``, ``trial_type``.
    """
    import pandas as pd

    o = np.asarray(order)
    onset = lead_in_s + trial_s * np.arange(len(o))
    keep = o >= 0
    cond = np.asarray(conditions, dtype=object)
    return pd.DataFrame({"onset": onset[keep], "duration": float(on_s),
                         "trial_type": cond[o[keep]]})


def frame_times(duration_s: float, tr: float) -> np.ndarray:
    """Acquisition times of the volumes of a run of ``duration_s`` seconds."""
    return np.arange(int(np.ceil(duration_s / tr - 1e-9))) * tr


def design_matrix(events, duration_s: float, tr: float):
    """nilearn first-level design matrix of one run (see the module docstring)."""
    from nilearn.glm.first_level import make_first_level_design_matrix

    return make_first_level_design_matrix(frame_times(duration_s, tr), events,
                                          hrf_model="glover", drift_model="cosine",
                                          high_pass=HIGH_PASS_HZ)


def contrast_efficiency(X, contrasts: Sequence[tuple[str, str]]) -> np.ndarray:
    """Efficiency :math:`1 / (c (X^\\top X)^{-1} c^\\top)` of difference contrasts.

    Parameters
    ----------
    X : pandas.DataFrame, shape (n_scans, n_regressors)
        A design matrix with one column per condition.
    contrasts : sequence of (plus, minus)
        Condition names; :math:`c` is +1 on ``plus`` and -1 on ``minus``.

    Returns
    -------
    efficiency : ndarray, shape (n_contrasts,)
        0 where a condition has no column in ``X`` (absent from the run).
    """
    cols = list(X.columns)
    A = np.asarray(X, dtype=np.float64)
    inv = np.linalg.pinv(A.T @ A)
    out = np.zeros(len(contrasts))
    for k, (plus, minus) in enumerate(contrasts):
        if plus not in cols or minus not in cols:
            continue
        c = np.zeros(len(cols))
        c[cols.index(plus)], c[cols.index(minus)] = 1.0, -1.0
        out[k] = 1.0 / float(c @ inv @ c)
    return out
