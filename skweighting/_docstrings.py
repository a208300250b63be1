"""Parameter documentation shared by the public estimators."""

TEMPERATURE_PARAMETERS = """\
temperature : float, default=1.0
        Must be > 0. Weights are ``normaliser(attention_logits_ /
        temperature)``. Together with the L2 penalty ``alpha`` it sets how
        concentrated the weights are: a low temperature lets the weights
        reach the unpenalised out-of-fold optimum (typically a few modules),
        a high one pulls them towards uniform. At the default ``alpha`` the
        weights typically stay at the optimum up to a temperature of about
        1-10 and approach uniform weights from about 100 to a few thousand
        (later with the sparse normalisers; the user guide shows where,
        measured on bundled data sets): a grid such as ``[1, 10, 100]``
        moves them, ``[0.1, 0.3, 1]`` barely does.
        :class:`SparseAttentionClassifierCV` finds the path from the data
        and chooses on it.

    normaliser : {'softmax', 'sparsemax', 'entmax15'}, default='softmax'
        Turns ``attention_logits_ / temperature`` into weights on the
        simplex. ``'softmax'``: every weight is positive. ``'sparsemax'``
        (the Euclidean projection onto the simplex) gives exact zeros:
        modules with zero weight are neither refitted nor called at
        predict time, and (with ``prune_tol=0``) the number of modules in
        use grows with the temperature. ``'entmax15'`` (1.5-entmax) lies
        between the two; with ``alpha > 0`` its exact optimum keeps every
        module at a positive weight (of order ``(alpha * temperature**2)**2``
        for those the out-of-fold optimum leaves out), so its zeros come
        from pruning (``prune_tol``)."""

