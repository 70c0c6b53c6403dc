"""Assignment 5: gradient descent with momentum, in the lecture's form and PyTorch's.

What it teaches: momentum as an exponential moving average of the gradients
(lecture 003), and how the same idea is written in ``torch.optim.SGD``.

Lecture 003 (EMA form), V_0 = 0:
    V_t     = β V_{t−1} + (1 − β) ∇_θ J(θ_t)
    θ_{t+1} = θ_t − α V_t

PyTorch (``torch.optim.SGD``), with μ = momentum, τ = dampening, buffer b:
    g_t = ∇_θ J(θ_t) + λ θ_t                        (weight decay λ)
    b_1 = g_1;   b_t = μ b_{t−1} + (1 − τ) g_t        (no dampening on the first step)
    θ_{t+1} = θ_t − lr · g_t'   with g_t' = b_t, or g_t + μ b_t for Nesterov.

The two are one algorithm in different units. PyTorch's buffer adds the whole gradient
(no (1 − β) factor), so with μ = β, τ = 0 and lr = α(1 − β) its buffer is
b_t = V_t / (1 − β) and both produce the same iterates. For the same learning rate,
PyTorch's steps are about 1/(1 − β) times longer (10× for β = 0.9), so a learning rate
tuned for one form is not the right one for the other. (τ = β with lr = α makes
PyTorch's buffer an average too, but not the lecture's: it starts at b_1 = g_1 instead
of V_1 = (1 − β) g_1.)

Shapes: θ, its gradient, V and b all share one shape, written P (any shape).
"""

import numbers

import numpy as np

__all__ = ["momentum_step", "sgd_momentum_step", "minimize"]


# Input checks (they stay in the student skeleton). ---------------------------------


def _as_array(fn, name, value):
    try:
        return np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{fn}: {name} must be a real array, got {type(value).__name__}") from exc


def _real(fn, name, value):
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"{fn}: {name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{fn}: {name} must be finite, got {value}")
    return value


def _same_shape(fn, name, arr, theta):
    if arr.shape != theta.shape:
        raise ValueError(f"{fn}: {name} must have theta's shape {theta.shape}, got shape {arr.shape}")


def _check_lr(fn, lr):
    lr = _real(fn, "lr", lr)
    if lr < 0.0:
        raise ValueError(f"{fn}: invalid learning rate lr = {lr} (must be >= 0)")
    return lr


def _check_beta(fn, beta):
    beta = _real(fn, "beta", beta)
    if not 0.0 <= beta <= 1.0:
        raise ValueError(f"{fn}: beta must satisfy 0 <= beta <= 1, got {beta}")
    return beta


# ## Task 5.1: momentum_step


def momentum_step(theta, grad, velocity, lr, beta):
    """One step of gradient descent with momentum in the lecture's EMA form.

        V_t     = β V_{t−1} + (1 − β) ∇_θ J(θ)      (V_0 = 0)
        θ_{t+1} = θ_t − α V_t

    V is a moving average of the gradients: β = 0 gives plain gradient descent, larger
    β smooths more. Unlike torch.optim.SGD (see sgd_momentum_step) the new gradient is
    weighted by 1 − β and V starts at 0.

    Args:
        theta: θ_t, shape P.
        grad: ∇_θ J(θ_t), shape P.
        velocity: V_{t−1}, shape P; None (or zeros) on the first step.
        lr: α >= 0.
        beta: β in [0, 1].

    Returns:
        (theta, velocity): new arrays θ_{t+1} and V_t, shape P; the inputs are unchanged.
    """
    fn = "momentum_step"
    theta = _as_array(fn, "theta", theta)
    grad = _as_array(fn, "grad", grad)
    _same_shape(fn, "grad", grad, theta)
    if velocity is not None:
        velocity = _as_array(fn, "velocity", velocity)
        _same_shape(fn, "velocity", velocity, theta)
    lr = _check_lr(fn, lr)
    beta = _check_beta(fn, beta)
    # BEGIN SOLUTION (Task 5.1: return (theta, velocity))
    if velocity is None:
        velocity = np.zeros_like(theta)  # V_0 = 0
    v = beta * velocity + (1.0 - beta) * grad
    return theta - lr * v, v
    # END SOLUTION


# ## Task 5.2: sgd_momentum_step


