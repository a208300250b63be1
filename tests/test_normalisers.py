"""The normalisers: forward maps, backward passes, preimages, logit penalties.

Forward maps are checked against an independent bisection on the threshold,
backward passes against central finite differences of the forward maps, and
preimages / penalties against their defining properties.
"""

import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.optimize import minimize_scalar
from scipy.special import softmax as scipy_softmax

from skweighting._normalisers import (
    NORMALISERS,
    entmax15,
    entmax15_backward,
    entmax15_logit_penalty,
    entmax15_preimage,
    resolve_normaliser,
    softmax,
    softmax_backward,
    softmax_preimage,
    sparsemax,
    sparsemax_backward,
    sparsemax_logit_penalty,
    sparsemax_preimage,
)

ALL = sorted(NORMALISERS)
SPARSE = ["entmax15", "sparsemax"]
BIG = np.finfo(np.float64).max


# --------------------------------------------------------------------------
# Independent references
# --------------------------------------------------------------------------
# Each sparse normaliser is w = mass(x - tau) with sum(w) = 1, where x is the
# shifted (and for entmax15 halved) logit vector and mass(t) = max(t, 0)^p.
# The threshold is found by plain bisection: no sorting, no support formula.
_SCALED = {
    "sparsemax": (lambda u: u, 1),
    "entmax15": (lambda u: u / 2.0, 2),
}


def _scaled(name, u):
    scale, _ = _SCALED[name]
    with np.errstate(over="ignore"):
        return scale(np.asarray(u, dtype=np.float64) - np.max(u))


def _reference_threshold(name, u):
    x = _scaled(name, u)
    power = _SCALED[name][1]

    def total(tau):
        return np.sum(np.maximum(x - tau, 0.0) ** power)

    # total(-1) >= 1 (the maximum alone contributes 1) and total(0) == 0.
    lo, hi = -1.0, 0.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi:
            break
        if total(mid) > 1.0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi), x


def _reference(name, u):
    if name == "softmax":
        return scipy_softmax(np.asarray(u, dtype=np.float64))
    tau, x = _reference_threshold(name, u)
    return np.maximum(x - tau, 0.0) ** _SCALED[name][1]


def _random_logits(rng):
    """Logits of varied size, scale and offset, sometimes with many ties."""
    n = int(rng.choice([1, 2, 3, 4, 7, 20, 100]))
    scale = 10.0 ** rng.uniform(-2, 2)
    if rng.random() < 0.3:
        u = rng.integers(-3, 4, size=n) * scale  # ties, often at the top
    else:
        u = rng.normal(size=n) * scale
    return u + rng.choice([0.0, -50.0, rng.uniform(-1e3, 1e3)])


def _random_simplex(rng, n, zeros=True):
    w = rng.dirichlet(np.full(n, rng.choice([0.3, 1.0, 5.0])))
    if zeros and n > 1:
        drop = rng.random(n) < 0.4
        drop[rng.integers(n)] = False
        w[drop] = 0.0
        w /= w.sum()
    return w


# --------------------------------------------------------------------------
# Forward
# --------------------------------------------------------------------------
@pytest.mark.parametrize("name", ALL)
def test_forward_matches_reference(name):
    rng = np.random.default_rng(0)
    forward = NORMALISERS[name].forward
    for _ in range(300):
        u = _random_logits(rng)
        w = forward(u)
        assert w.dtype == np.float64 and w.shape == u.shape
        np.testing.assert_allclose(w, _reference(name, u), rtol=0, atol=1e-12)
        assert np.all(w >= 0)
        assert abs(w.sum() - 1.0) < 1e-12


@pytest.mark.parametrize("name", ALL)
def test_single_module_gets_all_weight(name):
    for u in [0.0, -1e300, 3.7, 1e300]:
        assert NORMALISERS[name].forward(np.array([u])).tolist() == [1.0]


