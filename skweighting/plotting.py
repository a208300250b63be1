"""Display objects that plot what a sparse-attention ensemble learned.

The classes follow scikit-learn's Display convention: a Display holds the
data to plot; ``from_estimator`` builds one from a fitted estimator and plots
it; ``plot`` draws on given or new Axes, stores the Axes, the Figure and the
artists as attributes ending in ``_`` and returns the Display.

matplotlib is imported only inside ``plot``, so this module (and the
package) imports without it. Install it with ``pip install "skweighting[plot]"``.
"""

import numpy as np
from sklearn.base import is_classifier
from sklearn.utils.validation import check_is_fitted

__all__ = ["AttentionDisplay", "TemperaturePathDisplay"]

_PRUNED_COLOR = "0.55"


def _check_matplotlib_support(caller_name):
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


def _as_names(module_names, n_modules):
    names = [str(name) for name in module_names]
    if len(names) != n_modules:
        raise ValueError(
            f"Got {len(names)} module_names for {n_modules} modules; pass one "
            "name per module."
        )
    return names


def _optional_vector(values, length, what):
    if values is None:
        return None
    values = np.asarray(values, dtype=np.float64).ravel()
    if values.shape[0] != length:
        raise ValueError(f"{what} has {values.shape[0]} values; expected {length}.")
    return values


def _default_score_name(estimator):
    if is_classifier(estimator):
        return "out-of-fold log-likelihood"
    return "out-of-fold R^2"


