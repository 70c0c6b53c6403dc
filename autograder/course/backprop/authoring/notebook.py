# %% [markdown]
# # Assignment 1: Backpropagation by hand
#
# Before letting a library differentiate for us, we do it on paper and then write the
# result as NumPy code, with no autograd: the computation graph of lecture 000 (at numbers
# of your own), then, from lecture 002, the gradient of linear regression's squared error
# and the two-layer sigmoid network, whose **error signals δ and gradients you derive**
# from the lecture's one worked example, once more for a network with tanh units and the
# cross-entropy loss, then L1/L2 penalties and a gradient-descent step. The next
# assignment builds the engine that automates all of this. At the end, written questions
# are graded by hand.
#
# **How to work.** You fill in `backprop.py`, the file next to this notebook. A function
# you have not written yet raises `NotImplementedError("Task 1.x: ...")`, so its cells
# fail until you do the task. With `%autoreload 2`, saving the file is enough: rerun the
# cell. Each section ends with a check cell running that task's public tests (the hidden
# tests are graded after you submit).

# %%
# %load_ext autoreload
# %autoreload 2
import backprop
import matplotlib.pyplot as plt
import numpy as np

from autograder.check import check
from autograder.gradcheck import numeric_grad, rel_error

# %% [markdown]
# ## Task 1.1: graph_example and graph_by_hand
#
# Lecture 000's graph for $e = (a + b)(b + 1)$ has one node per operation:
#
# $$c = a + b, \qquad d = b + 1, \qquad e = c \cdot d .$$
#
# **Forward:** evaluate the nodes in order. **Reverse:** start from $de/de = 1$ and apply
# the chain rule $F'(x) = f'(g(x))\,g'(x)$ node by node, multiplying each node's local
# derivative by the derivative arriving from above. Since $\partial e/\partial c = d$ and
# $\partial e/\partial d = c$,
#
# $$\frac{de}{da} = \frac{de}{dc}\frac{dc}{da} = d \cdot 1 = d, \qquad
#   \frac{de}{db} = \frac{de}{dd}\frac{dd}{db} + \frac{de}{dc}\frac{dc}{db} = c + d .$$
#
# $b$ reaches $e$ along two paths, and the contributions of the paths **add**.
# Worked by hand at $a = 2$, $b = 1$: $c = 3$, $d = 2$, so $e = 6$, $de/da = 2$,
# $de/db = 3 + 2 = 5$.
#
# `graph_example(a, b)` does this in code.

# %%
print(backprop.graph_example(2.0, 1.0))  # (6.0, 2.0, 5.0)
print(backprop.graph_example(-1.0, 3.0))  # c = 2, d = 4: (8.0, 4.0, 6.0)

# %% [markdown]
# **Now by hand, at your own numbers.** `graph_inputs(your_id)` gives every student their
# own $(a, b)$; your id is the one the course grades you under (on Gradescope, the
# Student ID of your account, or your email if the course uses none; when TAs collect
# files, the name of your file without `.py`). On paper, fill in
#
# | node | value | $\partial e/\partial(\text{node})$ |
# |---|---|---|
# | $a$ | | |
# | $b$ | | |
# | $c = a + b$ | | |
# | $d = b + 1$ | | |
# | $e = c\,d$ | | $1$ |
#
# from the top down for the values and from the bottom up for the derivatives, then write
# the numbers into `graph_by_hand` as literals. The grader calls `graph_by_hand` with your
# id, so someone else's numbers score nothing. Your `graph_example` can check your
# arithmetic (not your derivation: that is yours to get right).

# %%
MY_ID = "replace with your id"
if MY_ID != "replace with your id":
    a, b = backprop.graph_inputs(MY_ID)
    print(f"your numbers: a = {a:g}, b = {b:g}")
    mine = backprop.graph_by_hand(MY_ID)
    print("by hand:", mine)
    print("graph_example:", dict(zip(["e", "de_da", "de_db"], backprop.graph_example(a, b), strict=False)))

