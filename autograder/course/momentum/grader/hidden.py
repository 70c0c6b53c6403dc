"""Hidden tests for momentum (100 points with the public ones): V_0 given as zeros, long chains on
2-D parameters, β = 0, torch's first step, dampening, Nesterov, weight decay, momentum = 0, minimize's
shape and values (β = 0 is gradient descent, steps = 0), bad shapes, untouched inputs."""

import numpy as np

from autograder.course.momentum import probes
from autograder.course.momentum.public import (
    TESTS as PUBLIC,
)
from autograder.course.momentum.public import (
    chain,
    chain_slips,
    sgd_chain,
    sgd_slips,
    trajectory,
    trajectory_slips,
)
from autograder.testcase import GradedTest, valid_then

# tests/test_leaks.py fails when one of these (regular expressions, case-insensitive) appears in a
# file of the student zip; each must match the reference or the grader-only files. The docstring
# states torch.optim.SGD's algorithm (the spec fixes it); the asked part is the code.
FORMULAS = [
    r"grad\s*\+\s*weight_decay\s*\*\s*theta",  # weight decay folded into the gradient
    r"momentum\s*\*\s*buf\s*\+\s*\(\s*1(\.0)?\s*-\s*dampening\s*\)",  # the dampened buffer
    r"\bg\s*\+\s*momentum\s*\*\s*buf\b",  # Nesterov's look-ahead
    r"beta\s*\*\s*velocity\s*\+\s*\(\s*1(\.0)?\s*-\s*beta\s*\)\s*\*\s*grad",  # the EMA in code
]

_rng = np.random.default_rng(50)
THETA_2D = _rng.standard_normal((2, 3))
GRADS_2D = [_rng.standard_normal((2, 3)) for _ in range(5)]
THETA = _rng.standard_normal(4)
GRADS = [_rng.standard_normal(4) for _ in range(3)]
BUF = _rng.standard_normal(4)
D_2D = [[1.0, 4.0, 9.0], [16.0, 0.5, 2.0]]
THETA0_2D = _rng.standard_normal((2, 3))


def _step_valid(s):
    theta, velocity = s.student("momentum_step")(THETA, GRADS[0], None, 0.1, 0.9).unpack(2)
    s.output("theta (valid call)", theta)
    s.output("velocity (valid call)", velocity)


def _step_bad(s):
    s.student("momentum_step")(THETA, GRADS[0], np.zeros(3), 0.1, 0.9)  # velocity (3,) vs θ (4,)


def _momentum_inputs_unchanged(s):
    theta, grad, velocity = s.value(THETA_2D), s.value(GRADS_2D[0]), s.value(GRADS_2D[1])
    new_theta, new_velocity = s.student("momentum_step")(theta, grad, velocity, 0.1, 0.9).unpack(2)
    s.output("returned theta", new_theta)  # no points for untouched inputs next to wrong results
    s.output("returned velocity", new_velocity)
    s.output("theta after the call", theta)
    s.output("grad after the call", grad)
    s.output("velocity after the call", velocity)


def _sgd_inputs_unchanged(s):
    theta, grad, buf = s.value(THETA), s.value(GRADS[0]), s.value(BUF)
    step = s.student("sgd_momentum_step")
    for name, result in (
        ("with a buffer", step(theta, grad, buf, 0.1, 0.9, dampening=0.1, weight_decay=0.01)),
        ("nesterov, first step", step(theta, grad, None, 0.1, 0.9, nesterov=True, weight_decay=0.01)),
    ):
        s.output(f"returned theta ({name})", result[0])
        s.output(f"returned buf ({name})", result[1])
    s.output("theta after the calls", theta)
    s.output("grad after the calls", grad)
    s.output("buf after the calls", buf)


def _minimize_theta0_unchanged(s):
    theta0 = s.value(THETA0_2D)
    s.output("trajectory", s.student("minimize")(s.probe(probes.quadratic_gradient, D_2D), theta0, 0.05, 0.9, 10))
    s.output("theta0 after the call", theta0)


