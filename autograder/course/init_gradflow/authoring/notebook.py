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
# bias-free network with its per-layer gradient norms (a backward pass you derive),
# PyTorch's gradient clipping, and batch normalisation (its backward pass, too, and its
# running statistics for inference), then look at what each does to a 20-layer network.
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
from autograder.gradcheck import numeric_grad, rel_error

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
# Lecture 004's "fan-in/fan-out Gaussian (good for ReLU activations)" is **He's** scheme.
# He calibrates with either fan: the fan-in keeps the forward variance, the fan-out the
# backward one (`torch.nn.init.kaiming_normal_(mode="fan_in" | "fan_out")`). `init_weights`
# uses the fan-in, PyTorch's default. Glorot's scheme has no $\sqrt2$ and averages the two fans.
#
# **Orthogonal** weights (lecture 004 suggests the SVD; PyTorch uses a QR): draw a
# Gaussian (rows, cols) matrix, take $Q$ of its QR decomposition (transposing first when
# rows < cols, so $Q$ has orthonormal columns), and multiply $Q$'s columns by the signs of
# $R$'s diagonal. Without that sign fix the result depends on the QR routine's sign
# convention and is not uniformly distributed. The SVD's $UV^\top$ of the same Gaussian is
# orthogonal too (the graded tests accept it, with a small test of PyTorch's exact steps).
# A square or tall $W$ (orthonormal columns) preserves norms, $\|Wx\| = \|x\|$; a wide
# one has orthonormal rows, so $\|W^\top y\| = \|y\|$ but $\|Wx\| \le \|x\|$.

# %%
rng = np.random.default_rng(0)
for scheme in ["xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal", "orthogonal"]:
    W = ig.init_weights((256, 512), scheme, rng)
    print(f"{scheme:16s} std {W.std():.4f}  max |w| {np.abs(W).max():.4f}")
print("Glorot std", np.sqrt(2 / (512 + 256)), " He std", np.sqrt(2 / 512))
Q = ig.init_weights((4, 6), "orthogonal", np.random.default_rng(1))
print("orthogonal rows: Q Qᵀ =\n", np.round(Q @ Q.T, 12))
x = np.random.default_rng(2).standard_normal(6)
print(f"wide Q (4, 6): ‖Qx‖ = {np.linalg.norm(Q @ x):.3f} < ‖x‖ = {np.linalg.norm(x):.3f}")

# %%
check("init_gradflow", "7.2")
# %% [markdown]
# ## Task 7.3: layer_activations
#
# A bias-free MLP in PyTorch's layout: $h_0 = X$ (N, D_0),
# $h_\ell = \text{act}(h_{\ell-1} W_\ell^\top)$ with $W_\ell$ of shape $(D_\ell, D_{\ell-1})$.
#
# **The vanishing/exploding picture, forward.** 20 layers of width 256, for three
# initialisations and two activations: the standard deviation of the activations at every
# layer, all on one logarithmic axis. With the "classical" small $N(0, 0.01^2)$ the signal
# shrinks by about $\sqrt{256}\cdot0.01 = 0.16$ per layer and is gone after a few layers.
# Xavier keeps tanh alive; for ReLU it halves the variance at every layer (the std falls
# by $\sqrt2$ per layer), which He's $\sqrt2$ corrects.

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

forward_std = {
    (activation, name): np.array([h.std() for h in ig.layer_activations(Ws, X, activation)])
    for activation in ["tanh", "relu"]
    for name, Ws in nets.items()
}
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), sharey=True)
for ax, activation in zip(axes, ["tanh", "relu"], strict=True):
    for name in nets:
        ax.semilogy(np.arange(1, depth + 1), forward_std[activation, name], ".-", label=name)
    ax.set_title(activation)
    ax.set_xlabel("layer ℓ")
axes[0].set_ylabel("std of h_ℓ")
axes[0].legend(fontsize=8)
plt.tight_layout()
plt.show()
for (activation, name), stds in forward_std.items():
    print(f"{activation:4s} {name:14s} std at layer 1: {stds[0]:.2e}, layer 20: {stds[-1]:.2e}")

