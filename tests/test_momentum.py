"""Tests for solution/momentum.py (Assignment 5).

Oracles: torch.optim.SGD in float64 fed the same gradients, the lecture's EMA recurrence
unrolled by hand, and plain gradient descent written out in the test.
"""

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from solution.momentum import minimize, momentum_step, sgd_momentum_step
from tests.strategies import arrays, finite

# an SPD quadratic J(θ) = ½ Σ θ ⊙ (A θ) − Σ B ⊙ θ over a (2, 3) parameter
_A = np.array([[3.0, 0.5, 0.0], [0.5, 1.0, 0.2], [0.0, 0.2, 0.5]])
_B = np.array([[1.0, -2.0, 0.5], [0.0, 1.0, -1.0]])
_THETA0 = np.array([[0.3, -0.7, 1.1], [2.0, -1.5, 0.4]])


def _torch_sgd_combos():
    """momentum {0, 0.9} × dampening {0, 0.5} × nesterov {F, T} × weight_decay {0, 0.01},
    keeping only the combinations torch accepts (Nesterov needs momentum > 0, dampening 0)."""
    return [
        pytest.param(mu, tau, nesterov, wd, id=f"mu{mu}-damp{tau}-nest{nesterov}-wd{wd}")
        for mu, tau, nesterov, wd in itertools.product([0.0, 0.9], [0.0, 0.5], [False, True], [0.0, 0.01])
        if not (nesterov and (mu <= 0 or tau != 0))
    ]


# ## Task 5.1: momentum_step


@pytest.mark.task5_1
def test_task5_1_momentum_step_unrolled_by_hand():
    # β = 0.5, α = 0.1, fixed gradients g1, g2, g3; V_0 = 0.
    beta, lr = 0.5, 0.1
    theta0 = np.array([1.0, -2.0])
    g1, g2, g3 = np.array([2.0, 4.0]), np.array([-2.0, 0.0]), np.array([4.0, 8.0])
    # V1 = β·0  + (1−β) g1 = 0.5·(2, 4)                   = (1, 2)
    # V2 = β V1 + (1−β) g2 = 0.5·(1, 2) + 0.5·(−2, 0)     = (−0.5, 1)
    # V3 = β V2 + (1−β) g3 = 0.5·(−0.5, 1) + 0.5·(4, 8)   = (1.75, 4.5)
    # θ1 = θ0 − α V1 = (1, −2) − (0.1, 0.2)       = (0.9, −2.2)
    # θ2 = θ1 − α V2 = (0.9, −2.2) − (−0.05, 0.1) = (0.95, −2.3)
    # θ3 = θ2 − α V3 = (0.95, −2.3) − (0.175, 0.45) = (0.775, −2.75)
    V1, V2, V3 = np.array([1.0, 2.0]), np.array([-0.5, 1.0]), np.array([1.75, 4.5])
    th1, th2, th3 = np.array([0.9, -2.2]), np.array([0.95, -2.3]), np.array([0.775, -2.75])

    theta, v = momentum_step(theta0, g1, np.zeros(2), lr, beta)
    np.testing.assert_allclose(v, V1, atol=1e-15)
    np.testing.assert_allclose(theta, th1, atol=1e-15)
    theta, v = momentum_step(theta, g2, v, lr, beta)
    np.testing.assert_allclose(v, V2, atol=1e-15)
    np.testing.assert_allclose(theta, th2, atol=1e-15)
    theta, v = momentum_step(theta, g3, v, lr, beta)
    np.testing.assert_allclose(v, V3, atol=1e-15)
    np.testing.assert_allclose(theta, th3, atol=1e-15)