def sgd_momentum_step(theta, grad, buf, lr, momentum, dampening=0.0, nesterov=False, weight_decay=0.0):
    """One step of ``torch.optim.SGD`` (momentum, dampening, Nesterov, weight decay).

    With μ = momentum, τ = dampening, λ = weight_decay (PyTorch's algorithm):
        g ← ∇_θ J(θ) + λ θ
        if μ ≠ 0:
            b ← g                       if buf is None (first step: no dampening)
            b ← μ b + (1 − τ) g         otherwise
            g ← g + μ b  if nesterov  else  b
        θ ← θ − lr · g
    With μ = 0 there is no buffer: buf is returned as given (None), like torch, which
    then keeps no momentum state.

    Compare the lecture's EMA (momentum_step): V_t = βV_{t−1} + (1 − β)∇J, V_0 = 0.
    PyTorch adds the full gradient (τ = 0), so b_t = V_t / (1 − β) for μ = β: the
    same iterates when lr = α(1 − β), steps 1/(1 − β) times longer when lr = α.

    Args:
        theta: θ, shape P.
        grad: ∇_θ J(θ), shape P (without weight decay).
        buf: the momentum buffer b from the previous step, shape P; None on the first.
        lr: learning rate >= 0.
        momentum: μ >= 0.
        dampening: τ.
        nesterov: Nesterov momentum; needs μ > 0 and τ = 0 (as torch checks).
        weight_decay: λ >= 0 (L2 penalty λ/2‖θ‖² folded into the gradient).

    Returns:
        (theta, buf): new θ (shape P) and the new buffer (shape P, or None when μ = 0).
        The inputs are unchanged.
    """
    fn = "sgd_momentum_step"
    theta = _as_array(fn, "theta", theta)
    grad = _as_array(fn, "grad", grad)
    _same_shape(fn, "grad", grad, theta)
    if buf is not None:
        buf = _as_array(fn, "buf", buf)
        _same_shape(fn, "buf", buf, theta)
    lr = _check_lr(fn, lr)
    momentum = _real(fn, "momentum", momentum)
    dampening = _real(fn, "dampening", dampening)
    weight_decay = _real(fn, "weight_decay", weight_decay)
    if momentum < 0.0:
        raise ValueError(f"{fn}: invalid momentum value: {momentum} (must be >= 0)")
    if weight_decay < 0.0:
        raise ValueError(f"{fn}: invalid weight_decay value: {weight_decay} (must be >= 0)")
    if nesterov and (momentum <= 0.0 or dampening != 0.0):
        raise ValueError(
            f"{fn}: Nesterov momentum requires a momentum > 0 and zero "
            f"dampening, got momentum = {momentum}, dampening = {dampening}"
        )
    # BEGIN SOLUTION (Task 5.2: return (theta, buf))
    g = grad + weight_decay * theta if weight_decay != 0.0 else grad
    if momentum != 0.0:
        if buf is None:
            buf = g.copy()  # first step: b_1 = g_1
        else:
            buf = momentum * buf + (1.0 - dampening) * g
        g = g + momentum * buf if nesterov else buf
    return theta - lr * g, buf
    # END SOLUTION


# ## Task 5.3: minimize


def minimize(grad_fn, theta0, lr, beta, steps):
    """Run `steps` steps of momentum_step from θ_0 and return the whole trajectory.

        V_0 = 0;  for t = 1..steps:  V_t = βV_{t−1} + (1 − β)∇J(θ_{t−1}),
                                      θ_t = θ_{t−1} − α V_t
    β = 0 is plain gradient descent θ_t = θ_{t−1} − α ∇J(θ_{t−1}).

    Args:
        grad_fn: callable θ -> ∇J(θ), both of shape P.
        theta0: θ_0, shape P (unchanged).
        lr: α >= 0.
        beta: β in [0, 1].
        steps: number of steps, an int >= 0.

    Returns:
        ndarray of shape (steps + 1, *P): row t is θ_t, row 0 is θ_0.
    """
    fn = "minimize"
    if not callable(grad_fn):
        raise TypeError(f"{fn}: grad_fn must be callable, got {type(grad_fn).__name__}")
    theta0 = _as_array(fn, "theta0", theta0)
    lr = _check_lr(fn, lr)
    beta = _check_beta(fn, beta)
    if isinstance(steps, bool) or not isinstance(steps, (numbers.Integral, np.integer)):
        raise TypeError(f"{fn}: steps must be an int, got {type(steps).__name__}")
    if steps < 0:
        raise ValueError(f"{fn}: steps must be >= 0, got {steps}")
    # BEGIN SOLUTION (Task 5.3: return the (steps + 1, *theta0.shape) trajectory)
    trajectory = np.empty((steps + 1,) + theta0.shape)
    trajectory[0] = theta0
    theta, velocity = theta0, None
    for t in range(1, steps + 1):
        grad = np.asarray(grad_fn(theta.copy()), dtype=np.float64)
        if grad.shape != theta.shape:
            raise ValueError(
                f"{fn}: grad_fn must return theta's shape {theta.shape}, got shape {grad.shape} at step {t}"
            )
        theta, velocity = momentum_step(theta, grad, velocity, lr, beta)
        trajectory[t] = theta
    return trajectory
    # END SOLUTION
