"""The objective the attention weights minimise, and the forms a solver
works on.

The objective is the mean loss of a combination (a loss object of
`skweighting._combinations`, with ``loss_grad(weights, extra)``) plus the L2
penalty ``(alpha / 2) ||logits||^2``. With ``u = logits / temperature`` the
weights are ``normaliser(u)`` and the penalty is ``(c / 2) ||u||^2`` with
``c = alpha * temperature**2``: the same optimum at every temperature, in
equally well-conditioned coordinates. `Objective` is the one owner of that
formula; the solvers, the pruning and the temperature path ask it.

It is solved in one of two forms, chosen by the normaliser:

* a smooth normaliser (softmax): `LogitForm` works on ``u`` directly.
* a sparse normaliser (sparsemax, entmax15) has kinks: a module outside the
  support gets no gradient from the loss, so a descent on ``u`` can stop
  with a module left out that the optimum needs. `SimplexForm` instead
  minimises over the weights themselves. For a given ``w`` the logits of
  smallest norm with ``normaliser(u) == w`` are the normaliser's
  ``preimage(w)``, so ``min_u loss(normaliser(u)) + (c/2)||u||^2`` equals
  ``min_w loss(w) + c * penalty(w)`` over the simplex, with ``penalty(w) =
  ||preimage(w)||^2 / 2`` convex. The losses are convex in the weights
  (linear mixture, regression) or in ``sharpness * weights`` (log pooling),
  so L-BFGS-B on the bound-constrained form reaches the optimum; the
  logits are then ``temperature * preimage(w)``.
"""

import numpy as np


class Objective:
    """``loss(weights, extra) + (alpha / 2) ||logits||^2`` at one temperature.

    Parameters
    ----------
    loss : loss object
        Of a combination (``loss_grad``, ``value``, ``extra_penalty``,
        ``fold_sums``, ``drop``, ``take``).
    normaliser : Normaliser
        From `skweighting._normalisers.NORMALISERS`.
    alpha, temperature : float
        The L2 strength and the temperature; only ``alpha * temperature**2``
        matters in the scaled logits ``u``.
    """

    def __init__(self, loss, normaliser, *, alpha, temperature):
        self.loss = loss
        self.normaliser = normaliser
        self.alpha = alpha
        self.temperature = temperature
        # alpha/2 ||T u||^2 = (alpha T^2 / 2) ||u||^2
        self.strength = alpha * temperature**2

    def at(self, temperature):
        """The same objective at another temperature."""
        return Objective(
            self.loss, self.normaliser, alpha=self.alpha, temperature=temperature
        )

    def take(self, rows):
        """The same objective on a subset of the loss's rows."""
        return Objective(
            self.loss.take(rows),
            self.normaliser,
            alpha=self.alpha,
            temperature=self.temperature,
        )

    def penalty(self, weights, extra):
        """Everything but the data loss, at given weights: the logits' L2
        penalty written on the simplex (sparse normalisers) and the loss's
        own penalty on its extra parameters."""
        value = 0.0
        if self.normaliser.penalty is not None:
            value = self.strength * self.normaliser.penalty(weights)[0]
        return value + self.loss.extra_penalty(extra)

    def value(self, weights, extra):
        """The whole objective at given weights (sparse normalisers)."""
        return self.loss.value(weights, extra) + self.penalty(weights, extra)

    def form(self, fixed_zero=None):
        """The form a solver minimises: over the simplex for a sparse
        normaliser, over the scaled logits for a smooth one. ``fixed_zero``
        (sparse normalisers only) holds modules at zero weight."""
        if self.normaliser.sparse:
            return SimplexForm(
                self.loss, self.normaliser, self.strength, fixed_zero=fixed_zero
            )
        if fixed_zero is not None and np.any(fixed_zero):
            raise ValueError("Only a sparse normaliser can hold a weight at zero.")
        return LogitForm(self.loss, self.normaliser, self.strength)


