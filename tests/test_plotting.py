"""Tests of the Display objects in `skweighting.plotting`.

The plots are checked by what is drawn (bar widths, line data, labels), on
the non-interactive Agg backend. The tests that need matplotlib are skipped
without it; the ones checking that the package works without it always run.
"""

import importlib
import subprocess
import sys

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import make_classification
from sklearn.dummy import DummyClassifier
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB

import skweighting
from skweighting import SparseAttentionClassifier
from skweighting.plotting import (
    AttentionDisplay,
    TemperaturePathDisplay,
    _check_matplotlib_support,
)


@pytest.fixture
def plt():
    """pyplot on the Agg backend; closes every figure after the test."""
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


@pytest.fixture(scope="module")
def fitted_classifier():
    X, y = make_classification(
        n_samples=90, n_features=5, n_informative=3, random_state=0
    )
    return SparseAttentionClassifier(
        [
            ("lr", LogisticRegression()),
            ("nb", GaussianNB()),
            ("dummy", DummyClassifier()),
        ],
        cv=3,
        random_state=0,
    ).fit(X, y)


def _tick_labels(ax):
    return [label.get_text() for label in ax.get_yticklabels()]


# --------------------------------------------------------------------------
# Without matplotlib
# --------------------------------------------------------------------------
def test_check_matplotlib_support_names_the_plot_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"skweighting\[plot\]") as info:
        _check_matplotlib_support("AttentionDisplay.plot")
    assert "AttentionDisplay.plot requires matplotlib" in str(info.value)


def test_plot_without_matplotlib_raises_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    display = AttentionDisplay([1.0], ["lr"])
    with pytest.raises(ImportError, match=r'pip install "skweighting\[plot\]"'):
        display.plot()
    with pytest.raises(ImportError, match="TemperaturePathDisplay.from_estimator"):
        TemperaturePathDisplay.from_estimator(object())


