"""The inner-CV scores along the temperature path, read from ``cv_results_``.

``cv_results_`` is a GridSearchCV-style dict: one row per candidate, its
parameters in ``param_*`` columns (masked, None or NaN where a candidate has
no such parameter, as a module alone has no temperature), any number of
other columns. The path's rows are those of the path's combination and
normaliser with a temperature and no module alone.
"""

import numpy as np


def _is_missing(value):
    if value is None or value is np.ma.masked:
        return True
    return isinstance(value, (float, np.floating)) and bool(np.isnan(value))


def _column(cv_results, key):
    """The values of column ``key`` as objects, and which rows have none."""
    values = cv_results[key]
    missing = np.ma.getmaskarray(values).ravel()
    data = np.asarray(np.ma.getdata(values), dtype=object).ravel()
    return data, missing | np.array([_is_missing(v) for v in data], dtype=bool)


def _path_parameter(estimator, path_attribute, chosen_attribute, single_module):
    """The path's combination or normaliser; None if the estimator does not
    say. Without ``path_*_``, the chosen one is the path's unless a module
    alone was chosen (then ``combine_``/``normaliser_`` describe the module
    alone, not the path)."""
    if hasattr(estimator, path_attribute):
        return getattr(estimator, path_attribute)
    if single_module is None:
        return getattr(estimator, chosen_attribute, None)
    return None


def _path_rows(estimator, cv_results, single_module):
    """Which rows of ``cv_results`` are candidates of the path."""
    n_rows = len(cv_results["mean_test_score"])
    _, no_temperature = _column(cv_results, "param_temperature")
    keep = ~no_temperature
    if "param_module" in cv_results:
        _, no_module = _column(cv_results, "param_module")
        keep &= no_module
    for key, attributes in (
        ("param_combine", ("path_combine_", "combine_")),
        ("param_normaliser", ("path_normaliser_", "normaliser_")),
    ):
        wanted = _path_parameter(estimator, *attributes, single_module)
        if key in cv_results and wanted is not None:
            values, missing = _column(cv_results, key)
            keep &= ~missing & np.array([v == wanted for v in values], dtype=bool)
    return np.flatnonzero(keep[:n_rows])


def path_scores(estimator, temperatures, single_module):
    """The mean and standard deviation of the inner-CV score at each of
    ``temperatures``, for the path's combination and normaliser.

    Parameters
    ----------
    estimator : estimator instance
        A fitted cross-validated ensemble.

    temperatures : ndarray of shape (n_temperatures,)
        The temperatures of the path.

    single_module : str or None
        The module chosen alone, if one was.

    Returns
    -------
    scores : ndarray of shape (n_temperatures,) or None
        None if the estimator has no ``cv_results_`` with
        ``mean_test_score`` and ``param_temperature``.

    scores_std : ndarray of shape (n_temperatures,) or None
        None also without ``std_test_score``.

    Raises
    ------
    ValueError
        If a temperature of the path has no row, or several rows that the
        estimator's attributes cannot tell apart.
    """
    cv_results = getattr(estimator, "cv_results_", None)
    if cv_results is None or not {"mean_test_score", "param_temperature"} <= set(
        cv_results
    ):
        return None, None
    rows = _path_rows(estimator, cv_results, single_module)
    values, _ = _column(cv_results, "param_temperature")
    row_temperatures = np.array([float(v) for v in values[rows]], dtype=np.float64)
    order = np.empty(len(temperatures), dtype=np.intp)
    for i, temperature in enumerate(temperatures):
        match = rows[np.isclose(row_temperatures, temperature, rtol=1e-9, atol=0.0)]
        if match.size == 0:
            raise ValueError(
                f"cv_results_ has no score at temperature {temperature:g} for "
                "the path's combination and normaliser."
            )
        if match.size > 1:
            raise ValueError(
                f"cv_results_ has {match.size} candidates at temperature "
                f"{temperature:g} and the estimator does not say which one the "
                "path is (it has no path_combine_ and path_normaliser_)."
            )
        order[i] = match[0]
    means = np.asarray(cv_results["mean_test_score"], dtype=np.float64)[order]
    stds = cv_results.get("std_test_score")
    if stds is not None:
        stds = np.asarray(stds, dtype=np.float64)[order]
    return means, stds


def single_module_score(estimator, single_module):
    """The mean inner-CV score of ``single_module`` alone, or None if
    ``cv_results_`` has no row for it (no ``param_module`` column)."""
    cv_results = getattr(estimator, "cv_results_", None)
    if (
        single_module is None
        or cv_results is None
        or not {"mean_test_score", "param_module"} <= set(cv_results)
    ):
        return None
    values, missing = _column(cv_results, "param_module")
    rows = np.flatnonzero(
        ~missing & np.array([str(v) == single_module for v in values], dtype=bool)
    )
    if rows.size != 1:
        return None
    return float(np.asarray(cv_results["mean_test_score"], dtype=np.float64)[rows[0]])