# %%
check("backprop", "1.1")
# %% [markdown]
# ## Task 1.2: linear_regression_grad
#
# Lecture 002 fits $o_n = \langle w, x_n\rangle$ by minimizing
# $E(w) = \sum_n (y_n - o_n)^2$ with gradient descent. One partial derivative, by the
# chain rule through $o_n$:
#
# $$\frac{\partial E}{\partial w_j} = \sum_n \frac{\partial (y_n - o_n)^2}{\partial o_n}
#   \frac{\partial o_n}{\partial w_j} = -2\sum_n (y_n - o_n)\,x_{n,j},
#   \qquad\text{i.e.}\qquad \nabla E(w) = -2X^\top(y - Xw).$$
#
# No $\tfrac12$ in front of this $E$, so the 2 stays. A check that needs no reference:
# at the least-squares solution $w^\star$ the gradient vanishes.

# %%
rng = np.random.default_rng(0)
X, y = rng.standard_normal((6, 3)), rng.standard_normal(6)
print("at w = 0:  ", backprop.linear_regression_grad(np.zeros(3), X, y), " -2 X^T y =", -2 * X.T @ y)
w_star = np.linalg.lstsq(X, y, rcond=None)[0]
print("at w*:     ", backprop.linear_regression_grad(w_star, X, y))  # ≈ 0

# %%
check("backprop", "1.2")
# %% [markdown]
# ## Task 1.3: sigmoid and mlp_forward
#
# The network of lecture 002 has $D$ inputs, one hidden layer of $H$ sigmoid units and
# one sigmoid output, $\sigma(a) = 1/(1 + e^{-a})$. We add biases (the lecture has none).
# For example $n$ and hidden unit $j$:
#
# $$a^{(1)}_{n,j} = \langle w^{(1)}_j, x_n\rangle + b^{(1)}_j, \quad
#   h_{n,j} = \sigma(a^{(1)}_{n,j}), \quad
#   a^{(2)}_n = \langle w^{(2)}, h_n\rangle + b^{(2)}, \quad
#   o_n = \sigma(a^{(2)}_n).$$
#
# In matrix form, with `W1` $(H, D)$ holding the rows $w^{(1)}_j$, `b1` $(H,)$, `w2`
# $(H,)$ and the float `b2`: `h = σ(X W1ᵀ + b1)` of shape $(N, H)$ and
# `o = σ(h w2 + b2)` of shape $(N,)$. `cache` keeps what backprop will reuse.
#
# **Notation warning: the lectures use $a$ for two different things.** Lecture 002 (and
# this assignment) writes $a^{(l)}$ for the **pre-activation**, the weighted sum before
# $\sigma$, and $h$ for the activation. Lecture 000's "Compute Graph for a Single Layer"
# writes $z^{(l)}$ for the pre-activation and $a^{(l)}$ for the value **after** the
# activation, so its $a^{(l-1)}$ is our $h$ (or $x$). When you read a formula with $a$ in
# it, check which lecture it comes from: our $\partial h_j/\partial a^{(1)}_j$ reads
# $\partial a/\partial z$ in lecture 000's letters.
#
# **Overflow.** $e^{-a}$ overflows for $a \lesssim -710$. With $u = e^{-|a|} \le 1$,
# $\sigma(a) = 1/(1+u)$ for $a \ge 0$ and $u/(1+u)$ for $a < 0$: no overflow, no warning.

# %%
print(backprop.sigmoid(np.array([-1000.0, -1.0, 0.0, 1.0, 1000.0])))

params = {
    "W1": np.array([[1.0, -1.0], [0.5, 2.0], [-1.0, 0.0]]),  # H = 3, D = 2
    "b1": np.array([0.0, -1.0, 0.5]),
    "w2": np.array([1.0, -2.0, 0.5]),
    "b2": 0.1,
}
X = np.array([[0.0, 1.0], [2.0, -1.0]])  # N = 2
o, cache = backprop.mlp_forward(params, X)
print("o =", o, " h shape:", cache["h"].shape)

# %% [markdown]
# ## Task 1.3 (continued): mlp_loss
#
# The squared error of lecture 002, summed over the examples:
#
# $$E = \frac12 \sum_{n=1}^{N} (y_n - o_n)^2 .$$
#
# A **sum**, not a mean: `torch.nn.MSELoss()` averages by default, so its gradients are
# $2/N$ times ours.

# %%
y = np.array([1.0, 0.0])
print("E =", backprop.mlp_loss(params, X, y), " by hand:", 0.5 * np.sum((y - o) ** 2))

# %%
check("backprop", "1.3")

