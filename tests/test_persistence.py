"""Saving and loading fitted ensembles: pickle, joblib and skops.io.

See docs/persistence.md for the user-facing advice; its skops recipe (the
allow-list of types) is read from the page and run on every model here.
"""

import ast
import pickle
import re
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from threadpoolctl import threadpool_limits

from skweighting import (
    SparseAttentionClassifier,
    SparseAttentionClassifierCV,
    SparseAttentionEnsemble,
    SparseAttentionRegressor,
    SparseAttentionRegressorCV,
)

sio = pytest.importorskip("skops.io")

PERSISTENCE_PAGE = Path(__file__).resolve().parents[1] / "docs" / "persistence.md"


def _recipe():
    """The skops recipe of docs/persistence.md: its code block that reviews
    the untrusted types, and the allow-list it defines."""
    blocks = re.findall(r"```python\n(.*?)```", PERSISTENCE_PAGE.read_text(), re.DOTALL)
    block = next(b for b in blocks if "ALLOWED_PREFIXES" in b)
    namespace = {}
    for node in ast.parse(block).body:
        if isinstance(node, ast.Assign) and node.targets[0].id.startswith("ALLOWED"):
            exec(
                compile(ast.Module([node], type_ignores=[]), "recipe", "exec"),
                namespace,
            )
    return block, namespace["ALLOWED_PREFIXES"], namespace["ALLOWED_TYPES"]


RECIPE, ALLOWED_PREFIXES, ALLOWED_TYPES = _recipe()


def _unexpected(untrusted):
    """The types the recipe of docs/persistence.md refuses."""
    return [
        t
        for t in untrusted
        if not t.startswith(ALLOWED_PREFIXES) and t not in ALLOWED_TYPES
    ]


@pytest.fixture(autouse=True, scope="module")
def _single_threaded_blas():
    with threadpool_limits(limits=1):
        yield


X, Y = make_classification(
    n_samples=90, n_features=5, n_informative=3, n_classes=3, random_state=0
)
Y_STR = np.array(["bird", "cat", "dog"])[Y]
X_REG, Y_REG = make_regression(n_samples=80, n_features=5, noise=5.0, random_state=0)
Y_REG_2D = np.column_stack([Y_REG, -0.5 * Y_REG])


def _dataframe():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    frame["colour"] = pd.Categorical(rng.choice(["red", "green", "blue"], len(X)))
    return frame


def _frame_model():
    encode = ColumnTransformer(
        [("onehot", OneHotEncoder(), ["colour"])], remainder=StandardScaler()
    )
    return SparseAttentionClassifier(
        [
            ("lr", make_pipeline(encode, LogisticRegression())),
            ("tree", make_pipeline(clone(encode), DecisionTreeClassifier(max_depth=3))),
        ],
        random_state=0,
    )


def _prefit_model():
    prefit = LogisticRegression().fit(X, Y_STR)
    return SparseAttentionClassifier(
        [("frozen", FrozenEstimator(prefit)), ("nb", GaussianNB())], random_state=0
    )


def _default_portfolio():
    # estimators=None: the default portfolio (scaled logistic regression,
    # random forest, histogram gradient boosting, naive Bayes).
    return SparseAttentionClassifier(random_state=0, cv=3, n_jobs=2)


def _default_regression_portfolio():
    # The scaled RidgeCV, random forest and histogram gradient boosting.
    return SparseAttentionRegressor(random_state=0, cv=3, n_jobs=2)


