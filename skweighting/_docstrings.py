"""Parameter documentation shared by the three public estimators."""

TEMPERATURE_PARAMETERS = """\
temperature : float, default=1.0
        Must be > 0. Weights are ``softmax(attention_logits_ / temperature)``.
        Together with the L2 penalty ``alpha`` it sets how concentrated the
        weights are: a low temperature lets the weights reach the unpenalised
        optimum (typically a few modules), a high one pulls them towards
        uniform. The useful range is about 0.1 to 10."""

OTHER_PARAMETERS = """\
alpha : float, default=1e-4
        L2 strength on the attention logits, added to the mean loss as
        ``(alpha / 2) * ||logits||^2``. With ``u = logits / temperature`` the
        penalty is ``(alpha * temperature**2 / 2) * ||u||^2``, which is what
        gives ``temperature`` its meaning. ``alpha=0`` removes it (then every
        temperature gives the same weights).

    cv : int, cross-validation generator or iterable, default=5
        How the out-of-fold module outputs that the weights are learned from
        are produced, as in :class:`~sklearn.ensemble.StackingClassifier`:
        an int is the number of folds (stratified for classifiers), or pass a
        splitter or an iterable of (train, test) splits that hold out every
        sample exactly once. The modules are then refitted on all the data.
        Prefit modules are supported through
        :class:`~sklearn.frozen.FrozenEstimator`.

    solver : {'lbfgs', 'adam'}, default='lbfgs'
        ``'lbfgs'``: SciPy's L-BFGS-B with the analytic gradient (above
        80,000 rows it first solves on a 20,000-row subsample, then polishes
        on all rows). ``'adam'``: NumPy Adam, full batch or mini-batch with
        ``batch_size``. Both reach the same optimum.

    max_iter : int, default=1000
        Maximum number of iterations (L-BFGS) or epochs (Adam).

    tol : float, default=1e-6
        Convergence tolerance on the largest gradient component.

    learning_rate : float, default=0.05
        Adam's initial step size; it is halved whenever the loss stalls for
        10 epochs. Not used by L-BFGS.

    batch_size : int or None, default=None
        Adam mini-batch size; None means full batch. Not used by L-BFGS.

    n_jobs : int, default=None
        Number of jobs for the module fits. Every (module, fold) fit and every
        final refit goes through one joblib call, so a dask or ray backend
        (``joblib.parallel_config``) spreads them over a cluster. ``None``
        means 1 unless in a joblib context.

    verbose : int, default=0
        Verbosity of the module fits and of the weight learning.

    random_state : int, RandomState instance or None, default=None
        Seeds every module whose own ``random_state`` is None, the
        subsample used to warm-start L-BFGS and Adam's batches. Pass an int
        for reproducible output across calls (and across ``n_jobs``)."""

FITTED_ATTRIBUTES = """\
estimators_ : list of estimators
        The modules (not ``'drop'``) refitted on all the training data.

    named_estimators_ : :class:`~sklearn.utils.Bunch`
        The fitted modules by name; dropped ones map to ``'drop'``.

    module_names_ : list of str
        Names of the modules in ``estimators_`` (dropped ones left out), in
        the order of ``attention_weights_`` and ``oof_scores_``.

    attention_logits_ : ndarray of shape (n_modules,)
        The learned logits, one per module in ``estimators_``.

    attention_weights_ : ndarray of shape (n_modules,)
        ``softmax(attention_logits_ / temperature)``: non-negative, sum to 1.

    oof_scores_ : ndarray of shape (n_modules,)
        Each module's own out-of-fold score on the rows the weights were
        learned from: mean log-likelihood of the true class (the negative
        log-loss, higher is better) for classifiers, R^2 (mean over outputs)
        for regressors.

    n_iter_ : int
        Iterations (L-BFGS, on all rows) or epochs (Adam) of the solver.

    loss_curve_ : ndarray of shape (`n_iter_`,)
        The objective (mean loss plus penalty) after each iteration.

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`, when X has string column
        names."""