class LogitForm:
    """``loss(normaliser(u)) + (c / 2) ||u||^2`` over ``theta = [u, extra]``.

    Called on ``theta`` it returns the objective and its gradient.
    """

    bounds = None

    def __init__(self, loss, normaliser, penalty):
        self.loss = loss
        self.normaliser = normaliser
        self.penalty = penalty
        self.n_modules = loss.n_modules
        self.n_samples = loss.n_samples

    def initial_theta(self, temperature):
        # Logits start at ones (equal weights), as in the original layer.
        return np.concatenate(
            [np.ones(self.n_modules) / temperature, self.loss.initial_extra()]
        )

    def start_from(self, fit, temperature):
        """A warm start from a fit at another temperature: its logits."""
        return np.concatenate([fit.logits / temperature, fit.extra])

    def __call__(self, theta):
        u, extra = theta[: self.n_modules], theta[self.n_modules :]
        weights = self.normaliser.forward(u)
        loss, grad_weights, grad_extra = self.loss.loss_grad(weights, extra)
        loss += 0.5 * self.penalty * (u @ u)
        grad_u = self.normaliser.backward(weights, grad_weights) + self.penalty * u
        return loss, np.concatenate([grad_u, grad_extra])

    def weights_and_u(self, theta):
        u = theta[: self.n_modules]
        return self.normaliser.forward(u), u

    def take(self, rows):
        return LogitForm(self.loss.take(rows), self.normaliser, self.penalty)


class SimplexForm:
    """``loss(w) + c * penalty(w)`` over the simplex, in a bound-constrained
    form that L-BFGS-B solves.

    ``theta = [r, extra]`` with ``r >= 0`` and ``w = r**p / sum(r**p)``, plus
    ``(sum(r**p) - 1)^2 / 2``, which fixes the otherwise free scale of
    ``r`` without changing the optimum in ``w``. Its stationary points are
    the optima over the simplex: the gradient in ``r_j`` is
    ``p r_j^(p-1) / s * (g_j - w @ g)`` plus the scale term, which vanishes
    (or points into the bound) exactly at the simplex's KKT points. The
    power ``p`` is the normaliser's: 1 for sparsemax; 2 for entmax15, whose
    penalty is smooth in ``r = sqrt(w) * const`` but has an infinite slope
    in ``w`` at zero (it is the same point with ``p = 1`` when ``c = 0``).

    Modules in ``fixed_zero`` (a boolean mask) are held at zero weight by
    bounds ``0 <= r_j <= 0``: the optimum over the face of the others.
    """

    def __init__(self, loss, normaliser, penalty, fixed_zero=None):
        self.loss = loss
        self.normaliser = normaliser
        self.penalty = penalty
        self.n_modules = loss.n_modules
        self.n_samples = loss.n_samples
        self.power = normaliser.simplex_power if penalty > 0 else 1
        if fixed_zero is None:
            fixed_zero = np.zeros(self.n_modules, dtype=bool)
        self.fixed_zero = np.asarray(fixed_zero, dtype=bool)
        self.bounds = [
            (0.0, 0.0) if fixed else (0.0, None) for fixed in self.fixed_zero
        ] + [(None, None)] * loss.n_extra

    def initial_theta(self, temperature):
        # The image of logits at ones: equal weights (over the free modules).
        free = ~self.fixed_zero
        r0 = np.where(free, (1.0 / free.sum()) ** (1.0 / self.power), 0.0)
        return np.concatenate([r0, self.loss.initial_extra()])

    def start_from(self, fit, temperature):
        """A warm start from a fit at another temperature: its weights."""
        return np.concatenate([fit.weights ** (1.0 / self.power), fit.extra])

    def __call__(self, theta):
        r, extra = theta[: self.n_modules], theta[self.n_modules :]
        p = self.power
        r_pow = r**p
        total = r_pow.sum()
        if total <= 0.0:  # every r at zero: no weights; push away from it
            return np.inf, np.full_like(theta, np.nan)
        weights = r_pow / total
        loss, grad_weights, grad_extra = self.loss.loss_grad(weights, extra)
        d_r_pow = p * r ** (p - 1)  # d r_j^p / d r_j
        grad_r = d_r_pow / total * (grad_weights - weights @ grad_weights)
        if self.penalty > 0:
            value, grad_root = self.normaliser.root_penalty(r)
            loss += self.penalty * value
            grad_r += self.penalty * grad_root
        loss += 0.5 * (total - 1.0) ** 2
        grad_r += (total - 1.0) * d_r_pow
        return loss, np.concatenate([grad_r, grad_extra])

    def weights_and_u(self, theta):
        r = theta[: self.n_modules]
        r_pow = r**self.power
        weights = r_pow / r_pow.sum()
        return weights, self.normaliser.preimage(weights)

    def take(self, rows):
        return SimplexForm(
            self.loss.take(rows),
            self.normaliser,
            self.penalty,
            fixed_zero=self.fixed_zero,
        )
