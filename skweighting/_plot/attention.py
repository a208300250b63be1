"""AttentionDisplay: each module's weight beside its out-of-fold score."""

import numpy as np

from ._common import (
    PRUNED_COLOR,
    as_names,
    check_matplotlib_support,
    default_score_name,
    optional_vector,
    panel_axes,
    resolve_fitted_estimator,
    style,
)

_EXPECTED = (
    "a fitted skweighting ensemble (SparseAttentionClassifier, "
    "SparseAttentionRegressor, SparseAttentionEnsemble, "
    "SparseAttentionClassifierCV or SparseAttentionRegressorCV)"
)


class AttentionDisplay:
    """Attention weights of the modules, beside their out-of-fold scores.

    Each module's weight is drawn as a horizontal bar. When out-of-fold scores
    are given, a second panel sharing the module axis shows each module's own
    out-of-fold score as a dot, so that the weights can be read against how
    good every module is alone. Modules with a weight of exactly zero are
    marked as pruned: their bar is empty, their name and score are grey and
    the word "pruned" stands where the bar would be. The horizontal axes get
    only as many ticks as their labels fit side by side, so that scores on a
    narrow range stay readable.

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

    From a fitted ensemble (or a fitted Pipeline ending in one, or a fitted
    GridSearchCV over either):

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
        self, weights, module_names, *, oof_scores=None, score_name=None, pruned=None
    ):
        self.weights = weights
        self.module_names = module_names
        self.oof_scores = oof_scores
        self.score_name = score_name
        self.pruned = pruned

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, bar_kw=None, score_kw=None):
        """Plot the attention weights of a fitted sparse-attention ensemble.

        Parameters
        ----------
        estimator : estimator instance
            A fitted :class:`~skweighting.SparseAttentionClassifier`,
            :class:`~skweighting.SparseAttentionRegressor`,
            :class:`~skweighting.SparseAttentionEnsemble`,
            :class:`~skweighting.SparseAttentionClassifierCV` or
            :class:`~skweighting.SparseAttentionRegressorCV` (anything with
            ``attention_weights_``, ``module_names_`` and, for the score
            panel, ``oof_scores_``); or a fitted
            :class:`~sklearn.pipeline.Pipeline` whose last step is one; or a
            fitted :class:`~sklearn.model_selection.GridSearchCV` or
            :class:`~sklearn.model_selection.RandomizedSearchCV` whose
            ``best_estimator_`` is either.

        ax : matplotlib Axes or array-like of two Axes, default=None
            Where to draw; see :meth:`plot`.

        bar_kw : dict, default=None
            Keyword arguments for :meth:`matplotlib.axes.Axes.barh`.

        score_kw : dict, default=None
            Keyword arguments for :meth:`matplotlib.axes.Axes.scatter` of the
            scores.

        Returns
        -------
        :class:`~skweighting.plotting.AttentionDisplay`
            The plotted display.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the ensemble, the Pipeline or the search is not fitted.

        TypeError
            If ``estimator`` holds no sparse-attention ensemble, or is a
            search fitted with ``refit=False``.
        """
        caller = f"{cls.__name__}.from_estimator"
        check_matplotlib_support(caller)
        ensemble = resolve_fitted_estimator(
            estimator,
            caller=caller,
            attributes=["attention_weights_", "module_names_"],
            expected=_EXPECTED,
        )
        display = cls(
            weights=ensemble.attention_weights_,
            module_names=ensemble.module_names_,
            oof_scores=getattr(ensemble, "oof_scores_", None),
            score_name=default_score_name(ensemble),
        )
        return display.plot(ax=ax, bar_kw=bar_kw, score_kw=score_kw)

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
        check_matplotlib_support(f"{type(self).__name__}.plot")
        from ._ticks import use_readable_ticks

        weights, names, scores, pruned = self._validated()
        n_modules = weights.shape[0]
        weight_ax, score_ax = panel_axes(
            ax,
            second=scores is not None,
            side="right",
            figsize=(7.0 if scores is not None else 5.0, 1.2 + 0.4 * max(n_modules, 3)),
            ratios=(3.0, 2.0),
            names=("weights", "scores"),
        )
        bar_kw = style({"color": "C0", "height": 0.6}, bar_kw)
        self.bars_ = _draw_bars(weight_ax, weights, pruned, bar_kw)
        self.annotations_ = _annotate_bars(weight_ax, weights, pruned)
        _label_modules(weight_ax, names, pruned)
        use_readable_ticks(weight_ax.xaxis)

        self.score_points_ = None
        if scores is not None:
            color = bar_kw["color"] if isinstance(bar_kw["color"], str) else "C0"
            self.score_points_ = _draw_scores(
                score_ax, scores, pruned, color=color, score_kw=score_kw
            )
            score_ax.set_xlabel(
                "out-of-fold score" if self.score_name is None else self.score_name
            )
            use_readable_ticks(score_ax.xaxis)

        self.ax_ = weight_ax
        self.score_ax_ = score_ax
        self.axes_ = np.array(
            [weight_ax] if score_ax is None else [weight_ax, score_ax], dtype=object
        )
        self.figure_ = weight_ax.figure
        return self

    def _validated(self):
        """The weights, names, scores (or None) and pruned mask to draw."""
        weights = np.asarray(self.weights, dtype=np.float64).ravel()
        n_modules = weights.shape[0]
        names = as_names(self.module_names, n_modules)
        scores = optional_vector(self.oof_scores, n_modules, "oof_scores")
        if self.pruned is None:
            pruned = weights == 0.0
        else:
            pruned = np.asarray(self.pruned, dtype=bool).ravel()
            if pruned.shape[0] != n_modules:
                raise ValueError(
                    f"pruned has {pruned.shape[0]} values; expected {n_modules}."
                )
        return weights, names, scores, pruned


def _draw_bars(ax, weights, pruned, bar_kw):
    """One horizontal bar per module; a pruned module's is empty and hatched."""
    bars = ax.barh(np.arange(weights.shape[0]), weights, **bar_kw)
    for patch, is_pruned in zip(bars.patches, pruned):
        if is_pruned:
            patch.set_facecolor("none")
            patch.set_edgecolor(PRUNED_COLOR)
            patch.set_hatch("//")
    top = max(float(np.max(weights, initial=0.0)), 0.05)
    # Room on the right for the annotations.
    ax.set_xlim(0.0, 1.3 * top)
    ax.set_xlabel("attention weight")
    return bars


