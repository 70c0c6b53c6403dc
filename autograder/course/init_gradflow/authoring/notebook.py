# %% [markdown]
# # Assignment 7: Initialisation and gradient flow
#
# Lecture 002's recipe for training starts with "use random initialization (this is
# important!)": randomness avoids all-zero gradients and **breaks symmetry**. Lecture 004
# adds *how* random: "classical" schemes draw from $U(-a, a)$ or $N(0, a)$ with a small
# $a$; fan-in/fan-out schemes calibrate $a$ to the number of inputs and outputs of each
# layer; orthogonal initialisation uses a matrix decomposition. Lectures 003/004 explain
# why it matters: backpropagation multiplies the error signal by one factor per layer,
# so factors a bit below 1 make the gradient **vanish** and factors above 1 make it
# **explode**.
#
# You will write the fan-in/fan-out rule, the five schemes of `torch.nn.init`, a deep
# bias-free network with its per-layer gradient norms, PyTorch's gradient clipping, and
# batch normalisation, then look at what each does to a 20-layer network.
#
# **Conventions.** Weights are stored as PyTorch stores them: a Linear layer's $W$ is
# (out, in), a convolution's is (out, in, KH, KW). Randomness comes from the
# `np.random.Generator` you pass in, one call per weight, so a seed fixes the values.
#
# **How to work.** You fill in `init_gradflow.py`, the file next to this notebook. A
# function you have not written yet raises `NotImplementedError("Task 7.x: ...")`, so
# its cells fail until you do the task. With `%autoreload 2`, saving the file is enough:
# rerun the cell. Each section ends with a check cell running that task's public tests
# (the hidden tests are graded after you submit).

# %%
# %load_ext autoreload
# %autoreload 2
import init_gradflow as ig
import matplotlib.pyplot as plt
import numpy as np

from autograder.check import check

# %% [markdown]
# ## Task 7.1: fan_in_fan_out
#
# A unit of a Linear layer with weight (out, in) sums `in` inputs: its **fan-in**. Each
# input feeds `out` units: the **fan-out**. A convolution unit sums over the input
# channels *and* the kernel window, so PyTorch's rule is
#
# $$\text{fan\_in} = \text{in}\cdot\prod\text{kernel}, \qquad
#   \text{fan\_out} = \text{out}\cdot\prod\text{kernel}.$$
#
# Lecture 003's six $3\times5\times5$ filters, weight shape (6, 3, 5, 5), have fan-in
# $3\cdot5\cdot5 = 75$: the length of the dot product $w^\top x$ each output number is.

# %%
print(ig.fan_in_fan_out((300, 784)))  # Linear(784, 300): (784, 300)
print(ig.fan_in_fan_out((6, 3, 5, 5)))  # Conv2d(3, 6, 5):  (75, 150)

# %%
check("init_gradflow", "7.1")
# %% [markdown]
# ## Task 7.2: init_weights
#
# **Why the variance matters.** A unit computes $z = \sum_{i=1}^{n} w_i x_i$ with
# $n$ = fan-in. With independent zero-mean weights and inputs,
# $\operatorname{Var} z = n \operatorname{Var} w \, \mathbb{E}[x^2]$. To keep the signal's
# size from layer to layer we need $n \operatorname{Var} w \approx 1$ (up to what the
# activation does):
#
# | scheme | $\operatorname{Var} w$ | uniform bound $a$ | normal std | suits |
# |---|---|---|---|---|
# | Xavier/Glorot | $g^2\,\frac{2}{\text{fan\_in}+\text{fan\_out}}$ | $g\sqrt{6/(\text{fan\_in}+\text{fan\_out})}$ | $g\sqrt{2/(\text{fan\_in}+\text{fan\_out})}$ | tanh, sigmoid, linear |
# | Kaiming/He | $g^2/\text{fan\_in}$, $g=\sqrt2$ | $g\sqrt{3/\text{fan\_in}}$ | $g/\sqrt{\text{fan\_in}}$ | ReLU |
#
# Glorot averages the forward ($\text{fan\_in}$) and backward ($\text{fan\_out}$)
# conditions. He's $\sqrt 2$ makes up for ReLU zeroing half of its inputs
# ($\mathbb{E}[\text{relu}(z)^2] = \tfrac12\operatorname{Var} z$). The uniform bound carries
# a $\sqrt3$ because $U(-a, a)$ has variance $a^2/3$.
#
# **A slip in the notes.** Lecture 004 lists a "fan-in/fan-out Gaussian (good for ReLU
# activations)". The Gaussian that suits ReLU is **He's** ($\sqrt{2/\text{fan\_in}}$,
# fan-in only), not Glorot's: Glorot's has no $\sqrt2$ and mixes in the fan-out.
#
# **Orthogonal** weights (lecture 004 suggests the SVD; PyTorch uses a QR): draw a
# Gaussian (rows, cols) matrix, take $Q$ of its QR decomposition (transposing first when
# rows < cols, so $Q$ has orthonormal columns), and multiply $Q$'s columns by the signs of
# $R$'s diagonal. Without that sign fix the result depends on the QR routine's sign
# convention and is not uniformly distributed. All norms are preserved: $\|Wx\| = \|x\|$.