OTHER_PARAMETERS = """\
alpha : float, default=1e-4
        L2 strength on the attention logits, added to the mean loss as
        ``(alpha / 2) * ||logits||^2``. With ``u = logits / temperature`` the
        penalty is ``(alpha * temperature**2 / 2) * ||u||^2``, which is what
        gives ``temperature`` its meaning. ``alpha=0`` removes it (then every
        temperature gives the same weights).

    prune_tol : float, default=1.0
        With ``'sparsemax'`` or ``'entmax15'``: after the weights are
        learned, modules are dropped from the smallest weight up while the
        objective (the out-of-fold loss plus the penalties) rises by at most
        ``prune_tol`` standard errors of the loss's rise (across the cv
        folds) above the optimum's, as the one-standard-error rule of
        ``cv.glmnet`` picks the sparsest model within the noise of the
        best; the remaining weights are then learned again with the
        dropped ones at zero. Dropped modules are neither
        refitted nor called. ``0`` keeps the support of the optimum. Not
        used with ``'softmax'``, whose weights are never exactly zero.

    cv : int, cross-validation generator or iterable, default=5
        How the out-of-fold module outputs that the weights are learned from
        are produced, as in :class:`~sklearn.ensemble.StackingClassifier`:
        an int is the number of folds (stratified for classifiers), or pass a
        splitter or an iterable of (train, test) splits that hold out every
        sample exactly once. The modules with non-zero weight are then
        refitted on all the data.
        Prefit modules are supported through
        :class:`~sklearn.frozen.FrozenEstimator`.

    max_iter : int, default=1000
        Maximum number of iterations of the solver: SciPy's L-BFGS-B with
        the analytic gradient (above 80,000 rows it first solves on a
        20,000-row subsample, then finishes on all rows). With
        ``'sparsemax'`` and ``'entmax15'`` it solves over the weights
        themselves (bound-constrained), which reaches the optimum despite
        the normalisers' kinks.

    tol : float, default=1e-6
        Convergence tolerance on the largest gradient component.

    memory : str, joblib.Memory or None, default=None
        Caches each (module, training rows) fit, as
        :class:`~sklearn.pipeline.Pipeline` caches its transformers: a
        ``GridSearchCV`` over ``temperature``, ``alpha``, ``combine`` or
        ``normaliser`` then fits each module on the same rows only once.
        For the folds the cache keeps each module's held-out outputs
        (a hit neither loads nor calls the module); modules fitted on all
        rows are kept whole. Hashing the rows costs a pass over them per
        fit, and the cache holds the refitted modules and the fold outputs
        on disk; unseeded random modules
        (``random_state=None`` here and in the module) are loaded as first
        fitted.

    n_jobs : int, default=None
        Number of jobs for the module fits. Every (module, fold) fit goes
        through one joblib call, the refits through a second (with
        ``normaliser='softmax'``, which weighs every module, at the head of
        the first), so a dask or ray backend (``joblib.parallel_config``)
        spreads them over a cluster. ``None`` means 1 unless in a joblib
        context.

    verbose : int, default=0
        Progress: one line per finished module (its folds, out-of-fold
        score and time), the weights and each refit (1); one line per
        (module, fold) too (2); joblib's own messages from 3.

    random_state : int, RandomState instance or None, default=None
        Seeds every module whose own ``random_state`` is None and the
        subsample used to warm-start L-BFGS. Pass an int
        for reproducible output across calls (and across ``n_jobs``).

    error_score : 'raise' or np.nan, default='raise'
        What a module that fails (its ``fit``, ``predict_proba`` or
        ``predict`` raises, on a fold or on all rows) does to the fit, as in
        scikit-learn's searches:
        ``'raise'`` stops the fit with the module's error, which names the
        module and the fold; ``np.nan`` leaves the module out with a
        :class:`~sklearn.exceptions.FitFailedWarning` naming it, the fold
        and the error, and fits on the others (it gets weight 0, ``failed``
        and ``error`` in ``modules_``). Every module failing is an error.

    max_modules : int or None, default=None
        At most this many modules are refitted and called at predict time.
        When the learned weights use more, the ensemble is the point of
        lowest out-of-fold loss within the budget on their path of supports
        (``support_path_``): each step drops the module whose removal costs
        the least out-of-fold loss (per unit of predict cost saved when
        ``max_predict_cost`` is set too), and learns the others' weights
        again.

    max_predict_cost : float or None, default=None
        The most a predict call of 1,000 rows may cost, in seconds: the
        modules in use, as timed on the cv folds during the fit (the
        ``predict_cost`` of ``modules_``), and the ensemble's own work
        (``predict_cost_``). Chosen on the path of supports as
        ``max_modules`` is (starting from the modules that alone fit it); a
        budget below every module's cost is an error naming the cheapest
        module."""

FITTED_ATTRIBUTES = """\
estimators_ : list of estimators
        The modules with non-zero weight, refitted on all the training
        data, in the order of ``module_names_``. Modules with zero weight
        (pruned) and ``'drop'`` modules are not refitted.

    named_estimators_ : :class:`~sklearn.utils.Bunch`
        The fitted modules by name; dropped and pruned ones map to
        ``'drop'``.

    module_names_ : list of str
        Names of the modules (``'drop'`` ones left out), in the order of
        ``attention_weights_`` and ``oof_scores_``.

    attention_logits_ : ndarray of shape (n_modules,)
        The learned logits, one per module of ``module_names_``.

    attention_weights_ : ndarray of shape (n_modules,)
        ``normaliser(attention_logits_ / temperature)`` (exact zeros kept):
        non-negative, sum to 1.

    support_ : ndarray of bool of shape (n_modules,)
        Which modules have non-zero weight: the ones refitted, called at
        predict time, and in ``transform``.

    n_nonzero_ : int
        Number of modules with non-zero weight.

    oof_scores_ : ndarray of shape (n_modules,)
        Each module's own out-of-fold score on the rows the weights were
        learned from: mean log-likelihood of the true class (the negative
        log-loss, higher is better) for classifiers, R^2 (mean over outputs)
        for regressors.

    modules_ : dict of ndarrays
        One table of the modules, one entry per module of
        ``module_names_`` (``pandas.DataFrame(ens.modules_)``): ``module``,
        ``weight``, ``oof_score`` (NaN for a failed module), ``pruned``,
        ``failed`` and ``error`` (see ``error_score``), ``fold_fit_time`` and
        ``fold_predict_time`` (seconds, summed over the folds),
        ``refit_time`` (0 for pruned modules), ``predict_cost`` (the seconds
        of one call predicting 1,000 rows) and ``predict_call_cost`` (the
        seconds of a call itself), each the median over the cv folds of a
        call of its own on 1,000 and on 8 of the fold's rows (held-out rows
        first, then training rows).

    predict_cost_ : float
        The expected predict cost of the ensemble, in seconds for a call
        predicting 1,000 rows: the ``predict_cost`` of the modules in use
        plus the ensemble's own work, ``own_call_cost_ + n_nonzero_ *
        own_module_cost_``.

    own_call_cost_ : float
        The ensemble's own seconds in every call of 1,000 rows (checking X,
        normalising the combination), timed during the fit with stand-in
        modules.

    own_module_cost_ : float
        The ensemble's own seconds per module in use in a call of 1,000
        rows (checking its output, folding it in), timed the same way.

    n_iter_ : int
        Iterations of the solver (L-BFGS, on all rows).

    loss_curve_ : ndarray of shape (`n_iter_`,)
        The objective (mean loss plus penalty) after each iteration.

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`, when X has string column
        names."""