# (name, unfitted estimator, X, y, methods compared after loading)
CASES = [
    (
        "classifier-log",
        SparseAttentionClassifier(
            [
                ("lr", make_pipeline(StandardScaler(), LogisticRegression())),
                ("tree", DecisionTreeClassifier(max_depth=3)),
                ("knn", KNeighborsClassifier()),
            ],
            random_state=0,
        ),
        X,
        Y_STR,
        ("predict", "predict_proba", "transform"),
    ),
    (
        "classifier-linear",
        SparseAttentionClassifier(
            [("nb", GaussianNB()), ("rf", RandomForestClassifier(n_estimators=5))],
            combine="linear",
            random_state=0,
        ),
        X,
        Y,
        ("predict", "predict_proba", "transform"),
    ),
    (
        "regressor-multi-output",
        SparseAttentionRegressor(
            [("ridge", Ridge()), ("tree", DecisionTreeRegressor(max_depth=3))],
            random_state=0,
        ),
        X_REG,
        Y_REG_2D,
        ("predict", "transform"),
    ),
    (
        "ensemble-classifier-with-drop",
        SparseAttentionEnsemble(
            [("lr", LogisticRegression()), ("off", "drop"), ("nb", GaussianNB())],
            random_state=0,
        ),
        X,
        Y_STR,
        ("predict", "predict_proba", "transform"),
    ),
    (
        "ensemble-regressor",
        SparseAttentionEnsemble(
            [("ridge", Ridge()), ("tree", DecisionTreeRegressor(max_depth=3))],
            random_state=0,
        ),
        X_REG,
        Y_REG,
        ("predict", "transform"),
    ),
    (
        "prefit-frozen-module",
        _prefit_model(),
        X,
        Y_STR,
        ("predict", "predict_proba"),
    ),
    (
        "default-portfolio",
        _default_portfolio(),
        X,
        Y,
        ("predict", "predict_proba"),
    ),
    (
        "default-regression-portfolio",
        _default_regression_portfolio(),
        X_REG,
        Y_REG,
        ("predict",),
    ),
    (
        # Sparse weights: pruned modules are 'drop's in named_estimators_.
        "sparsemax-pruned",
        SparseAttentionClassifier(
            [
                ("lr", make_pipeline(StandardScaler(), LogisticRegression())),
                ("nb", GaussianNB()),
                ("tree", DecisionTreeClassifier(max_depth=1)),
            ],
            normaliser="sparsemax",
            combine="linear",
            random_state=0,
        ),
        X,
        Y,
        ("predict", "predict_proba", "transform"),
    ),
    (
        "classifier-cv",
        SparseAttentionClassifierCV(
            [("lr", LogisticRegression()), ("nb", GaussianNB())],
            temperatures=3,
            normalisers=("softmax", "sparsemax"),
            random_state=0,
        ),
        X,
        Y_STR,
        ("predict", "predict_proba", "transform"),
    ),
    (
        "regressor-cv",
        SparseAttentionRegressorCV(
            [("ridge", Ridge()), ("tree", DecisionTreeRegressor(max_depth=3))],
            temperatures=3,
            random_state=0,
        ),
        X_REG,
        Y_REG,
        ("predict", "transform"),
    ),
]
CASE_IDS = [case[0] for case in CASES]


@pytest.fixture(scope="module", params=CASES, ids=CASE_IDS)
def fitted(request):
    _, est, X_fit, y, methods = request.param
    return clone(est).fit(X_fit, y), X_fit, methods


def _assert_same_model(loaded, original, X_test, methods):
    assert type(loaded) is type(original)
    for method in methods:
        np.testing.assert_array_equal(
            getattr(loaded, method)(X_test), getattr(original, method)(X_test)
        )
    np.testing.assert_array_equal(
        loaded.attention_weights_, original.attention_weights_
    )
    np.testing.assert_array_equal(loaded.oof_scores_, original.oof_scores_)
    assert list(loaded.named_estimators_) == list(original.named_estimators_)
    assert repr(loaded.get_params(deep=False)) == repr(original.get_params(deep=False))


def test_pickle_round_trip(fitted):
    est, X_test, methods = fitted
    loaded = pickle.loads(pickle.dumps(est))
    _assert_same_model(loaded, est, X_test, methods)


def test_joblib_round_trip(fitted, tmp_path):
    est, X_test, methods = fitted
    path = tmp_path / "model.joblib"
    joblib.dump(est, path)
    _assert_same_model(joblib.load(path), est, X_test, methods)