# %%
rng = np.random.default_rng(0)
for scheme in ["xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal", "orthogonal"]:
    W = ig.init_weights((256, 512), scheme, rng)
    print(f"{scheme:16s} std {W.std():.4f}  max |w| {np.abs(W).max():.4f}")
print("Glorot std", np.sqrt(2 / (512 + 256)), " He std", np.sqrt(2 / 512))
Q = ig.init_weights((4, 6), "orthogonal", np.random.default_rng(1))
print("orthogonal rows: Q Qᵀ =\n", np.round(Q @ Q.T, 12))

# %%
check("init_gradflow", "7.2")
# %% [markdown]
# ## Task 7.3: layer_activations
#
# A bias-free MLP in PyTorch's layout: $h_0 = X$ (N, D_0),
# $h_\ell = \text{act}(h_{\ell-1} W_\ell^\top)$ with $W_\ell$ of shape $(D_\ell, D_{\ell-1})$.
#
# **The vanishing/exploding picture, forward.** 20 layers of width 256, for three
# initialisations and two activations. Each panel shows the distribution of the
# activations at layers 1, 5, 10 and 20. With the "classical" small $N(0, 0.01^2)$ the
# signal shrinks by about $\sqrt{256}\cdot0.01 = 0.16$ per layer and is gone after a few
# layers. Xavier keeps tanh alive; for ReLU it halves the variance at every layer, which He
# corrects.

# %%
depth, width = 20, 256
X = np.random.default_rng(1).standard_normal((256, width))


def small_normal(shape, rng):
    return 0.01 * rng.standard_normal(shape)


inits = {
    "N(0, 0.01²)": small_normal,
    "xavier_normal": lambda shape, rng: ig.init_weights(shape, "xavier_normal", rng),
    "kaiming_normal": lambda shape, rng: ig.init_weights(shape, "kaiming_normal", rng),
}
nets = {name: [init((width, width), np.random.default_rng(l)) for l in range(depth)] for name, init in inits.items()}

fig, axes = plt.subplots(2, 3, figsize=(12, 5), sharey="row")
for row, activation in enumerate(["tanh", "relu"]):
    for col, (name, Ws) in enumerate(nets.items()):
        hs = ig.layer_activations(Ws, X, activation)
        ax = axes[row, col]
        for l in [1, 5, 10, 20]:
            h = hs[l - 1].ravel()
            ax.hist(h / max(np.abs(h).max(), 1e-300), bins=40, histtype="step", label=f"layer {l}: std {h.std():.1e}")
        ax.set_title(f"{activation}, {name}", fontsize=9)
        ax.legend(fontsize=7)
axes[1, 0].set_xlabel("activation / its largest |value|")
plt.tight_layout()
plt.show()

