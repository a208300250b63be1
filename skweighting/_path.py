"""The temperature path: where the weights leave the out-of-fold optimum and
where they reach uniform weights, and the fits along it.

Pure functions of an `~skweighting._objective.Objective`; the CV
estimators (`skweighting._cv`) score these fits on inner splits.
"""

import numpy as np

from ._normalisers import NORMALISERS
from ._objective import Objective
from ._solvers import learn_attention

# The automatic path's ends are where the penalty has cost the out-of-fold
# loss these fractions of the way from the unpenalised optimum to uniform
# weights.
PATH_ENDS = (0.01, 0.99)
# The path starts this many times below the first end (where the penalty
# starts to cost), and never above the plain estimators' default temperature
# of 1: the out-of-fold optimum itself is a candidate.
PATH_START_DIVISOR = 10.0
# Rows used to find the ends of the path (the weights' optimum moves little
# with more rows).
PATH_ROWS = 5000
# The temperatures searched for the ends of the automatic path: half-decade
# steps over a range far wider than any data set needs.
SEARCH_TEMPERATURES = 10.0 ** np.arange(-4.0, 6.01, 0.5)


def fit_path(objective, temperatures, *, max_iter, tol, seed):
    """Fits of ``objective`` at each of ``temperatures``, each warm-started
    from the previous one."""
    fits, previous = [], None
    for temperature in temperatures:
        previous = learn_attention(
            objective.at(temperature),
            max_iter=max_iter,
            tol=tol,
            random_state=seed,
            warm_start=previous,
        )
        fits.append(previous)
    return fits


def temperature_range(objective, *, max_iter, tol, seed):
    """Temperatures where ``objective``'s weights leave the unpenalised
    optimum and where they reach (nearly) uniform weights.

    The data loss along the temperature path rises monotonically from its
    unpenalised optimum to its value at uniform weights; the ends are where
    it has covered `PATH_ENDS` of that rise, interpolated in log T along a
    warm-started sweep of `SEARCH_TEMPERATURES`.
    """
    loss = objective.loss
    # The optimum over the simplex, whatever the normaliser: sparsemax at
    # alpha=0 reaches it exactly.
    optimum = learn_attention(
        Objective(loss, NORMALISERS["sparsemax"], alpha=0.0, temperature=1.0),
        max_iter=max_iter,
    )
    low_loss = loss.value(optimum.weights, optimum.extra)
    sweep = fit_path(
        objective, SEARCH_TEMPERATURES, max_iter=max_iter, tol=tol, seed=seed
    )
    losses = [loss.value(fit.weights, fit.extra) for fit in sweep]
    rise = losses[-1] - low_loss
    if not rise > 1e-9 * max(1.0, abs(low_loss)):
        return 0.1, 10.0  # every weighting scores alike: any range will do
    # Monotone up to the solver's tolerance; make it so for interpolating.
    covered = np.maximum.accumulate((np.asarray(losses) - low_loss) / rise)
    log_t = np.log10(SEARCH_TEMPERATURES)
    low, high = (
        10.0 ** np.interp(fraction, covered, log_t, left=log_t[0], right=log_t[-1])
        for fraction in PATH_ENDS
    )
    return low, high


def temperature_path(objectives, n_temperatures, *, max_iter, tol, seed):
    """``n_temperatures`` log-spaced temperatures covering every objective's
    range (`temperature_range`): from `PATH_START_DIVISOR` times below the
    lowest start, capped at 1, to the highest end. Each range is found on at most
    `PATH_ROWS` rows drawn with ``seed``."""
    n_samples = objectives[0].loss.n_samples
    rows = None
    if n_samples > PATH_ROWS:
        rng = np.random.default_rng(seed)
        rows = np.sort(rng.choice(n_samples, PATH_ROWS, replace=False))
    ends = [
        temperature_range(
            objective if rows is None else objective.take(rows),
            max_iter=max_iter,
            tol=tol,
            seed=seed,
        )
        for objective in objectives
    ]
    low = min(min(end[0] for end in ends) / PATH_START_DIVISOR, 1.0)
    high = max(end[1] for end in ends)
    return np.geomspace(low, max(high, 1.01 * low), n_temperatures)
