"""What every Display shares: finding the fitted ensemble in what the user
passes, checking for matplotlib, validating vectors, making the panels and
placing the legend."""

import numpy as np
from sklearn.base import is_classifier
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

PRUNED_COLOR = "0.55"


def check_matplotlib_support(caller_name):
    """Raise an ImportError naming the ``plot`` extra if matplotlib is missing.

    Parameters
    ----------
    caller_name : str
        The name of the function or method that needs matplotlib.

    Raises
    ------
    ImportError
        If matplotlib cannot be imported.
    """
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            f"{caller_name} requires matplotlib. Install it with "
            '`pip install "skweighting[plot]"` (or `pip install matplotlib`).'
        ) from exc


# --------------------------------------------------------------------------
# The fitted ensemble inside what the user passes
# --------------------------------------------------------------------------
def _is_search(estimator):
    """Whether ``estimator`` is a hyper-parameter search (GridSearchCV,
    RandomizedSearchCV, the halving searches, or one built like them)."""
    if hasattr(estimator, "best_estimator_"):
        return True
    get_params = getattr(estimator, "get_params", None)
    if not callable(get_params):
        return False
    try:
        params = get_params(deep=False)
    except TypeError:  # get_params of a class, not of an instance
        return False
    return {"estimator", "refit"} <= set(params)


def _is_skweighting(estimator):
    return any(
        cls.__module__.partition(".")[0] == "skweighting"
        for cls in type(estimator).__mro__
    )


def _wrong_object_error(caller, expected, estimator, where, missing=()):
    """The TypeError naming what to pass instead of ``estimator``."""
    got = type(estimator).__name__
    if isinstance(estimator, str):
        got = repr(estimator)
    if where:
        got = f"{got} at {where}"
    if missing:
        got = f"{got}, which has no {', '.join(missing)}"
    return TypeError(
        f"{caller} needs {expected}, a fitted Pipeline whose last step is "
        "one, or a fitted search (GridSearchCV, RandomizedSearchCV) whose "
        f"best_estimator_ is one of these; got {got}."
    )


def _unwrap(estimator, caller, expected):
    """The last step of fitted Pipelines and the best_estimator_ of fitted
    searches, as deep as they nest; and where it was found, for messages."""
    where = ""
    while True:
        if isinstance(estimator, Pipeline):
            check_is_fitted(estimator)
            where = f"{where or type(estimator).__name__}[-1]"
            estimator = estimator[-1]
        elif _is_search(estimator):
            check_is_fitted(estimator)
            if not hasattr(estimator, "best_estimator_"):
                raise TypeError(
                    f"{caller} reads the best_estimator_ of a search, and this "
                    f"{type(estimator).__name__} has none (it was fitted with "
                    "refit=False). Fit it with refit=True, or pass the fitted "
                    "ensemble itself."
                )
            where = f"{where or type(estimator).__name__}.best_estimator_"
            estimator = estimator.best_estimator_
        else:
            return estimator, where


def resolve_fitted_estimator(estimator, *, caller, attributes, expected):
    """The fitted ensemble to plot, from what the user passed.

    Parameters
    ----------
    estimator : object
        A fitted ensemble, a fitted :class:`~sklearn.pipeline.Pipeline` whose
        last step is one, or a fitted search whose ``best_estimator_`` is
        either (searches and Pipelines may nest).

    caller : str
        The method asking, named in the messages.

    attributes : list of str
        The fitted attributes the caller reads.

    expected : str
        What ``caller`` needs, for the messages (e.g. "a fitted skweighting
        ensemble (SparseAttentionClassifier, ...)").

    Returns
    -------
    estimator : estimator instance
        The fitted ensemble, with every one of ``attributes``.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If the ensemble, a Pipeline or a search is not fitted; the message
        names the object that is not.

    TypeError
        If what was passed does not hold such an ensemble, or a search has
        no ``best_estimator_``; the message names what to pass.
    """
    leaf, where = _unwrap(estimator, caller, expected)
    if not hasattr(leaf, "fit"):
        raise _wrong_object_error(caller, expected, leaf, where)
    try:
        check_is_fitted(leaf)
    except NotFittedError:
        if not _is_skweighting(leaf):
            # Fitting an estimator of another library would not help.
            raise _wrong_object_error(caller, expected, leaf, where) from None
        raise
    missing = [name for name in attributes if not hasattr(leaf, name)]
    if missing:
        raise _wrong_object_error(caller, expected, leaf, where, missing)
    return leaf