HIDDEN = [
    # 5.1
    GradedTest(
        "momentum_step_first_step_zero_velocity",
        "5.1",
        4,
        chain(THETA_2D, GRADS_2D[:1], 0.2, 0.8, np.zeros((2, 3))),
        slips=chain_slips(THETA_2D, GRADS_2D[:1], 0.2, 0.8, np.zeros((2, 3))),
        hint="velocity = zeros is V_0 = 0: V_1 = (1 − β)∇J, θ_1 = θ_0 − αV_1, any shape of θ",
    ),
    GradedTest(
        "momentum_step_five_steps_2d",
        "5.1",
        6,
        chain(THETA_2D, GRADS_2D, 0.05, 0.95),
        slips=chain_slips(THETA_2D, GRADS_2D, 0.05, 0.95),
        hint="V_t = βV_{t−1} + (1 − β)∇J and θ_{t+1} = θ_t − αV_t elementwise, for θ of any shape",
    ),
    GradedTest(
        "momentum_step_beta_zero_is_gd",
        "5.1",
        3,
        chain(THETA, GRADS, 0.3, 0.0),
        hint="β = 0: V_t = ∇J and θ_{t+1} = θ_t − α∇J (plain gradient descent)",
    ),
    GradedTest(
        "momentum_step_inputs_unchanged",
        "5.1",
        3,
        _momentum_inputs_unchanged,
        hint="return new arrays; never update theta or velocity in place",
    ),
    GradedTest(
        "momentum_step_rejects_bad_shape",
        "5.1",
        2,
        valid_then(_step_valid, _step_bad),
        hint="after a valid call, a velocity whose shape differs from theta's must raise ValueError",
    ),
    # 5.2
    GradedTest(
        "sgd_momentum_step_first_step",
        "5.2",
        4,
        sgd_chain(THETA_2D, GRADS_2D[:1], 0.1, 0.9),
        slips=sgd_slips(THETA_2D, GRADS_2D[:1], 0.1, 0.9, ("ema", "uphill")),
        hint="buf=None: buf = g (a copy), θ ← θ − lr·g",
    ),
    GradedTest(
        "sgd_momentum_step_given_buffer",
        "5.2",
        5,
        sgd_chain(THETA, GRADS, 0.05, 0.8, buf=BUF),
        slips=sgd_slips(THETA, GRADS, 0.05, 0.8, ("ema", "uphill"), buf=BUF),
        hint="with a buffer: buf = μ·buf + g, θ ← θ − lr·buf",
    ),
    GradedTest(
        "sgd_momentum_step_dampening",
        "5.2",
        6,
        sgd_chain(THETA, GRADS, 0.1, 0.9, dampening=0.3),
        slips=sgd_slips(THETA, GRADS, 0.1, 0.9, ("damp_first", "damp_swapped", "ema"), dampening=0.3),
        hint="buf = g on the first step (no dampening), then buf = μ·buf + (1 − dampening)·g",
    ),
    GradedTest(
        "sgd_momentum_step_nesterov",
        "5.2",
        6,
        sgd_chain(THETA_2D, GRADS_2D[:3], 0.1, 0.9, nesterov=True),
        slips=sgd_slips(THETA_2D, GRADS_2D[:3], 0.1, 0.9, ("nesterov_ignored",), nesterov=True),
        hint="Nesterov: update buf as usual, then step with g + μ·buf (the NEW buf)",
    ),
    GradedTest(
        "sgd_momentum_step_weight_decay",
        "5.2",
        5,
        sgd_chain(THETA, GRADS, 0.1, 0.9, weight_decay=0.05),
        slips=sgd_slips(THETA, GRADS, 0.1, 0.9, ("wd_ignored", "wd_sign"), weight_decay=0.05),
        hint="g = ∇J + weight_decay·θ first; that g feeds the buffer",
    ),
    GradedTest(
        "sgd_momentum_step_zero_momentum",
        "5.2",
        4,
        sgd_chain(THETA, GRADS, 0.2, 0.0, weight_decay=0.1, outputs=("theta",)),
        slips=sgd_slips(THETA, GRADS, 0.2, 0.0, ("wd_ignored", "uphill"), weight_decay=0.1, outputs=("theta",)),
        hint="momentum = 0: plain SGD θ ← θ − lr·(∇J + weight_decay·θ); buf may stay None",
    ),
    GradedTest(
        "sgd_momentum_step_inputs_unchanged",
        "5.2",
        3,
        _sgd_inputs_unchanged,
        hint="return new arrays; never update theta or buf in place",
    ),
    # 5.3
    GradedTest(
        "minimize_beta_zero_is_gd",
        "5.3",
        4,
        trajectory([1.0, 25.0], [1.0, -1.0], 0.03, 0.0, 20),
        slips=trajectory_slips([1.0, 25.0], [1.0, -1.0], 0.03, 0.0, 20),
        hint="β = 0: θ_t = θ_{t−1} − α∇J(θ_{t−1}), plain gradient descent",
    ),
    GradedTest(
        "minimize_2d_parameters",
        "5.3",
        5,
        trajectory(D_2D, THETA0_2D, 0.05, 0.8, 12),
        slips=trajectory_slips(D_2D, THETA0_2D, 0.05, 0.8, 12),
        hint="theta0 (2, 3) and 12 steps give a trajectory of shape (13, 2, 3)",
    ),
    GradedTest(
        "minimize_zero_steps",
        "5.3",
        2,
        trajectory([1.0, 25.0], [0.5, 0.25], 0.05, 0.9, 0),
        slips=trajectory_slips([1.0, 25.0], [0.5, 0.25], 0.05, 0.9, 0)[1:2],
        hint="steps = 0: shape (1, *theta0.shape), the single row θ_0",
    ),
    GradedTest(
        "minimize_long_ill_conditioned",
        "5.3",
        5,
        trajectory([1.0, 100.0], [1.0, 1.0], 0.015, 0.95, 80),
        slips=trajectory_slips([1.0, 100.0], [1.0, 1.0], 0.015, 0.95, 80),
        hint="row t is θ_t: V_t = βV_{t−1} + (1 − β)∇J(θ_{t−1}), θ_t = θ_{t−1} − αV_t, V_0 = 0",
    ),
    GradedTest(
        "minimize_theta0_unchanged",
        "5.3",
        3,
        _minimize_theta0_unchanged,
        hint="minimize must not modify theta0 (copy it before updating in place)",
    ),
]

TESTS = PUBLIC + HIDDEN