# %% [markdown]
# ## Task 1.4: the output layer
#
# From here on you derive the formulas yourself; the lecture gives one worked example.
# **Lecture 002's example**: the gradient with respect to one output weight $w^{(2)}_j$,
# following $E \to o \to a^{(2)} \to w^{(2)}_j$ for one example (no sum yet):
#
# $$\frac{\partial E}{\partial w^{(2)}_j}
#   = \underbrace{\frac{\partial E}{\partial o}\frac{\partial o}{\partial a^{(2)}}}_{\delta}
#     \frac{\partial a^{(2)}}{\partial w^{(2)}_j} .$$
#
# The lecture evaluates each factor; do it yourself before you look. The part in the
# brace, the derivative of $E$ with respect to the output unit's pre-activation, is the
# **error signal** $\delta = \partial E/\partial a^{(2)}$: every gradient below reuses it,
# and the last factor is $\partial a^{(2)}/\partial w^{(2)}_j = h_j$.
#
# **Your derivation** (on paper first; the functions are its result):
# 1. `delta_output(o, y)`: $\delta_n$ for every example $n$ of a batch, with
#    $E = \tfrac12\sum_n (y_n - o_n)^2$. Where do the $\tfrac12$, the minus sign and
#    $\sigma'$ go?
# 2. `grad_b2(params, X, y)`: $\partial E/\partial b^{(2)}$ for our network, which has a
#    bias, $a^{(2)}_n = \langle w^{(2)}, h_n\rangle + b^{(2)}$. $E$ sums over the examples:
#    what does that do to the gradient?
#
# The cell checks your `grad_b2` against centered finite differences of your `mlp_loss`,
# which knows nothing about derivatives, with the kit's shared gradient check: `numeric_grad`
# (centered differences) and `rel_error` (CS231n's relative error: about $10^{-7}$ or less
# when the gradient is right, $10^{-2}$ or more when it is wrong).


# %%
def param_grad(loss, params, key, X, y):
    """Centered differences of loss(params, X, y) in params[key] (b2 stays a float)."""

    def loss_of(value):
        return loss({**params, key: value if np.ndim(value) else float(value)}, X, y)

    return numeric_grad(loss_of, params[key])


y = np.array([1.0, 0.0])
print("delta_output:", backprop.delta_output(o, y))
b2_numeric = param_grad(backprop.mlp_loss, params, "b2", X, y)
print(
    "grad_b2:",
    backprop.grad_b2(params, X, y),
    " relative error:",
    rel_error(backprop.grad_b2(params, X, y), b2_numeric),
)

# %%
check("backprop", "1.4")
# %% [markdown]
# ## Task 1.5: the hidden layer
#
# Lecture 002 continues the chain one layer down for a weight $w^{(1)}_{j,i}$ of hidden
# unit $j$, for one example and without biases:
#
# $$\frac{\partial E}{\partial w^{(1)}_{j,i}} = \frac{\partial E}{\partial o}
#   \frac{\partial o}{\partial a^{(2)}}\frac{\partial a^{(2)}}{\partial h_j}
#   \frac{\partial h_j}{\partial a^{(1)}_j}\frac{\partial a^{(1)}_j}{\partial w^{(1)}_{j,i}} .$$
#
# **Your derivation:**
# 1. `delta_hidden(delta, w2, h)`: the hidden units' error signals
#    $\delta^{(1)}_{n,j} = \partial E/\partial a^{(1)}_{n,j}$ for a batch, shape $(N, H)$,
#    from the output's $\delta_n$. Evaluate each factor of the chain above that lies between
#    $a^{(2)}$ and $a^{(1)}_j$.
# 2. `grad_b1(params, X, y)`: $\partial E/\partial b^{(1)}$, shape $(H,)$.

# %%
o, cache = backprop.mlp_forward(params, X)
print("delta_hidden:\n", backprop.delta_hidden(backprop.delta_output(o, y), params["w2"], cache["h"]))
b1_numeric = param_grad(backprop.mlp_loss, params, "b1", X, y)
print(
    "grad_b1:",
    backprop.grad_b1(params, X, y),
    " relative error:",
    rel_error(backprop.grad_b1(params, X, y), b1_numeric),
)