@pytest.mark.task5_1
@given(
    theta=arrays((2, 3)),
    grad=arrays((2, 3)),
    lr=st.floats(min_value=0.0, max_value=1.0),
    beta=st.floats(min_value=0.0, max_value=1.0),
)
def test_task5_1_momentum_step_none_means_zero_velocity(theta, grad, lr, beta):
    t_none, v_none = momentum_step(theta, grad, None, lr, beta)
    t_zero, v_zero = momentum_step(theta, grad, np.zeros_like(theta), lr, beta)
    np.testing.assert_array_equal(t_none, t_zero)
    np.testing.assert_array_equal(v_none, v_zero)
    # V_1 = (1 − β) g, θ_1 = θ_0 − α (1 − β) g
    np.testing.assert_allclose(v_none, (1 - beta) * grad, rtol=1e-15, atol=1e-15)


@pytest.mark.task5_1
def test_task5_1_momentum_step_leaves_inputs_unchanged():
    theta, grad, v = np.ones(3), np.arange(3.0), np.full(3, 0.5)
    new_theta, new_v = momentum_step(theta, grad, v, 0.1, 0.9)
    np.testing.assert_array_equal(theta, np.ones(3))
    np.testing.assert_array_equal(grad, np.arange(3.0))
    np.testing.assert_array_equal(v, np.full(3, 0.5))
    assert new_theta is not theta and new_v is not v


@pytest.mark.task5_1
def test_task5_1_momentum_step_bad_inputs():
    with pytest.raises(ValueError, match=r"momentum_step: grad .*\(3,\).*\(2,\)"):
        momentum_step(np.ones(3), np.ones(2), None, 0.1, 0.9)
    with pytest.raises(ValueError, match=r"momentum_step: velocity .*\(3,\).*\(3, 1\)"):
        momentum_step(np.ones(3), np.ones(3), np.ones((3, 1)), 0.1, 0.9)
    with pytest.raises(ValueError, match=r"momentum_step: beta"):
        momentum_step(np.ones(3), np.ones(3), None, 0.1, 1.5)
    with pytest.raises(ValueError, match=r"momentum_step: .*learning rate"):
        momentum_step(np.ones(3), np.ones(3), None, -0.1, 0.9)


# ## Task 5.2: sgd_momentum_step


@pytest.mark.task5_2
@pytest.mark.parametrize("momentum, dampening, nesterov, weight_decay", _torch_sgd_combos())
def test_task5_2_sgd_momentum_step_matches_torch(momentum, dampening, nesterov, weight_decay):
    lr, steps = 0.05, 200
    A, B = torch.tensor(_A), torch.tensor(_B)
    p = torch.tensor(_THETA0, requires_grad=True)  # float64
    opt = torch.optim.SGD(
        [p], lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov, weight_decay=weight_decay, foreach=False
    )
    theta, buf = _THETA0.copy(), None
    for step in range(steps):
        opt.zero_grad()
        J = 0.5 * (p * (p @ A)).sum() - (B * p).sum()
        J.backward()
        grad = p.grad.detach().numpy().copy()  # the same gradient for both
        opt.step()
        theta, buf = sgd_momentum_step(theta, grad, buf, lr, momentum, dampening, nesterov, weight_decay)
        np.testing.assert_allclose(theta, p.detach().numpy(), rtol=1e-12, atol=1e-12, err_msg=f"step {step}")
        torch_buf = opt.state[p].get("momentum_buffer")
        if momentum == 0:
            assert buf is None and torch_buf is None
        else:
            np.testing.assert_allclose(buf, torch_buf.numpy(), rtol=1e-12, atol=1e-12, err_msg=f"buffer, step {step}")


@pytest.mark.task5_2
def test_task5_2_sgd_momentum_first_step_has_no_dampening():
    theta, grad = np.array([1.0, 2.0]), np.array([0.5, -1.0])
    new_theta, buf = sgd_momentum_step(theta, grad, None, 0.1, 0.9, dampening=0.5)
    np.testing.assert_array_equal(buf, grad)  # b_1 = g_1, not (1 − τ) g_1
    np.testing.assert_allclose(new_theta, [0.95, 2.1], atol=1e-15)
    # second step: b_2 = 0.9·b_1 + 0.5·g_2 = (0.45, −0.9) + (1, 1) = (1.45, 0.1)
    new_theta, buf = sgd_momentum_step(new_theta, np.array([2.0, 2.0]), buf, 0.1, 0.9, dampening=0.5)
    np.testing.assert_allclose(buf, [1.45, 0.1], atol=1e-15)
    np.testing.assert_allclose(new_theta, [0.95 - 0.145, 2.1 - 0.01], atol=1e-15)


