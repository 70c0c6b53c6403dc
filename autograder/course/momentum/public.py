"""Public tests for momentum: small, readable cases students can run with
`python -m autograder check momentum`. The hidden tests extend these.

momentum_step and minimize use the lecture's EMA (V_0 = 0, V_t = βV_{t−1} + (1 − β)∇J);
sgd_momentum_step is torch.optim.SGD's rule (buf = g on the first step, no (1 − β))."""

import numpy as np

from autograder.course.momentum import probes
from autograder.testcase import GradedTest, Slip

_rng = np.random.default_rng(5)
THETA = np.array([1.0, -2.0, 0.5])
GRADS = [_rng.standard_normal(3) for _ in range(3)]
LR, BETA = 0.1, 0.9
D = [1.0, 25.0]  # J(θ) = ½(θ_1² + 25 θ_2²): an ill-conditioned bowl
THETA0 = np.array([1.0, 1.0])

FIRST_STEP = (
    "V_1 = ∇J: the lecture's EMA starts from V_0 = 0, so V_1 = β·0 + (1 − β)∇J = (1 − β)∇J "
    "(either the (1 − β) factor is missing or PyTorch's first-step rule buf = g was used)"
)
MISSING_ONE_MINUS_BETA = (
    "missing (1 − β) in the EMA: V_t = βV_{t−1} + (1 − β)∇J; "
    "βV_{t−1} + ∇J is PyTorch's buffer (sgd_momentum_step), not the lecture's V"
)
TORCH_FIRST_STEP = (
    "PyTorch's first-step rule: V_1 = ∇J is torch's buf = g; the lecture starts from V_0 = 0, "
    "so V_1 = (1 − β)∇J, then V_t = βV_{t−1} + (1 − β)∇J"
)
SGD_EMA = (
    "the lecture's EMA used in sgd_momentum_step: torch.optim.SGD's buffer is buf = g on the "
    "first step, then buf = μ·buf + (1 − dampening)·g, with no (1 − μ) factor"
)
DAMP_FIRST = (
    "dampening applied on the first step: torch sets buf = g on the first step "
    "(no (1 − dampening)), and dampens only later steps"
)
DAMP_SWAPPED = "dampening used the wrong way round: buf = μ·buf + (1 − dampening)·g"
NESTEROV_IGNORED = "nesterov ignored: with nesterov=True the step uses g + μ·buf instead of buf"
WD_IGNORED = "weight_decay ignored: torch adds weight_decay·θ to the gradient before the momentum update"
WD_SIGN = "weight decay with the wrong sign: g = ∇J + weight_decay·θ"
STEP_UPHILL = "the step goes uphill: θ ← θ − lr·(update)"


def chain(theta, grads, lr, beta, velocity=None, *, first_beta=None, grad_scale=1.0, uphill=False):
    """momentum_step applied to fixed gradients, each step fed the previous (θ, V).
    first_beta / grad_scale reproduce slips: β = 0 on the first step gives V_1 = ∇J (torch's rule);
    gradients scaled by 1/(1 − β) give V_t = βV_{t−1} + ∇J (no (1 − β)). uphill gives θ ← θ + αV:
    V is linear in the gradients, so the reference fed −∇J (and −V_0) carries −V and steps by +αV."""
    sign = -1.0 if uphill else 1.0

    def build(s):
        step = s.student("momentum_step")
        th, v = theta, None if velocity is None else sign * velocity
        for t, g in enumerate(grads, start=1):
            b = first_beta if (t == 1 and first_beta is not None) else beta
            th, v = step(th, g * (grad_scale * sign), v, lr, b).unpack(2)
            s.output(f"theta_{t}", th)
            s.output(f"velocity_{t}", -v if uphill else v)

    return build


def chain_slips(theta, grads, lr, beta, velocity=None):
    uphill = Slip(STEP_UPHILL, chain(theta, grads, lr, beta, velocity, uphill=True))
    if len(grads) == 1:
        return (Slip(FIRST_STEP, chain(theta, grads, lr, beta, velocity, first_beta=0.0)), uphill)
    slips = [Slip(MISSING_ONE_MINUS_BETA, chain(theta, grads, lr, beta, velocity, grad_scale=1 / (1 - beta))), uphill]
    if velocity is None:
        slips.append(Slip(TORCH_FIRST_STEP, chain(theta, grads, lr, beta, velocity, first_beta=0.0)))
    return tuple(slips)


def sgd_chain(
    theta,
    grads,
    lr,
    momentum,
    *,
    dampening=0.0,
    nesterov=False,
    weight_decay=0.0,
    buf=None,
    slip=None,
    outputs=("theta", "buf"),
):
    """sgd_momentum_step over fixed gradients, each step fed the previous (θ, buf). `slip` reproduces a
    known mistake through the reference, always with valid arguments: "ema", "damp_first",
    "damp_swapped", "nesterov_ignored", "wd_ignored", "wd_sign", "uphill" (θ ← θ + lr·update: the
    update is linear in g + wd·θ and buf, so the reference fed −(∇J + wd·θ) − wd·θ and −buf carries
    −buf and steps by +lr·update)."""

    def build(s):
        step = s.student("sgd_momentum_step")
        th, b = theta, (-buf if slip == "uphill" and buf is not None else buf)
        for t, g in enumerate(grads, start=1):
            first = t == 1 and buf is None
            grad, damp, nest, wd = g, dampening, nesterov, weight_decay
            if slip == "ema":  # buf = μ·buf + (1 − μ)·g from buf = 0
                grad, damp = (g * (1 - momentum), 0.0) if first else (g, momentum)
            elif slip == "damp_first" and first:  # buf = (1 − τ)·g on the first step
                grad = g * (1 - dampening)
            elif slip == "damp_swapped" and not first:
                damp = 1 - dampening
            elif slip == "nesterov_ignored":
                nest = False
            elif slip == "wd_ignored":
                wd = 0.0
            elif slip == "wd_sign":  # ∇J − λθ = (∇J − 2λθ) + λθ
                grad = th * (-2 * weight_decay) + g
            elif slip == "uphill":
                grad = th * (-2 * weight_decay) - g
            th, b = step(th, grad, b, lr, momentum, dampening=damp, nesterov=nest, weight_decay=wd).unpack(2)
            if "theta" in outputs:
                s.output(f"theta_{t}", th)
            if "buf" in outputs:
                s.output(f"buf_{t}", -b if slip == "uphill" else b)

    return build


