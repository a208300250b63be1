"""The tables of docs/reliability.md: each case is run, and its exception
(or warning) and message are recorded, never typed by hand.

docs/figures.py writes (and with ``--check`` checks) the tables, one
generated block each; it runs this script in a subprocess::

    python docs/reliability.py --json

with ``PYTHONHASHSEED=0``: scikit-learn's parameter validation prints some
options from a Python set, whose order depends on the hash seed. Run
without ``--json`` it prints the tables as markdown.

A case is a label (the bad input or the fault, as the page shows it) and
``run``, a function that triggers it. What the table shows is what ``run``
raised (its type and message) or warned; if it did neither, the case
describes a behaviour (``behaviour``), which ``run`` checks with
assertions, so that the page cannot claim a behaviour the code lost. A case
may give several variants (``also``): each must raise the same type with
the same message, and the table shows the first.

The small misbehaving estimators and the data are those of tests/_helpers.py.
"""

import argparse
import gc
import importlib.util
import json
import re
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))  # this checkout, installed or not


def _load(path):
    """Import a file of tests/ (which imports its neighbours, _helpers)."""
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Case:
    label: str
    run: object
    # Variants that must give the same exception and message.
    also: list = field(default_factory=list)
    # What the exception column adds after the type, e.g. "(from
    # StratifiedKFold)".
    origin: str = ""
    # The message column: a function of the exception that returns text to
    # put after the message (e.g. what its __cause__ is).
    note: object = None
    # Text before the message (e.g. "scikit-learn's:").
    prefix: str = ""
    # A function that shortens a long third-party message (the page says so
    # in ``prefix``).
    shorten: object = None
    # For a case that raises nothing: what happens instead (``run`` checks
    # it with assertions).
    behaviour: str = ""


def _code(text):
    """``text`` as a markdown code span, on one line, safe in a table."""
    text = " ".join(str(text).split()).replace("|", "\\|")
    if "`" in text:
        return f"`` {text} ``"
    return f"`{text}`"


def _outcome(run):
    """``(exception or None, [warnings])`` of calling ``run``.

    Garbage of an earlier case is collected first: joblib warns about the
    unused tasks of a parallel run that an error interrupted when that run
    is collected, which must not be counted against the next case."""
    gc.collect()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            run()
        except Exception as exc:  # the point: record whatever it raises
            return exc, list(caught)
    return None, list(caught)


def _row(case):
    exc, caught = _outcome(case.run)
    for variant in case.also:
        other, _ = _outcome(variant)
        if exc is None or other is None:
            raise RuntimeError(f"{case.label}: a variant did not raise")
        if (type(other), str(other)) != (type(exc), str(exc)):
            raise RuntimeError(
                f"{case.label}: a variant gives another error:\n{other!r}\n"
                f"against\n{exc!r}"
            )
    if exc is not None:
        if case.behaviour:
            raise RuntimeError(
                f"{case.label}: expected {case.behaviour}; got {exc!r}"
            ) from exc
        message = str(exc)
        if case.shorten:
            message = case.shorten(message)
        kind = f"`{type(exc).__name__}`" + (f" {case.origin}" if case.origin else "")
        text = (case.prefix + " " if case.prefix else "") + _code(message)
        if case.note:
            text += " " + case.note(exc)
        return f"| {case.label} | {kind} | {text} |"
    warned = [
        w
        for w in caught
        if not issubclass(w.category, DeprecationWarning) and "joblib" not in w.filename
    ]
    if warned:
        first = warned[0]
        kind = f"`{first.category.__name__}`; the fit goes on"
        text = _code(first.message)
        if case.behaviour:
            text += " — " + case.behaviour
        return f"| {case.label} | {kind} | {text} |"
    if not case.behaviour:
        raise RuntimeError(f"{case.label}: raised and warned nothing")
    return f"| {case.label} | none | {case.behaviour} |"


def _table(cases, last_column="message"):
    lines = [
        f"| bad input | exception | {last_column} |",
        "|---|---|---|",
    ]
    return "\n".join([*lines, *(_row(case) for case in cases)])


