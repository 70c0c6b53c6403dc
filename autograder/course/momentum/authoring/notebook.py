# %% [markdown]
# # Assignment 5: Gradient descent with momentum
#
# The loss surfaces of deep networks are full of "ravines": directions where the surface
# is steep next to directions where it is nearly flat. Plain gradient descent bounces
# from wall to wall across the ravine and crawls along it. **Momentum** (lecture 003)
# smooths the sequence of gradients with a moving average, so that the oscillating
# components cancel and the consistent ones add up.
#
# You will write the lecture's form of the update, the form `torch.optim.SGD` uses, and
# a small driver that records a whole trajectory, then see how they relate.
#
# **How to work.** You fill in `momentum.py`, the file next to this notebook. A function
# you have not written yet raises `NotImplementedError("Task 5.x: ...")`, so its cells
# fail until you do the task. With `%autoreload 2`, saving the file is enough: rerun the
# cell. Each section ends with a check cell running that task's public tests (the hidden
# tests are graded after you submit).

# %%
# %load_ext autoreload
# %autoreload 2
import matplotlib.pyplot as plt
import momentum
import numpy as np

from autograder.check import check

# %% [markdown]
# ## Task 5.1: momentum_step
#
# **Moving averages.** Lecture 003 smooths a noisy sequence $S_t$ with an exponential
# moving average (EMA): initialize $V_0 = 0$ and compute
#
# $$V_t = \beta V_{t-1} + (1 - \beta) S_t, \qquad \beta \in [0, 1].$$
#
# Unrolled, $V_t = (1-\beta)\sum_{k=1}^{t}\beta^{t-k} S_k$: recent values weigh most,
# and the weights fade with a memory of about $1/(1-\beta)$ steps. Higher $\beta$, more
# smoothing.
#
# **Gradient descent with momentum** applies it to the gradients:
#
# $$V_0 = 0, \qquad V_t = \beta V_{t-1} + (1 - \beta)\nabla_\theta J(\theta_t), \qquad
#   \theta_{t+1} = \theta_t - \alpha V_t .$$
#
# $\beta = 0$ is plain gradient descent. `momentum_step` does one step and returns the
# new $(\theta, V)$; `velocity=None` stands for $V_0 = 0$.
#
# With a constant gradient $g = 1$, $V_t = 1 - \beta^t$: the average starts at 0 and
# needs a few multiples of $1/(1-\beta)$ steps to warm up.

# %%
theta, v = np.zeros(1), None
for t in range(1, 6):
    theta, v = momentum.momentum_step(theta, np.ones(1), v, lr=0.1, beta=0.9)
    print(f"t = {t}: V = {v[0]:.4f} (1 - 0.9^t = {1 - 0.9**t:.4f}), theta = {theta[0]:.4f}")

# %% [markdown]
# The lecture's smoothing picture, computed with your `momentum_step`: with $\alpha = 0$
# the parameter never moves and $V_t$ is exactly the moving average of the values fed in
# as "gradients", here samples of a noisy cosine.

# %%
t = np.linspace(0, 4 * np.pi, 300)
noisy = np.cos(t) + 0.5 * np.random.default_rng(0).standard_normal(t.size)
plt.plot(t, noisy, ".", ms=2, color="gray", label="noisy samples $S_t$")
for beta in [0.5, 0.9, 0.98]:
    v, avg = None, []
    for s in noisy:
        _, v = momentum.momentum_step(np.zeros(1), np.array([s]), v, lr=0.0, beta=beta)
        avg.append(v[0])
    plt.plot(t, avg, label=f"β = {beta}")
plt.legend()
plt.title("EMA $V_t$ of a noisy cosine")
plt.show()

# %%
check("momentum", "5.1")
# %% [markdown]
# ## Task 5.2: sgd_momentum_step
#
# `torch.optim.SGD(params, lr, momentum=μ, dampening=τ, nesterov, weight_decay=λ)` writes
# momentum differently. Its buffer $b$ adds the **whole** gradient, and it does not
# start from zero:
#
# $$g_t = \nabla_\theta J(\theta_t) + \lambda\theta_t, \qquad
#   b_1 = g_1, \qquad b_t = \mu\, b_{t-1} + (1 - \tau)\, g_t, \qquad
#   \theta_{t+1} = \theta_t - \text{lr}\cdot b_t$$
#
# (with Nesterov, the step uses $g_t + \mu b_t$ instead of $b_t$; with $\mu = 0$ there is
# no buffer at all). In code, `buf` is `None` before the first step, exactly as in
# PyTorch's optimizer state.
#
# **How the two forms relate.** With $\mu = \beta$ and $\tau = 0$, PyTorch's buffer is
# the lecture's velocity without the $(1-\beta)$ factor: $b_t = V_t/(1-\beta)$ (by
# induction; at $t = 1$, $V_1 = (1-\beta)g_1$ and $b_1 = g_1$). So
#
# $$\text{lr} = \alpha\,(1 - \beta) \quad\Longrightarrow\quad \text{identical iterates.}$$
#
# With the same number for both learning rates, PyTorch's steps are about
# $1/(1-\beta)$ times longer: 10× for $\beta = 0.9$. A learning rate tuned for one form
# is wrong for the other. The cell runs both forms side by side on a quadratic.