@pytest.mark.task5_2
def test_task5_2_sgd_momentum_step_leaves_inputs_unchanged():
    theta, grad, buf = np.ones(3), np.arange(3.0), np.full(3, 0.5)
    new_theta, new_buf = sgd_momentum_step(theta, grad, buf, 0.1, 0.9, nesterov=True, weight_decay=0.1)
    np.testing.assert_array_equal(theta, np.ones(3))
    np.testing.assert_array_equal(grad, np.arange(3.0))
    np.testing.assert_array_equal(buf, np.full(3, 0.5))
    assert new_buf is not buf and new_theta is not theta
    _, first_buf = sgd_momentum_step(theta, grad, None, 0.1, 0.9)
    first_buf[0] = 99.0  # the buffer is a copy of g
    np.testing.assert_array_equal(grad, np.arange(3.0))


@pytest.mark.task5_2
@pytest.mark.parametrize(
    "kwargs",
    [
        dict(momentum=0.0, dampening=0.0, nesterov=True),
        dict(momentum=0.9, dampening=0.5, nesterov=True),
        dict(momentum=-0.1, dampening=0.0, nesterov=False),
        dict(momentum=0.9, dampening=0.0, nesterov=False, weight_decay=-1.0),
        dict(momentum=0.9, dampening=0.0, nesterov=False, lr=-0.1),
    ],
)
def test_task5_2_sgd_momentum_step_rejects_what_torch_rejects(kwargs):
    kwargs = {"lr": 0.1, **kwargs}
    with pytest.raises(ValueError):
        torch.optim.SGD([torch.zeros(2, requires_grad=True)], **kwargs)
    with pytest.raises(ValueError, match="sgd_momentum_step"):
        sgd_momentum_step(np.zeros(2), np.ones(2), None, **kwargs)


@pytest.mark.task5_2
@given(
    theta0=arrays((3,)), beta=st.floats(min_value=0.0, max_value=0.95), alpha=st.floats(min_value=0.01, max_value=0.5)
)
def test_task5_2_torch_form_equals_lecture_form_with_lr_alpha_one_minus_beta(theta0, beta, alpha):
    # b_t = V_t / (1 − β), so lr = α(1 − β), μ = β, τ = 0 gives the lecture's iterates.
    grad_fn = lambda th: np.array([1.0, 4.0, 0.5]) * th - 1.0  # noqa: E731
    th_l, v = theta0.copy(), None
    th_t, buf = theta0.copy(), None
    for _ in range(20):
        th_l, v = momentum_step(th_l, grad_fn(th_l), v, alpha, beta)
        th_t, buf = sgd_momentum_step(th_t, grad_fn(th_t), buf, alpha * (1 - beta), beta)
        np.testing.assert_allclose(th_t, th_l, rtol=1e-9, atol=1e-9)


# ## Task 5.3: minimize


@pytest.mark.task5_3
def test_task5_3_minimize_trajectory_shape_and_start():
    theta0 = np.array([[1.0, -1.0, 0.5], [2.0, 0.0, 3.0]])
    traj = minimize(lambda th: 2 * th, theta0, 0.1, 0.9, 7)
    assert traj.shape == (8, 2, 3) and traj.dtype == np.float64
    np.testing.assert_array_equal(traj[0], theta0)
    np.testing.assert_array_equal(theta0, [[1.0, -1.0, 0.5], [2.0, 0.0, 3.0]])
    assert minimize(lambda th: th, np.ones(4), 0.1, 0.5, 0).shape == (1, 4)


