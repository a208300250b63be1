"""TemperaturePathDisplay: the weights along a CV estimator's temperature path."""

import numpy as np

from ._common import (
    as_names,
    check_matplotlib_support,
    legend_above,
    optional_vector,
    panel_axes,
    resolve_fitted_estimator,
    style,
)
from ._path_results import path_scores, single_module_score

_EXPECTED = (
    "a fitted cross-validated skweighting ensemble "
    "(SparseAttentionClassifierCV or SparseAttentionRegressorCV)"
)


class TemperaturePathDisplay:
    """Attention weights of the modules along a path of temperatures.

    One line per module shows its weight against the temperature (log
    scale); the chosen temperature is marked with a vertical line. When
    scores are given, a panel below, sharing the temperature axis, shows
    the mean inner cross-validation score within a light band of plus and
    minus one standard deviation, on its own scale, with the chosen
    candidate's score marked. When one module alone was chosen, no
    temperature is marked: the legend says "chose <module> alone", and the
    module's own score, if known, is a horizontal line in the score panel.

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
        The temperature chosen by cross-validation; not marked if None or
        if ``single_module`` is given.

    scores : array-like of shape (n_temperatures,), default=None
        The mean inner cross-validation score at each temperature; no score
        panel if None.

    scores_std : array-like of shape (n_temperatures,), default=None
        The standard deviation of the scores; no band if None.

    score_name : str, default=None
        Label of the score axis. If None, "inner-CV score" is used.

    single_module : str, default=None
        The module chosen alone instead of a combination along the path,
        if one was.

    single_module_score : float, default=None
        The mean inner cross-validation score of ``single_module`` alone;
        drawn only with ``scores``.

    Attributes
    ----------
    lines_ : list of matplotlib Line2D
        One line per module; ``lines_[m].get_ydata()`` is
        ``weights_path[:, m]``.

    chosen_line_ : matplotlib Line2D or None
        The vertical line at the chosen temperature; None without
        ``chosen_temperature`` or with ``single_module``.

    chosen_marker_ : matplotlib Line2D or None
        The chosen candidate's mean score, a single marker on the score
        line; None unless the chosen temperature is one of the path's and
        there are scores.

    score_line_ : matplotlib Line2D or None
        The mean score against temperature; None without ``scores``.

    score_band_ : matplotlib PolyCollection or None
        The band of plus and minus one standard deviation around the mean
        score; None without ``scores`` or ``scores_std``.

    single_module_line_ : matplotlib Line2D or None
        With ``single_module``: the horizontal line at its score in the
        score panel, or, without that score, the legend's handle (not in
        any Axes). None without ``single_module``.

    single_module_note_ : matplotlib Text or None
        The legend's text "chose <module> alone"; None without
        ``single_module``.

    legend_ : matplotlib Legend
        The legend, above the weights.

    ax_ : matplotlib Axes
        The Axes with the weights.

    score_ax_ : matplotlib Axes or None
        The Axes with the scores; None without ``scores``.

    axes_ : ndarray of matplotlib Axes
        ``[ax_, score_ax_]``, or ``[ax_]`` without ``scores``.

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
        *,
        chosen_temperature=None,
        scores=None,
        scores_std=None,
        score_name=None,
        single_module=None,
        single_module_score=None,
    ):
        self.temperatures = temperatures
        self.weights_path = weights_path
        self.module_names = module_names
        self.chosen_temperature = chosen_temperature
        self.scores = scores
        self.scores_std = scores_std
        self.score_name = score_name
        self.single_module = single_module
        self.single_module_score = single_module_score

    @classmethod
    def from_estimator(
        cls,
        estimator,
        *,
        ax=None,
        line_kw=None,
        score_kw=None,
        band_kw=None,
        chosen_kw=None,
    ):
        """Plot the temperature path of a fitted cross-validated ensemble.

        Parameters
        ----------
        estimator : estimator instance
            A fitted :class:`~skweighting.SparseAttentionClassifierCV` or
            :class:`~skweighting.SparseAttentionRegressorCV` (anything with
            ``temperatures_``, ``weights_path_`` of shape (n_temperatures,
            n_modules) and ``module_names_``); or a fitted
            :class:`~sklearn.pipeline.Pipeline` whose last step is one; or a
            fitted :class:`~sklearn.model_selection.GridSearchCV` or
            :class:`~sklearn.model_selection.RandomizedSearchCV` whose
            ``best_estimator_`` is either.

            The scores are the rows of ``cv_results_`` with a
            ``param_temperature`` and no ``param_module`` whose
            ``param_combine`` and ``param_normaliser`` are the path's
            (``path_combine_`` and ``path_normaliser_``), matched to
            ``temperatures_``. The chosen temperature is ``temperature_``,
            unless ``single_module_`` names a module chosen alone.

        ax : matplotlib Axes or array-like of two Axes, default=None
            Where to draw; see :meth:`plot`.

        line_kw, score_kw, band_kw, chosen_kw : dict, default=None
            Passed to :meth:`plot`.

        Returns
        -------
        :class:`~skweighting.plotting.TemperaturePathDisplay`
            The plotted display.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the ensemble, the Pipeline or the search is not fitted.

        TypeError
            If ``estimator`` holds no cross-validated ensemble with a
            temperature path, or is a search fitted with ``refit=False``.

        ValueError
            If ``cv_results_`` lacks a score for a temperature of the path.
        """
        caller = f"{cls.__name__}.from_estimator"
        check_matplotlib_support(caller)
        ensemble = resolve_fitted_estimator(
            estimator,
            caller=caller,
            attributes=["temperatures_", "weights_path_", "module_names_"],
            expected=_EXPECTED,
        )
        temperatures = np.asarray(ensemble.temperatures_, dtype=np.float64)
        single = getattr(ensemble, "single_module_", None)
        single = None if single is None else str(single)
        scores, scores_std = path_scores(ensemble, temperatures, single)
        scoring = getattr(ensemble, "scoring", None)
        display = cls(
            temperatures,
            ensemble.weights_path_,
            ensemble.module_names_,
            chosen_temperature=(
                None if single is not None else getattr(ensemble, "temperature_", None)
            ),
            scores=scores,
            scores_std=scores_std,
            score_name=(
                f"inner-CV {scoring}" if isinstance(scoring, str) else "inner-CV score"
            ),
            single_module=single,
            single_module_score=single_module_score(ensemble, single),
        )
        return display.plot(
            ax=ax,
            line_kw=line_kw,
            score_kw=score_kw,
            band_kw=band_kw,
            chosen_kw=chosen_kw,
        )

    def plot(
        self, ax=None, *, line_kw=None, score_kw=None, band_kw=None, chosen_kw=None
    ):
        """Draw the weight of each module against the temperature.

        Parameters
        ----------
        ax : matplotlib Axes or array-like of two Axes, default=None
            If None, a new Figure is made with a panel for the weights and,
            when there are ``scores``, a shorter one below for the scores,
            sharing the temperature axis. If a single Axes, the weights are
            drawn on it and the score panel (if any) is carved from its
            bottom. If two Axes, the weights go on the first and the scores
            on the second.

        line_kw : dict, default=None
            Keyword arguments for :meth:`matplotlib.axes.Axes.plot` of every
            module's line.

        score_kw : dict, default=None
            Keyword arguments for :meth:`matplotlib.axes.Axes.plot` of the
            mean score line.

        band_kw : dict, default=None
            Keyword arguments for :meth:`matplotlib.axes.Axes.fill_between`
            of the band of one standard deviation.

        chosen_kw : dict, default=None
            Keyword arguments for :meth:`matplotlib.axes.Axes.axvline` of the
            chosen temperature.

        Returns
        -------
        :class:`~skweighting.plotting.TemperaturePathDisplay`
            The display, with the attributes ending in ``_`` set.
        """
        check_matplotlib_support(f"{type(self).__name__}.plot")
        temperatures, weights_path, names, scores, scores_std = self._validated()
        ax, score_ax = panel_axes(
            ax,
            second=scores is not None,
            side="bottom",
            figsize=(7.0, 5.2 if scores is not None else 4.0),
            ratios=(3.0, 1.6),
            names=("weights", "scores"),
        )
        self.lines_ = _draw_weights(ax, temperatures, weights_path, names, line_kw)
        chosen = self._chosen_temperature()
        self.chosen_line_ = _draw_chosen(ax, chosen, chosen_kw)
        self.score_line_ = self.score_band_ = self.chosen_marker_ = None
        if score_ax is not None:
            self.score_line_, self.score_band_ = _draw_scores(
                score_ax,
                temperatures,
                scores,
                scores_std,
                score_kw=score_kw,
                band_kw=band_kw,
            )
            score_ax.set_ylabel(
                "inner-CV score" if self.score_name is None else self.score_name
            )
            self.chosen_marker_ = _mark_chosen_score(
                score_ax, temperatures, scores, chosen
            )
            _label_shared_temperature_axis(ax, score_ax)
        self.single_module_line_ = self._draw_single_module(score_ax, names)
        self._draw_legend(ax)
        self.ax_ = ax
        self.score_ax_ = score_ax
        self.axes_ = np.array(
            [a for a in (ax, score_ax) if a is not None], dtype=object
        )
        self.figure_ = ax.figure
        return self

    def _validated(self):
        """The temperatures, weights, names, scores and stds to draw."""
        temperatures = np.asarray(self.temperatures, dtype=np.float64).ravel()
        n_temperatures = temperatures.shape[0]
        weights_path = np.asarray(self.weights_path, dtype=np.float64)
        if weights_path.ndim != 2 or weights_path.shape[0] != n_temperatures:
            raise ValueError(
                "weights_path must have shape (n_temperatures, n_modules) = "
                f"({n_temperatures}, n_modules); got {weights_path.shape}."
            )
        names = as_names(self.module_names, weights_path.shape[1])
        if self.single_module is not None and str(self.single_module) not in names:
            raise ValueError(
                f"single_module={self.single_module!r} is not one of the "
                f"module_names {names}."
            )
        scores = optional_vector(self.scores, n_temperatures, "scores")
        scores_std = optional_vector(self.scores_std, n_temperatures, "scores_std")
        return temperatures, weights_path, names, scores, scores_std

    def _chosen_temperature(self):
        if self.single_module is not None or self.chosen_temperature is None:
            return None
        return float(self.chosen_temperature)

    def _draw_single_module(self, score_ax, names):
        """The line at the score of the module chosen alone, or a legend
        handle alone when that score is not drawn; None without one."""
        from matplotlib.lines import Line2D

        if self.single_module is None:
            return None
        name = str(self.single_module)
        color = self.lines_[names.index(name)].get_color()
        kw = {"color": color, "linestyle": "--", "linewidth": 1.5}
        label = f"chose {name} alone"
        if score_ax is None or self.single_module_score is None:
            return Line2D([], [], label=label, **kw)
        return score_ax.axhline(float(self.single_module_score), label=label, **kw)

    def _draw_legend(self, ax):
        """One legend above the weights for every labelled artist."""
        artists = [
            *self.lines_,
            self.chosen_line_,
            self.chosen_marker_,
            self.score_line_,
            self.score_band_,
            self.single_module_line_,
        ]
        artists = [artist for artist in artists if artist is not None]
        self.legend_ = legend_above(ax, artists)
        self.single_module_note_ = None
        if self.single_module_line_ is not None:
            index = artists.index(self.single_module_line_)
            self.single_module_note_ = self.legend_.get_texts()[index]


def _draw_weights(ax, temperatures, weights_path, names, line_kw):
    """One line per module: its weight against the temperature (log scale)."""
    line_kw = style({"marker": "o", "markersize": 3}, line_kw)
    lines = [
        ax.plot(temperatures, weights_path[:, m], label=name, **line_kw)[0]
        for m, name in enumerate(names)
    ]
    ax.set_xscale("log")
    ax.set_xlabel("temperature")
    ax.set_ylabel("attention weight")
    ax.set_ylim(-0.03, 1.03)
    return lines


def _draw_chosen(ax, chosen, chosen_kw):
    """The vertical line at the chosen temperature, or None."""
    if chosen is None:
        return None
    chosen_kw = style(
        {
            "color": "k",
            "linestyle": "--",
            "linewidth": 1.0,
            "label": f"chosen temperature ({chosen:.3g})",
        },
        chosen_kw,
    )
    return ax.axvline(chosen, **chosen_kw)


def _draw_scores(ax, temperatures, scores, scores_std, *, score_kw, band_kw):
    """The mean score and its band, on the score panel's own scale."""
    score_kw = style(
        {
            "color": "0.25",
            "marker": "o",
            "markersize": 3,
            "linewidth": 1.5,
            "label": "mean inner-CV score",
        },
        score_kw,
    )
    (line,) = ax.plot(temperatures, scores, **score_kw)
    band = None
    if scores_std is not None:
        band_kw = style(
            {
                "color": line.get_color(),
                "alpha": 0.12,
                "linewidth": 0,
                "label": "± 1 std",
                # Behind the mean line.
                "zorder": line.get_zorder() - 1,
            },
            band_kw,
        )
        band = ax.fill_between(
            temperatures, scores - scores_std, scores + scores_std, **band_kw
        )
    ax.set_xscale("log")
    ax.grid(axis="y", alpha=0.4)
    return line, band


def _mark_chosen_score(ax, temperatures, scores, chosen):
    """A marker at the chosen candidate's mean score, if it is on the path."""
    if chosen is None:
        return None
    match = np.flatnonzero(np.isclose(temperatures, chosen, rtol=1e-9, atol=0.0))
    if match.size == 0:
        return None
    (marker,) = ax.plot(
        temperatures[match[:1]],
        scores[match[:1]],
        linestyle="none",
        marker="*",
        markersize=11,
        color="k",
        zorder=4,
        label="chosen candidate",
    )
    return marker


def _label_shared_temperature_axis(ax, score_ax):
    """The temperature label and ticks once, below the score panel, when
    both panels share the temperature axis."""
    score_ax.set_xlabel("temperature")
    if ax.get_shared_x_axes().joined(ax, score_ax):
        ax.set_xlabel("")
        ax.tick_params(axis="x", labelbottom=False)
    else:
        score_ax.set_xlim(ax.get_xlim())