# %%
check("init_gradflow", "7.3")
# %% [markdown]
# ## Task 7.4: layer_grad_norms
#
# **Derive it.** With $z_\ell = h_{\ell-1}W_\ell^\top$, $h_\ell = \text{act}(z_\ell)$ and
# $E = \tfrac12\|h_L\|^2$ (summed over the batch), work out $\partial E/\partial h_L$, then for
# each layer from the top: $\partial E/\partial z_\ell$ from $\partial E/\partial h_\ell$,
# $\partial E/\partial W_\ell$ (shape $(D_\ell, D_{\ell-1})$, like $W_\ell$), and the
# $\partial E/\partial h_{\ell-1}$ that the layer below needs. You need the derivative of
# each activation; write it in terms of $z_\ell$ or of $h_\ell$, whichever is cheaper.
#
# Check it on a small network: the norm of a finite-difference gradient of $E$ with respect
# to each $W_\ell$, against your norms.

# %%
rng = np.random.default_rng(3)
Ws_small = [rng.standard_normal(shape) / np.sqrt(shape[1]) for shape in [(5, 3), (4, 5), (2, 4)]]
X_small = rng.standard_normal((6, 3))


def energy(Ws, activation):
    return 0.5 * np.sum(ig.layer_activations(Ws, X_small, activation)[-1] ** 2)


for activation in ["relu", "tanh", "sigmoid", "linear"]:
    numeric = [
        np.linalg.norm(
            numeric_grad(lambda W, l=l, a=activation: energy(Ws_small[:l] + [W] + Ws_small[l + 1 :], a), Ws_small[l])
        )
        for l in range(len(Ws_small))
    ]
    print(
        f"{activation:8s} relative error: {rel_error(ig.layer_grad_norms(Ws_small, X_small, activation), numeric):.1e}"
    )

# %% [markdown]
# Backpropagation multiplies the backward signal by one factor per layer (a weight matrix
# and the activation's derivative): lecture 004's "information passed through a chain of
# multiplications back through network". Below, the norms for the 20-layer networks.
#
# **What the curves show.** The sigmoid's derivative is at most $1/4$, so its curves fall
# towards the input whatever the initialisation: the early layers' gradients **vanish**
# (by many orders of magnitude). A network whose signal died in the forward pass
# ($N(0, 0.01^2)$) has tiny gradients everywhere. And a bias-free ReLU network is
# *homogeneous*: multiplying every weight by $k$ multiplies $h_L$ by $k^{L}$ and every
# layer's $\|\partial E/\partial W_\ell\|$ by the same $k^{2L-1}$, so "3 × xavier" moves
# the whole ReLU curve up by a factor $3^{39}$ without changing its slope: the gradients
# **explode** in size at every layer at once, not layer by layer. (With tanh, a large
# scale saturates the units instead.)

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
sig = ig.layer_grad_norms(nets["xavier_normal"], X, "sigmoid")
print(f"sigmoid, xavier: ‖∂E/∂W_1‖ / ‖∂E/∂W_20‖ = {sig[0] / sig[-1]:.1e}")
relu, relu_big = (ig.layer_grad_norms(Ws, X, "relu") for Ws in (nets["xavier_normal"], big))
print(f"relu: 3 × xavier / xavier, per layer: {(relu_big / relu).min():.2e} to {(relu_big / relu).max():.2e}")

# %% [markdown]
# **The backward signal itself.** $\|\partial E/\partial W_\ell\|$ mixes the forward signal
# $h_{\ell-1}$ with the backward one $\partial E/\partial z_\ell$. To see the backward signal
# alone, take one example at a time: its $\partial E/\partial W_\ell$ is the outer product of
# $\partial E/\partial z_\ell$ and $h_{\ell-1}$, whose norm is the product of their norms, so
# your `layer_grad_norms` on the sub-network from layer $\ell$ gives $\|\partial E/\partial z_\ell\|$.
# Divided by the size of the output gradient $\|\partial E/\partial h_L\|$ it is the share of a
# unit output gradient that reaches layer $\ell$, whatever the size of $h_L$ (20 layers of
# width 64, the mean over 4 examples). Now a large scale **explodes** towards the input,
# Xavier with ReLU **vanishes** (by about a factor 100 over 20 layers), He's stays within an
# order of magnitude, and the sigmoid vanishes whatever the scale.


# %%
def backward_signal(Ws, X, activation, examples=4):
    hs = [X[:examples]] + ig.layer_activations(Ws, X[:examples], activation)
    signal = np.zeros(len(Ws))
    for n in range(examples):
        out_grad = np.linalg.norm(hs[-1][n])  # ‖∂E/∂h_L‖ for this example
        for l in range(len(Ws)):
            h_prev = hs[l][n : n + 1]  # one example, (1, D)
            signal[l] += ig.layer_grad_norms(Ws[l:], h_prev, activation)[0] / np.linalg.norm(h_prev) / out_grad
    return signal / examples