def test_module_imports_without_matplotlib(monkeypatch):
    for name in [m for m in sys.modules if m.split(".")[0] == "matplotlib"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    original = sys.modules["skweighting.plotting"]
    monkeypatch.delitem(sys.modules, "skweighting.plotting")
    monkeypatch.setattr(skweighting, "plotting", original)

    module = importlib.import_module("skweighting.plotting")

    assert module is not original  # really imported again, without matplotlib
    display = module.AttentionDisplay([0.5, 0.5], ["a", "b"])
    assert display.module_names == ["a", "b"]
    with pytest.raises(ImportError, match=r"skweighting\[plot\]"):
        display.plot()


def test_package_import_does_not_import_matplotlib():
    code = (
        "import sys, skweighting, skweighting.plotting; "
        "assert not any(m.split('.')[0] == 'matplotlib' for m in sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------------------------
# AttentionDisplay
# --------------------------------------------------------------------------
def test_attention_display_draws_weights_scores_and_pruned(plt):
    weights = np.array([0.6, 0.0, 0.4])
    scores = np.array([-0.2, -0.9, -0.4])
    display = AttentionDisplay(
        weights, ["lr", "tree", "nb"], oof_scores=scores, score_name="my score"
    ).plot()

    assert display.plot() is display  # plot returns self (and can be redone)
    assert [bar.get_width() for bar in display.bars_] == pytest.approx(weights)
    assert _tick_labels(display.ax_) == ["lr", "tree", "nb"]
    assert display.ax_.yaxis_inverted()  # first module on top
    assert display.figure_ is display.ax_.figure
    assert list(display.axes_) == [display.ax_, display.score_ax_]

    # Pruned: grey name, hatched empty bar, "pruned" beside it.
    texts = [t.get_text() for t in display.annotations_]
    assert texts[1] == "pruned"
    assert "pruned" not in (texts[0], texts[2])
    assert texts[0] == "0.6"
    colors = [label.get_color() for label in display.ax_.get_yticklabels()]
    assert colors[1] != colors[0] and colors[0] == colors[2]
    assert display.bars_[1].get_hatch() == "//"
    assert display.bars_[0].get_hatch() is None

    # Scores: one dot per module, at its row.
    offsets = display.score_points_.get_offsets()
    np.testing.assert_allclose(offsets[:, 0], scores)
    np.testing.assert_allclose(offsets[:, 1], [0, 1, 2])
    assert display.score_ax_.get_xlabel() == "my score"
    assert display.score_ax_.get_shared_y_axes().joined(display.ax_, display.score_ax_)


def test_attention_display_explicit_pruned_and_no_scores(plt):
    display = AttentionDisplay([0.5, 0.5], ["a", "b"], pruned=[False, True]).plot(
        bar_kw={"color": "red"}
    )
    assert [t.get_text() for t in display.annotations_] == ["0.5", "pruned"]
    assert display.score_ax_ is None and display.score_points_ is None
    assert list(display.axes_) == [display.ax_]
    assert display.bars_[0].get_facecolor()[:3] == pytest.approx((1.0, 0.0, 0.0))


def test_attention_display_uses_given_ax(plt):
    fig, ax = plt.subplots()
    display = AttentionDisplay([1.0, 0.0], ["a", "b"], oof_scores=[0.1, 0.2]).plot(
        ax=ax
    )
    assert display.ax_ is ax
    assert display.figure_ is fig
    assert display.bars_.patches[0] in ax.patches
    assert display.score_ax_ is not ax and display.score_ax_.figure is fig

    fig, (left, right) = plt.subplots(1, 2)
    display = AttentionDisplay([1.0, 0.0], ["a", "b"], oof_scores=[0.1, 0.2]).plot(
        ax=[left, right]
    )
    assert (display.ax_, display.score_ax_) == (left, right)
    with pytest.raises(ValueError, match="ax must be one Axes or 2 Axes"):
        display.plot(ax=[left])


def test_attention_display_validates_lengths(plt):
    with pytest.raises(ValueError, match="module_names"):
        AttentionDisplay([0.5, 0.5], ["a"]).plot()
    with pytest.raises(ValueError, match="oof_scores"):
        AttentionDisplay([0.5, 0.5], ["a", "b"], oof_scores=[1.0]).plot()


def test_attention_display_from_estimator(plt, fitted_classifier):
    clf = fitted_classifier
    fig, ax = plt.subplots()
    display = AttentionDisplay.from_estimator(clf, ax=ax)

    assert isinstance(display, AttentionDisplay)
    assert display.ax_ is ax
    widths = [bar.get_width() for bar in display.bars_]
    np.testing.assert_allclose(widths, clf.attention_weights_)
    assert _tick_labels(display.ax_) == list(clf.module_names_)
    np.testing.assert_allclose(
        display.score_points_.get_offsets()[:, 0], clf.oof_scores_
    )
    assert display.score_name == "out-of-fold log-likelihood"
    assert display.score_ax_.get_xlabel() == "out-of-fold log-likelihood"
    pruned = [t.get_text() == "pruned" for t in display.annotations_]
    assert pruned == list(clf.attention_weights_ == 0.0)


def test_attention_display_from_estimator_regressor_score_name(plt):
    class FittedRegressor(BaseEstimator):
        def fit(self, X, y):
            return self

    reg = FittedRegressor()
    reg.attention_weights_ = np.array([1.0])
    reg.module_names_ = ["ridge"]
    reg.oof_scores_ = np.array([0.8])
    display = AttentionDisplay.from_estimator(reg)
    assert display.score_name == "out-of-fold R^2"


def test_attention_display_from_unfitted_estimator_raises(plt):
    with pytest.raises(NotFittedError):
        AttentionDisplay.from_estimator(
            SparseAttentionClassifier([("lr", LogisticRegression())])
        )


# --------------------------------------------------------------------------
# TemperaturePathDisplay
# --------------------------------------------------------------------------
class _FakeCV(ClassifierMixin, BaseEstimator):
    """A stand-in for a fitted cross-validated ensemble, with the attributes
    TemperaturePathDisplay.from_estimator reads."""

    def fit(self, X, y):
        return self


def _fake_cv():
    temperatures = np.array([0.1, 1.0, 10.0])
    weights_path = np.array([[1.0, 0.0, 0.0], [0.7, 0.3, 0.0], [0.4, 0.35, 0.25]])
    # A (combine x normaliser x temperature) grid, rows shuffled, so that the
    # display has to pick and order the rows of the chosen combination.
    grid = [
        (combine, normaliser, t)
        for combine in ("log", "linear")
        for normaliser in ("softmax", "sparsemax")
        for t in (10.0, 0.1, 1.0)
    ]
    means = np.arange(len(grid), dtype=float) / 10.0
    cv = _FakeCV()
    cv.temperatures_ = temperatures
    cv.weights_path_ = weights_path
    cv.temperature_ = 1.0
    cv.module_names_ = ["lr", "nb", "tree"]
    cv.combine_ = "linear"
    cv.normaliser_ = "softmax"
    cv.cv_results_ = {
        "param_combine": np.array([g[0] for g in grid], dtype=object),
        "param_normaliser": np.array([g[1] for g in grid], dtype=object),
        "param_temperature": np.array([g[2] for g in grid], dtype=object),
        "mean_test_score": means,
        "std_test_score": means / 100.0,
        "weights": np.array([None] * len(grid), dtype=object),
        "n_nonzero": np.ones(len(grid), dtype=int),
    }
    # Rows of ("linear", "softmax") are 6, 7, 8 at temperatures 10, 0.1, 1.
    expected_scores = means[[7, 8, 6]]
    return cv, expected_scores


def test_temperature_path_display_draws_path(plt):
    temperatures = [0.01, 0.1, 1.0, 10.0]
    path = np.array([[1.0, 0.0], [0.9, 0.1], [0.6, 0.4], [0.5, 0.5]])
    scores = np.array([-0.3, -0.2, -0.25, -0.28])
    stds = np.array([0.01, 0.02, 0.01, 0.03])
    display = TemperaturePathDisplay(
        temperatures,
        path,
        ["lr", "tree"],
        chosen_temperature=0.1,
        scores=scores,
        scores_std=stds,
    ).plot()

    assert len(display.lines_) == 2
    for m, line in enumerate(display.lines_):
        np.testing.assert_allclose(line.get_xdata(), temperatures)
        np.testing.assert_allclose(line.get_ydata(), path[:, m])
    assert [line.get_label() for line in display.lines_] == ["lr", "tree"]
    assert display.ax_.get_xscale() == "log"
    np.testing.assert_allclose(display.chosen_line_.get_xdata(), [0.1, 0.1])
    np.testing.assert_allclose(display.score_line_.get_ydata(), scores)
    assert display.score_line_.axes is display.score_ax_
    assert display.score_ax_ is not display.ax_
    assert display.score_ax_.get_shared_x_axes().joined(display.ax_, display.score_ax_)
    band = display.score_band_.get_paths()[0].vertices
    np.testing.assert_allclose(band[:, 1].min(), (scores - stds).min())
    np.testing.assert_allclose(band[:, 1].max(), (scores + stds).max())
    assert display.figure_ is display.ax_.figure
    assert display.ax_.get_legend() is not None


def test_temperature_path_display_without_scores_or_choice(plt):
    fig, ax = plt.subplots()
    display = TemperaturePathDisplay([0.1, 1.0], [[1.0, 0.0], [0.5, 0.5]], ["a", "b"])
    assert display.plot(ax=ax) is display
    assert display.ax_ is ax and display.figure_ is fig
    assert display.lines_[0] in ax.lines
    assert display.score_ax_ is None
    assert display.score_line_ is None and display.chosen_line_ is None


def test_temperature_path_display_validates_shapes(plt):
    with pytest.raises(ValueError, match="weights_path must have shape"):
        TemperaturePathDisplay([0.1, 1.0], [[1.0, 0.0]], ["a", "b"]).plot()
    with pytest.raises(ValueError, match="module_names"):
        TemperaturePathDisplay([0.1], [[1.0, 0.0]], ["a"]).plot()
    with pytest.raises(ValueError, match="scores"):
        TemperaturePathDisplay([0.1], [[1.0]], ["a"], scores=[1.0, 2.0]).plot()


def test_temperature_path_from_estimator_fake(plt):
    cv, expected_scores = _fake_cv()
    fig, ax = plt.subplots()
    display = TemperaturePathDisplay.from_estimator(cv, ax=ax)

    assert display.ax_ is ax
    assert len(display.lines_) == 3
    for m, line in enumerate(display.lines_):
        np.testing.assert_allclose(line.get_xdata(), cv.temperatures_)
        np.testing.assert_allclose(line.get_ydata(), cv.weights_path_[:, m])
    assert [line.get_label() for line in display.lines_] == cv.module_names_
    np.testing.assert_allclose(display.chosen_line_.get_xdata(), [1.0, 1.0])
    np.testing.assert_allclose(display.score_line_.get_xdata(), cv.temperatures_)
    np.testing.assert_allclose(display.score_line_.get_ydata(), expected_scores)
    np.testing.assert_allclose(display.scores_std, expected_scores / 100.0)


def test_temperature_path_from_estimator_missing_temperature(plt):
    cv, _ = _fake_cv()
    cv.temperatures_ = np.array([0.1, 1.0, 100.0])
    with pytest.raises(ValueError, match="no score at temperature 100"):
        TemperaturePathDisplay.from_estimator(cv)


def test_temperature_path_from_estimator_rejects_unfitted_and_plain(
    plt, fitted_classifier
):
    with pytest.raises(NotFittedError):
        TemperaturePathDisplay.from_estimator(_FakeCV())
    with pytest.raises(TypeError, match="weights_path_"):
        TemperaturePathDisplay.from_estimator(fitted_classifier)


def test_temperature_path_from_real_cv_estimator(plt):
    """Against the real cross-validated classifier, once it exists."""
    cv_class = getattr(skweighting, "SparseAttentionClassifierCV", None)
    if cv_class is None:
        pytest.skip("skweighting.SparseAttentionClassifierCV does not exist yet")
    X, y = make_classification(
        n_samples=90, n_features=5, n_informative=3, random_state=0
    )
    cv = cv_class(
        [("lr", LogisticRegression()), ("nb", GaussianNB())],
        temperatures=5,
        cv=3,
    ).fit(X, y)

    display = TemperaturePathDisplay.from_estimator(cv)

    assert len(display.lines_) == len(cv.module_names_)
    for m, line in enumerate(display.lines_):
        np.testing.assert_allclose(line.get_xdata(), cv.temperatures_)
        np.testing.assert_allclose(line.get_ydata(), cv.weights_path_[:, m])
    np.testing.assert_allclose(display.chosen_line_.get_xdata(), [cv.temperature_] * 2)
    assert display.score_line_.get_ydata().shape == cv.temperatures_.shape