CV_PARAMETERS = """\
temperatures : int or array-like of float, default=10
        The temperature path. An int is the number of temperatures,
        log-spaced from where the weights leave the unpenalised out-of-fold
        optimum to where they are nearly uniform, both found from the data
        at ``alpha`` (one decade below where the penalty has cost 1% of the
        way from the optimum's out-of-fold loss to that of uniform weights,
        and at most 1; up to where it has cost 99%), plus the plain
        estimators' default temperature 1 if it is not on it. Each fit
        starts from the previous temperature's weights.

    normalisers : list of {'softmax', 'sparsemax', 'entmax15'}, \
default=('softmax',)
        The normalisers to choose from (see the ``normaliser`` of the
        plain estimators).

    alpha : float, default=1e-4
        L2 strength on the logits; must be > 0 (without it the temperature
        changes nothing).

    cv : int, cross-validation generator or iterable, default=5
        How the modules' out-of-fold outputs are produced (each module is
        fitted once per fold, whatever the number of candidates).

    inner_cv : None, int, cross-validation generator or iterable, \
default=None
        How the out-of-fold rows are split to score the candidates. None:
        the folds of ``cv`` (the weights are learned on the out-of-fold rows
        of the other folds and scored on each fold's), so group or time
        splits carry over and repeated rows stay together. An int is a
        shuffled (stratified, for classifiers) K-fold seeded by
        ``random_state``. A splitter here gets no metadata: for group
        splits, pass them as ``cv`` (``groups=`` to ``fit``) and keep
        ``inner_cv=None``, so the inner folds are the same groups.

    selection_tol : float, default=3.0
        How the candidate is chosen: the reference candidate (the first of
        ``combines`` and of ``normalisers`` at temperature 1, the plain
        estimators' default) is kept unless the candidate of the best mean
        inner-CV score beats it by more than ``selection_tol`` standard
        errors of their paired score difference across the inner splits;
        then that best candidate is chosen. ``0`` chooses the best mean
        score. With an explicit ``temperatures`` list that lacks 1 there is
        no reference, and the best is chosen.

    scoring : str, callable or None, default=None
        How a candidate is scored on the inner held-out rows (higher is
        better). None: the loss the weights minimise, negated (log-loss for
        classifiers, squared error divided by the variance of y for
        regressors). Otherwise a scikit-learn scorer name or callable,
        applied to the combined predictions of those rows (the stores then
        keep every module output).

    max_iter : int, default=1000
        Maximum number of L-BFGS iterations of each weight fit.

    tol : float, default=1e-6
        Convergence tolerance on the largest gradient component.

    memory : str, joblib.Memory or None, default=None
        Caches each (module, training rows) fit, as in
        :class:`~sklearn.pipeline.Pipeline`: refitting with the same
        modules and rows loads them instead.

    n_jobs : int, default=None
        Number of jobs for the module fits (one joblib call for all
        (module, fold) fits, a second for the refits).

    verbose : int, default=0
        Progress: one line per module (1), per (module, fold) (2).

    random_state : int, RandomState instance or None, default=None
        Seeds unseeded modules, the inner split and the solvers'
        subsamples.

    error_score : 'raise' or np.nan, default='raise'
        What a module that fails (its ``fit``, ``predict_proba`` or
        ``predict`` raises, on a fold or on all rows) does to the fit, as in
        scikit-learn's searches:
        ``'raise'`` stops the fit with the module's error, which names the
        module and the fold; ``np.nan`` leaves the module out with a
        :class:`~sklearn.exceptions.FitFailedWarning` naming it, the fold
        and the error, and fits on the others (it gets weight 0, ``failed``
        and ``error`` in ``modules_``). Every module failing is an error.

    max_modules : int or None, default=None
        At most this many modules in use: each candidate with more becomes
        its point of lowest out-of-fold loss within the budget on its path
        of supports (see the plain estimators' ``max_modules``), scored on
        the inner splits with those modules alone.

    max_predict_cost : float or None, default=None
        The most a predict call of 1,000 rows may cost, in seconds, the
        ensemble's own work included (``predict_cost_``), as
        ``max_modules`` (a module alone above it is no candidate; a budget
        below every module's cost is an error)."""