# %%
check("backprop", "1.5")
# %% [markdown]
# ## Task 1.6: mlp_backward
#
# Put it together: one forward pass, $\delta$, $\delta^{(1)}$, then all four gradients.
# The lecture's example gives $\partial E/\partial w^{(2)}_j = \sum_n \delta_n h_{n,j}$;
# write $\partial E/\partial W_1$ the same way one layer down, then in matrix form (one
# matrix product, no loop over examples). No autograd: these formulas *are*
# backpropagation, and the next assignment builds the engine that finds them for you.
#
# The cell compares every gradient with finite differences of your `mlp_loss`: the
# relative errors should be around $10^{-7}$ or smaller.

# %%
grads = backprop.mlp_backward(params, X, y)
for key in ["W1", "b1", "w2", "b2"]:
    error = rel_error(grads[key], param_grad(backprop.mlp_loss, params, key, X, y))
    print(f"{key}: relative error {error:.1e}")

# %%
check("backprop", "1.6")
# %% [markdown]
# ## Task 1.7: another network, derived from scratch
#
# Change two things: **tanh** hidden units and the **binary cross-entropy** loss, the
# usual loss of a sigmoid output that estimates a probability $o_n = P(y_n = 1)$:
#
# $$h = \tanh(X W_1^\top + b_1), \qquad o = \sigma(h\,w_2 + b_2), \qquad
#   E = -\sum_n \big[\,y_n \log o_n + (1 - y_n)\log(1 - o_n)\,\big].$$
#
# **Your derivation:**
# 1. `delta_output_bce(o, y)`: first $\partial E/\partial o_n$, then multiply by
#    $\partial o_n/\partial a^{(2)}_n$. Simplify: something cancels, and the result is
#    short. (This is why PyTorch's `BCEWithLogitsLoss` takes the pre-activation.)
# 2. $\tanh'(a)$ in terms of $h = \tanh(a)$.
# 3. `tanh_bce_backward`: the four gradients, with the chain of Tasks 1.4-1.6 and the two
#    changed local derivatives.
#
# `tanh_bce_loss` computes $E$ from $a^{(2)}$ directly (see its docstring): $\log o_n$
# is $-\infty$ once $o_n$ rounds to 0, which happens for $a^{(2)}_n \lesssim -745$ and
# $1 - o_n$ rounds to 0 already for $a^{(2)}_n \gtrsim 37$.

# %%
y_bce = np.array([1.0, 0.0])
grads = backprop.tanh_bce_backward(params, X, y_bce)
for key in ["W1", "b1", "w2", "b2"]:
    error = rel_error(grads[key], param_grad(backprop.tanh_bce_loss, params, key, X, y_bce))
    print(f"{key}: relative error {error:.1e}")

# %%
check("backprop", "1.7")
# %% [markdown]
# ## Task 1.8: L1/L2 penalties
#
# Lecture 002 adds a penalty on the weights to the loss.
#
# **L2 ("weight decay")**: $E(w) + \frac{\lambda}{2}\sum_\ell \|W^{(\ell)}\|_F^2$ with
# $\|W\|_F^2 = \sum_{i,j} W_{ij}^2$; the penalty's gradient is $\lambda W$, so each step
# shrinks every weight in proportion to its size. (`weight_decay=λ` in
# `torch.optim.SGD` adds exactly this $\lambda W$ to the gradient.)
#
# **L1**: $E(w) + \lambda\sum_\ell\sum_{i,j}|w^{(\ell)}_{ij}|$; away from 0 the gradient
# is $\lambda\,\mathrm{sign}(W)$, a constant push towards zero whatever the size of the
# weight. $|w|$ has no derivative at 0; any number in $[-\lambda, \lambda]$ is a
# *subgradient* there, and we take 0 (as `torch.sign` does).
#
# Each function returns `(value, grad)` for one weight array.

# %%
ws, lam = np.linspace(-2, 2, 201), 1.0
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
for name, penalty in [("L2", backprop.l2_penalty), ("L1", backprop.l1_penalty)]:
    values, grads_ = zip(*[penalty(np.array([w]), lam) for w in ws], strict=False)
    left.plot(ws, values, label=name)
    right.plot(ws, [g[0] for g in grads_], label=name)
left.set_title("penalty R(w), λ = 1")
right.set_title("gradient dR/dw")
left.legend()
right.legend()
plt.show()