# %%
check("init_gradflow", "7.3")
# %% [markdown]
# ## Task 7.4: layer_grad_norms
#
# For $E = \tfrac12\|h_L\|^2$ (summed over the batch), backpropagation goes
#
# $$\frac{\partial E}{\partial h_L} = h_L, \qquad
#   \delta_\ell = \frac{\partial E}{\partial h_\ell} \odot \text{act}'(z_\ell), \qquad
#   \frac{\partial E}{\partial W_\ell} = \delta_\ell^\top h_{\ell-1}, \qquad
#   \frac{\partial E}{\partial h_{\ell-1}} = \delta_\ell W_\ell .$$
#
# Each layer multiplies the backward signal by $W_\ell$ and by $\text{act}'(z_\ell)$: a
# chain of multiplications, exactly lecture 004's "any value slightly less than 1 ...
# and derivative signal quickly shrinks". The sigmoid's derivative is at most $1/4$, so it
# vanishes whatever the weights; a too-large scale explodes instead.
#
# Read the **slope** of each curve: $E$ is built from $h_L$, so a network whose signal
# died in the forward pass has tiny gradients everywhere (a low flat line), while a slope
# means each layer shrinks (or grows) the backward signal. Flat lines at a sensible height
# are what a good initialisation buys; sigmoid's slope is the vanishing gradient.

# %%
fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), sharey=True)
for ax, activation in zip(axes, ["tanh", "relu", "sigmoid"], strict=False):
    for name, Ws in nets.items():
        ax.semilogy(np.arange(1, depth + 1), ig.layer_grad_norms(Ws, X, activation), ".-", label=name)
    big = [3.0 * W for W in nets["xavier_normal"]]
    ax.semilogy(np.arange(1, depth + 1), ig.layer_grad_norms(big, X, activation), ".--", label="3 × xavier")
    ax.set_title(activation)
    ax.set_xlabel("layer ℓ")
axes[0].set_ylabel("‖∂E/∂W_ℓ‖")
axes[0].legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# **Why random, not constant.** If every hidden unit starts with the same weights, every
# unit computes the same function and receives the same gradient, so they stay equal
# forever: the layer has one unit, however wide it is. Below, a 1-hidden-layer tanh network
# fits a 1-D curve by gradient descent, once from constant weights and once from Xavier
# weights (the training loop is given; it uses your `layer_activations`).

# %%
x_train = np.linspace(-2, 2, 64)[:, None]
y_train = np.sin(2 * x_train) + 0.3 * x_train


def fit(W1, w2, steps=1500, lr=0.05):
    losses = []
    for _ in range(steps):
        (h,) = ig.layer_activations([W1], x_train, "tanh")  # (N, H)
        err = h @ w2 - y_train  # (N, 1)
        losses.append(0.5 * np.mean(err**2))
        dh = err @ w2.T * (1 - h**2) / len(x_train)
        w2 = w2 - lr * h.T @ err / len(x_train)
        W1 = W1 - lr * dh.T @ x_train
    return losses, W1


hidden = 16
sym_losses, sym_W1 = fit(np.full((hidden, 1), 0.5), np.full((hidden, 1), 0.1))
rnd_losses, rnd_W1 = fit(
    ig.init_weights((hidden, 1), "xavier_normal", np.random.default_rng(0)),
    ig.init_weights((1, hidden), "xavier_normal", np.random.default_rng(1)).T,
)
plt.figure(figsize=(6, 3.5))
plt.semilogy(sym_losses, label=f"constant init (spread of W1 rows: {sym_W1.std():.1e})")
plt.semilogy(rnd_losses, label=f"xavier init (spread of W1 rows: {rnd_W1.std():.2f})")
plt.xlabel("step")
plt.ylabel("training loss")
plt.legend(fontsize=8)
plt.show()

# %%
check("init_gradflow", "7.4")
# %% [markdown]
# ## Task 7.5: clip_grad_norm
#
# A cheap remedy for exploding gradients: if the gradient is too long, shorten it.
# `torch.nn.utils.clip_grad_norm_` takes the **global** 2-norm over all parameter arrays
# and scales every array by the same factor:
#
# $$\text{total} = \sqrt{\textstyle\sum_i \|g_i\|^2}, \qquad
#   c = \min\!\Big(1, \frac{\text{max\_norm}}{\text{total} + 10^{-6}}\Big), \qquad
#   g_i \leftarrow c\, g_i .$$
#
# One factor for all keeps the direction of the whole gradient; clipping each array by
# its own norm would change it. Your version returns new arrays and the total norm.

