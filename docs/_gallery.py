"""Helpers for the sphinx-gallery configuration in conf.py.

They live in a module so that conf.py can name them as strings, which keeps
Sphinx's configuration picklable (a function in the configuration would be
a warning, and the docs build treats warnings as errors).
"""

from pathlib import Path

# The order of the examples in the gallery: the plain fit first, then one
# feature per example. An example not listed here comes last, by file name.
ORDER = [
    "ensemble_of_diverse_models.py",
    "sparse_pruning.py",
    "plot_budget.py",
    "plot_attention_and_temperature_path.py",
    "attention_analysis.py",
    "metadata_routing.py",
    "regression.py",
    "multi_branch.py",
]


class ExampleOrder:
    """Sort key for ``within_subsection_order``: the position in ORDER."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        name = Path(filename).name
        if name in ORDER:
            return (ORDER.index(name), name)
        return (len(ORDER), name)

    def __repr__(self):
        return f"<{type(self).__name__}>"


def reset_sklearn_config(gallery_conf, fname):
    """Put scikit-learn's global configuration back to its defaults, so that
    an example that turns metadata routing on does not change the next one."""
    import sklearn

    sklearn.set_config(enable_metadata_routing=False)