# %%
A = np.diag([1.0, 10.0])


def grad(th):
    return A @ th


alpha, beta = 0.1, 0.9
th_ema, v = np.array([1.0, 1.0]), None
th_torch, buf = np.array([1.0, 1.0]), None
for _step in range(5):
    th_ema, v = momentum.momentum_step(th_ema, grad(th_ema), v, alpha, beta)
    th_torch, buf = momentum.sgd_momentum_step(th_torch, grad(th_torch), buf, alpha * (1 - beta), beta)
print("lecture form:", th_ema, "  PyTorch form, lr = α(1-β):", th_torch)
print("buf / V =", buf / v, " (= 1/(1-β) = 10)")

# %%
check("momentum", "5.2")
# %% [markdown]
# ## Task 5.3: minimize
#
# `minimize(grad_fn, theta0, lr, beta, steps)` runs `momentum_step` from $\theta_0$ and
# returns the whole trajectory, shape `(steps + 1, *theta0.shape)`, row $t$ being
# $\theta_t$.
#
# Here is a ravine: the ill-conditioned quadratic
# $J(\theta) = \tfrac12(\theta_1^2 + 100\,\theta_2^2)$, steep along $\theta_2$ and flat
# along $\theta_1$. Gradient descent is stable only for $\alpha < 2/100 = 0.02$.
#
# **What the left plot shows.** At $\alpha = 0.019$, $\beta = 0$ zigzags: every step
# overshoots along $\theta_2$, which flips sign at each step and shrinks by a factor 0.9.
# $\beta = 0.9$ does **not** go straight down the ravine either: the velocity carries
# $\theta_2$ past 0 too. $\theta_2$ swings slowly from one wall to the other, crossing 0
# about every 7 steps (a period of about 14 steps), and its swings shrink only by
# $\sqrt{0.9} \approx 0.95$ per step. Momentum has turned the fast zigzag into a slower,
# damped oscillation; after 100 steps $\theta_2$ is further from 0 than without it.
# (The iterates solve $\theta_{t+1} = \theta_t + \beta(\theta_t - \theta_{t-1}) -
# \alpha(1-\beta)\,100\,\theta_t$ along $\theta_2$, whose characteristic roots are
# complex with modulus $\sqrt\beta$ and angle $\arccos\frac{1 + \beta - 100\alpha(1-\beta)}{2\sqrt\beta}
# \approx 0.45$ rad, i.e. $2\pi/0.45 \approx 14$ steps.)
#
# At the same $\alpha$, momentum is not much faster along the flat direction either: in
# the EMA form the long-run step per unit of gradient is still $\alpha$. What the damping
# buys is a larger usable step: at $\alpha = 0.1$, five times the step at which plain
# gradient descent diverges, $\beta = 0.9$ converges, about a thousand times lower in
# $J$ after 100 steps (right plot). The numbers are printed under the plots.

# %%
curv = np.array([1.0, 100.0])


def J(th):
    return 0.5 * np.sum(curv * th**2, axis=-1)


def grad_J(th):
    return curv * th


theta0 = np.array([-4.0, 1.0])
runs = {
    "β = 0, α = 0.019": momentum.minimize(grad_J, theta0, 0.019, 0.0, 100),
    "β = 0.9, α = 0.019": momentum.minimize(grad_J, theta0, 0.019, 0.9, 100),
    "β = 0.9, α = 0.1": momentum.minimize(grad_J, theta0, 0.1, 0.9, 100),
}

u, w = np.meshgrid(np.linspace(-4.5, 1.5, 200), np.linspace(-1.5, 1.5, 200))
fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.5))
left.contour(u, w, J(np.stack([u, w], axis=-1)), levels=np.geomspace(0.01, 100, 12), cmap="Greys")
for label, traj in runs.items():
    if label != "β = 0.9, α = 0.1":
        left.plot(traj[:, 0], traj[:, 1], ".-", ms=3, label=label)
    right.semilogy(J(traj), label=label)
left.set_xlabel("θ1")
left.set_ylabel("θ2")
left.legend(loc="lower right")
left.set_title("trajectories")
right.set_xlabel("step t")
right.set_ylabel("J(θ_t)")
right.legend()
plt.show()
for label, traj in runs.items():
    crossings = np.flatnonzero(np.diff(np.sign(traj[:, 1])) != 0) + 1  # steps where θ2 changed sign
    print(
        f"{label}: θ2 changes sign {len(crossings):3d} times (first at steps {crossings[:4]}), "
        f"|θ2| at step 100 = {abs(traj[-1, 1]):.1e}, J(θ_100) = {J(traj[-1]):.1e}"
    )

# %%
check("momentum", "5.3")
# %% [markdown]
# ## All together
#
# Every public check of this assignment at once (the same as
# `python -m autograder check momentum momentum.py` in a terminal):

# %%
check("momentum")