@pytest.mark.task5_3
def test_task5_3_minimize_follows_momentum_recurrence():
    # J(θ) = ½θ², ∇J = θ; β = 0.5, α = 0.5, θ_0 = 1:
    # V1 = 0.5·1 = 0.5,               θ1 = 1 − 0.25 = 0.75
    # V2 = 0.5·0.5 + 0.5·0.75 = 0.625, θ2 = 0.75 − 0.3125 = 0.4375
    traj = minimize(lambda th: th, np.array([1.0]), 0.5, 0.5, 2)
    np.testing.assert_allclose(traj[:, 0], [1.0, 0.75, 0.4375], atol=1e-15)


@pytest.mark.task5_3
@given(
    theta0=arrays((3,)),
    lr=st.floats(min_value=0.0, max_value=0.3),
    steps=st.integers(min_value=0, max_value=30),
    shift=finite,
)
def test_task5_3_minimize_beta0_is_plain_gradient_descent(theta0, lr, steps, shift):
    a = np.array([1.0, 3.0, 0.5])
    grad_fn = lambda th: a * (th - shift)  # noqa: E731
    traj = minimize(grad_fn, theta0, lr, 0.0, steps)
    expected = [theta0.copy()]
    for _ in range(steps):
        expected.append(expected[-1] - lr * grad_fn(expected[-1]))  # θ ← θ − η ∇J(θ)
    np.testing.assert_allclose(traj, np.array(expected), rtol=1e-14, atol=1e-14)


def _steps_to_reach(traj, tol):
    norms = np.linalg.norm(traj.reshape(len(traj), -1), axis=1)
    below = np.flatnonzero(norms < tol)
    return int(below[0]) if below.size else None


@pytest.mark.task5_3
def test_task5_3_minimize_momentum_beats_gd_on_ill_conditioned_quadratic():
    # J(θ) = ½ θᵀ diag(1, 100) θ, condition number 100, θ_0 = (1, 1).
    # lr = 0.019 for both: just under gradient descent's stability limit 2/L = 0.02
    # (its best fixed step is 2/(L + μ) ≈ 0.0198). Only β differs between the two runs.
    grad_fn = lambda th: np.array([1.0, 100.0]) * th  # noqa: E731
    theta0, lr = np.array([1.0, 1.0]), 0.019
    gd = _steps_to_reach(minimize(grad_fn, theta0, lr, 0.0, 2000), 1e-6)
    mom = _steps_to_reach(minimize(grad_fn, theta0, lr, 0.9, 2000), 1e-6)
    assert gd is not None and mom is not None
    assert mom < gd, (mom, gd)  # about 570 vs 721 steps


@pytest.mark.task5_3
def test_task5_3_minimize_momentum_tolerates_a_larger_step():
    # With β = 0.9 the EMA step is α(1 − β)V-sized, so α = 0.1 is stable (effective step
    # 0.01) and converges in a few hundred steps; plain descent with α = 0.1 > 2/100 diverges.
    grad_fn = lambda th: np.array([1.0, 100.0]) * th  # noqa: E731
    theta0 = np.array([1.0, 1.0])
    mom = _steps_to_reach(minimize(grad_fn, theta0, 0.1, 0.9, 1000), 1e-6)
    assert mom is not None and mom < 300, mom
    with np.errstate(over="ignore", invalid="ignore"):
        gd = minimize(grad_fn, theta0, 0.1, 0.0, 50)
    assert abs(gd[-1, 1]) > 1.0  # |1 − 0.1·100| = 9 per step


@pytest.mark.task5_3
def test_task5_3_minimize_bad_inputs():
    with pytest.raises(ValueError, match=r"minimize: grad_fn .*\(2,\).*\(3,\)"):
        minimize(lambda th: np.ones(3), np.ones(2), 0.1, 0.5, 3)
    with pytest.raises(ValueError, match=r"minimize: steps"):
        minimize(lambda th: th, np.ones(2), 0.1, 0.5, -1)
    with pytest.raises(TypeError, match=r"minimize: steps"):
        minimize(lambda th: th, np.ones(2), 0.1, 0.5, 2.5)
    with pytest.raises(TypeError, match=r"minimize: grad_fn"):
        minimize(None, np.ones(2), 0.1, 0.5, 3)