# %%
grads = [np.array([3.0, 4.0]), np.array([[0.0, 12.0]])]  # norms 5 and 12, total 13
clipped, total = ig.clip_grad_norm(grads, 6.5)
print("total norm", total, " clipped", clipped, " new total", np.sqrt(sum(np.sum(g**2) for g in clipped)))

# %%
check("init_gradflow", "7.5")
# %% [markdown]
# ## Task 7.6: batchnorm_forward
#
# Batch normalisation re-centres and re-scales every feature over the batch, so each
# layer sees inputs of mean 0 and variance 1 whatever the initialisation did:
#
# $$\mu = \frac1N\sum_n x_n, \quad \sigma^2 = \frac1N\sum_n (x_n - \mu)^2, \quad
#   \hat x = \frac{x - \mu}{\sqrt{\sigma^2 + \varepsilon}}, \quad \text{out} = \gamma\hat x + \beta .$$
#
# **A slip in the notes.** Lecture 001 writes the normalisation as $(x_i - \mu)\sigma$.
# It is a division, by the standard deviation, with $\varepsilon$ inside the square
# root. The variance is the biased one ($1/N$), as PyTorch normalises in training.
#
# Below, the network that the small $N(0, 0.01^2)$ initialisation killed, with a batch
# norm ($\gamma = 1$, $\beta = 0$) after every linear layer: the activations keep their
# size to layer 20.

# %%
h, stds = X, []
for W in nets["N(0, 0.01²)"]:
    z, _ = ig.batchnorm_forward(h @ W.T, np.ones(width), np.zeros(width))
    h = np.tanh(z)
    stds.append(h.std())
(plain,) = ig.layer_activations(nets["N(0, 0.01²)"], X, "tanh")[-1:]
print(f"tanh, N(0, 0.01²), layer 20: std {plain.std():.1e} without batch norm, {stds[-1]:.2f} with it")

# %%
check("init_gradflow", "7.6")
# %% [markdown]
# ## Task 7.7: batchnorm_backward
#
# $\mu$ and $\sigma^2$ depend on every row of the batch, so the gradient with respect to
# one row has two correction terms besides $\gamma\,\text{dout}/\sigma$. With
# $d\hat x = \text{dout}\odot\gamma$ and $s = 1/\sqrt{\sigma^2+\varepsilon}$:
#
# $$d\beta = \sum_n \text{dout}_n, \qquad d\gamma = \sum_n \text{dout}_n \odot \hat x_n, \qquad
#   dx = \frac{s}{N}\Big(N\,d\hat x - \sum_n d\hat x_n - \hat x \odot \sum_n d\hat x_n \odot \hat x_n\Big).$$
#
# A check against central differences of $L = \sum \text{out}\odot\text{dout}$:

# %%
rng = np.random.default_rng(2)
x, gamma, beta, dout = (
    rng.standard_normal((5, 3)),
    rng.standard_normal(3),
    rng.standard_normal(3),
    rng.standard_normal((5, 3)),
)
out, cache = ig.batchnorm_forward(x, gamma, beta)
dx, dgamma, dbeta = ig.batchnorm_backward(dout, cache)
numeric = np.zeros_like(x)
for idx in np.ndindex(x.shape):
    step = np.zeros_like(x)
    step[idx] = 1e-6
    numeric[idx] = (
        np.sum(ig.batchnorm_forward(x + step, gamma, beta)[0] * dout)
        - np.sum(ig.batchnorm_forward(x - step, gamma, beta)[0] * dout)
    ) / 2e-6
print("largest |dx − numerical|:", np.abs(dx - numeric).max())

# %%
check("init_gradflow", "7.7")
# %% [markdown]
# ## All together
#
# Every public check of this assignment at once (the same as
# `python -m autograder check init_gradflow init_gradflow.py` in a terminal):

# %%
check("init_gradflow")
