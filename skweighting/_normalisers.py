"""Normalisers: maps from scaled logits to attention weights on the simplex.

Nothing here knows about estimators. Every function takes 1-D float64 arrays
of length ``M`` (the number of modules); ``u`` are the scaled logits
``logits / temperature``, so no function takes a temperature. The pieces are:

* three forward maps ``u -> weights``: `softmax` (dense), `sparsemax` (the
  Euclidean projection onto the simplex) and `entmax15` (1.5-entmax). The two
  last ones return exact zeros when the logits are spread out;
* their backward passes ``(weights, grad_weights) -> grad_u`` (vector-Jacobian
  products; each Jacobian is symmetric, and its rows sum to zero because every
  normaliser is invariant to adding a constant to ``u``);
* their preimages: the minimum-norm ``u`` that maps to given weights, which is
  both a warm start for a solver and the link to the penalty below;
* for the sparse ones, ``R(w) = 0.5 * ||preimage(w)||^2`` written directly on
  the simplex with its gradient, so that ``loss(w) + c * R(w)`` can be
  minimised over the simplex instead of over the logits (the logits' L2
  penalty becomes a convex function of the weights);
* the registry `NORMALISERS` of `Normaliser` objects, so a caller can pick
  one by name.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


def _shift_by_max(u):
    """``u - max(u)`` as float64, without an overflow warning.

    The difference of two huge finite logits of opposite sign (``1.7e308`` and
    ``-1.7e308``) overflows to ``-inf``; every caller clips that away, since
    such an entry is far below any threshold.
    """
    u = np.asarray(u, dtype=np.float64)
    with np.errstate(over="ignore"):
        return u - np.max(u)


# --------------------------------------------------------------------------
# softmax
# --------------------------------------------------------------------------
def softmax(u):
    """Softmax of the scaled logits, stable for any finite input.

    Parameters
    ----------
    u : ndarray of shape (M,)
        Scaled logits ``logits / temperature``.

    Returns
    -------
    weights : ndarray of shape (M,)
        Positive (up to underflow) weights summing to one.
    """
    # Subtracting the maximum keeps every exponent <= 0: no overflow, and the
    # largest term is exactly 1 so the sum cannot underflow to zero.
    exp = np.exp(_shift_by_max(u))
    return exp / exp.sum()


def softmax_backward(weights, grad_weights):
    """Gradient with respect to ``u`` of a loss, given its gradient with
    respect to ``weights = softmax(u)``.

    The Jacobian is ``diag(w) - w w^T``, so the vector-Jacobian product is
    ``w * (g - w @ g)``.

    Parameters
    ----------
    weights : ndarray of shape (M,)
        Output of `softmax`.
    grad_weights : ndarray of shape (M,)
        Gradient of the loss with respect to the weights.

    Returns
    -------
    grad_u : ndarray of shape (M,)
    """
    return weights * (grad_weights - weights @ grad_weights)


def softmax_preimage(weights):
    """Minimum-norm ``u`` with ``softmax(u) == weights``.

    Parameters
    ----------
    weights : ndarray of shape (M,)
        A point of the simplex with every entry > 0 (softmax never returns an
        exact zero, so a zero weight has no preimage).

    Returns
    -------
    u : ndarray of shape (M,)
        ``log(w) - mean(log(w))``.

    Raises
    ------
    ValueError
        If any weight is <= 0.
    """
    weights = np.asarray(weights, dtype=np.float64)
    if np.any(weights <= 0):
        raise ValueError("softmax_preimage needs weights that are all > 0.")
    # The fiber of w is {log w + c : c real}; ||log w + c||^2 is smallest when
    # the entries sum to zero.
    log_w = np.log(weights)
    return log_w - log_w.mean()


# --------------------------------------------------------------------------
# sparsemax
# --------------------------------------------------------------------------
def sparsemax(u):
    """Sparsemax: the Euclidean projection of ``u`` onto the simplex.

    ``w = max(u - tau, 0)`` with the threshold ``tau`` chosen so that the
    weights sum to one. Exact, sort-based, O(M log M) (Martins & Astudillo,
    2016).

    Parameters
    ----------
    u : ndarray of shape (M,)
        Scaled logits ``logits / temperature``; any finite values.

    Returns
    -------
    weights : ndarray of shape (M,)
        Non-negative weights summing to one, with exact zeros below the
        threshold.
    """
    # The largest weight is at most 1, so tau >= max(u) - 1: an entry at or
    # below max(u) - 1 never gets weight. Clipping those entries at -1 (after
    # the shift) does not change the result, removes the -inf of an overflowed
    # shift, and keeps every cumulative sum below in [-M, 0], so huge logits
    # (1e300) lose no precision to cancellation.
    z = np.maximum(_shift_by_max(u), -1.0)
    z_sorted = np.sort(z)[::-1]
    cumsum = np.cumsum(z_sorted)
    k = np.arange(1, z.size + 1)
    # The k largest entries are in the support iff 1 + k z_(k) > sum_{j<=k} z_(j);
    # this holds for a prefix of k (k = 1 always, as z_(1) = 0).
    support_size = np.count_nonzero(1.0 + k * z_sorted > cumsum)
    tau = (cumsum[support_size - 1] - 1.0) / support_size
    return np.maximum(z - tau, 0.0)


def sparsemax_backward(weights, grad_weights):
    """Gradient with respect to ``u`` of a loss, given its gradient with
    respect to ``weights = sparsemax(u)``.

    On the support ``S = {w > 0}`` the Jacobian is ``I - 1 1^T / |S|``, zero
    elsewhere, so the product is ``g_i - mean_S(g)`` on ``S`` and 0 outside.
    At a kink (an entry exactly at the threshold) this is the one-sided
    derivative that treats the entry as outside the support.

    Parameters
    ----------
    weights : ndarray of shape (M,)
        Output of `sparsemax`.
    grad_weights : ndarray of shape (M,)
        Gradient of the loss with respect to the weights.

    Returns
    -------
    grad_u : ndarray of shape (M,)
    """
    support = np.asarray(weights) > 0
    grad_weights = np.asarray(grad_weights, dtype=np.float64)
    centred = grad_weights - grad_weights[support].mean()
    return np.where(support, centred, 0.0)


def sparsemax_preimage(weights):
    """Minimum-norm ``u`` with ``sparsemax(u) == weights``.

    Parameters
    ----------
    weights : ndarray of shape (M,)
        A point of the simplex; zeros allowed.

    Returns
    -------
    u : ndarray of shape (M,)
        ``w - 1/M``.

    Notes
    -----
    Zero weights map exactly onto the threshold, the edge of the fiber. After
    rounding, ``sparsemax(sparsemax_preimage(w))`` can return weights of the
    order of machine epsilon (up to ~2e-16) where ``w`` had exact zeros.
    """
    # The fiber of w: u_i = w_i + tau on the support S, u_j <= tau outside,
    # for any tau. For fixed tau the best free entry is u_j = min(tau, 0), so
    # the squared norm is sum_S (w_i + tau)^2 + (M - |S|) min(tau, 0)^2, convex
    # in tau. For tau < 0 its derivative is 2 (sum_S w_i + M tau) = 2 (1 + M tau),
    # zero at tau = -1/M < 0. Hence u = w - 1/M everywhere (off the support,
    # u_j = tau = -1/M, i.e. exactly at the threshold).
    weights = np.asarray(weights, dtype=np.float64)
    return weights - 1.0 / weights.size


def sparsemax_logit_penalty(weights):
    """``R(w) = 0.5 * ||sparsemax_preimage(w)||^2`` and its gradient.

    With ``R``, an L2 penalty on the (scaled) logits can be applied directly
    on the simplex: minimising ``loss(sparsemax(u)) + c * 0.5 * ||u||^2`` over
    ``u`` is minimising ``loss(w) + c * R(w)`` over the simplex, since the
    best ``u`` for a given ``w`` is its minimum-norm preimage.

    Parameters
    ----------
    weights : ndarray of shape (M,)
        A point of the simplex.

    Returns
    -------
    value : float
        ``0.5 * ||w - 1/M||^2``.
    grad : ndarray of shape (M,)
        ``w - 1/M``.
    """
    # A convex quadratic: its minimum on the simplex is the uniform weights.
    centred = sparsemax_preimage(weights)
    return 0.5 * float(centred @ centred), centred


# --------------------------------------------------------------------------
# 1.5-entmax
# --------------------------------------------------------------------------
def entmax15(u):
    """1.5-entmax: ``w = max(u/2 - tau, 0)^2`` with ``sum(w) == 1``.

    Sits between softmax and sparsemax: sparse like sparsemax, but with a
    smoother dependence on the logits. Exact, sort-based, O(M log M)
    (Peters, Niculae & Martins, 2019).

    Parameters
    ----------
    u : ndarray of shape (M,)
        Scaled logits ``logits / temperature``; any finite values.

    Returns
    -------
    weights : ndarray of shape (M,)
        Non-negative weights summing to one, with exact zeros below the
        threshold.
    """
    # The largest weight (x_max - tau)^2 is at most 1 and x_max = 0 after the
    # shift, so tau >= -1: entries with x <= -1 never get weight. Clipping them
    # at -2 keeps the result, removes -inf from an overflowed shift and bounds
    # every x in [-2, 0], so `mean_sq - mean^2` below cannot cancel
    # catastrophically (it would for logits spread over 1e10). Not at -1: when
    # one module takes all the weight, tau is -1 itself, and entries clipped
    # onto it got weights of ~5e-32 from the rounding of tau.
    x = np.maximum(_shift_by_max(u) / 2.0, -2.0)
    x_sorted = np.sort(x)[::-1]
    k = np.arange(1, x.size + 1)
    # Threshold if the support were the k largest entries: the smaller root of
    # sum_{j<=k} (x_(j) - tau)^2 = 1, i.e. tau = mean - sqrt(delta) with
    # delta = (1 - k (mean_sq - mean^2)) / k. delta < 0 (no real root) means
    # the k entries are spread too far to all be in the support; clipping it
    # gives tau = mean > x_(k), so that k fails the support test below.
    mean = np.cumsum(x_sorted) / k
    mean_sq = np.cumsum(x_sorted**2) / k
    delta = (1.0 - k * (mean_sq - mean**2)) / k
    tau = mean - np.sqrt(np.maximum(delta, 0.0))
    support_size = np.count_nonzero(tau <= x_sorted)
    return np.maximum(x - tau[support_size - 1], 0.0) ** 2


def entmax15_backward(weights, grad_weights):
    """Gradient with respect to ``u`` of a loss, given its gradient with
    respect to ``weights = entmax15(u)``.

    With ``s = sqrt(w)`` the Jacobian with respect to ``u`` is
    ``diag(s) - s s^T / sum(s)``: differentiating ``w_i = (u_i/2 - tau)^2``
    gives ``2 s_i (du_i/2 - dtau)``, the constraint ``sum(w) == 1`` gives
    ``dtau = sum_j s_j du_j / (2 sum(s))``, and the factor 2 cancels the 1/2
    of ``u/2``. Entries outside the support have ``s = 0`` and get 0.

    Parameters
    ----------
    weights : ndarray of shape (M,)
        Output of `entmax15`.
    grad_weights : ndarray of shape (M,)
        Gradient of the loss with respect to the weights.

    Returns
    -------
    grad_u : ndarray of shape (M,)
    """
    s = np.sqrt(weights)
    d = grad_weights * s
    d -= (d.sum() / s.sum()) * s
    return d


def entmax15_preimage(weights):
    """Minimum-norm ``u`` with ``entmax15(u) == weights``.

    Parameters
    ----------
    weights : ndarray of shape (M,)
        A point of the simplex; zeros allowed.

    Returns
    -------
    u : ndarray of shape (M,)
        ``2 * (sqrt(w) - mean(sqrt(w)))``.

    Notes
    -----
    Zero weights map exactly onto the threshold, the edge of the fiber. After
    rounding, ``entmax15(entmax15_preimage(w))`` can return weights of the
    order of the squared machine epsilon (~1e-30) where ``w`` had exact zeros.
    """
    # The fiber of w: u_i / 2 = sqrt(w_i) + tau on the support S, u_j / 2 <= tau
    # outside. As for sparsemax, the best free entry is u_j / 2 = min(tau, 0)
    # and for tau < 0 the squared norm / 4 is sum_j (sqrt(w_j) + tau)^2 over
    # all M entries (sqrt(w_j) = 0 off the support), minimised at
    # tau = -mean(sqrt(w)) < 0.
    s = np.sqrt(np.asarray(weights, dtype=np.float64))
    return 2.0 * (s - s.mean())


def entmax15_logit_penalty(weights):
    """``R(w) = 0.5 * ||entmax15_preimage(w)||^2`` and its gradient.

    With ``R``, an L2 penalty on the (scaled) logits can be applied directly
    on the simplex: minimising ``loss(entmax15(u)) + c * 0.5 * ||u||^2`` over
    ``u`` is minimising ``loss(w) + c * R(w)`` over the simplex.

    The partial derivative is ``-inf`` at ``w_j = 0``: moving a little weight
    ``eps`` onto a module with zero weight lowers ``R`` by order
    ``sqrt(eps)``, faster than any smooth loss can rise. So with a positive
    L2 penalty on the logits the exact optimum gives every module a positive
    weight; exact zeros can then only come from a solver stopping before the
    optimum (or from weights too small to represent).
    (Sparsemax has no such effect: its ``R`` has a finite gradient.)

    Parameters
    ----------
    weights : ndarray of shape (M,)
        A point of the simplex.

    Returns
    -------
    value : float
        ``2 * (sum(w) - sum(sqrt(w))**2 / M)``.
    grad : ndarray of shape (M,)
        ``2 - (2/M) * sum(sqrt(w)) / sqrt(w)``; ``-inf`` where ``w_j = 0``.
        This is the gradient of the formula above on the positive orthant;
        on the simplex only its component orthogonal to the ones matters.
    """
    # Convex on the simplex: sum(w) is linear, and (sum(sqrt(w)) / M)^2 is the
    # power mean of order 1/2, which is concave, so -(sum(sqrt(w)))^2 is convex.
    weights = np.asarray(weights, dtype=np.float64)
    M = weights.size
    s = np.sqrt(weights)
    total = s.sum()
    value = 2.0 * (weights.sum() - total**2 / M)
    with np.errstate(divide="ignore"):
        grad = 2.0 - (2.0 / M) * total / s
    return float(value), grad


# --------------------------------------------------------------------------
# The penalty in the bound-constrained form of the solver
# --------------------------------------------------------------------------
# The solver reaches the simplex through ``w = r**p / sum(r**p)`` with
# ``r >= 0``. For sparsemax ``p = 1``. For entmax15 ``p = 2``: its penalty
# has an infinite slope in ``w`` at zero, but with ``w = r**2 / sum(r**2)``
# it is ``2 * (1 - sum(r)**2 / (M * sum(r**2)))``, smooth in ``r``.
def sparsemax_root_penalty(r):
    """`sparsemax_logit_penalty` of ``w = r / sum(r)``, gradient wrt ``r``."""
    r = np.asarray(r, dtype=np.float64)
    total = r.sum()
    weights = r / total
    value, grad_weights = sparsemax_logit_penalty(weights)
    return value, (grad_weights - weights @ grad_weights) / total


def entmax15_root_penalty(r):
    """`entmax15_logit_penalty` of ``w = r**2 / sum(r**2)``, gradient wrt
    ``r`` (finite everywhere but at ``r = 0``)."""
    r = np.asarray(r, dtype=np.float64)
    M = r.size
    linear, square = r.sum(), r @ r
    value = 2.0 * (1.0 - linear**2 / (M * square))
    grad = (4.0 / M) * (linear**2 * r / square**2 - linear / square)
    return float(value), grad


# --------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Normaliser:
    """The pieces of one normaliser, as the objective and the solvers use
    them.

    Parameters
    ----------
    forward : callable
        ``u -> weights`` on the simplex.
    backward : callable
        ``(weights, grad_weights) -> grad_u``.
    preimage : callable
        ``weights -> u``, the minimum-norm logits giving those weights.
    penalty : callable or None
        ``weights -> (value, grad)``: the logits' L2 penalty written on the
        simplex, ``0.5 * ||preimage(w)||^2``. Given for the sparse
        normalisers, which are solved over the weights themselves; None for
        a smooth one, solved over the logits.
    root_penalty : callable or None
        The same penalty of ``w = r**simplex_power / sum(r**simplex_power)``
        with its gradient in ``r`` (the solver's bound-constrained form).
    simplex_power : int or None
        The power ``p`` of that form.
    """

    forward: Callable
    backward: Callable
    preimage: Callable
    penalty: Callable | None = None
    root_penalty: Callable | None = None
    simplex_power: int | None = None

    @property
    def sparse(self):
        """Whether ``forward`` can return exact zeros (then the weights are
        solved over the simplex, and zero-weight modules are pruned)."""
        return self.penalty is not None


# Normalisers by name: the estimators' ``normaliser`` and ``normalisers``
# accept every name here, so a new one is added by registering it.
NORMALISERS = {
    "softmax": Normaliser(softmax, softmax_backward, softmax_preimage),
    "sparsemax": Normaliser(
        sparsemax,
        sparsemax_backward,
        sparsemax_preimage,
        penalty=sparsemax_logit_penalty,
        root_penalty=sparsemax_root_penalty,
        simplex_power=1,
    ),
    "entmax15": Normaliser(
        entmax15,
        entmax15_backward,
        entmax15_preimage,
        penalty=entmax15_logit_penalty,
        root_penalty=entmax15_root_penalty,
        simplex_power=2,
    ),
}


def resolve_normaliser(name):
    """The registered `Normaliser` called ``name``."""
    try:
        return NORMALISERS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"Unknown normaliser {name!r}; use one of {sorted(NORMALISERS)}."
        ) from None
