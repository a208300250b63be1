"""Synthetic module outputs and a finite-difference check shared by the
tests of the math."""

import numpy as np
from scipy.optimize import approx_fprime


def module_probas(rng, n_modules=4, n_samples=200, n_classes=3, signal=(0.6, 0.3)):
    """Noisy class probabilities where the first modules know some truth."""
    y = rng.integers(0, n_classes, n_samples)
    proba = rng.dirichlet(np.ones(n_classes), size=(n_modules, n_samples))
    for m, strength in enumerate(signal):
        proba[m, np.arange(n_samples), y] += strength
    proba /= proba.sum(axis=-1, keepdims=True)
    return proba, y


def module_errors(rng, n_samples=150, n_outputs=2, n_modules=4):
    """Scaled regression errors, module m noisier than module m - 1."""
    noise_levels = np.linspace(0.3, 2.0, n_modules)[:, None, None]
    return rng.normal(size=(n_modules, n_samples, n_outputs)) * noise_levels


def relative_gradient_error(fun, x, step=1e-7):
    """Distance between ``fun(x)[1]`` and a finite-difference gradient of
    ``fun(x)[0]``, relative to the gradient's norm."""
    numeric = approx_fprime(x, lambda v: fun(v)[0], step)
    analytic = fun(x)[1]
    return np.linalg.norm(numeric - analytic) / max(np.linalg.norm(analytic), 1e-12)