# --------------------------------------------------------------------------
# AttentionDisplay
# --------------------------------------------------------------------------
class AttentionDisplay:
    """Attention weights of the modules, beside their out-of-fold scores.

    Each module's weight is drawn as a horizontal bar. When out-of-fold scores
    are given, a second panel sharing the module axis shows each module's own
    out-of-fold score as a dot, so that the weights can be read against how
    good every module is alone. Modules with a weight of exactly zero are
    marked as pruned: their bar is empty, their name and score are grey and
    the word "pruned" stands where the bar would be.

    It is recommended to use :meth:`from_estimator` to create an
    ``AttentionDisplay``. All parameters are stored as attributes.

    Parameters
    ----------
    weights : array-like of shape (n_modules,)
        The attention weight of each module.

    module_names : list of str of length n_modules
        The name of each module, in the order of ``weights``.

    oof_scores : array-like of shape (n_modules,), default=None
        Each module's own out-of-fold score. If None, only the weights are
        drawn.

    score_name : str, default=None
        Label of the score axis. If None, "out-of-fold score" is used.

    pruned : array-like of bool of shape (n_modules,), default=None
        Which modules to mark as pruned. If None, the modules whose weight is
        exactly zero.

    Attributes
    ----------
    bars_ : matplotlib BarContainer
        The horizontal bars of the weights; ``bars_[m].get_width()`` is the
        weight of module ``m``.

    annotations_ : list of matplotlib Text
        One text per module beside its bar: the weight, or "pruned".

    score_points_ : matplotlib PathCollection or None
        The dots of the out-of-fold scores; None without ``oof_scores``.

    ax_ : matplotlib Axes
        The Axes with the weight bars.

    score_ax_ : matplotlib Axes or None
        The Axes with the out-of-fold scores; None without ``oof_scores``.

    axes_ : ndarray of matplotlib Axes
        ``[ax_, score_ax_]``, or ``[ax_]`` without ``oof_scores``.

    figure_ : matplotlib Figure
        The Figure holding the Axes.

    See Also
    --------
    TemperaturePathDisplay : The weights along a path of temperatures.

    Examples
    --------
    >>> from skweighting.plotting import AttentionDisplay
    >>> disp = AttentionDisplay(
    ...     weights=[0.7, 0.3, 0.0],
    ...     module_names=["lr", "tree", "nb"],
    ...     oof_scores=[-0.08, -0.21, -0.95],
    ...     score_name="out-of-fold log-likelihood",
    ... )
    >>> disp.plot()  # doctest: +SKIP

    From a fitted ensemble:

    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.naive_bayes import GaussianNB
    >>> from skweighting import SparseAttentionClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = SparseAttentionClassifier(
    ...     [("lr", LogisticRegression(max_iter=1000)), ("nb", GaussianNB())], cv=3
    ... ).fit(X, y)
    >>> AttentionDisplay.from_estimator(clf)  # doctest: +SKIP
    """

    def __init__(
        self, weights, module_names, oof_scores=None, score_name=None, pruned=None
    ):
        self.weights = weights
        self.module_names = module_names
        self.oof_scores = oof_scores
        self.score_name = score_name
        self.pruned = pruned

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, **kwargs):
        """Plot the attention weights of a fitted sparse-attention ensemble.

        Parameters
        ----------
        estimator : estimator instance
            A fitted :class:`~skweighting.SparseAttentionClassifier`,
            :class:`~skweighting.SparseAttentionRegressor`,
            :class:`~skweighting.SparseAttentionEnsemble`,
            :class:`~skweighting.SparseAttentionClassifierCV` or
            :class:`~skweighting.SparseAttentionRegressorCV` (anything with
            ``attention_weights_``, ``module_names_`` and ``oof_scores_``).

        ax : matplotlib Axes or array-like of two Axes, default=None
            Where to draw; see :meth:`plot`.

        **kwargs : dict
            Passed to :meth:`plot` (``bar_kw``, ``score_kw``).

        Returns
        -------
        :class:`~skweighting.plotting.AttentionDisplay`
            The plotted display.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If ``estimator`` is not fitted.
        """
        _check_matplotlib_support(f"{cls.__name__}.from_estimator")
        check_is_fitted(estimator, ["attention_weights_", "module_names_"])
        display = cls(
            weights=estimator.attention_weights_,
            module_names=estimator.module_names_,
            oof_scores=getattr(estimator, "oof_scores_", None),
            score_name=_default_score_name(estimator),
        )
        return display.plot(ax=ax, **kwargs)

    def plot(self, ax=None, *, bar_kw=None, score_kw=None):
        """Draw the weights, and the out-of-fold scores if there are any.

        Parameters
        ----------
        ax : matplotlib Axes or array-like of two Axes, default=None
            If None, a new Figure is made with one panel for the weights and,
            when there are ``oof_scores``, a second one for the scores. If a
            single Axes, the weights are drawn on it and the score panel (if
            any) is carved from its right side. If two Axes, the weights go on
            the first and the scores on the second.

        bar_kw : dict, default=None
            Keyword arguments for :meth:`matplotlib.axes.Axes.barh`.

        score_kw : dict, default=None
            Keyword arguments for :meth:`matplotlib.axes.Axes.scatter` of the
            scores.

        Returns
        -------
        :class:`~skweighting.plotting.AttentionDisplay`
            The display, with the attributes ending in ``_`` set.
        """
        _check_matplotlib_support(f"{type(self).__name__}.plot")
        import matplotlib.pyplot as plt

        weights = np.asarray(self.weights, dtype=np.float64).ravel()
        n_modules = weights.shape[0]
        names = _as_names(self.module_names, n_modules)
        scores = _optional_vector(self.oof_scores, n_modules, "oof_scores")
        if self.pruned is None:
            pruned = weights == 0.0
        else:
            pruned = np.asarray(self.pruned, dtype=bool).ravel()
            if pruned.shape[0] != n_modules:
                raise ValueError(
                    f"pruned has {pruned.shape[0]} values; expected {n_modules}."
                )
        with_scores = scores is not None

        # ---- the Axes ----------------------------------------------------
        if ax is None:
            ncols = 2 if with_scores else 1
            _, axes = plt.subplots(
                1,
                ncols,
                sharey=True,
                squeeze=False,
                figsize=(7.0 if with_scores else 5.0, 1.2 + 0.4 * max(n_modules, 3)),
                gridspec_kw={"width_ratios": [3, 2][:ncols]},
                layout="constrained",
            )
            weight_ax = axes[0, 0]
            score_ax = axes[0, 1] if with_scores else None
        elif np.ndim(ax) == 0:
            weight_ax, score_ax = ax, None
            if with_scores:
                from mpl_toolkits.axes_grid1 import make_axes_locatable

                score_ax = make_axes_locatable(ax).append_axes(
                    "right", size="65%", pad=0.15, sharey=ax
                )
        else:
            axes = list(np.ravel(ax))
            expected = 2 if with_scores else 1
            if len(axes) != expected:
                raise ValueError(
                    f"ax must be one Axes or {expected} Axes "
                    f"({'weights, scores' if with_scores else 'weights'}); "
                    f"got {len(axes)} Axes."
                )
            weight_ax = axes[0]
            score_ax = axes[1] if with_scores else None

        # ---- the weights -------------------------------------------------
        y = np.arange(n_modules)
        bar_kw = {"color": "C0", "height": 0.6, **(bar_kw or {})}
        bars = weight_ax.barh(y, weights, **bar_kw)
        for patch, is_pruned in zip(bars.patches, pruned):
            if is_pruned:
                patch.set_facecolor("none")
                patch.set_edgecolor(_PRUNED_COLOR)
                patch.set_hatch("//")

        annotations = []
        for m in range(n_modules):
            if pruned[m]:
                text = weight_ax.annotate(
                    "pruned",
                    (max(weights[m], 0.0), y[m]),
                    xytext=(4, 0),
                    textcoords="offset points",
                    va="center",
                    color=_PRUNED_COLOR,
                    style="italic",
                )
            else:
                text = weight_ax.annotate(
                    f"{weights[m]:.3g}",
                    (weights[m], y[m]),
                    xytext=(4, 0),
                    textcoords="offset points",
                    va="center",
                )
            annotations.append(text)

        weight_ax.set_yticks(y, names)
        for label, is_pruned in zip(weight_ax.get_yticklabels(), pruned):
            if is_pruned:
                label.set_color(_PRUNED_COLOR)
        if not weight_ax.yaxis_inverted():
            weight_ax.invert_yaxis()  # first module on top
        top = max(float(np.max(weights, initial=0.0)), 0.05)
        weight_ax.set_xlim(0.0, 1.3 * top)
        weight_ax.set_xlabel("attention weight")
        weight_ax.set_ylabel("module")

        # ---- the scores --------------------------------------------------
        points = None
        if with_scores:
            kept = bar_kw["color"] if isinstance(bar_kw["color"], str) else "C0"
            score_kw = {
                "s": 36,
                "facecolors": ["none" if p else kept for p in pruned],
                "edgecolors": [_PRUNED_COLOR if p else kept for p in pruned],
                "zorder": 3,
                **(score_kw or {}),
            }
            points = score_ax.scatter(scores, y, **score_kw)
            score_ax.grid(axis="x", alpha=0.4)
            score_ax.tick_params(axis="y", labelleft=False)
            score_ax.set_xlabel(
                "out-of-fold score" if self.score_name is None else self.score_name
            )
            score_ax.margins(x=0.15)

        self.bars_ = bars
        self.annotations_ = annotations
        self.score_points_ = points
        self.ax_ = weight_ax
        self.score_ax_ = score_ax
        self.axes_ = np.array(
            [weight_ax] if score_ax is None else [weight_ax, score_ax], dtype=object
        )
        self.figure_ = weight_ax.figure
        return self


