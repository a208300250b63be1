"""FrontierDisplay: what each extra module buys, as loss against predict
cost."""

import numpy as np

from ._common import (
    check_matplotlib_support,
    legend_above,
    optional_vector,
    resolve_fitted_estimator,
    style,
)

_EXPECTED = (
    "a fitted SparseAttentionClassifierCV or SparseAttentionRegressorCV, or a "
    "SparseAttentionClassifier, SparseAttentionRegressor or "
    "SparseAttentionEnsemble fitted with a budget (max_modules or "
    "max_predict_cost), whose path of supports it draws"
)


def pareto_front(costs, losses):
    """Indices of the points no other point beats on both cost and loss
    (no cheaper-or-equal point has a lower loss), by increasing cost."""
    order = np.lexsort((losses, costs))
    front, best = [], np.inf
    for index in order:
        if losses[index] < best:
            front.append(int(index))
            best = losses[index]
    return np.array(front, dtype=np.intp)


class FrontierDisplay:
    """The quality / predict-cost frontier of a fitted ensemble.

    One point per candidate: its loss (out-of-fold, or inner-CV for a CV
    estimator's candidates; lower is better) against its predict cost (the
    summed seconds per 1,000 rows of the modules it calls); the points that
    no cheaper point beats are joined (the frontier); the chosen one is
    marked.

    Read more in the :ref:`User Guide <user_guide>`.

    Parameters
    ----------
    costs : array-like of shape (n_points,)
        Each point's predict cost, seconds per 1,000 rows.

    losses : array-like of shape (n_points,)
        Each point's loss.

    groups : array-like of str of shape (n_points,), default=None
        A label per point; points of one label share a marker and a legend
        entry (e.g. the combination and normaliser of a CV candidate).

    chosen : int, default=None
        The point chosen, marked.

    loss_name : str, default=None
        The loss axis label.

    Attributes
    ----------
    points_ : list of matplotlib PathCollection
        The points, one collection per group.

    frontier_line_ : matplotlib Line2D
        The frontier.

    chosen_marker_ : matplotlib Line2D or None
        The chosen point's marker.

    legend_ : matplotlib Legend

    ax_ : matplotlib Axes

    figure_ : matplotlib Figure

    See Also
    --------
    AttentionDisplay : Each module's weight beside its out-of-fold score.
    TemperaturePathDisplay : The weights along a CV estimator's path.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.naive_bayes import GaussianNB
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from skweighting import SparseAttentionClassifier
    >>> from skweighting.plotting import FrontierDisplay
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = SparseAttentionClassifier(
    ...     [("lr", LogisticRegression(max_iter=1000)), ("nb", GaussianNB()),
    ...      ("tree", DecisionTreeClassifier(max_depth=2))],
    ...     max_modules=2, cv=3,
    ... ).fit(X, y)
    >>> FrontierDisplay.from_estimator(clf)  # doctest: +SKIP
    """

    def __init__(self, costs, losses, *, groups=None, chosen=None, loss_name=None):
        self.costs = costs
        self.losses = losses
        self.groups = groups
        self.chosen = chosen
        self.loss_name = loss_name

    @classmethod
    def from_estimator(
        cls, estimator, *, ax=None, point_kw=None, frontier_kw=None, chosen_kw=None
    ):
        """Plot the frontier of a fitted ensemble.

        Parameters
        ----------
        estimator : estimator instance
            A fitted CV estimator (every candidate of ``cv_results_``, its
            inner-CV loss: the negated ``mean_test_score``, and its
            ``predict_cost``), or a plain estimator fitted with a budget
            (the points of ``support_path_``: out-of-fold loss and cost); or
            a fitted Pipeline whose last step is one, or a fitted search
            whose ``best_estimator_`` is either.

        ax : matplotlib Axes, default=None
            Where to draw; a new Figure if None.

        point_kw, frontier_kw, chosen_kw : dict, default=None
            Keyword arguments for the points
            (:meth:`matplotlib.axes.Axes.scatter`), the frontier and the
            chosen marker (:meth:`matplotlib.axes.Axes.plot`).

        Returns
        -------
        :class:`~skweighting.plotting.FrontierDisplay`
            The plotted display.
        """
        caller = f"{cls.__name__}.from_estimator"
        check_matplotlib_support(caller)
        if hasattr(_unwrapped(estimator), "cv_results_"):
            display = cls._from_cv(
                resolve_fitted_estimator(
                    estimator,
                    caller=caller,
                    attributes=["cv_results_"],
                    expected=_EXPECTED,
                )
            )
        else:
            display = cls._from_path(
                resolve_fitted_estimator(
                    estimator,
                    caller=caller,
                    attributes=["support_path_"],
                    expected=_EXPECTED,
                )
            )
        return display.plot(
            ax=ax, point_kw=point_kw, frontier_kw=frontier_kw, chosen_kw=chosen_kw
        )

    @classmethod
    def _from_cv(cls, estimator):
        results = estimator.cv_results_
        groups = [
            "module alone" if module is not None else f"{combine}, {normaliser}"
            for combine, normaliser, module in zip(
                results["param_combine"],
                results["param_normaliser"],
                results["param_module"],
            )
        ]
        return cls(
            costs=results["predict_cost"],
            losses=-np.asarray(results["mean_test_score"], dtype=np.float64),
            groups=groups,
            chosen=estimator.best_index_,
            loss_name="inner-CV loss (negated mean_test_score)",
        )

    @classmethod
    def _from_path(cls, estimator):
        points = estimator.support_path_
        in_use = tuple(np.flatnonzero(estimator.attention_weights_ > 0))
        chosen = next(
            (i for i, point in enumerate(points) if point.modules == in_use), None
        )
        return cls(
            costs=[point.cost for point in points],
            losses=[point.loss for point in points],
            groups=[f"{len(point.modules)} modules" for point in points],
            chosen=chosen,
            loss_name="out-of-fold loss",
        )

    def plot(self, ax=None, *, point_kw=None, frontier_kw=None, chosen_kw=None):
        """Draw the points, the frontier and the chosen point.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; a new Figure if None.

        point_kw, frontier_kw, chosen_kw : dict, default=None
            Keyword arguments for the points, the frontier and the chosen
            marker.

        Returns
        -------
        :class:`~skweighting.plotting.FrontierDisplay`
            The display, with the attributes ending in ``_`` set.
        """
        check_matplotlib_support(f"{type(self).__name__}.plot")
        import matplotlib.pyplot as plt

        costs = np.asarray(self.costs, dtype=np.float64).ravel()
        losses = optional_vector(self.losses, costs.shape[0], "losses")
        groups = ["" for _ in costs] if self.groups is None else list(self.groups)
        if ax is None:
            _, ax = plt.subplots(figsize=(6.5, 4.0), layout="constrained")
        self.points_ = [
            ax.scatter(
                costs[[g == group for g in groups]],
                losses[[g == group for g in groups]],
                **style(
                    {"s": 18, "alpha": 0.7, "label": group or "candidates"}, point_kw
                ),
            )
            for group in dict.fromkeys(groups)
        ]
        front = pareto_front(costs, losses)
        (self.frontier_line_,) = ax.plot(
            costs[front],
            losses[front],
            **style(
                {"color": "0.2", "linewidth": 1.2, "label": "frontier"}, frontier_kw
            ),
        )
        self.chosen_marker_ = None
        if self.chosen is not None:
            (self.chosen_marker_,) = ax.plot(
                costs[self.chosen],
                losses[self.chosen],
                **style(
                    {
                        "marker": "*",
                        "markersize": 14,
                        "color": "C3",
                        "linestyle": "",
                        "label": "chosen",
                    },
                    chosen_kw,
                ),
            )
        if np.all(costs > 0) and costs.max() > 10 * costs.min():
            ax.set_xscale("log")
        ax.set_xlabel("predict cost (seconds per 1,000 rows)")
        ax.set_ylabel("loss" if self.loss_name is None else self.loss_name)
        artists = [*self.points_, self.frontier_line_]
        if self.chosen_marker_ is not None:
            artists.append(self.chosen_marker_)
        self.legend_ = legend_above(ax, artists)
        self.ax_ = ax
        self.figure_ = ax.figure
        return self


def _unwrapped(estimator):
    """The last step of a Pipeline or the best estimator of a search, as far
    as they nest (for choosing what to draw; `resolve_fitted_estimator`
    checks it)."""
    while True:
        if hasattr(estimator, "best_estimator_"):
            estimator = estimator.best_estimator_
        elif hasattr(estimator, "steps"):
            estimator = estimator.steps[-1][1]
        else:
            return estimator