@pytest.mark.parametrize("d", [-3.0, -1.0, -0.4, 0.0, 0.25, 0.99, 1.0, 5.0])
def test_two_modules_closed_forms(d):
    # sparsemax([d, 0]) = clip((d + 1) / 2, 0, 1); entmax15 of two entries:
    # x = (d/2, 0), and inside the support (x_1 - tau)^2 + (x_2 - tau)^2 = 1.
    u = np.array([d, 0.0])
    p = np.clip((d + 1.0) / 2.0, 0.0, 1.0)
    np.testing.assert_allclose(sparsemax(u), [p, 1.0 - p], atol=1e-15)
    half = d / 2.0
    if abs(half) >= 1.0:
        expected = [1.0, 0.0] if half > 0 else [0.0, 1.0]
    else:
        tau = (half - np.sqrt(2.0 - half**2)) / 2.0
        expected = [(half - tau) ** 2, tau**2]
    np.testing.assert_allclose(entmax15(u), expected, atol=1e-15)


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize(
    "u, expected",
    [
        ([1e300, 1e300, -1e300], [0.5, 0.5, 0.0]),
        ([1e300, 5e299, 1e300], [0.5, 0.0, 0.5]),
        ([BIG, -BIG], [1.0, 0.0]),  # the shift overflows to -inf
        ([-BIG, BIG, 0.0], [0.0, 1.0, 0.0]),
        ([BIG, BIG], [0.5, 0.5]),
        ([-BIG, -BIG, -BIG, -BIG], [0.25] * 4),
        ([1e-300, 0.0, -1e-300], [1 / 3] * 3),
    ],
)
def test_huge_finite_logits(name, u, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        w = NORMALISERS[name].forward(np.array(u))
    np.testing.assert_allclose(w, expected, rtol=0, atol=1e-15)


def test_huge_spread_does_not_lose_precision():
    # Without clipping far entries, cumulative sums of -1e10-sized values
    # cancel and the small entries near the top are lost.
    u = np.array([0.3, 0.0, -0.2, -1e10, -1e12, -1e16])
    for name in SPARSE:
        np.testing.assert_allclose(
            NORMALISERS[name].forward(u),
            NORMALISERS[name].forward(u[:3]).tolist() + [0.0] * 3,
            rtol=0,
            atol=1e-15,
        )


@pytest.mark.parametrize("name", SPARSE)
def test_exact_zeros_when_logits_are_spread(name):
    forward = NORMALISERS[name].forward
    u = np.linspace(0.0, 5.0, 10)
    w = forward(u)
    assert w[0] == 0.0 and np.count_nonzero(w == 0.0) >= 5
    assert w[-1] > 0
    # ...and none when the logits are close together.
    assert np.all(forward(np.linspace(0.0, 0.1, 10)) > 0)
    # softmax, for contrast, is dense on the same logits.
    assert np.all(softmax(u) > 0)


@pytest.mark.parametrize("name", SPARSE)
@pytest.mark.parametrize(
    "u",
    [
        [0.0, -10.0, -10.0, -10.0, -10.0],
        [5.0, -5.0, -5.0, -5.0, -5.0],
        [0.0, -2.5, -2.5, -2.5, -2.5],
        [1.5, 4.5, -6.0, -12.0, -6.0],
    ],
)
def test_one_module_alone_gets_exactly_all_the_weight(name, u):
    # The threshold is exactly at the top entry minus 1 (entmax15: minus 2
    # in u): entries far below it get exact zeros and the top exactly one,
    # not 1 + 4e-16 with ~5e-32 on the others (entmax15 once clipped far
    # entries onto the threshold itself, where its rounding gave them weight).
    u = np.array(u)
    expected = np.zeros(len(u))
    expected[np.argmax(u)] = 1.0
    np.testing.assert_array_equal(NORMALISERS[name].forward(u), expected)


@pytest.mark.parametrize("name", SPARSE)
def test_entries_clearly_below_the_threshold_get_exact_zeros(name):
    # Against the bisection reference: no entry below its threshold (by more
    # than rounding) gets any weight, whatever the ties among the others.
    rng = np.random.default_rng(11)
    forward = NORMALISERS[name].forward
    for _ in range(400):
        u = rng.integers(-8, 9, size=rng.integers(2, 9)) / rng.choice([1, 2, 3, 8])
        tau, x = _reference_threshold(name, u)
        w = forward(u)
        assert np.all(w[x < tau - 1e-9] == 0.0), u


@pytest.mark.parametrize("name", ALL)
def test_forward_computes_in_float64_whatever_the_input_dtype(name):
    # float32 logits (a float32 store) are widened first, not rounded through
    # float32: the result is the float64 computation on the same values.
    u32 = np.array([0.3, 0.1, -0.25, 0.05], dtype=np.float32)
    w = NORMALISERS[name].forward(u32)
    assert w.dtype == np.float64
    np.testing.assert_array_equal(w, NORMALISERS[name].forward(u32.astype(float)))


@pytest.mark.parametrize("name", ALL)
def test_shift_invariance(name):
    rng = np.random.default_rng(1)
    forward = NORMALISERS[name].forward
    for _ in range(50):
        # On a dyadic grid adding a power of two is exact, and so is the
        # shift by the maximum: the output must be bitwise identical.
        u = rng.integers(-64, 64, size=rng.integers(1, 12)) / 16.0
        w = forward(u)
        for c in [-(2.0**20), -4.0, 0.5, 2.0**30]:
            np.testing.assert_array_equal(forward(u + c), w)
        # Arbitrary shifts only round the logits: equal up to that rounding.
        u = rng.normal(size=8)
        np.testing.assert_allclose(
            forward(u + rng.uniform(-1e3, 1e3)), forward(u), rtol=0, atol=1e-11
        )


@pytest.mark.parametrize("name", ALL)
def test_permutation_equivariance(name):
    rng = np.random.default_rng(2)
    forward = NORMALISERS[name].forward
    for _ in range(100):
        u = _random_logits(rng)
        perm = rng.permutation(u.size)
        if name == "softmax":  # the sum is taken in a different order
            np.testing.assert_allclose(forward(u[perm]), forward(u)[perm], atol=1e-15)
        else:  # the threshold only sees sorted values: bitwise equal
            np.testing.assert_array_equal(forward(u[perm]), forward(u)[perm])


def test_order_of_weights_follows_logits():
    rng = np.random.default_rng(3)
    for _ in range(100):
        u = _random_logits(rng)
        for name in ALL:
            w = NORMALISERS[name].forward(u)
            order = np.argsort(u, kind="stable")
            assert np.all(np.diff(w[order]) >= -1e-15)


# --------------------------------------------------------------------------
# Backward
# --------------------------------------------------------------------------
def _points_away_from_kinks(name, rng, count, margin=1e-3):
    """Random logits whose entries are all > margin away from the threshold
    (in the normaliser's own scaled coordinates)."""
    found = 0
    while found < count:
        n = int(rng.integers(2, 9))
        u = rng.normal(size=n) * rng.choice([0.3, 1.0, 3.0]) + rng.normal() * 10
        if name != "softmax":
            tau, x = _reference_threshold(name, u)
            if np.min(np.abs(x - tau)) < margin:
                continue
        found += 1
        yield u


def _numerical_jacobian(forward, u, h=1e-6):
    columns = []
    for j in range(u.size):
        step = np.zeros_like(u)
        step[j] = h
        columns.append((forward(u + step) - forward(u - step)) / (2 * h))
    return np.stack(columns, axis=1)  # J[i, j] = d w_i / d u_j


@pytest.mark.parametrize("name", ALL)
def test_backward_matches_finite_differences(name):
    rng = np.random.default_rng(4)
    forward, backward = NORMALISERS[name].forward, NORMALISERS[name].backward
    supports = set()
    for u in _points_away_from_kinks(name, rng, 60):
        w = forward(u)
        supports.add(int(np.count_nonzero(w)))
        jac = _numerical_jacobian(forward, u)
        for _ in range(3):
            g = rng.normal(size=u.size)
            # The gradient wrt u is g @ J (the VJP), not J @ g.
            np.testing.assert_allclose(backward(w, g), g @ jac, rtol=0, atol=1e-8)
    if name != "softmax":  # the draws covered sparse and dense supports
        assert min(supports) == 1 and max(supports) >= 4


@pytest.mark.parametrize("name", ALL)
def test_jacobian_structure(name):
    rng = np.random.default_rng(5)
    forward, backward = NORMALISERS[name].forward, NORMALISERS[name].backward
    for _ in range(100):
        u = _random_logits(rng)
        w = forward(u)
        g1, g2 = rng.normal(size=(2, u.size)) * 10
        # Symmetric: g1 @ J^T g2 == g2 @ J^T g1.
        assert np.isclose(g1 @ backward(w, g2), g2 @ backward(w, g1), atol=1e-12)
        # Rows sum to zero (shift invariance): every VJP sums to zero.
        assert abs(backward(w, g1).sum()) < 1e-12
        # Columns sum to zero (sum(w) == 1): the gradient of sum(w) vanishes.
        np.testing.assert_allclose(backward(w, np.ones(u.size)), 0.0, atol=1e-14)
        # Nothing flows back to modules with zero weight.
        assert np.all(backward(w, g1)[w == 0] == 0.0)
        # A loss that depends on one weight only moves the others down.
        if name != "softmax" and np.count_nonzero(w) > 1:
            i = int(np.argmax(w))
            e = np.zeros(u.size)
            e[i] = 1.0
            grad = backward(w, e)
            assert grad[i] > 0 and np.all(grad[np.arange(u.size) != i] <= 0)


def test_backward_explicit_jacobians():
    w = np.array([0.5, 0.3, 0.2, 0.0])
    eye = np.eye(4)
    J_soft = np.diag(w) - np.outer(w, w)
    S = (w > 0).astype(float)
    J_sparse = np.diag(S) - np.outer(S, S) / S.sum()
    s = np.sqrt(w)
    J_ent = np.diag(s) - np.outer(s, s) / s.sum()
    for backward, jac in [
        (softmax_backward, J_soft),
        (sparsemax_backward, J_sparse),
        (entmax15_backward, J_ent),
    ]:
        rows = np.array([backward(w, eye[i]) for i in range(4)])
        np.testing.assert_allclose(rows, jac.T, atol=1e-15)


def test_backward_does_not_modify_inputs():
    w = entmax15(np.array([0.4, 0.1, -0.3]))
    g = np.array([1.0, -2.0, 0.5])
    for name in ALL:
        w_copy, g_copy = w.copy(), g.copy()
        NORMALISERS[name].backward(w_copy, g_copy)
        np.testing.assert_array_equal(w_copy, w)
        np.testing.assert_array_equal(g_copy, g)


# --------------------------------------------------------------------------
# Preimage
# --------------------------------------------------------------------------
@pytest.mark.parametrize("name", ALL)
def test_preimage_round_trip(name):
    rng = np.random.default_rng(6)
    forward, preimage = NORMALISERS[name].forward, NORMALISERS[name].preimage
    for _ in range(200):
        n = int(rng.choice([1, 2, 3, 5, 10, 50]))
        w = _random_simplex(rng, n, zeros=name != "softmax")
        if name == "softmax":
            w = np.maximum(w, 1e-12)
            w /= w.sum()
        u = preimage(w)
        np.testing.assert_allclose(forward(u), w, rtol=0, atol=1e-12)
        assert abs(u.sum()) < 1e-12  # minimum norm => orthogonal to shifts


def test_softmax_preimage_rejects_zero_weights():
    with pytest.raises(
        ValueError, match=r"^softmax_preimage needs weights that are all > 0\.$"
    ):
        softmax_preimage(np.array([0.5, 0.5, 0.0]))


@pytest.mark.parametrize("name", ALL)
def test_preimage_and_penalty_compute_in_float64(name):
    # float32 weights are widened before the arithmetic: the preimage (and a
    # sparse normaliser's penalty and root penalty) equal the float64 results
    # on the same values exactly.
    pieces = NORMALISERS[name]
    w32 = np.array([0.1, 0.2, 0.3, 0.4], dtype=np.float32)
    w64 = w32.astype(np.float64)
    u = pieces.preimage(w32)
    assert u.dtype == np.float64
    np.testing.assert_array_equal(u, pieces.preimage(w64))
    if pieces.penalty is None:
        return
    for penalty, point in [(pieces.penalty, w32), (pieces.root_penalty, w32 + 0.5)]:
        value, grad = penalty(point)
        value64, grad64 = penalty(point.astype(np.float64))
        assert grad.dtype == np.float64
        assert value == value64
        np.testing.assert_array_equal(grad, grad64)


@pytest.mark.parametrize("name", ALL)
def test_backward_computes_in_float64(name):
    # A float32 gradient of the weights (the log-pooling loss on a float32
    # store) gives the float64 vector-Jacobian product of the same values.
    weights = NORMALISERS[name].forward(np.array([0.4, 0.1, 0.35, -0.2]))
    g32 = np.array([0.7, -0.3, 0.2, 0.9], dtype=np.float32)
    backward = NORMALISERS[name].backward
    grad = backward(weights, g32)
    assert grad.dtype == np.float64
    np.testing.assert_array_equal(grad, backward(weights, g32.astype(np.float64)))


def test_preimage_closed_forms():
    w = np.array([0.6, 0.4, 0.0, 0.0])
    np.testing.assert_allclose(sparsemax_preimage(w), w - 0.25)
    s = np.sqrt(w)
    np.testing.assert_allclose(entmax15_preimage(w), 2 * (s - s.mean()))
    w = np.array([0.5, 0.25, 0.25])
    np.testing.assert_allclose(softmax_preimage(w), np.log(w) - np.log(w).mean())


@pytest.mark.parametrize("name", ALL)
def test_preimage_has_minimum_norm_in_its_fiber(name):
    rng = np.random.default_rng(7)
    forward, preimage = NORMALISERS[name].forward, NORMALISERS[name].preimage
    for _ in range(100):
        n = int(rng.integers(1, 12))
        w = _random_simplex(rng, n, zeros=name != "softmax")
        if name == "softmax":
            w = np.maximum(w, 1e-9)
            w /= w.sum()
        u = preimage(w)
        norm = np.linalg.norm(u)
        for _ in range(10):
            # Every u' with forward(u') == w: move the threshold (shift all
            # entries), then lower out-of-support entries by any amount >= 0.
            other = u + rng.normal() * rng.choice([1e-6, 0.1, 3.0])
            if name != "softmax":
                off = w == 0
                lower = rng.exponential(size=n) * (rng.random(n) < 0.7)
                other[off] -= lower[off]
            np.testing.assert_allclose(forward(other), w, rtol=0, atol=1e-10)
            assert np.linalg.norm(other) >= norm - 1e-12


def test_preimage_minimum_norm_by_direct_search():
    # Without the closed form: the fiber is parametrised by the threshold t
    # (support entries pinned relative to it, the others free below it). For
    # each t the best free entry is min(t, 0); minimise the remaining 1-D
    # function of t numerically.
    rng = np.random.default_rng(8)
    for name, pinned in [("sparsemax", lambda w: w), ("entmax15", np.sqrt)]:
        for _ in range(20):
            w = _random_simplex(rng, int(rng.integers(2, 10)))
            off = w == 0
            factor = 1.0 if name == "sparsemax" else 2.0

            def norm_sq(t, w=w, off=off, factor=factor, pinned=pinned):
                u = factor * (pinned(w) + t)
                # Out-of-support entries may be anything <= factor * t.
                u[off] = np.minimum(factor * t, 0.0)
                return u @ u

            best = minimize_scalar(norm_sq, bounds=(-5, 5), method="bounded")
            u = NORMALISERS[name].preimage(w)
            assert u @ u <= best.fun + 1e-9
            assert u @ u == pytest.approx(best.fun, abs=1e-8)


# --------------------------------------------------------------------------
# Logit penalty on the simplex
# --------------------------------------------------------------------------
@pytest.mark.parametrize("name", SPARSE)
def test_penalty_is_half_squared_norm_of_preimage(name):
    rng = np.random.default_rng(9)
    pieces = NORMALISERS[name]
    for _ in range(100):
        w = _random_simplex(rng, int(rng.integers(1, 30)))
        value, grad = pieces.penalty(w)
        u = pieces.preimage(w)
        assert value == pytest.approx(0.5 * u @ u, rel=1e-12, abs=1e-14)
        assert grad.shape == w.shape
    n = 7
    value, grad = pieces.penalty(np.full(n, 1.0 / n))  # uniform: zero logits
    assert abs(value) < 1e-15
    np.testing.assert_allclose(grad - grad.mean(), 0.0, atol=1e-14)


@pytest.mark.parametrize("name", SPARSE)
def test_penalty_gradient_matches_finite_differences(name):
    rng = np.random.default_rng(10)
    penalty = NORMALISERS[name].penalty
    for _ in range(100):
        n = int(rng.integers(2, 15))
        w = rng.dirichlet(np.ones(n))
        if name == "entmax15" and w.min() < 1e-3:
            continue  # interior points only: the gradient is -inf at zero
        # sqrt(w) curves sharply near zero: the step must be small relative
        # to the smallest weight for the central difference to be accurate.
        h = 1e-4 * w.min()
        _, grad = penalty(w)
        for direction in rng.normal(size=(3, n)):
            for v in [direction, direction - direction.mean()]:  # also tangent
                numeric = (penalty(w + h * v)[0] - penalty(w - h * v)[0]) / (2 * h)
                assert numeric == pytest.approx(grad @ v, rel=1e-6, abs=1e-8)


@pytest.mark.parametrize("name", SPARSE)
def test_penalty_is_convex_on_the_simplex(name):
    rng = np.random.default_rng(11)
    penalty = NORMALISERS[name].penalty
    for _ in range(300):
        n = int(rng.integers(2, 12))
        a, b = _random_simplex(rng, n), _random_simplex(rng, n)
        t = rng.random()
        mix = penalty(t * a + (1 - t) * b)[0]
        assert mix <= t * penalty(a)[0] + (1 - t) * penalty(b)[0] + 1e-14
        assert (
            penalty(0.5 * (a + b))[0] <= 0.5 * (penalty(a)[0] + penalty(b)[0]) + 1e-14
        )


def test_entmax15_penalty_gradient_is_minus_infinity_at_zero_weights():
    w = np.array([0.7, 0.3, 0.0, 0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grad = entmax15_logit_penalty(w)
    assert np.all(grad[2:] == -np.inf) and np.all(np.isfinite(grad[:2]))
    # Moving eps of weight onto a zero-weight module lowers R by ~sqrt(eps):
    # the rate of decrease grows without bound, so no smooth loss can keep a
    # module at exactly zero weight under a positive logit penalty.
    rates = []
    for eps in [1e-2, 1e-4, 1e-6, 1e-8]:
        moved = w + eps * np.array([-1.0, 0.0, 1.0, 0.0])
        rates.append((value - entmax15_logit_penalty(moved)[0]) / eps)
    assert all(r > 0 for r in rates)
    assert np.all(np.diff(rates) > 0) and rates[-1] > 100 * rates[0]


def test_sparsemax_penalty_gradient_is_finite_at_zero_weights():
    w = np.array([0.7, 0.3, 0.0, 0.0])
    value, grad = sparsemax_logit_penalty(w)
    np.testing.assert_allclose(grad, w - 0.25)
    assert value == pytest.approx(0.5 * np.sum((w - 0.25) ** 2))


# --------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["sparsemax ", "Softmax", None, ["softmax"]])
def test_resolve_normaliser_names_the_choices(name):
    with pytest.raises(
        ValueError,
        match=(
            rf"^Unknown normaliser {re.escape(repr(name))}; "
            r"use one of \['entmax15', 'softmax', 'sparsemax'\]\.$"
        ),
    ):
        resolve_normaliser(name)
    assert resolve_normaliser("entmax15") is NORMALISERS["entmax15"]


def test_registry():
    assert set(NORMALISERS) == {"softmax", "sparsemax", "entmax15"}
    assert NORMALISERS["softmax"].forward is softmax
    assert NORMALISERS["softmax"].backward is softmax_backward
    assert NORMALISERS["softmax"].preimage is softmax_preimage
    assert NORMALISERS["softmax"].penalty is None
    assert not NORMALISERS["softmax"].sparse
    assert NORMALISERS["sparsemax"].sparse and NORMALISERS["entmax15"].sparse
    assert NORMALISERS["sparsemax"].penalty is sparsemax_logit_penalty
    assert NORMALISERS["entmax15"].penalty is entmax15_logit_penalty


@pytest.mark.parametrize("name", ["sparsemax", "entmax15"])
def test_root_penalty_is_the_logit_penalty_of_the_mapped_weights(name):
    # The solver's bounded form reaches the simplex through
    # w = r**p / sum(r**p); its penalty must be the simplex penalty of that w,
    # with the gradient of that composition, finite at zero entries of r.
    normaliser = NORMALISERS[name]
    p = normaliser.simplex_power
    rng = np.random.default_rng(3)
    for _ in range(20):
        r = rng.uniform(0.05, 2.0, 6)
        r[rng.integers(6)] = 0.0 if p == 2 else r[0]
        w = r**p / np.sum(r**p)
        value, grad = normaliser.root_penalty(r)
        assert value == pytest.approx(normaliser.penalty(w)[0], abs=1e-13)
        assert np.all(np.isfinite(grad))
        step = 1e-7
        numeric = np.array(
            [
                (
                    normaliser.root_penalty(r + step * e)[0]
                    - normaliser.root_penalty(np.maximum(r - step * e, 0.0))[0]
                )
                / (r + step * e - np.maximum(r - step * e, 0.0))[j]
                for j, e in enumerate(np.eye(6))
            ]
        )
        np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------
# Properties over arbitrary inputs
# --------------------------------------------------------------------------
any_finite_logits = arrays(
    np.float64,
    st.integers(1, 12),
    elements=st.floats(allow_nan=False, allow_infinity=False),
)


@settings(max_examples=150, deadline=None)
@given(u=any_finite_logits)
def test_any_finite_logits_give_weights_on_the_simplex(u):
    # The whole float range, subnormals and +-max included, with no warnings.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in ALL:
            w = NORMALISERS[name].forward(u)
            assert np.all(np.isfinite(w)) and np.all(w >= 0)
            assert abs(w.sum() - 1.0) < 1e-13
            assert w[np.argmax(u)] > 0
            if name != "softmax":
                np.testing.assert_allclose(w, _reference(name, u), rtol=0, atol=1e-12)


@settings(max_examples=100, deadline=None)
@given(
    raw=arrays(
        np.float64,
        st.integers(1, 15),
        elements=st.one_of(st.just(0.0), st.floats(1e-6, 1.0)),
    )
)
def test_preimage_round_trip_property(raw):
    if raw.sum() == 0:
        raw = raw.copy()
        raw[0] = 1.0
    w = raw / raw.sum()
    for name in SPARSE:
        pieces = NORMALISERS[name]
        u = pieces.preimage(w)
        np.testing.assert_allclose(pieces.forward(u), w, rtol=0, atol=1e-12)
        assert pieces.penalty(w)[0] == pytest.approx(0.5 * u @ u, abs=1e-14)