# --------------------------------------------------------------------------
# TemperaturePathDisplay
# --------------------------------------------------------------------------
def _values(cv_results, key):
    values = cv_results[key]
    return np.asarray(np.ma.getdata(values), dtype=object).ravel()


class TemperaturePathDisplay:
    """Attention weights of the modules along a path of temperatures.

    One line per module shows its weight against the temperature (log
    scale). The chosen temperature is marked with a vertical line and, when
    scores are given, the inner cross-validation score is drawn on a twin
    axis, its mean as a line within a band of plus and minus one standard
    deviation.

    It is recommended to use :meth:`from_estimator` to create a
    ``TemperaturePathDisplay``. All parameters are stored as attributes.

    Parameters
    ----------
    temperatures : array-like of shape (n_temperatures,)
        The temperatures of the path.

    weights_path : array-like of shape (n_temperatures, n_modules)
        The weights learned at each temperature.

    module_names : list of str of length n_modules
        The name of each module, in the order of the columns of
        ``weights_path``.

    chosen_temperature : float, default=None
        The temperature chosen by cross-validation; not marked if None.

    scores : array-like of shape (n_temperatures,), default=None
        The mean inner cross-validation score at each temperature; not drawn
        if None.

    scores_std : array-like of shape (n_temperatures,), default=None
        The standard deviation of the scores; no band if None.

    score_name : str, default=None
        Label of the score axis. If None, "inner-CV score" is used.

    Attributes
    ----------
    lines_ : list of matplotlib Line2D
        One line per module; ``lines_[m].get_ydata()`` is
        ``weights_path[:, m]``.

    score_line_ : matplotlib Line2D or None
        The mean score against temperature; None without ``scores``.

    score_band_ : matplotlib PolyCollection or None
        The band of plus and minus one standard deviation around the mean
        score; None without ``scores`` or ``scores_std``.

    chosen_line_ : matplotlib Line2D or None
        The vertical line at the chosen temperature; None without
        ``chosen_temperature``.

    ax_ : matplotlib Axes
        The Axes with the weights.

    score_ax_ : matplotlib Axes or None
        The twin Axes with the scores; None without ``scores``.

    figure_ : matplotlib Figure
        The Figure holding the Axes.

    See Also
    --------
    AttentionDisplay : The weights of one fitted ensemble.

    Examples
    --------
    >>> from skweighting.plotting import TemperaturePathDisplay
    >>> disp = TemperaturePathDisplay(
    ...     temperatures=[0.1, 1.0, 10.0],
    ...     weights_path=[[1.0, 0.0], [0.8, 0.2], [0.55, 0.45]],
    ...     module_names=["lr", "tree"],
    ...     chosen_temperature=1.0,
    ...     scores=[-0.20, -0.15, -0.18],
    ...     scores_std=[0.02, 0.02, 0.03],
    ... )
    >>> disp.plot()  # doctest: +SKIP
    """

    def __init__(
        self,
        temperatures,
        weights_path,
        module_names,
        chosen_temperature=None,
        scores=None,
        scores_std=None,
        score_name=None,
    ):
        self.temperatures = temperatures
        self.weights_path = weights_path
        self.module_names = module_names
        self.chosen_temperature = chosen_temperature
        self.scores = scores
        self.scores_std = scores_std
        self.score_name = score_name

    @classmethod
    def from_estimator(cls, cv_estimator, *, ax=None, **kwargs):
        """Plot the temperature path of a fitted cross-validated ensemble.

        Parameters
        ----------
        cv_estimator : estimator instance
            A fitted cross-validated sparse-attention ensemble, with
            ``temperatures_`` (ascending), ``weights_path_`` of shape
            (n_temperatures, n_modules), ``temperature_``, ``module_names_``
            and ``cv_results_``. The scores are the rows of ``cv_results_``
            whose ``param_combine`` and ``param_normaliser`` equal the
            estimator's ``path_combine_`` and ``path_normaliser_`` (or
            ``combine_`` and ``normaliser_``), matched to ``temperatures_``
            by ``param_temperature``. With a module alone chosen
            (``temperature_`` None) no temperature is marked.

        ax : matplotlib Axes, default=None
            Where to draw; see :meth:`plot`.

        **kwargs : dict
            Passed to :meth:`plot` (``line_kw``, ``score_kw``, ``chosen_kw``).

        Returns
        -------
        :class:`~skweighting.plotting.TemperaturePathDisplay`
            The plotted display.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If ``cv_estimator`` is not fitted.

        ValueError
            If ``cv_results_`` lacks a score for a temperature of the path.
        """
        _check_matplotlib_support(f"{cls.__name__}.from_estimator")
        check_is_fitted(cv_estimator)
        missing = [
            attr
            for attr in ("temperatures_", "weights_path_", "module_names_")
            if not hasattr(cv_estimator, attr)
        ]
        if missing:
            raise TypeError(
                f"{cls.__name__}.from_estimator needs a fitted cross-validated "
                f"ensemble that searched over temperatures; "
                f"{type(cv_estimator).__name__} has no {', '.join(missing)}."
            )
        temperatures = np.asarray(cv_estimator.temperatures_, dtype=np.float64)

        scores = scores_std = None
        cv_results = getattr(cv_estimator, "cv_results_", None)
        if cv_results is not None and "mean_test_score" in cv_results:
            scores, scores_std = cls._path_scores(cv_estimator, cv_results)

        scoring = getattr(cv_estimator, "scoring", None)
        score_name = (
            f"inner-CV {scoring}" if isinstance(scoring, str) else "inner-CV score"
        )
        display = cls(
            temperatures=temperatures,
            weights_path=cv_estimator.weights_path_,
            module_names=cv_estimator.module_names_,
            chosen_temperature=getattr(cv_estimator, "temperature_", None),
            scores=scores,
            scores_std=scores_std,
            score_name=score_name,
        )
        return display.plot(ax=ax, **kwargs)

    @staticmethod
    def _path_scores(cv_estimator, cv_results):
        """Mean and std of the scores at each of ``temperatures_``."""
        temperatures = np.asarray(cv_estimator.temperatures_, dtype=np.float64)
        n_rows = len(cv_results["mean_test_score"])
        keep = np.ones(n_rows, dtype=bool)
        for key, attrs in (
            ("param_combine", ("path_combine_", "combine_")),
            ("param_normaliser", ("path_normaliser_", "normaliser_")),
        ):
            # The path's own combination and normaliser (the chosen ones,
            # unless a module alone was chosen).
            attr = next((a for a in attrs if hasattr(cv_estimator, a)), None)
            if key in cv_results and attr is not None:
                chosen = getattr(cv_estimator, attr)
                keep &= np.array([v == chosen for v in _values(cv_results, key)])
        rows = np.flatnonzero(keep)
        row_temperatures = _values(cv_results, "param_temperature")[rows].astype(
            np.float64
        )
        means = np.asarray(cv_results["mean_test_score"], dtype=np.float64)
        stds = cv_results.get("std_test_score")
        stds = None if stds is None else np.asarray(stds, dtype=np.float64)

        order = np.empty(len(temperatures), dtype=np.intp)
        for i, t in enumerate(temperatures):
            match = np.flatnonzero(np.isclose(row_temperatures, t, rtol=1e-9))
            if match.size == 0:
                raise ValueError(
                    f"cv_results_ has no score at temperature {t:g} for the "
                    "chosen combination and normaliser."
                )
            order[i] = rows[match[0]]
        return means[order], None if stds is None else stds[order]

    def plot(self, ax=None, *, line_kw=None, score_kw=None, chosen_kw=None):
        """Draw the weight of each module against the temperature.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            The Axes for the weights; the scores go on a twin Axes of it. If
            None, a new Figure and Axes are made.

        line_kw : dict, default=None
            Keyword arguments for :meth:`matplotlib.axes.Axes.plot` of every
            module's line.

        score_kw : dict, default=None
            Keyword arguments for :meth:`matplotlib.axes.Axes.plot` of the
            mean score line.

        chosen_kw : dict, default=None
            Keyword arguments for :meth:`matplotlib.axes.Axes.axvline` of the
            chosen temperature.

        Returns
        -------
        :class:`~skweighting.plotting.TemperaturePathDisplay`
            The display, with the attributes ending in ``_`` set.
        """
        _check_matplotlib_support(f"{type(self).__name__}.plot")
        import matplotlib.pyplot as plt

        temperatures = np.asarray(self.temperatures, dtype=np.float64).ravel()
        n_temperatures = temperatures.shape[0]
        weights_path = np.asarray(self.weights_path, dtype=np.float64)
        if weights_path.ndim != 2 or weights_path.shape[0] != n_temperatures:
            raise ValueError(
                "weights_path must have shape (n_temperatures, n_modules) = "
                f"({n_temperatures}, n_modules); got {weights_path.shape}."
            )
        names = _as_names(self.module_names, weights_path.shape[1])
        scores = _optional_vector(self.scores, n_temperatures, "scores")
        scores_std = _optional_vector(self.scores_std, n_temperatures, "scores_std")

        if ax is None:
            _, ax = plt.subplots(figsize=(7.0, 4.0), layout="constrained")

        line_kw = {"marker": "o", "markersize": 3, **(line_kw or {})}
        lines = [
            ax.plot(temperatures, weights_path[:, m], label=name, **line_kw)[0]
            for m, name in enumerate(names)
        ]
        ax.set_xscale("log")
        ax.set_xlabel("temperature")
        ax.set_ylabel("attention weight")
        ax.set_ylim(-0.03, 1.03)

        chosen_line = None
        if self.chosen_temperature is not None:
            chosen = float(self.chosen_temperature)
            chosen_kw = {
                "color": "k",
                "linestyle": "--",
                "linewidth": 1.0,
                "label": f"chosen temperature ({chosen:.3g})",
                **(chosen_kw or {}),
            }
            chosen_line = ax.axvline(chosen, **chosen_kw)

        score_ax = score_line = score_band = None
        if scores is not None:
            score_ax = ax.twinx()
            score_kw = {
                "color": "0.3",
                "linestyle": ":",
                "linewidth": 2.0,
                "label": "mean inner-CV score",
                **(score_kw or {}),
            }
            (score_line,) = score_ax.plot(temperatures, scores, **score_kw)
            if scores_std is not None:
                score_band = score_ax.fill_between(
                    temperatures,
                    scores - scores_std,
                    scores + scores_std,
                    color=score_line.get_color(),
                    alpha=0.15,
                    linewidth=0,
                    label="± 1 std",
                )
            score_ax.set_ylabel(
                "inner-CV score" if self.score_name is None else self.score_name
            )

        if score_ax is not None:
            # The weights in front of the score band.
            ax.set_zorder(score_ax.get_zorder() + 1)
            ax.patch.set_visible(False)

        # One legend for both Axes, above them.
        handles, labels = ax.get_legend_handles_labels()
        if score_ax is not None:
            more_handles, more_labels = score_ax.get_legend_handles_labels()
            handles, labels = handles + more_handles, labels + more_labels
        ax.legend(
            handles,
            labels,
            loc="lower center",
            bbox_to_anchor=(0.5, 1.01),
            ncols=min(len(handles), 4),
            fontsize="small",
            frameon=False,
        )

        self.lines_ = lines
        self.score_line_ = score_line
        self.score_band_ = score_band
        self.chosen_line_ = chosen_line
        self.ax_ = ax
        self.score_ax_ = score_ax
        self.figure_ = ax.figure
        return self
