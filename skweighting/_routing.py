"""Metadata: what each module's ``fit`` and the ``cv`` splitter receive.

With metadata routing on, exactly what each requests (as in
`VotingClassifier` and `StackingClassifier`). Off, ``sample_weight`` goes to
every module whose ``fit`` accepts it, and inside a module's Pipeline to
every step whose ``fit`` accepts it, so that integer weights mean repeated
rows; ``groups`` goes to the splitter, as in `cross_validate`.
"""

from inspect import Parameter, signature

from sklearn.pipeline import Pipeline
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _routing_enabled,
    process_routing,
)
from sklearn.utils.validation import has_fit_parameter

from ._modules import describe
from ._validation import is_drop


def accepts_sample_weight(estimator):
    """Whether ``estimator.fit`` takes ``sample_weight``, by name or through
    ``**kwargs`` (as ``GridSearchCV`` or a nested ``VotingClassifier`` do)."""
    if has_fit_parameter(estimator, "sample_weight"):
        return True
    try:
        parameters = signature(estimator.fit).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.kind == Parameter.VAR_KEYWORD for p in parameters)


def _weighted_steps(pipeline):
    """The names of a Pipeline's steps whose ``fit`` accepts
    ``sample_weight`` (``'passthrough'`` and None steps have no fit)."""
    return [
        name
        for name, step in pipeline.steps
        if step not in ("passthrough", None) and accepts_sample_weight(step)
    ]


def unrouted_sample_weight(name, estimator, sample_weight):
    """Fit parameters passing ``sample_weight`` to one module when metadata
    routing is off: to the module if its ``fit`` accepts it; to a Pipeline,
    through every step whose ``fit`` accepts it (a Pipeline takes no bare
    ``sample_weight`` without routing), its last step included."""
    if sample_weight is None or type(estimator).__name__ == "FrozenEstimator":
        return {}
    if isinstance(estimator, Pipeline):
        steps = _weighted_steps(estimator)
        last_name = estimator.steps[-1][0]
        if last_name in steps:
            return {f"{step}__sample_weight": sample_weight for step in steps}
    elif accepts_sample_weight(estimator):
        return {"sample_weight": sample_weight}
    raise TypeError(
        f"sample_weight was given but {describe(name, estimator)} does not "
        "accept sample_weight in fit. Drop this module (set it to 'drop'), "
        "replace it with one that supports sample weights, or fit without "
        "sample_weight."
    )


def request_sample_weight(module):
    """With routing on, make a default-portfolio module request sample
    weights in every step that accepts them, as the unrouted path passes
    them: the default portfolio honours sample_weight either way."""
    steps = [s for _, s in module.steps] if isinstance(module, Pipeline) else [module]
    for step in steps:
        if step != "passthrough" and has_fit_parameter(step, "sample_weight"):
            step.set_fit_request(sample_weight=True)
    return module


def metadata_router(owner, modules, cv):
    """The `MetadataRouter` of an ensemble: it consumes ``sample_weight``
    itself, routes what each module requests to its ``fit``, and what the
    ``cv`` splitter requests (e.g. ``groups``) to its ``split``."""
    router = MetadataRouter(owner=owner).add_self_request(owner)
    active = [(n, m) for n, m in modules if not is_drop(m)]
    for name, module in active:
        router.add(
            **{name: module},
            method_mapping=MethodMapping().add(caller="fit", callee="fit"),
        )
    if "splitter" not in dict(active):
        router.add(
            splitter=cv,
            method_mapping=MethodMapping().add(caller="fit", callee="split"),
        )
    return router


def route_metadata(owner, modules, sample_weight, fit_params):
    """What each module's ``fit`` and the splitter's ``split`` receive:
    ``(module_params, split_params)``, a dict per module and one for the
    splitter."""
    if _routing_enabled():
        if "splitter" in dict(modules):
            raise ValueError(
                "A module named 'splitter' clashes with the cv splitter in "
                "metadata routing; rename the module."
            )
        routed = process_routing(
            owner, "fit", sample_weight=sample_weight, **fit_params
        )
        return [routed[name].fit for name, _ in modules], routed.splitter.split
    extra = set(fit_params) - {"groups"}
    if extra:
        raise ValueError(
            f"Passing {sorted(extra)} to {type(owner).__name__}.fit is only "
            "supported with metadata routing, which routes them to the "
            "modules that request them: sklearn.set_config("
            "enable_metadata_routing=True). Without it, fit takes "
            "sample_weight and groups."
        )
    module_params = [
        unrouted_sample_weight(name, module, sample_weight) for name, module in modules
    ]
    return module_params, {"groups": fit_params.get("groups")}