narrow = 64
X_narrow = np.random.default_rng(1).standard_normal((4, narrow))
narrow_nets = {
    name: [init((narrow, narrow), np.random.default_rng(l)) for l in range(depth)] for name, init in inits.items()
}
narrow_nets["3 × xavier"] = [3.0 * W for W in narrow_nets["xavier_normal"]]
signals = {
    (activation, name): backward_signal(Ws, X_narrow, activation)
    for activation in ["tanh", "relu", "sigmoid"]
    for name, Ws in narrow_nets.items()
}
fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), sharey=True)
for ax, activation in zip(axes, ["tanh", "relu", "sigmoid"], strict=True):
    for name in narrow_nets:
        ax.semilogy(np.arange(1, depth + 1), signals[activation, name], ".-", label=name)
    ax.set_title(activation)
    ax.set_xlabel("layer ℓ")
axes[0].set_ylabel("‖∂E/∂z_ℓ‖ / ‖∂E/∂h_L‖")
axes[0].legend(fontsize=8)
plt.tight_layout()
plt.show()
for (activation, name), signal in signals.items():
    print(f"{activation:7s} {name:14s} layer 1 / layer 20: {signal[0] / signal[-1]:.1e}")

# %% [markdown]
# **Why random, not constant.** If every hidden unit starts with the same weights, every
# unit computes the same function and receives the same gradient, so they stay equal
# forever: the layer has one unit, however wide it is. Below, a 1-hidden-layer tanh network
# fits a 1-D curve by gradient descent, once from constant weights and once from Xavier
# weights (the training loop is given; it uses your `layer_activations` and takes its
# gradients by finite differences, so it gives no backward pass away).

# %%
x_train = np.linspace(-2, 2, 64)[:, None]
y_train = np.sin(2 * x_train) + 0.3 * x_train


def fit_loss(theta):
    W1, w2 = theta[:hidden, None], theta[hidden:, None]
    (h,) = ig.layer_activations([W1], x_train, "tanh")  # (N, H)
    return 0.5 * np.mean((h @ w2 - y_train) ** 2)


def fit(W1, w2, steps=600, lr=0.2):
    theta, losses = np.concatenate([W1.ravel(), w2.ravel()]), []
    for _ in range(steps):
        losses.append(fit_loss(theta))
        theta = theta - lr * numeric_grad(fit_loss, theta)
    return losses, theta[:hidden, None]


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

# %% [markdown]
# **Clipping rescues a recurrent net.** Lecture 004's exploding gradients are at their worst
# in recurrent networks, where the same weight multiplies the signal at every time step. A
# tiny linear recurrent net reads sequences of $T = 20$ numbers,
# $h_t = w\,h_{t-1} + u\,x_t$ ($h_0 = 0$), and is trained so that $h_T$ matches the output of
# a teacher with $w = 0.9$, $u = 0.5$. It starts at $w = 1.1$: $h_T$ holds powers of $w$ up
# to $w^{19}$, so the first gradient is huge and one plain gradient step throws $w$ far
# outside $(-1, 1)$, where the loss explodes. The same steps with the gradient clipped to
# norm 1 walk down to the teacher. (The gradient comes from finite differences, so the cell
# gives no backward pass away.)

# %%
T = 20
seqs = np.random.default_rng(0).standard_normal((16, T))


def rnn_last(theta):
    w, u = theta
    h = np.zeros(len(seqs))
    for t in range(T):
        h = w * h + u * seqs[:, t]
    return h


teacher = rnn_last(np.array([0.9, 0.5]))


def rnn_loss(theta):
    return 0.5 * np.mean((rnn_last(theta) - teacher) ** 2)


def train_rnn(max_norm, steps=100, lr=0.03):
    theta, losses = np.array([1.1, 1.0]), []
    for _ in range(steps):
        losses.append(rnn_loss(theta))
        if not losses[-1] < 1e30:  # diverged
            break
        grad = numeric_grad(rnn_loss, theta)
        if max_norm is not None:
            (grad,), _ = ig.clip_grad_norm([grad], max_norm)
        theta = theta - lr * grad
    return np.array(losses), theta


with np.errstate(over="ignore", invalid="ignore"):
    plain_losses, plain_theta = train_rnn(None)