def sgd_slips(theta, grads, lr, momentum, names, **kw):
    hints = {
        "ema": SGD_EMA,
        "damp_first": DAMP_FIRST,
        "damp_swapped": DAMP_SWAPPED,
        "nesterov_ignored": NESTEROV_IGNORED,
        "wd_ignored": WD_IGNORED,
        "wd_sign": WD_SIGN,
        "uphill": STEP_UPHILL,
    }
    return tuple(Slip(hints[n], sgd_chain(theta, grads, lr, momentum, slip=n, **kw)) for n in names)


def trajectory(d, theta0, lr, beta, steps, slip=None):
    """minimize on J(θ) = ½ Σ d_i θ_i² (probes.quadratic_gradient here). slip "missing" scales the gradient
    by 1/(1 − β) (V_t = βV_{t−1} + ∇J); "torch_first" rebuilds the trajectory with V_1 = ∇J; "alias"
    repeats the last row (rows aliasing one array updated in place); "no_theta0" drops row 0."""
    theta0 = np.asarray(theta0, dtype=np.float64)

    def build(s):
        if slip == "missing":
            grad_fn = s.probe(probes.quadratic_gradient, (np.asarray(d) / (1 - beta)).tolist())
        else:
            grad_fn = s.probe(probes.quadratic_gradient, d)
        if slip == "torch_first":
            step = s.student("momentum_step")
            th, v, rows = theta0, None, [theta0]
            for t in range(steps):
                th, v = step(th, grad_fn(th), v, lr, 0.0 if t == 0 else beta).unpack(2)
                rows.append(th)
            s.output("trajectory", s.lib("numpy.stack")(rows))
            return
        traj = s.student("minimize")(grad_fn, theta0, lr, beta, steps)
        if slip == "alias":
            traj = s.lib("numpy.broadcast_to")(traj[-1], (steps + 1,) + np.shape(theta0))
        elif slip == "no_theta0":
            traj = s.lib("numpy.delete")(traj, 0, axis=0)
        s.output("trajectory", traj)

    return build


def trajectory_slips(d, theta0, lr, beta, steps):
    slips = [
        Slip(
            "every row is the last θ: the rows alias one array updated in place (store a copy of θ at each step)",
            trajectory(d, theta0, lr, beta, steps, "alias"),
        ),
        Slip(
            "θ_0 is missing: the trajectory has steps + 1 rows and row 0 is theta0 itself",
            trajectory(d, theta0, lr, beta, steps, "no_theta0"),
        ),
    ]
    if beta > 0:
        slips += [
            Slip(MISSING_ONE_MINUS_BETA, trajectory(d, theta0, lr, beta, steps, "missing")),
            Slip(TORCH_FIRST_STEP, trajectory(d, theta0, lr, beta, steps, "torch_first")),
        ]
    return tuple(slips)


TESTS = [
    GradedTest(
        "momentum_step_first_step",
        "5.1",
        6,
        chain(THETA, GRADS[:1], LR, BETA),
        hidden=False,
        slips=chain_slips(THETA, GRADS[:1], LR, BETA),
        hint="velocity=None means V_0 = 0: V_1 = (1 − β)∇J and θ_1 = θ_0 − αV_1",
    ),
    GradedTest(
        "momentum_step_three_steps",
        "5.1",
        8,
        chain(THETA, GRADS, LR, BETA),
        hidden=False,
        slips=chain_slips(THETA, GRADS, LR, BETA),
        hint="V_t = βV_{t−1} + (1 − β)∇J, θ_{t+1} = θ_t − αV_t, starting from V_0 = 0",
    ),
    GradedTest(
        "sgd_momentum_step_two_steps",
        "5.2",
        8,
        sgd_chain(THETA, GRADS[:2], LR, BETA),
        hidden=False,
        slips=sgd_slips(THETA, GRADS[:2], LR, BETA, ("ema", "uphill")),
        hint="torch.optim.SGD: buf = g on the first step (buf is None), then buf = μ·buf + g; θ ← θ − lr·buf",
    ),
    GradedTest(
        "minimize_ill_conditioned_quadratic",
        "5.3",
        8,
        trajectory(D, THETA0, 0.05, BETA, 30),
        hidden=False,
        slips=trajectory_slips(D, THETA0, 0.05, BETA, 30),
        hint="the trajectory has steps + 1 rows: row 0 is θ_0, row t is θ_t after t momentum_steps "
        "with grad_fn evaluated at θ_{t−1}",
    ),
]