def test_skops_round_trip_needs_only_known_types(fitted, tmp_path):
    # The recipe of docs/persistence.md accepts every type the model needs.
    est, X_test, methods = fitted
    path = tmp_path / "model.skops"
    sio.dump(est, path)
    untrusted = sio.get_untrusted_types(file=path)
    assert not _unexpected(untrusted), _unexpected(untrusted)
    loaded = sio.load(path, trusted=untrusted)
    _assert_same_model(loaded, est, X_test, methods)


def test_the_recipe_example_lists_types_skops_asks_for():
    # The "e.g." output in the recipe is what skops lists for a classifier
    # with log pooling and a tree (a part of it).
    shown = re.findall(r"'([\w.]+)'", RECIPE.split("ALLOWED_PREFIXES")[0])
    est = SparseAttentionClassifier(
        [("lr", LogisticRegression()), ("tree", DecisionTreeClassifier(max_depth=3))],
        random_state=0,
    ).fit(X, Y)
    untrusted = sio.get_untrusted_types(data=sio.dumps(est))
    assert shown and set(shown) <= set(untrusted), (shown, untrusted)


@pytest.mark.parametrize("categorical", [["colour"], "from_dtype"])
def test_the_recipe_loads_gradient_boosting_with_categorical_features(categorical):
    # HistGradientBoosting with categorical features keeps check_array in a
    # functools.partial: the one type outside the allowed packages.
    frame = _dataframe()
    est = SparseAttentionClassifier(
        [
            (
                "hgb",
                HistGradientBoostingClassifier(
                    categorical_features=categorical, max_iter=10, random_state=0
                ),
            ),
            (
                "nb",
                make_pipeline(
                    ColumnTransformer(
                        [("num", StandardScaler(), list(frame.columns[:-1]))]
                    ),
                    GaussianNB(),
                ),
            ),
        ],
        random_state=0,
    ).fit(frame, Y_STR)
    data = sio.dumps(est)
    untrusted = sio.get_untrusted_types(data=data)
    assert "functools.partial" in untrusted
    assert not _unexpected(untrusted), _unexpected(untrusted)
    _assert_same_model(
        sio.loads(data, trusted=untrusted), est, frame, ("predict", "predict_proba")
    )


def test_skops_refuses_to_load_without_a_trusted_list(fitted):
    est, _, _ = fitted
    data = sio.dumps(est)
    untrusted = sio.get_untrusted_types(data=data)
    assert any(t.startswith("skweighting.") for t in untrusted)
    with pytest.raises(sio.exceptions.UntrustedTypesFoundException):
        sio.loads(data)


def test_dataframe_with_categorical_column_round_trips():
    frame = _dataframe()
    est = _frame_model().fit(frame, Y_STR)
    assert list(est.feature_names_in_) == list(frame.columns)
    data = sio.dumps(est)
    untrusted = sio.get_untrusted_types(data=data)
    assert not _unexpected(untrusted), untrusted
    for loaded in (sio.loads(data, trusted=untrusted), pickle.loads(pickle.dumps(est))):
        _assert_same_model(loaded, est, frame, ("predict", "predict_proba"))
        np.testing.assert_array_equal(loaded.feature_names_in_, est.feature_names_in_)


@pytest.mark.parametrize(
    "est",
    [SparseAttentionClassifier(), SparseAttentionRegressor(), CASES[3][1]],
    ids=["classifier", "regressor", "ensemble"],
)
def test_unfitted_estimator_round_trips(est):
    for loaded in (
        pickle.loads(pickle.dumps(est)),
        sio.loads(sio.dumps(est), trusted=sio.get_untrusted_types(data=sio.dumps(est))),
    ):
        assert repr(loaded.get_params(deep=False)) == repr(est.get_params(deep=False))


def test_loaded_model_can_be_refitted():
    _, est, X_fit, y, _ = CASES[0]
    fitted_est = clone(est).fit(X_fit, y)
    data = sio.dumps(fitted_est)
    loaded = sio.loads(data, trusted=sio.get_untrusted_types(data=data))
    refitted = loaded.fit(X_fit, y)
    np.testing.assert_allclose(
        refitted.attention_weights_, fitted_est.attention_weights_
    )
