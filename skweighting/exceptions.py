"""Warnings of skweighting."""


class InconsistentVersionWarning(UserWarning):
    """A fitted ensemble was loaded under another skweighting version than
    the one it was fitted with.

    Like scikit-learn's own warning of this name: the ensemble may load
    and predict, but nothing guarantees that it behaves as it did; refit it
    under the installed version, or install the version it names.

    Parameters
    ----------
    estimator_name : str
        The class of the ensemble.
    current_version : str
        The installed skweighting version.
    original_version : str
        The version the ensemble was fitted with.
    """

    def __init__(self, *, estimator_name, current_version, original_version):
        self.estimator_name = estimator_name
        self.current_version = current_version
        self.original_version = original_version

    def __str__(self):
        return (
            f"Trying to unpickle {self.estimator_name} fitted with skweighting "
            f"{self.original_version} under skweighting {self.current_version}. "
            "It may not behave as it did; refit it under this version, or "
            f"install skweighting {self.original_version} to use it."
        )