CV_ATTRIBUTES = (
    """\
temperature_ : float
        The chosen temperature; ``1.0`` when one module alone is chosen
        (with ``normaliser_='sparsemax'`` its one-hot weights are then
        exactly ``normaliser(attention_logits_ / temperature_)``).

    combine_ : str
        The chosen combination. For a module alone, the linear mixture when
        it is among the candidates (the module's own probabilities), else
        log pooling (the module's probabilities floored at ``POOL_FLOOR``
        and renormalised, ``sharpness_`` 1).

    normaliser_ : str
        The chosen normaliser; ``'sparsemax'`` when one module alone is
        chosen.

    single_module_ : str or None
        The module chosen alone, if one is (see ``single_modules``).

    temperatures_ : ndarray of shape (n_temperatures,)
        The temperature path, ascending: from one decade below where the
        weights leave the unpenalised optimum (and at most 1) to where they
        are nearly uniform.

    weights_path_ : ndarray of shape (n_temperatures, n_modules)
        Weights learned on all out-of-fold rows at each temperature of the
        path, at the chosen combination and normaliser (at the best-scoring
        ones when one module alone is chosen): ``path_combine_``,
        ``path_normaliser_``.

    path_combine_, path_normaliser_ : str
        The combination and normaliser of ``weights_path_`` (the chosen ones,
        unless one module alone is chosen).

    cv_results_ : dict of ndarrays
        One entry per candidate (combination, normaliser, temperature), as
        in :class:`~sklearn.model_selection.GridSearchCV`, every value 1-D
        (``pandas.DataFrame`` turns it into a table): ``params``,
        ``param_combine``, ``param_normaliser``, ``param_temperature``,
        ``param_module`` (the module of a module-alone candidate, whose
        normaliser is None and temperature NaN), ``split<k>_test_score``,
        ``mean_test_score``, ``std_test_score``, ``rank_test_score`` (1:
        the best mean score); the selection: ``gap_from_best`` (the best
        mean score minus this one's), ``se_gap_from_best`` (its paired
        standard error), ``is_reference`` and ``chosen``; ``n_nonzero`` and
        one ``weight_<module>`` key per module (the weights learned on all
        out-of-fold rows at that candidate).

    best_index_ : int
        The row of ``cv_results_`` chosen (see ``selection_tol``; the row
        with ``rank_test_score == 1`` has the best mean score). ``n_iter_``
        counts the solver's iterations along the warm-started path up to
        it.

    """
    + FITTED_ATTRIBUTES
)