# %% [markdown]
# **Where do the zeros come from?** Lecture 002 says L1 "tends to shrink the weights and
# make many of them zero". That is true of the *minimizer* of the penalized loss, not of
# gradient descent with the subgradient. A step $w - \eta\lambda\,\mathrm{sign}(w)$ jumps
# over 0 instead of stopping there: a weight whose minimizer is 0 keeps jumping from one
# side to the other, a distance of order $\eta\lambda$ from 0, and is exactly 0 only by
# luck. Exact zeros need the **proximal step** (soft thresholding): take the gradient step
# on $E$ alone, then shrink by $\eta\lambda$ and stop at 0,
#
# $$w \leftarrow \mathrm{sign}(z)\,\max(|z| - \eta\lambda,\ 0), \qquad z = w - \eta\,\nabla E(w).$$
#
# Below, $E(w) = \tfrac12\|w - t\|^2$ for 1000 random targets $t$. The minimizer of
# $E + \lambda\|w\|_1$ is $\mathrm{sign}(t)\max(|t| - \lambda, 0)$, which is exactly 0 for
# every $|t_i| \le \lambda$. The subgradient steps use your `l1_penalty`.

# %%
t = np.random.default_rng(5).standard_normal(1000)  # E(w) = ½‖w − t‖², ∇E(w) = w − t
lam, lr = 0.5, 0.1
w_sub, w_prox = t.copy(), t.copy()
for _ in range(300):
    w_sub = w_sub - lr * (w_sub - t) - lr * backprop.l1_penalty(w_sub, lam)[1]
    z = w_prox - lr * (w_prox - t)
    w_prox = np.sign(z) * np.maximum(np.abs(z) - lr * lam, 0.0)
zero_at_minimum = np.abs(t) <= lam
print(f"the minimizer has {zero_at_minimum.sum()} exact zeros")
print(
    f"subgradient steps: {np.sum(w_sub == 0)} exact zeros; those {zero_at_minimum.sum()} weights "
    f"are up to {np.abs(w_sub[zero_at_minimum]).max():.3f} from 0 (ηλ = {lr * lam})"
)
print(f"proximal steps:    {np.sum(w_prox == 0)} exact zeros")

# %%
check("backprop", "1.8")
# %% [markdown]
# ## Task 1.9: sgd_step
#
# Gradient descent updates every parameter with the same rule (lecture 002):
#
# $$w^{(\text{new})} = w - \eta\,\nabla E(w).$$
#
# `sgd_step` returns a **new** dict and leaves `params` and `grads` untouched. Putting the
# tasks together, here is the two-layer network learning XOR (not linearly separable, so
# the hidden layer is needed), with and without an L2 penalty on `W1` and `w2`.

# %%
X_xor = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
y_xor = np.array([0.0, 1.0, 1.0, 0.0])


def fit(lam, steps=2000, lr=2.0):
    rng = np.random.default_rng(1)
    p = {"W1": rng.standard_normal((4, 2)), "b1": np.zeros(4), "w2": rng.standard_normal(4), "b2": 0.0}
    losses = []
    for _ in range(steps):
        g = backprop.mlp_backward(p, X_xor, y_xor)
        for key in ["W1", "w2"]:
            g[key] = g[key] + backprop.l2_penalty(p[key], lam)[1]
        p = backprop.sgd_step(p, g, lr)
        losses.append(backprop.mlp_loss(p, X_xor, y_xor))
    return p, losses


for lam in [0.0, 0.001]:
    p, losses = fit(lam)
    print(
        f"λ = {lam}: outputs {np.round(backprop.mlp_forward(p, X_xor)[0], 2)}, ‖W1‖_F = {np.linalg.norm(p['W1']):.2f}"
    )
    plt.semilogy(losses, label=f"λ = {lam}")
plt.xlabel("step")
plt.ylabel("E (without the penalty)")
plt.legend()
plt.show()

# %% [markdown]
# The penalty trades training error for smaller weights: with $\lambda = 0.001$ the
# outputs are less extreme, $\|W_1\|_F$ is smaller and $E$ levels off higher. Try
# $\lambda = 0.01$: on four examples the penalty wins and the network outputs 0.5
# everywhere.

# %%
check("backprop", "1.9")
# %% [markdown]
# ## All together
#
# Every public check of this assignment at once (the same as
# `python -m autograder check backprop backprop.py` in a terminal):

# %%
check("backprop")