# --------------------------------------------------------------------------
# The cases
# --------------------------------------------------------------------------
def _cases():
    import numpy as np
    import sklearn
    from sklearn.base import clone
    from sklearn.frozen import FrozenEstimator
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.model_selection import GridSearchCV, GroupKFold, KFold
    from sklearn.naive_bayes import GaussianNB
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    from skweighting import (
        SparseAttentionClassifier,
        SparseAttentionClassifierCV,
        SparseAttentionEnsemble,
        SparseAttentionRegressor,
    )
    from skweighting._combinations._common import PROBA_FLOOR

    faults = _load(ROOT / "tests" / "_helpers.py")
    X, Y = faults.X_THREE_CLASSES, faults.Y_THREE_CLASSES
    Y_STR = faults.Y_THREE_CLASSES_STR
    X_REG, Y_REG = faults.X_REGRESSION, faults.Y_REGRESSION
    classifier, regressor = faults.classifier_with, faults.regressor_with

    def lr():
        return ("lr", LogisticRegression())

    def fit(est, X_fit=X, y=Y, **params):
        return lambda: est.fit(X_fit, y, **params)

    def plain(**params):
        return fit(SparseAttentionClassifier([lr()], **params))

    def cv(**params):
        return fit(SparseAttentionClassifierCV([lr(), ("nb", GaussianNB())], **params))

    def routed(run):
        def routed_run():
            with sklearn.config_context(enable_metadata_routing=True):
                run()

        return routed_run

    def cause(exc):
        return f"— `__cause__` is the original `{type(exc.__cause__).__name__}`"

    def assert_finite(est):
        for attribute in ("attention_logits_", "attention_weights_", "oof_scores_"):
            assert np.all(np.isfinite(getattr(est, attribute))), attribute
        assert abs(est.attention_weights_.sum() - 1) < 1e-9

    def at_predict(make, X_fit, y, module_params, *methods, X_predict=None):
        """Fit, then set the module 'bad' to misbehave, then predict."""

        def run():
            est = make().fit(X_fit, y)
            est.named_estimators_["bad"].set_params(**module_params)
            for method in methods:
                getattr(est, method)(X_fit if X_predict is None else X_predict)

        return run

    parameters = [
        Case("`temperature=0`", plain(temperature=0)),
        Case("`temperature=-1.0`", plain(temperature=-1.0)),
        Case("`temperature=nan`", plain(temperature=np.nan)),
        Case("`temperature=inf`", plain(temperature=np.inf)),
        Case("`temperature=1e300` — **fixed**", plain(temperature=1e300)),
        Case("`temperature=1e-300` — **fixed**", plain(temperature=1e-300)),
        Case("`alpha=-0.001`", plain(alpha=-0.001)),
        Case("`alpha=inf`", plain(alpha=np.inf)),
        Case("`prune_tol=-1`", plain(prune_tol=-1)),
        Case("`cv=1`", plain(cv=1)),
        Case("`combine='mean'`", plain(combine="mean")),
        Case("`normaliser='relu'`", plain(normaliser="relu")),
        Case("`memory=3`", plain(memory=3)),
        Case("`max_iter=0`", plain(max_iter=0)),
        Case("`tol=-1`", plain(tol=-1)),
    ]

    cv_parameters = [
        Case("`alpha=0.0`", cv(alpha=0.0)),
        Case("`temperatures=1`", cv(temperatures=1)),
        Case("`temperatures=[]`", cv(temperatures=[])),
        Case("`temperatures=[0.0, 1.0]`", cv(temperatures=[0.0, 1.0])),
        Case("`combines=['geometric']`", cv(combines=["geometric"])),
        Case("`combines=[]`", cv(combines=[])),
        Case("`normalisers=['relu']`", cv(normalisers=["relu"])),
        Case("`normalisers=[]`", cv(normalisers=[])),
        Case(
            "an unknown `scoring` name",
            cv(scoring="nope"),
            prefix="scikit-learn's (the list of scorer names cut):",
            shorten=lambda m: re.sub(r"\{'[^}]*\}", "{...}", m, count=1),
        ),
    ]

    estimators = [
        Case(
            "`estimators=[]` (every estimator)",
            fit(SparseAttentionClassifier([])),
            also=[
                fit(SparseAttentionEnsemble([])),
                fit(SparseAttentionRegressor([]), X_REG, Y_REG),
                fit(SparseAttentionClassifierCV([])),
            ],
        ),
        Case(
            "a bare estimator instead of a `(name, estimator)` pair",
            fit(SparseAttentionClassifier([LogisticRegression()])),
        ),
        Case(
            "a non-string name, `(1, est)`",
            fit(SparseAttentionClassifier([(1, LogisticRegression())])),
        ),
        Case(
            "every module `'drop'`",
            fit(SparseAttentionClassifier([("a", "drop"), ("b", "drop")])),
        ),
        Case("duplicate names", fit(SparseAttentionClassifier([lr(), lr()]))),
        Case(
            "a name containing `__`",
            fit(SparseAttentionClassifier([("a__b", LogisticRegression())])),
        ),
        Case(
            "a name equal to a parameter, e.g. `'alpha'`",
            fit(SparseAttentionClassifier([("alpha", LogisticRegression())])),
        ),
        Case(
            "an estimator class, not an instance",
            fit(SparseAttentionClassifier([lr(), ("x", LogisticRegression)])),
        ),
        Case(
            "a non-estimator module (`3`, `None`, `'passthrough'`), any "
            "estimator — SparseAttentionEnsemble: **fixed**",
            fit(SparseAttentionClassifier([lr(), ("x", "passthrough")])),
            also=[fit(SparseAttentionEnsemble([lr(), ("x", "passthrough")]))],
        ),
        Case(
            "classifiers mixed with regressors, SparseAttentionEnsemble",
            fit(SparseAttentionEnsemble([lr(), ("ridge", Ridge())])),
        ),
        Case(
            "a regressor in SparseAttentionClassifier",
            fit(SparseAttentionClassifier([lr(), ("ridge", Ridge())])),
        ),
        Case(
            "a classifier in SparseAttentionRegressor",
            fit(SparseAttentionRegressor([("ridge", Ridge()), lr()]), X_REG, Y_REG),
        ),
        Case(
            "a classifier without `predict_proba` (`SVC()`)",
            fit(SparseAttentionClassifier([lr(), ("svc", SVC())])),
        ),
        Case(
            "`combine='log'` with regressor modules (SparseAttentionEnsemble)",
            fit(
                SparseAttentionEnsemble([("ridge", Ridge())], combine="log"),
                X_REG,
                Y_REG,
            ),
        ),
        Case(
            "`sample_weight` with a module whose `fit` does not take it "
            "(metadata routing off)",
            fit(
                SparseAttentionClassifier([lr(), ("knn", KNeighborsClassifier())]),
                sample_weight=np.ones(len(Y)),
            ),
        ),
        Case(
            "the same, a Pipeline whose last step's `fit` does not take it "
            "(routing off)",
            fit(
                SparseAttentionClassifier(
                    [
                        lr(),
                        (
                            "knn",
                            make_pipeline(StandardScaler(), KNeighborsClassifier()),
                        ),
                    ]
                ),
                sample_weight=np.ones(len(Y)),
            ),
        ),
    ]

    groups = np.arange(len(Y)) % 6
    metadata = [
        Case(
            "a fit parameter other than `sample_weight` and `groups`, metadata "
            "routing off",
            fit(SparseAttentionClassifier([lr()]), metadata=np.ones(len(Y))),
        ),
        Case(
            "routing on: metadata no module (and no splitter) requests",
            routed(
                fit(
                    SparseAttentionClassifier([lr(), ("nb", GaussianNB())]),
                    metadata=np.ones(len(Y)),
                )
            ),
        ),
        Case(
            "routing on: `sample_weight` for a module that has not set its request",
            routed(
                fit(SparseAttentionClassifier([lr()]), sample_weight=np.ones(len(Y)))
            ),
            prefix="scikit-learn's:",
        ),
        Case(
            "routing on: a module named `'splitter'`",
            routed(fit(SparseAttentionClassifier([("splitter", GaussianNB())]))),
        ),
        Case(
            "a group splitter (`cv=GroupKFold(3)`) without `groups` (also inside "
            "`GridSearchCV` with routing off, which keeps `groups` for its own "
            "splitter)",
            fit(SparseAttentionClassifier([lr()], cv=GroupKFold(3))),
            also=[
                fit(
                    GridSearchCV(
                        SparseAttentionClassifier([lr()], cv=GroupKFold(3)),
                        {"temperature": [1.0, 2.0]},
                        cv=GroupKFold(3),
                        error_score="raise",
                    ),
                    groups=groups,
                )
            ],
        ),
        Case(
            "a precomputed list of splits for other rows (e.g. inside `GridSearchCV`)",
            fit(
                GridSearchCV(
                    SparseAttentionClassifier(
                        [lr()], cv=list(GroupKFold(3).split(X, Y, groups))
                    ),
                    {"temperature": [1.0, 2.0]},
                    cv=3,
                    error_score="raise",
                )
            ),
        ),
        Case(
            "splits that do not hold out every sample exactly once",
            fit(
                SparseAttentionClassifier(
                    [lr()], cv=[(np.arange(30, 90), np.arange(30, 60))]
                )
            ),
        ),
    ]

    def bad_row_at_predict(values):
        """A module whose row 0, a middle row or the last row is ``values`` at
        predict time (as in tests/test_faults_modules.py)."""

        def run():
            est = classifier(("bad", faults.RowFaultClassifier())).fit(X, Y)
            for row in (0, len(X) // 2, len(X) - 1):
                est.named_estimators_["bad"].set_params(row=row, values=values)
                est.predict_proba(X)

        return run

    def zero_on_true_class():
        est = SparseAttentionClassifier(
            [("nb", GaussianNB()), ("bad", faults.LabelOracle(Y, shift=1))]
        ).fit(faults.X_WITH_ROW_IDS, Y)
        assert_finite(est)
        assert np.isclose(est.oof_scores_[1], np.log(PROBA_FLOOR))
        assert est.attention_weights_[1] < 0.01
        assert np.all(np.isfinite(est.predict_proba(faults.X_WITH_ROW_IDS)))

    def oracle():
        est = SparseAttentionClassifier(
            [("nb", GaussianNB()), ("bad", faults.LabelOracle(Y))]
        ).fit(faults.X_WITH_ROW_IDS, Y)
        assert_finite(est)
        assert est.score(faults.X_WITH_ROW_IDS, Y) == 1.0

    def permuted():
        def weights_and_proba(module, labels):
            est = SparseAttentionClassifier([("bad", module), ("nb", GaussianNB())])
            est.fit(X, labels)
            return est.attention_weights_, est.predict_proba(X)

        for labels in (Y, Y_STR):
            reversed_lr = faults.PermutedClassesClassifier(LogisticRegression())
            pairs = [
                (reversed_lr, LogisticRegression()),
                (
                    FrozenEstimator(clone(reversed_lr).fit(X, labels)),
                    FrozenEstimator(LogisticRegression().fit(X, labels)),
                ),
            ]
            for module, reference in pairs:
                for got, want in zip(
                    weights_and_proba(module, labels),
                    weights_and_proba(reference, labels),
                ):
                    np.testing.assert_allclose(got, want)

    def frozen_missing_a_class():
        seen = Y_STR != "cat"
        prefit = LogisticRegression().fit(X[seen], Y_STR[seen])
        est = SparseAttentionClassifier(
            [("bad", FrozenEstimator(prefit)), ("nb", GaussianNB())]
        ).fit(X, Y_STR)
        assert np.all(est.transform(X)[:, 1] == 0.0)
        assert_finite(est)

    def rounded_below_zero():
        est = classifier(("bad", faults.RowFaultClassifier())).fit(X, Y)
        bad = est.named_estimators_["bad"]
        bad.set_params(row=5, values=[0.0, 0.5, 0.5 + 1e-9])
        exact = est.predict_proba(X)
        bad.set_params(row=5, values=[-1e-9, 0.5, 0.5 + 1e-9])
        np.testing.assert_allclose(est.predict_proba(X), exact, rtol=0, atol=1e-15)

    y_two = np.repeat([0, 1], len(Y) // 2)
    modules = [
        Case(
            "raises in `fit` (`n_jobs=1`)",
            fit(classifier(("bad", faults.FaultyClassifier(fail_in="fit")))),
            origin="(the module's own type)",
            note=cause,
        ),
        Case(
            "raises in `fit` (`n_jobs=2`)",
            fit(classifier(("bad", faults.FaultyClassifier(fail_in="fit")), n_jobs=2)),
            note=lambda exc: (
                "— the exception crossed a process: `__cause__` is joblib's "
                f"`{type(exc.__cause__).__name__}`, whose text holds the "
                "original traceback"
            ),
        ),
        Case(
            "raises an exception whose constructor takes other arguments "
            "(`CodedError(42, ...)`)",
            fit(
                classifier(
                    ("bad", faults.FaultyClassifier(fail_in="fit", error="coded"))
                )
            ),
            note=cause,
        ),
        Case(
            "raises in `predict_proba` on its held-out fold (during `fit`)",
            fit(classifier(("bad", faults.FaultyClassifier(fail_in="predict_proba")))),
        ),
        Case(
            "raises in `predict_proba` at predict time (`predict`, "
            "`predict_proba`, `transform`)",
            at_predict(
                lambda: classifier(("bad", faults.FaultyClassifier())),
                X,
                Y,
                {"fail_in": "predict_proba"},
                "predict",
            ),
            also=[
                at_predict(
                    lambda: classifier(("bad", faults.FaultyClassifier())),
                    X,
                    Y,
                    {"fail_in": "predict_proba"},
                    method,
                )
                for method in ("predict_proba", "transform")
            ],
            note=cause,
        ),
        Case(
            "a fold whose training rows hold one class, module `LogisticRegression`",
            fit(SparseAttentionClassifier([lr()], cv=KFold(2)), X, y_two),
        ),
        Case(
            "NaN, `inf` or `-inf` probabilities during `fit` (either `combine`)",
            fit(classifier(("bad", faults.FaultyClassifier(bad_value=np.nan)))),
            also=[
                fit(
                    classifier(
                        ("bad", faults.FaultyClassifier(bad_value=value)),
                        combine=combine,
                    )
                )
                for value in (np.nan, np.inf, -np.inf)
                for combine in ("log", "linear")
            ],
            note=lambda exc: "— no weights are set",
        ),
        Case(
            "NaN or infinite regression predictions during `fit` (`n_jobs=1` or 2)",
            fit(
                regressor(("bad", faults.FaultyRegressor(bad_value=np.nan))),
                X_REG,
                Y_REG,
            ),
            also=[
                fit(
                    regressor(
                        ("bad", faults.FaultyRegressor(bad_value=value)), n_jobs=n_jobs
                    ),
                    X_REG,
                    Y_REG,
                )
                for value in (np.inf, -np.inf)
                for n_jobs in (1, 2)
            ],
            note=lambda exc: (
                "— found from the Gram matrix of the fold's errors once all its "
                "modules are in, so no separate pass reads the predictions"
            ),
        ),
        Case(
            "finite regression predictions whose scaled errors overflow (1e300 "
            "against a y of spread 1e-12)",
            fit(
                regressor(("bad", faults.FaultyRegressor(constant=1e300))),
                X_REG,
                Y_REG * 1e-12,
            ),
        ),
        Case(
            "finite but absurd regression outputs (a module predicting 1e90) — "
            "**fixed**",
            fit(
                regressor(("bad", faults.FaultyRegressor(constant=1e90))),
                X_REG,
                Y_REG,
            ),
        ),
        Case(
            "NaN or infinite probabilities at predict time (`predict`, "
            "`predict_proba`, `transform`)",
            at_predict(
                lambda: classifier(("bad", faults.FaultyClassifier())),
                X,
                Y,
                {"bad_value": np.nan},
                "predict",
            ),
            also=[
                at_predict(
                    lambda: classifier(("bad", faults.FaultyClassifier())),
                    X,
                    Y,
                    {"bad_value": value},
                    method,
                )
                for value in (np.inf, -np.inf)
                for method in ("predict_proba", "transform")
            ],
        ),
        Case(
            "NaN regression predictions at predict time (log of an input outside "
            "the training range)",
            at_predict(
                lambda: regressor(("bad", faults.LogFeatureRegressor())),
                np.abs(X_REG),
                Y_REG,
                {},
                "predict",
                X_predict=-np.abs(X_REG) - 2.0,
            ),
            note=lambda exc: (
                "— found from the weighted sum of each block of rows, which "
                "every NaN or infinite prediction reaches (the weights in use "
                "are positive); only then are the modules called again to name "
                "the one at fault"
            ),
        ),
        Case(
            "`predict_proba` of the wrong shape",
            fit(classifier(("bad", faults.ReshapingClassifier()))),
        ),
        Case(
            "a regressor module predicting 2 outputs for a 1-output y",
            fit(regressor(("bad", faults.TwoOutputRegressor())), X_REG, Y_REG),
        ),
        Case(
            'finite "probabilities" outside [0, 1] or rows not summing to 1 '
            "(`2 p - 0.5`) — **fixed**",
            fit(classifier(("bad", faults.InvalidProbabilityClassifier()))),
            also=[
                fit(
                    classifier(
                        ("bad", faults.InvalidProbabilityClassifier()),
                        combine="linear",
                    )
                )
            ],
        ),
        Case(
            "one NaN or infinite entry at predict time, in the first, a middle "
            "or the last block of rows",
            bad_row_at_predict([np.nan, 0.5, 0.5]),
            also=[bad_row_at_predict([np.inf, 0.0, 0.0])],
            note=lambda exc: "— predict checks each block of rows as it combines it",
        ),
        Case(
            "one row that is not probabilities at predict time (a negative "
            "entry, or a row summing to 1.8), in any block of rows",
            bad_row_at_predict([-0.5, 1.0, 0.5]),
            also=[bad_row_at_predict([0.6, 0.6, 0.6])],
        ),
        Case(
            "a prefit module whose labels are not those of y",
            fit(
                SparseAttentionClassifier(
                    [("frozen", FrozenEstimator(LogisticRegression().fit(X, Y)))]
                ),
                X,
                Y_STR,
            ),
        ),
        Case(
            "probability exactly 0 on the true class, for every sample",
            zero_on_true_class,
            behaviour=(
                "finite weights and probabilities; the module scores "
                f"`oof_scores_ = log({PROBA_FLOOR:g})` and gets a weight below "
                "0.01 next to GaussianNB"
            ),
        ),
        Case(
            "probability exactly 1 on the true class (an oracle)",
            oracle,
            behaviour="finite weights; accuracy 1.0",
        ),
        Case(
            "`classes_` (and its columns) in another order than `np.unique(y)`, "
            "fitted or prefit through `FrozenEstimator`",
            permuted,
            behaviour=(
                "columns are matched by label: the same weights and "
                "probabilities as the unpermuted module, for integer and "
                "string labels"
            ),
        ),
        Case(
            "a prefit `FrozenEstimator` module that never saw one class",
            frozen_missing_a_class,
            behaviour=(
                "that class's column is 0 for this module; the others are "
                "aligned by label"
            ),
        ),
        Case(
            "an entry rounded below zero (`-1e-9`) at predict time",
            rounded_below_zero,
            behaviour="counted as 0: the same probabilities as with an exact 0",
        ),
    ]

    def as_many_samples_as_folds():
        assert_finite(regressor(cv=5).fit(X_REG[:5], Y_REG[:5]))

    def folds_missing_a_class():
        y_sorted = np.repeat([0, 1, 2], len(Y) // 3)
        est = classifier(cv=KFold(3)).fit(X, y_sorted)
        assert_finite(est)
        for module in est.estimators_:
            assert list(module.classes_) == [0, 1, 2]

    def huge_y():
        # The modules of tests/test_properties.py, whose predictions scale
        # with y (a tree's would not: its splits overflow).
        modules = _load(ROOT / "tests" / "test_properties.py").EQUIVARIANT_REGRESSORS
        reference = SparseAttentionRegressor(modules).fit(X_REG, Y_REG)
        for scale in (1e200, 1e-200):
            with np.errstate(all="ignore"):
                scaled = SparseAttentionRegressor(modules).fit(X_REG, Y_REG * scale)
            np.testing.assert_allclose(
                scaled.attention_weights_, reference.attention_weights_, atol=1e-4
            )

    y_nan = Y_REG.copy()
    y_nan[3] = np.nan
    y_inf = Y_REG.copy()
    y_inf[3] = np.inf
    y_one_class_weighted = np.where(Y == 0, 1.0, 0.0)
    data = [
        Case(
            "fewer samples than folds (4 samples, `cv=5`), classifier or regressor",
            fit(classifier(), X[:4], Y[:4]),
        ),
        Case(
            "as many samples as folds (5 samples, `cv=5`)",
            as_many_samples_as_folds,
            behaviour="fits; finite weights",
        ),
        Case(
            "every class smaller than `cv` (stratified folds)",
            fit(classifier(), X[:8], np.array([0, 1] * 4)),
            origin="(from `StratifiedKFold`)",
        ),
        Case(
            "some class smaller than `cv`",
            fit(classifier(), X[:13], np.r_[np.zeros(10, int), np.ones(3, int)]),
        ),
        Case(
            "a CV fold whose training rows miss a class (e.g. `KFold(3)` on sorted y)",
            folds_missing_a_class,
            behaviour=(
                "columns aligned by label; finite weights; the refitted modules "
                "know every class"
            ),
        ),
        Case("y with a single class", fit(classifier(), X, np.full(len(Y), "cat"))),
        Case(
            "continuous y to a classifier (SparseAttentionClassifier, or "
            "SparseAttentionEnsemble of classifiers)",
            fit(SparseAttentionClassifier([lr()]), X_REG, Y_REG),
            also=[fit(SparseAttentionEnsemble([lr()]), X_REG, Y_REG)],
        ),
        Case(
            "string y to a regressor (SparseAttentionRegressor, or "
            "SparseAttentionEnsemble of regressors)",
            fit(SparseAttentionRegressor([("ridge", Ridge())]), X, Y_STR),
        ),
        Case("NaN in a regression y", fit(regressor(), X_REG, y_nan)),
        Case("inf in a regression y", fit(regressor(), X_REG, y_inf)),
        Case(
            "X and y of different lengths (any `cv`, the regressor's default "
            "unshuffled `KFold` included)",
            fit(regressor(), X_REG[:30], Y_REG[:29]),
            note=lambda exc: "— before any module is fitted",
        ),
        Case("1-D X", fit(classifier(), X[:, 0], Y)),
        Case(
            "a different number of features at predict",
            lambda: classifier().fit(X, Y).predict(X[:, :4]),
        ),
        Case("`predict` before `fit`", lambda: classifier().predict(X)),
        Case(
            "a negative sample weight",
            fit(classifier(), sample_weight=np.r_[-1.0, np.ones(len(Y) - 1)]),
        ),
        Case(
            "all sample weights zero",
            fit(classifier(), sample_weight=np.zeros(len(Y))),
        ),
        Case(
            "sample weights zero for every class but one",
            fit(classifier(), sample_weight=y_one_class_weighted),
        ),
        Case(
            "regression y scaled by 1e200 (or 1e-200) — **fixed**",
            huge_y,
            behaviour=(
                "where the squares of y overflow (or underflow, making a column "
                "look constant) its spread is measured again on y / max\\|y\\|: the "
                "same weights as the unscaled y (within 1e-4, with modules whose "
                "predictions scale with y)"
            ),
        ),
    ]
    return {
        "reliability-parameters": (parameters, "message"),
        "reliability-cv-parameters": (cv_parameters, "message"),
        "reliability-estimators": (estimators, "message"),
        "reliability-metadata": (metadata, "message"),
        "reliability-modules": (modules, "message / behaviour"),
        "reliability-data": (data, "message / behaviour"),
    }


def versions():
    """The versions the messages were recorded with."""
    import numpy
    import sklearn

    return (
        f"scikit-learn {sklearn.__version__}, NumPy {numpy.__version__}, "
        f"Python {sys.version_info.major}.{sys.version_info.minor}"
    )


def tables():
    """``{block name: markdown}``: every table of the page, and the versions
    line."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        out = {
            name: _table(cases, column) for name, (cases, column) in _cases().items()
        }
    out["reliability-versions"] = (
        "The messages in the tables below are recorded by `docs/reliability.py`, "
        "which triggers every case and writes what it raised or warned, and "
        "CI checks that they are up to date (`python docs/figures.py --check`). "
        f"This run: {versions()}. Messages of scikit-learn's own checks change "
        "with its releases."
    )
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    result = tables()
    if args.json:
        print(json.dumps(result))
    else:
        for name, text in result.items():
            print(f"{name}:\n\n{text}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