def _annotate_bars(ax, weights, pruned):
    """The weight beside each bar, or "pruned" in grey italics."""
    annotations = []
    for m, (weight, is_pruned) in enumerate(zip(weights, pruned)):
        text_kw = {"xytext": (4, 0), "textcoords": "offset points", "va": "center"}
        if is_pruned:
            text_kw.update(color=PRUNED_COLOR, style="italic")
            label, x = "pruned", max(weight, 0.0)
        else:
            label, x = f"{weight:.3g}", weight
        annotations.append(ax.annotate(label, (x, m), **text_kw))
    return annotations


def _label_modules(ax, names, pruned):
    """Module names as y tick labels, the first module on top, pruned grey."""
    ax.set_yticks(np.arange(len(names)), names)
    for label, is_pruned in zip(ax.get_yticklabels(), pruned):
        if is_pruned:
            label.set_color(PRUNED_COLOR)
    if not ax.yaxis_inverted():
        ax.invert_yaxis()
    ax.set_ylabel("module")


def _draw_scores(ax, scores, pruned, *, color, score_kw):
    """One dot per module at its row; a pruned module's is an empty grey ring."""
    score_kw = style(
        {
            "s": 36,
            "facecolors": ["none" if p else color for p in pruned],
            "edgecolors": [PRUNED_COLOR if p else color for p in pruned],
            "zorder": 3,
        },
        score_kw,
    )
    points = ax.scatter(scores, np.arange(scores.shape[0]), **score_kw)
    ax.grid(axis="x", alpha=0.4)
    ax.tick_params(axis="y", labelleft=False)
    ax.margins(x=0.15)
    return points