def default_score_name(estimator):
    """What ``oof_scores_`` measures, as an axis label."""
    if is_classifier(estimator):
        return "out-of-fold log-likelihood"
    return "out-of-fold R^2"


# --------------------------------------------------------------------------
# Validation of the data to plot
# --------------------------------------------------------------------------
def as_names(module_names, n_modules):
    """The module names as strings, one per module."""
    names = [str(name) for name in module_names]
    if len(names) != n_modules:
        raise ValueError(
            f"Got {len(names)} module_names for {n_modules} modules; pass one "
            "name per module."
        )
    return names


def optional_vector(values, length, what):
    """``values`` as a float vector of ``length`` values, or None."""
    if values is None:
        return None
    values = np.asarray(values, dtype=np.float64).ravel()
    if values.shape[0] != length:
        raise ValueError(f"{what} has {values.shape[0]} values; expected {length}.")
    return values


def style(defaults, user):
    """The keyword arguments of a matplotlib call: ``user``'s over ``defaults``."""
    return {**defaults, **(user or {})}


# --------------------------------------------------------------------------
# Axes and legend
# --------------------------------------------------------------------------
def panel_axes(ax, *, second, side, figsize, ratios, names):
    """The main Axes and, if ``second``, a panel beside it sharing one axis.

    Parameters
    ----------
    ax : None, matplotlib Axes or array-like of Axes
        None: a new Figure with both panels. One Axes: the main panel, the
        second carved from its ``side``. Several: the panels, in order.

    second : bool
        Whether a second panel is wanted.

    side : {"right", "bottom"}
        Where the second panel goes; it shares the y axis of the main one
        on the right, the x axis below.

    figsize : tuple of float
        The size of a new Figure.

    ratios : tuple of float
        The relative sizes of the two panels of a new Figure; the second
        one's share also sizes a panel carved from ``ax``.

    names : tuple of str
        What the panels show, for the message when ``ax`` has too many or
        too few Axes.

    Returns
    -------
    main_ax : matplotlib Axes

    second_ax : matplotlib Axes or None
    """
    import matplotlib.pyplot as plt

    share = "sharey" if side == "right" else "sharex"
    if ax is None:
        shape = (1, 1 + second) if side == "right" else (1 + second, 1)
        ratio_key = "width_ratios" if side == "right" else "height_ratios"
        _, axes = plt.subplots(
            *shape,
            squeeze=False,
            figsize=figsize,
            layout="constrained",
            gridspec_kw={ratio_key: list(ratios[: 1 + second])},
            **{share: True},
        )
        axes = axes.ravel()
        return axes[0], axes[1] if second else None
    if np.ndim(ax) == 0:
        if not second:
            return ax, None
        from mpl_toolkits.axes_grid1 import make_axes_locatable

        size = f"{100 * ratios[1] / ratios[0]:.0f}%"
        pad = 0.15 if side == "right" else 0.1
        carved = make_axes_locatable(ax).append_axes(
            side, size=size, pad=pad, **{share: ax}
        )
        return ax, carved
    axes = list(np.ravel(ax))
    expected = 1 + second
    if len(axes) != expected:
        raise ValueError(
            f"ax must be one Axes or {expected} Axes ({', '.join(names[:expected])}); "
            f"got {len(axes)} Axes."
        )
    return axes[0], axes[1] if second else None


def legend_above(ax, artists, *, max_columns=4):
    """One legend of ``artists`` (by their labels) above ``ax``, outside it,
    so that it never hides what is drawn.

    Parameters
    ----------
    ax : matplotlib Axes
        The Axes the legend belongs to.

    artists : list of matplotlib Artist
        The legend entries, each labelled by its ``get_label()``.

    max_columns : int, default=4
        The most entries side by side.

    Returns
    -------
    matplotlib Legend
    """
    return ax.legend(
        artists,
        [artist.get_label() for artist in artists],
        loc="lower center",
        bbox_to_anchor=(0.5, 1.01),
        ncols=max(1, min(len(artists), max_columns)),
        fontsize="small",
        frameon=False,
    )
