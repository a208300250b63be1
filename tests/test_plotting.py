"""Tests of the Display objects in `skweighting.plotting`.

The plots are checked by what is drawn (bar widths, line data, labels,
limits, where the tick labels land), on the non-interactive Agg backend. The
tests that need matplotlib are skipped without it; the ones checking that
the package works without it always run.
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
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skweighting
from skweighting import SparseAttentionClassifier, SparseAttentionClassifierCV
from skweighting._plot._common import check_matplotlib_support
from skweighting.plotting import AttentionDisplay, TemperaturePathDisplay


@pytest.fixture
def plt():
    """pyplot on the Agg backend; closes every figure after the test."""
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


def _data():
    return make_classification(
        n_samples=90, n_features=5, n_informative=3, random_state=0
    )


def _modules():
    return [
        ("lr", LogisticRegression()),
        ("nb", GaussianNB()),
        ("dummy", DummyClassifier()),
    ]


@pytest.fixture(scope="module")
def fitted_classifier():
    return SparseAttentionClassifier(_modules(), cv=3, random_state=0).fit(*_data())


@pytest.fixture(scope="module")
def fitted_cv_classifier():
    return SparseAttentionClassifierCV(
        _modules()[:2], temperatures=4, cv=3, random_state=0
    ).fit(*_data())


def _ensemble_in(wrapper, ensemble):
    """``ensemble`` (unfitted) as passed to a Display: alone, as the last step
    of a Pipeline, or inside a search (over either), fitted."""
    name = type(ensemble).__name__.lower()
    pipeline = make_pipeline(StandardScaler(), ensemble)
    searches = {
        "grid_search": lambda est, key: GridSearchCV(est, {key: [3]}, cv=2),
        "randomized_search": lambda est, key: RandomizedSearchCV(
            est, {key: [3]}, n_iter=1, cv=2, random_state=0
        ),
    }
    if wrapper == "ensemble":
        return ensemble.fit(*_data())
    if wrapper == "pipeline":
        return pipeline.fit(*_data())
    search, over = wrapper.split("_of_")
    if over == "pipeline":
        return searches[search](pipeline, f"{name}__cv").fit(*_data())
    return searches[search](ensemble, "cv").fit(*_data())


def _inner(fitted):
    """The fitted ensemble inside what ``_ensemble_in`` returned."""
    fitted = getattr(fitted, "best_estimator_", fitted)
    return fitted[-1] if hasattr(fitted, "steps") else fitted


WRAPPERS = [
    "ensemble",
    "pipeline",
    "grid_search_of_ensemble",
    "grid_search_of_pipeline",
    "randomized_search_of_pipeline",
]


def _tick_labels(ax):
    return [label.get_text() for label in ax.get_yticklabels()]


# --------------------------------------------------------------------------
# Without matplotlib
# --------------------------------------------------------------------------
def test_check_matplotlib_support_names_the_plot_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"skweighting\[plot\]") as info:
        check_matplotlib_support("AttentionDisplay.plot")
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
# What from_estimator accepts
# --------------------------------------------------------------------------
@pytest.mark.parametrize("wrapper", WRAPPERS)
def test_attention_display_from_pipeline_and_searches(plt, wrapper):
    fitted = _ensemble_in(wrapper, SparseAttentionClassifier(_modules(), cv=2))
    ensemble = _inner(fitted)

    display = AttentionDisplay.from_estimator(fitted)

    widths = [bar.get_width() for bar in display.bars_]
    np.testing.assert_allclose(widths, ensemble.attention_weights_)
    assert _tick_labels(display.ax_) == list(ensemble.module_names_)
    np.testing.assert_allclose(
        display.score_points_.get_offsets()[:, 0], ensemble.oof_scores_
    )


@pytest.mark.parametrize("wrapper", WRAPPERS)
def test_temperature_path_display_from_pipeline_and_searches(plt, wrapper):
    cv_ensemble = SparseAttentionClassifierCV(_modules()[:2], temperatures=3, cv=2)
    fitted = _ensemble_in(wrapper, cv_ensemble)
    ensemble = _inner(fitted)

    display = TemperaturePathDisplay.from_estimator(fitted)

    assert [line.get_label() for line in display.lines_] == ensemble.module_names_
    for m, line in enumerate(display.lines_):
        np.testing.assert_allclose(line.get_xdata(), ensemble.temperatures_)
        np.testing.assert_allclose(line.get_ydata(), ensemble.weights_path_[:, m])
    assert display.score_line_.get_ydata().shape == ensemble.temperatures_.shape


@pytest.mark.parametrize(
    "unfitted, name",
    [
        (SparseAttentionClassifier(_modules()), "SparseAttentionClassifier"),
        (
            make_pipeline(StandardScaler(), SparseAttentionClassifier(_modules())),
            "Pipeline",
        ),
        (
            GridSearchCV(SparseAttentionClassifier(_modules()), {"cv": [3]}),
            "GridSearchCV",
        ),
    ],
    ids=["ensemble", "pipeline", "grid_search"],
)
@pytest.mark.parametrize("display_class", [AttentionDisplay, TemperaturePathDisplay])
def test_from_unfitted_estimator_names_it(plt, display_class, unfitted, name):
    with pytest.raises(NotFittedError, match=f"This {name} instance is not fitted"):
        display_class.from_estimator(unfitted)


@pytest.fixture(scope="module")
def fitted_logistic():
    return LogisticRegression().fit(*_data())


@pytest.mark.parametrize(
    "make, got",
    [
        (lambda lr: lr, "got LogisticRegression."),
        (lambda lr: LogisticRegression(), "got LogisticRegression."),
        (lambda lr: make_pipeline(lr), r"got LogisticRegression at Pipeline\[-1\]"),
        (lambda lr: object(), "got object."),
        (lambda lr: "lr", "got 'lr'."),
    ],
    ids=["fitted_other", "unfitted_other", "pipeline_of_other", "object", "str"],
)
def test_from_estimator_names_what_to_pass(plt, fitted_logistic, make, got):
    with pytest.raises(TypeError, match=got) as info:
        AttentionDisplay.from_estimator(make(fitted_logistic))
    message = str(info.value)
    assert message.startswith("AttentionDisplay.from_estimator needs a fitted")
    for what in ("SparseAttentionClassifier", "Pipeline", "GridSearchCV"):
        assert what in message


def test_from_search_of_other_estimator_says_where(plt):
    search = GridSearchCV(
        make_pipeline(StandardScaler(), LogisticRegression()),
        {"logisticregression__C": [1.0]},
        cv=2,
    ).fit(*_data())
    with pytest.raises(TypeError, match=r"at GridSearchCV.best_estimator_\[-1\]"):
        AttentionDisplay.from_estimator(search)


def test_from_search_without_refit_asks_for_refit(plt):
    search = GridSearchCV(
        SparseAttentionClassifier(_modules()[:2], cv=2), {"cv": [2]}, cv=2, refit=False
    ).fit(*_data())
    with pytest.raises(TypeError, match="refit=True"):
        AttentionDisplay.from_estimator(search)


def test_temperature_path_from_plain_ensemble_names_the_cv_estimators(
    plt, fitted_classifier
):
    with pytest.raises(TypeError, match="SparseAttentionClassifierCV") as info:
        TemperaturePathDisplay.from_estimator(fitted_classifier)
    assert "which has no temperatures_, weights_path_" in str(info.value)


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
    assert display.ax_.get_xlim() == pytest.approx((0.0, 1.3 * 0.6))

    # Pruned: grey name, hatched empty bar, "pruned" beside it.
    texts = [t.get_text() for t in display.annotations_]
    assert texts == ["0.6", "pruned", "0.4"]
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
    assert display.score_points_ in display.score_ax_.collections

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
    with pytest.raises(ValueError, match="pruned has 1 values"):
        AttentionDisplay([0.5, 0.5], ["a", "b"], pruned=[True]).plot()


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
    assert display.score_ax_.get_xlabel() == "out-of-fold R^2"


def _visible_xtick_labels(ax):
    """The x tick labels inside the view, drawn, with their extents."""
    ax.figure.canvas.draw()
    renderer = ax.figure.canvas.get_renderer()
    low, high = sorted(ax.get_xlim())
    labels = [
        label
        for label in ax.get_xticklabels()
        if label.get_text() and low <= label.get_position()[0] <= high
    ]
    return [label.get_text() for label in labels], [
        label.get_window_extent(renderer) for label in labels
    ]


NARROW_SCORES = {
    "five_digits": [-0.08123, -0.08151, -0.08097, -0.0813],
    "near_one": [0.91234, 0.91241, 0.91229, 0.9123],
    "three_digits": [-0.0712, -0.0734, -0.0723, -0.0709],
    "large_offset": [-1234.5, -1234.7, -1234.1, -1234.3],
    "wide": [-0.2, -0.9, -3.5, -0.4],
}


@pytest.mark.parametrize("layout", ["new_figure", "one_small_ax", "two_axes"])
@pytest.mark.parametrize("scores", NARROW_SCORES.values(), ids=NARROW_SCORES)
def test_attention_display_score_tick_labels_do_not_overlap(plt, scores, layout):
    # Before, a score panel carved from a 5-inch Axes labelled -0.08150,
    # -0.08125 and -0.08100 on top of each other.
    if layout == "new_figure":
        ax = None
    elif layout == "one_small_ax":
        ax = plt.subplots(figsize=(5.0, 3.0))[1]
    else:
        ax = plt.subplots(1, 2, figsize=(6.4, 3.0))[1]
    display = AttentionDisplay(
        [0.25] * 4, ["a", "b", "c", "d"], oof_scores=scores
    ).plot(ax=ax)

    for axis_ax in display.axes_:
        texts, boxes = _visible_xtick_labels(axis_ax)
        assert texts, "no tick label is shown"
        assert len(set(texts)) == len(texts), texts  # no two labels alike
        assert len(texts) <= 7
        for left, right in zip(boxes, boxes[1:]):
            assert left.x1 < right.x0, texts
    # The ticks still frame the scores: one at least lies within their range
    # widened by a tick step, and the dots are inside the view.
    low, high = sorted(display.score_ax_.get_xlim())
    assert low < min(scores) and max(scores) < high


# --------------------------------------------------------------------------
# TemperaturePathDisplay
# --------------------------------------------------------------------------
TEMPERATURES = np.array([0.01, 0.1, 1.0, 10.0])
PATH = np.array([[1.0, 0.0], [0.9, 0.1], [0.6, 0.4], [0.5, 0.5]])
SCORES = np.array([-0.3, -0.2, -0.25, -0.28])
STDS = np.array([0.01, 0.02, 0.01, 0.03])


def test_temperature_path_display_draws_path(plt):
    display = TemperaturePathDisplay(
        TEMPERATURES,
        PATH,
        ["lr", "tree"],
        chosen_temperature=0.1,
        scores=SCORES,
        scores_std=STDS,
        score_name="my score",
    ).plot()

    assert display.plot() is display  # plot returns self (and can be redone)
    assert len(display.lines_) == 2
    for m, line in enumerate(display.lines_):
        np.testing.assert_allclose(line.get_xdata(), TEMPERATURES)
        np.testing.assert_allclose(line.get_ydata(), PATH[:, m])
        assert line.axes is display.ax_
    assert [line.get_label() for line in display.lines_] == ["lr", "tree"]
    assert display.ax_.get_xscale() == "log"
    assert display.ax_.get_ylim() == pytest.approx((-0.03, 1.03))
    assert display.figure_ is display.ax_.figure
    assert list(display.axes_) == [display.ax_, display.score_ax_]

    # The chosen candidate: a vertical line on the weights, a star on its score.
    np.testing.assert_allclose(display.chosen_line_.get_xdata(), [0.1, 0.1])
    assert display.chosen_line_.axes is display.ax_
    np.testing.assert_allclose(display.chosen_marker_.get_xdata(), [0.1])
    np.testing.assert_allclose(display.chosen_marker_.get_ydata(), [-0.2])
    assert display.chosen_marker_.axes is display.score_ax_

    legend = [text.get_text() for text in display.legend_.get_texts()]
    assert legend == [
        "lr",
        "tree",
        "chosen temperature (0.1)",
        "chosen candidate",
        "mean inner-CV score",
        "± 1 std",
    ]
    assert display.single_module_line_ is None
    assert display.single_module_note_ is None


def test_temperature_path_scores_have_their_own_axis(plt):
    display = TemperaturePathDisplay(
        TEMPERATURES, PATH, ["lr", "tree"], scores=SCORES, scores_std=STDS
    ).plot()
    ax, score_ax = display.ax_, display.score_ax_

    # A panel of its own below the weights: same temperatures, own scale.
    assert score_ax is not ax
    assert score_ax.get_shared_x_axes().joined(ax, score_ax)
    assert not score_ax.get_shared_y_axes().joined(ax, score_ax)
    assert score_ax.get_position().y1 <= ax.get_position().y0
    assert score_ax.get_xlabel() == "temperature"
    assert score_ax.get_ylabel() == "inner-CV score"
    np.testing.assert_allclose(display.score_line_.get_ydata(), SCORES)
    assert display.score_line_.axes is score_ax

    # The band is light, behind the mean, and nowhere near the weights.
    band = display.score_band_
    assert band.axes is score_ax and band not in ax.collections
    assert band.get_alpha() <= 0.2
    assert band.get_zorder() < display.score_line_.get_zorder()
    vertices = band.get_paths()[0].vertices
    np.testing.assert_allclose(vertices[:, 1].min(), (SCORES - STDS).min())
    np.testing.assert_allclose(vertices[:, 1].max(), (SCORES + STDS).max())

    # The score axis spans the scores and their band, not [0, 1].
    low, high = score_ax.get_ylim()
    band_low, band_high = (SCORES - STDS).min(), (SCORES + STDS).max()
    assert low <= band_low and band_high <= high
    assert high - low < 1.5 * (band_high - band_low)


def test_temperature_path_display_given_axes(plt):
    fig, ax = plt.subplots()
    display = TemperaturePathDisplay(
        TEMPERATURES, PATH, ["lr", "tree"], scores=SCORES
    ).plot(ax=ax)
    assert display.ax_ is ax and display.figure_ is fig
    assert display.lines_[0] in ax.lines
    # The score panel is carved from the bottom of the given Axes.
    assert display.score_ax_.figure is fig
    assert display.score_line_ in display.score_ax_.lines
    assert display.score_ax_.get_shared_x_axes().joined(ax, display.score_ax_)
    assert display.score_band_ is None  # no scores_std

    fig, (top, bottom) = plt.subplots(2, 1)
    display.plot(ax=[top, bottom])
    assert (display.ax_, display.score_ax_) == (top, bottom)
    assert bottom.get_xscale() == "log"
    assert bottom.get_xlim() == pytest.approx(top.get_xlim())
    with pytest.raises(ValueError, match="ax must be one Axes or 2 Axes"):
        display.plot(ax=[top, bottom, ax])


def test_temperature_path_display_without_scores_or_choice(plt):
    fig, ax = plt.subplots()
    display = TemperaturePathDisplay([0.1, 1.0], [[1.0, 0.0], [0.5, 0.5]], ["a", "b"])
    assert display.plot(ax=ax) is display
    assert display.ax_ is ax and display.figure_ is fig
    assert display.lines_[0] in ax.lines
    assert display.score_ax_ is None and list(display.axes_) == [ax]
    assert display.score_line_ is None and display.chosen_line_ is None
    assert display.chosen_marker_ is None
    assert [t.get_text() for t in display.legend_.get_texts()] == ["a", "b"]
    assert ax.get_xlabel() == "temperature"


def test_temperature_path_display_single_module(plt):
    display = TemperaturePathDisplay(
        TEMPERATURES,
        PATH,
        ["lr", "tree"],
        # A single-module choice has a documented temperature_ too: unmarked.
        chosen_temperature=1.0,
        scores=SCORES,
        scores_std=STDS,
        single_module="tree",
        single_module_score=-0.15,
    ).plot()

    assert display.chosen_line_ is None and display.chosen_marker_ is None
    assert not [line for line in display.ax_.lines if line not in display.lines_]
    note = display.single_module_note_
    assert note.get_text() == "chose tree alone"
    assert note in display.legend_.get_texts() and note.get_visible()
    line = display.single_module_line_
    assert line.axes is display.score_ax_
    np.testing.assert_allclose(line.get_ydata(), [-0.15, -0.15])
    assert line.get_color() == display.lines_[1].get_color()
    low, high = display.score_ax_.get_ylim()
    assert low < -0.15 < high + 1e-12


def test_temperature_path_display_single_module_without_scores(plt):
    display = TemperaturePathDisplay(
        TEMPERATURES, PATH, ["lr", "tree"], single_module="lr"
    ).plot()
    assert display.chosen_line_ is None and display.score_ax_ is None
    assert display.single_module_note_.get_text() == "chose lr alone"
    # Only in the legend: there is no score to draw it at.
    assert display.single_module_line_.axes is None
    assert display.single_module_line_ not in display.ax_.lines


def test_temperature_path_display_validates(plt):
    with pytest.raises(ValueError, match="weights_path must have shape"):
        TemperaturePathDisplay([0.1, 1.0], [[1.0, 0.0]], ["a", "b"]).plot()
    with pytest.raises(ValueError, match="module_names"):
        TemperaturePathDisplay([0.1], [[1.0, 0.0]], ["a"]).plot()
    with pytest.raises(ValueError, match="scores"):
        TemperaturePathDisplay([0.1], [[1.0]], ["a"], scores=[1.0, 2.0]).plot()
    with pytest.raises(ValueError, match="single_module='c' is not one of"):
        TemperaturePathDisplay([0.1], [[1.0]], ["a"], single_module="c").plot()


class _FakeCV(ClassifierMixin, BaseEstimator):
    """A stand-in for a fitted cross-validated ensemble, with the attributes
    TemperaturePathDisplay.from_estimator reads."""

    def fit(self, X, y):
        return self


def _fake_cv(*, single_module=None, path_attributes=True, masked=True):
    """A fitted-looking CV ensemble with a GridSearchCV-style cv_results_: a
    (combine x normaliser x temperature) grid, rows shuffled so that the
    display has to pick and order the rows of the path's candidate; then one
    row per module alone, without temperature; one weight column per module.
    """
    temperatures = np.array([0.1, 1.0, 10.0])
    names = ["lr", "nb", "tree"]
    grid = [
        (combine, normaliser, t)
        for combine in ("log", "linear")
        for normaliser in ("softmax", "sparsemax")
        for t in (10.0, 0.1, 1.0)
    ] + [("linear", None, None)] * len(names)
    n_rows = len(grid)
    means = np.arange(n_rows, dtype=float) / 10.0
    no_temperature = np.array([g[2] is None for g in grid])
    # Under the mask, a temperature of the path: the mask has to be read.
    temperature_data = np.array([1.0 if g[2] is None else g[2] for g in grid])
    cv = _FakeCV()
    cv.temperatures_ = temperatures
    cv.weights_path_ = np.array([[1.0, 0.0, 0.0], [0.7, 0.3, 0.0], [0.4, 0.35, 0.25]])
    cv.module_names_ = names
    cv.cv_results_ = {
        "params": [{} for _ in grid],
        "param_combine": np.ma.array([g[0] for g in grid], dtype=object),
        "param_normaliser": np.ma.array(
            [g[1] for g in grid], mask=no_temperature, dtype=object
        ),
        "param_temperature": (
            np.ma.array(temperature_data, mask=no_temperature)
            if masked
            else np.where(no_temperature, np.nan, temperature_data)
        ),
        "param_module": np.ma.array(
            [None] * (n_rows - len(names)) + names,
            mask=~no_temperature,
            dtype=object,
        ),
        "mean_test_score": means,
        "std_test_score": means / 100.0,
        "rank_test_score": np.argsort(np.argsort(-means)) + 1,
        **{f"weight_{name}": np.full(n_rows, 1 / 3) for name in names},
    }
    if single_module is None:
        cv.temperature_, cv.combine_, cv.normaliser_ = 1.0, "linear", "softmax"
    else:
        # What a CV estimator reports when it chose one module alone.
        cv.temperature_, cv.combine_, cv.normaliser_ = 1.0, "linear", "sparsemax"
    cv.single_module_ = single_module
    if path_attributes:
        cv.path_combine_, cv.path_normaliser_ = "linear", "softmax"
    # Rows of ("linear", "softmax") are 6, 7, 8 at temperatures 10, 0.1, 1.
    return cv, means[[7, 8, 6]], means


@pytest.mark.parametrize("masked", [True, False], ids=["masked", "nan"])
@pytest.mark.parametrize("path_attributes", [True, False])
def test_temperature_path_from_estimator_fake(plt, path_attributes, masked):
    cv, expected_scores, _ = _fake_cv(path_attributes=path_attributes, masked=masked)
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
    np.testing.assert_allclose(display.chosen_marker_.get_ydata(), expected_scores[1:2])
    assert display.single_module_note_ is None


@pytest.mark.parametrize("masked", [True, False], ids=["masked", "nan"])
def test_temperature_path_from_estimator_single_module_fake(plt, masked):
    cv, expected_scores, means = _fake_cv(single_module="nb", masked=masked)
    display = TemperaturePathDisplay.from_estimator(cv)

    # temperature_ is 1.0, on the path, yet nothing marks it.
    assert display.chosen_temperature is None and display.chosen_line_ is None
    assert display.chosen_marker_ is None
    assert display.single_module == "nb"
    assert display.single_module_note_.get_text() == "chose nb alone"
    # The path's scores, not those of combine_ and normaliser_ ("sparsemax").
    np.testing.assert_allclose(display.score_line_.get_ydata(), expected_scores)
    # The module's own row: the second of the single-module rows.
    np.testing.assert_allclose(display.single_module_line_.get_ydata(), means[[13] * 2])


def test_temperature_path_from_estimator_without_param_module(plt):
    cv, expected_scores, _ = _fake_cv(single_module="nb")
    del cv.cv_results_["param_module"]
    display = TemperaturePathDisplay.from_estimator(cv)
    np.testing.assert_allclose(display.score_line_.get_ydata(), expected_scores)
    assert display.single_module_note_.get_text() == "chose nb alone"
    assert display.single_module_line_.axes is None  # no score for it


def test_temperature_path_from_estimator_ambiguous_path(plt):
    # A module alone was chosen, and the estimator does not say which
    # candidate the path is: combine_ and normaliser_ describe the module.
    cv, _, _ = _fake_cv(single_module="nb", path_attributes=False)
    with pytest.raises(ValueError, match="does not say which one the path is"):
        TemperaturePathDisplay.from_estimator(cv)


def test_temperature_path_from_estimator_missing_temperature(plt):
    cv, _, _ = _fake_cv()
    cv.temperatures_ = np.array([0.1, 1.0, 100.0])
    with pytest.raises(ValueError, match="no score at temperature 100"):
        TemperaturePathDisplay.from_estimator(cv)


def test_temperature_path_from_estimator_without_cv_results(plt):
    cv, _, _ = _fake_cv()
    del cv.cv_results_
    display = TemperaturePathDisplay.from_estimator(cv)
    assert display.score_ax_ is None and display.score_line_ is None
    np.testing.assert_allclose(display.chosen_line_.get_xdata(), [1.0, 1.0])


def test_temperature_path_from_real_cv_estimator(plt, fitted_cv_classifier):
    cv = fitted_cv_classifier
    assert cv.single_module_ is None, "the fixture must choose a combination"
    display = TemperaturePathDisplay.from_estimator(cv)

    assert len(display.lines_) == len(cv.module_names_)
    for m, line in enumerate(display.lines_):
        np.testing.assert_allclose(line.get_xdata(), cv.temperatures_)
        np.testing.assert_allclose(line.get_ydata(), cv.weights_path_[:, m])
    np.testing.assert_allclose(display.chosen_line_.get_xdata(), [cv.temperature_] * 2)
    results = cv.cv_results_
    np.testing.assert_allclose(
        display.chosen_marker_.get_ydata(), [results["mean_test_score"][cv.best_index_]]
    )
    assert display.score_line_.get_ydata().shape == cv.temperatures_.shape
    assert display.single_module_note_ is None


def test_temperature_path_from_real_single_module_choice(plt):
    # Far from the low temperatures the mixture is nearly uniform, and the
    # constant module drags it down: the logistic regression alone wins.
    X, y = make_classification(
        n_samples=60, n_features=5, n_informative=3, class_sep=2.0, random_state=0
    )
    cv = SparseAttentionClassifierCV(
        [("lr", LogisticRegression()), ("dummy", DummyClassifier())],
        temperatures=[100.0, 1000.0],
        combines=("linear",),
        cv=3,
    ).fit(X, y)
    assert cv.single_module_ == "lr", "the data must make one module win alone"

    display = TemperaturePathDisplay.from_estimator(cv)

    assert display.chosen_line_ is None and display.chosen_marker_ is None
    assert display.single_module_note_.get_text() == "chose lr alone"
    np.testing.assert_allclose(
        display.single_module_line_.get_ydata(),
        [cv.cv_results_["mean_test_score"][cv.best_index_]] * 2,
    )
    for m, line in enumerate(display.lines_):
        np.testing.assert_allclose(line.get_ydata(), cv.weights_path_[:, m])
    assert display.score_line_.get_ydata().shape == (2,)