clip_losses, clip_theta = train_rnn(1.0)
plt.figure(figsize=(6, 3.5))
plt.semilogy(plain_losses, ".-", label="plain gradient descent")
plt.semilogy(clip_losses, ".-", label="gradients clipped to norm 1")
plt.xlabel("step")
plt.ylabel("loss")
plt.legend(fontsize=8)
plt.show()
print(f"without clipping: loss {plain_losses[0]:.1f} -> {plain_losses[-1]:.1e} after {len(plain_losses) - 1} step(s)")
print(f"with clipping:    loss {clip_losses[0]:.1f} -> {clip_losses[-1]:.1e}, (w, u) = {np.round(clip_theta, 3)}")

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
# **Derive it.** Given $\text{dout} = \partial L/\partial\,\text{out}$, find
# $\partial L/\partial\beta$ and $\partial L/\partial\gamma$ (sums over the batch), then
# $\partial L/\partial x$. $\mu$ and $\sigma^2$ depend on every row of the batch, so the
# gradient with respect to one row is not just $\gamma\,\text{dout}/\sigma$: follow it
# through $\mu$ and $\sigma^2$ too (a computational graph of the forward pass helps). Then
# check each gradient against central differences of $L = \sum \text{out}\odot\text{dout}$:

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
for name, got, numeric in [
    ("dx", dx, numeric_grad(lambda v: np.sum(ig.batchnorm_forward(v, gamma, beta)[0] * dout), x)),
    ("dgamma", dgamma, numeric_grad(lambda g: np.sum(ig.batchnorm_forward(x, g, beta)[0] * dout), gamma)),
    ("dbeta", dbeta, numeric_grad(lambda b: np.sum(ig.batchnorm_forward(x, gamma, b)[0] * dout), beta)),
]:
    print(f"{name} relative error: {rel_error(got, numeric):.1e}")

# %%
check("init_gradflow", "7.7")
# %% [markdown]
# ## Task 7.8: batchnorm_running_update
#
# In training, batch norm normalises with the batch's own $\mu$ and $\sigma^2$. At test time
# there may be one example, and its output should not depend on which others share its
# batch: lecture 001's normalisation uses statistics "over the whole dataset". PyTorch
# estimates them during training with an exponential moving average, one update per batch:
#
# $$\text{running} \leftarrow (1 - m)\,\text{running} + m\,\text{batch statistic},
#   \qquad m = \text{momentum} = 0.1 \text{ by default}.$$
#
# Two conventions to note: PyTorch's momentum $m$ weighs the **new** batch (assignment 5's
# EMA writes $\beta = 1 - m$ on the old value), and the running variance takes the
# **unbiased** batch variance (divide by $N - 1$), while the batch itself is normalised with
# the biased one. Below, batches of a data set with known statistics: the running
# estimates approach them.

# %%
rng = np.random.default_rng(6)
true_mean, true_std = np.array([2.0, -1.0, 0.5]), np.array([0.5, 3.0, 1.0])
running_mean, running_var = np.zeros(3), np.ones(3)
for _ in range(200):
    batch = true_mean + true_std * rng.standard_normal((32, 3))
    running_mean, running_var = ig.batchnorm_running_update(running_mean, running_var, batch)
print("running mean", np.round(running_mean, 2), " true", true_mean)
print("running var ", np.round(running_var, 2), " true", true_std**2)

# %%
check("init_gradflow", "7.8")
# %% [markdown]
# ## Task 7.9: batchnorm_inference
#
# At test time, normalise with the running statistics:
# $\text{out} = \gamma\,(x - \text{running\_mean})/\sqrt{\text{running\_var} + \varepsilon} + \beta$,
# as `torch.nn.functional.batch_norm(training=False)`. Each example is then normalised on
# its own: the same example gives the same output alone or in a batch.

# %%
gamma, beta = np.ones(3), np.zeros(3)
test_batch = true_mean + true_std * rng.standard_normal((5, 3))
alone = ig.batchnorm_inference(test_batch[:1], gamma, beta, running_mean, running_var)
in_batch = ig.batchnorm_inference(test_batch, gamma, beta, running_mean, running_var)
print("first example alone == in the batch:", np.allclose(alone, in_batch[:1]))
print("training-mode output of the same example differs:", ig.batchnorm_forward(test_batch, gamma, beta)[0][0])

# %%
check("init_gradflow", "7.9")
# %% [markdown]
# ## All together
#
# Every public check of this assignment at once (the same as
# `python -m autograder check init_gradflow init_gradflow.py` in a terminal):

# %%
check("init_gradflow")
