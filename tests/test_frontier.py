"""FrontierDisplay: loss against predict cost, the frontier, the choice."""

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from skweighting import SparseAttentionClassifier, SparseAttentionClassifierCV
from skweighting._plot.frontier import pareto_front
from skweighting.plotting import FrontierDisplay

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

X, Y = load_iris(return_X_y=True)
MODULES = [
    ("lr", LogisticRegression(max_iter=1000)),
    ("nb", GaussianNB()),
    ("tree", DecisionTreeClassifier(max_depth=2, random_state=0)),
]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_the_frontier_is_the_points_no_cheaper_point_beats():
    costs = np.array([3.0, 1.0, 2.0, 2.0, 4.0])
    losses = np.array([0.1, 0.5, 0.3, 0.4, 0.2])
    np.testing.assert_array_equal(pareto_front(costs, losses), [1, 2, 0])


def test_a_budgeted_plain_estimator_draws_its_path_of_supports():
    est = SparseAttentionClassifier(MODULES, max_modules=2, cv=3, random_state=0)
    est.fit(X, Y)
    display = FrontierDisplay.from_estimator(est)
    costs = [p.cost for p in est.support_path_]
    losses = [p.loss for p in est.support_path_]
    drawn = np.vstack([points.get_offsets() for points in display.points_])
    np.testing.assert_allclose(sorted(map(tuple, drawn)), sorted(zip(costs, losses)))
    in_use = tuple(np.flatnonzero(est.attention_weights_ > 0))
    chosen = [p for p in est.support_path_ if p.modules == in_use][0]
    np.testing.assert_allclose(
        np.ravel(display.chosen_marker_.get_data()), [chosen.cost, chosen.loss]
    )
    front = pareto_front(np.array(costs), np.array(losses))
    np.testing.assert_allclose(
        display.frontier_line_.get_xdata(), np.array(costs)[front]
    )
    assert display.ax_.get_xlabel() == "predict cost (seconds per 1,000 rows)"
    assert "chosen" in [t.get_text() for t in display.legend_.get_texts()]


def test_a_cv_estimator_draws_every_candidate_and_its_choice_through_a_pipeline():
    est = make_pipeline(
        StandardScaler(),
        SparseAttentionClassifierCV(MODULES, temperatures=3, cv=3, random_state=0),
    ).fit(X, Y)
    display = FrontierDisplay.from_estimator(est)
    results = est[-1].cv_results_
    assert sum(len(p.get_offsets()) for p in display.points_) == len(
        results["mean_test_score"]
    )
    labels = {p.get_label() for p in display.points_}
    assert "module alone" in labels and "log, softmax" in labels
    chosen = est[-1].best_index_
    np.testing.assert_allclose(
        np.ravel(display.chosen_marker_.get_data()),
        [results["predict_cost"][chosen], -results["mean_test_score"][chosen]],
    )


def test_a_plain_estimator_without_a_budget_is_a_clear_error():
    est = SparseAttentionClassifier(MODULES, cv=3).fit(X, Y)
    with pytest.raises(TypeError, match="fitted with a budget"):
        FrontierDisplay.from_estimator(est)
