# %% [markdown]
# # Assignment 8: Self-attention, layer norm and residual blocks
#
# The lecture notes (001, §1.1) list the building blocks of a transformer:
#
# * self-attention $f(X) = \text{softmax}\big(\tfrac{QK^\top}{\sqrt d}\big)V$ with
#   $(Q, K, V) = (XW_Q, XW_K, XW_V)$;
# * multi-head attention $\text{Linear}(\text{Concat}(\text{SA}_1(x_1), \dots, \text{SA}_k(x_k)))$,
#   each head working on a slice of the features;
# * normalisation, which keeps the values "centered around zero without too much spread";
# * the residual layer $f(x) = x + g(x)$.
#
# and §1.1.4 says what they make: a transformer is "(1) residual layers with multihead self
# attention subblocks and (2) residual layers with two linear sub-blocks", repeated. You will
# write each block in NumPy, derive two backward passes and check them against finite
# differences, see why the residual connection lets gradients through deep stacks, and stack
# your blocks into a small transformer. (The graded tests compare your functions with
# PyTorch's; this notebook needs only NumPy.)
#
# **Conventions.** Seed 001's row convention: $X$ is (N, T, D), N sequences of T tokens of
# width D, and weights multiply from the right, $XW$. PyTorch's `nn.MultiheadAttention`
# stores the transposes ($x W^\top$); the docstrings say how the two map.
#
# **How to work.** You fill in `attention.py`, the file next to this notebook. A function
# you have not written yet raises `NotImplementedError("Task 8.x: ...")`, so its cells fail
# until you do the task. With `%autoreload 2`, saving the file is enough: rerun the cell.
# Each section ends with a check cell running that task's public tests (the hidden tests
# are graded after you submit).

# %%
# %load_ext autoreload
# %autoreload 2
import attention as at
import matplotlib.pyplot as plt
import numpy as np

from autograder.check import check
from autograder.gradcheck import numeric_grad, rel_error

# %% [markdown]
# ## Task 8.1: softmax
#
# $\text{softmax}(z)_i = e^{z_i}/\sum_j e^{z_j}$ turns scores into weights that are
# positive and sum to 1. Computed as written it breaks on large scores: $e^{1000}$ is
# `inf` in float64 and `inf/inf` is `nan`. Since
# $\text{softmax}(z) = \text{softmax}(z - c)$ for any constant $c$ (the factor $e^{-c}$
# cancels), subtract the maximum first: every exponent is then $\le 0$, and the largest
# term is exactly $e^0 = 1$. A score of $-\infty$ gets weight exactly 0, which the causal
# mask below relies on.

# %%
print(at.softmax(np.array([1.0, 2.0, 3.0])))
print(at.softmax(np.array([1e4, -1e4, 0.0, 5e3])))  # finite: [1, 0, 0, 0]
print(at.softmax(np.array([[1.0, 2.0], [3.0, 5.0]]), axis=0))  # columns sum to 1

# %%
check("attention", "8.1")
# %% [markdown]
# ## Task 8.2: scaled_dot_product_attention
#
# Each query $q_i$ scores every key $k_j$ by a dot product, the scores become weights by a
# softmax over the keys, and the output is the weighted average of the values:
#
# $$S = \frac{QK^\top}{\sqrt{d_k}} \;(T_q \times T_k), \qquad A = \text{softmax}(S) \text{ row by row},
#   \qquad \text{out} = AV .$$
#
# **Why $\sqrt{d_k}$.** A dot product of $d_k$ independent unit-variance terms has variance
# $d_k$; dividing by $\sqrt{d_k}$ brings the scores back to variance 1, so the softmax does
# not saturate into a one-hot row (whose gradient is almost zero) as the width grows.
#
# **Causal masking.** A language model must not look ahead: query $i$ may attend only to
# keys $j \le i$. Set $S_{ij} = -\infty$ for $j > i$ **before** the softmax: those weights
# become exactly 0 and the rest still sum to 1. (Zeroing weights after the softmax breaks
# the sum; filling with 0 instead of $-\infty$ still gives the future the weight $e^0$.)
# The results equal `torch.nn.functional.scaled_dot_product_attention(Q, K, V, is_causal=...)`.

# %%
rng = np.random.default_rng(0)
T, d = 8, 16
Xs = rng.standard_normal((T, d))
Q, K = Xs @ rng.standard_normal((d, d)) / 4, Xs @ rng.standard_normal((d, d)) / 4
fig, axes = plt.subplots(1, 2, figsize=(8, 3.6))
for ax, causal in zip(axes, [False, True], strict=False):
    _, A = at.scaled_dot_product_attention(Q, K, Xs, causal=causal)
    im = ax.imshow(A, cmap="viridis", vmin=0, vmax=1)
    ax.set_title(f"attention weights A, causal={causal}", fontsize=9)
    ax.set_xlabel("key j")
    ax.set_ylabel("query i")
fig.colorbar(im, ax=axes, shrink=0.8)
plt.show()

# %%
check("attention", "8.2")
# %% [markdown]
# ## Task 8.3: attention_backward
#
# **Derive it.** Given $d\text{out} = \partial L/\partial\,\text{out}$ for some scalar loss
# $L$, walk back through the three steps of the forward pass, one at a time:
#
# 1. $\text{out} = AV$: what are $\partial L/\partial V$ and $\partial L/\partial A$?
# 2. $A = \text{softmax}(S)$ row by row: each weight of a row depends on every score of that
#    row. Write the Jacobian of one softmax row, then $\partial L/\partial S$.
# 3. $S = QK^\top/\sqrt{d_k}$: what are $\partial L/\partial Q$ and $\partial L/\partial K$?
#
# What happens to the gradient at a masked score? Then write `attention_backward` and check
# each gradient against central differences of $L = \sum \text{out}\odot d\text{out}$ with the
# shared helpers `numeric_grad` and `rel_error` (CS231n's relative error: about $10^{-7}$ or
# less when the gradient is right, $10^{-2}$ or more when it is wrong).

# %%
rng = np.random.default_rng(1)
Qs, Ks, Vs = rng.standard_normal((3, 4)), rng.standard_normal((5, 4)), rng.standard_normal((5, 2))
dout = rng.standard_normal((3, 2))
dQ, dK, dV = at.attention_backward(dout, Qs, Ks, Vs, causal=True)
for name, got, numeric in [
    ("dQ", dQ, numeric_grad(lambda q: np.sum(at.scaled_dot_product_attention(q, Ks, Vs, True)[0] * dout), Qs)),
    ("dK", dK, numeric_grad(lambda k: np.sum(at.scaled_dot_product_attention(Qs, k, Vs, True)[0] * dout), Ks)),
    ("dV", dV, numeric_grad(lambda v: np.sum(at.scaled_dot_product_attention(Qs, Ks, v, True)[0] * dout), Vs)),
]:
    print(f"{name} relative error: {rel_error(got, numeric):.1e}")

# %%
check("attention", "8.3")
# %% [markdown]
# ## Task 8.4: multihead_self_attention
#
# $h$ heads each attend with their own $d = D/h$ features: project
# $Q = XW_q$, $K = XW_k$, $V = XW_v$ (each (N, T, D)), split the last axis into $h$
# consecutive slices, attend per head, concatenate the heads back in order, and mix them
# with $W_o$.
#
# The split is a reshape **and a transpose**: (N, T, D) → (N, T, h, d) → (N, h, T, d), so
# that the attention's batch axes are (N, h) and its rows are the T tokens. Reshaping
# straight to (N, h, T, d) would cut the flat memory in the wrong places and mix tokens
# with features. `torch.nn.MultiheadAttention(D, h, bias=False, batch_first=True)` gives
# the same numbers with `in_proj_weight` = concat($W_q^\top, W_k^\top, W_v^\top$) and
# `out_proj.weight` = $W_o^\top$.

# %%
rng = np.random.default_rng(2)
X = rng.standard_normal((2, 5, 6))
W_q, W_k, W_v, W_o = (rng.standard_normal((6, 6)) / np.sqrt(6) for _ in range(4))
out = at.multihead_self_attention(X, W_q, W_k, W_v, W_o, num_heads=3, causal=True)
print(out.shape)
# the first token of a causal sequence sees only itself: its output is X[:, 0] W_v W_o
print(np.allclose(out[:, 0], X[:, 0] @ W_v @ W_o))

# %%
check("attention", "8.4")
# %% [markdown]
# ## Task 8.5: layer_norm
#
# Layer normalisation normalises each token over its own $D$ features:
#
# $$\mu = \frac1D\sum_k x_k, \quad \sigma^2 = \frac1D\sum_k (x_k - \mu)^2, \quad
#   \text{out} = \gamma \odot \frac{x - \mu}{\sqrt{\sigma^2 + \varepsilon}} + \beta .$$
#
# **A slip in the notes.** Lecture 001 writes the normalisation as $(x_i - \mu)\sigma$;
# it divides by $\sigma$ (with $\varepsilon$ inside the square root). Unlike batch norm
# (assignment 7), nothing depends on the other rows of the batch, so it behaves the same
# in training and at test time and for a batch of one. It equals
# `torch.nn.functional.layer_norm(x, (D,), gamma, beta, eps)`.

# %%
x = np.array([[1.0, 2.0, 3.0], [100.0, 200.0, 300.0]])
print(at.layer_norm(x, np.ones(3), np.zeros(3)))  # both rows: [-1.22, 0, 1.22]

# %%
check("attention", "8.5")
# %% [markdown]
# ## Task 8.6: residual_block
#
# $\text{out} = x + \text{relu}(xW_1 + b_1)W_2 + b_2$: a two-layer branch $g$ plus the input
# itself. Its Jacobian is $I + \partial g/\partial x$, so the backward signal through $L$
# blocks is a product of factors $I + (\text{small})$ instead of a product of small
# factors. Below, 20 blocks with small random weights: the norm of the gradient reaching
# each layer's input, for $E = \tfrac12\|h_{20}\|^2$, with and without the skip (the
# backward pass is given; the forward uses your `residual_block`).

# %%
rng = np.random.default_rng(3)
depth, D, H = 20, 32, 64
blocks = [
    (rng.standard_normal((D, H)) * 0.06, np.zeros(H), rng.standard_normal((H, D)) * 0.06, np.zeros(D))
    for _ in range(depth)
]
x0 = rng.standard_normal((16, D))


def gradient_norms(skip):
    hs = [x0]
    for W1, b1, W2, b2 in blocks:
        out = at.residual_block(hs[-1], W1, b1, W2, b2)
        hs.append(out if skip else out - hs[-1])
    grad, norms = hs[-1], []  # ∂E/∂h_20 = h_20
    for (W1, b1, W2, _b2), h in zip(blocks[::-1], hs[-2::-1], strict=False):
        through_branch = ((grad @ W2.T) * (h @ W1 + b1 > 0)) @ W1.T
        grad = grad + through_branch if skip else through_branch
        norms.append(np.linalg.norm(grad) / np.linalg.norm(hs[-1]))
    return norms[::-1]


plt.figure(figsize=(6, 3.5))
plt.semilogy(range(depth), gradient_norms(True), ".-", label="x + g(x) (with the skip)")
plt.semilogy(range(depth), gradient_norms(False), ".-", label="g(x) alone")
plt.xlabel("layer ℓ (input of block ℓ + 1)")
plt.ylabel("‖∂E/∂h_ℓ‖ / ‖h_20‖")
plt.legend()
plt.show()

# %%
check("attention", "8.6")
# %% [markdown]
# ## Task 8.7: layer_norm_backward
#
# **Derive it.** With $\hat x = (x - \mu)/\sqrt{\sigma^2 + \varepsilon}$ and
# $\text{out} = \gamma\odot\hat x + \beta$ over the $D$ features of one token, find
# $\partial L/\partial\gamma$ and $\partial L/\partial\beta$ (the same $\gamma$, $\beta$ serve
# every token: sum over every leading axis) and $\partial L/\partial x$. Both $\mu$ and
# $\sigma^2$ depend on every feature of the token, so $\partial L/\partial x$ is not just
# $\gamma\odot d\text{out}/\sigma$: follow the gradient through $\mu$ and $\sigma^2$ too. It is
# the same derivation as batch norm's (assignment 7), over the other axis.

# %%
rng = np.random.default_rng(4)
x, gamma, beta = rng.standard_normal((2, 3, 5)), rng.standard_normal(5), rng.standard_normal(5)
dout = rng.standard_normal((2, 3, 5))
dx, dgamma, dbeta = at.layer_norm_backward(dout, x, gamma)
for name, got, numeric in [
    ("dx", dx, numeric_grad(lambda v: np.sum(at.layer_norm(v, gamma, beta) * dout), x)),
    ("dgamma", dgamma, numeric_grad(lambda g: np.sum(at.layer_norm(x, g, beta) * dout), gamma)),
    ("dbeta", dbeta, numeric_grad(lambda b: np.sum(at.layer_norm(x, gamma, b) * dout), beta)),
]:
    print(f"{name} relative error: {rel_error(got, numeric):.1e}")

# %%
check("attention", "8.7")
# %% [markdown]
# ## Task 8.8: transformer_block
#
# Seed 001's transformer layer puts the blocks together: a residual layer around multi-head
# self-attention, then a residual layer around a two-layer MLP. Where the normalisation goes
# is a design choice; this block is **pre-norm** (each sub-block sees a normalised input, the
# skip path carries $X$ untouched), as `torch.nn.TransformerEncoderLayer(norm_first=True)`:
#
# $$h = X + \text{MHSA}(\text{LN}_1(X)), \qquad \text{out} = h + \text{MLP}(\text{LN}_2(h)),
#   \qquad \text{MLP}(z) = \text{relu}(zW_1 + b_1)W_2 + b_2 .$$
#
# Below, a small causal transformer of 6 blocks (no training: random weights, $1/\sqrt{\text{fan\_in}}$
# scale). Each block adds its sub-blocks' outputs to its input, so the signal's size grows
# only slowly from block to block, and because each block is causal, changing the last
# token leaves every earlier token's output unchanged.

# %%
rng = np.random.default_rng(5)
N, T, D, H, heads, depth = 2, 6, 8, 16, 2, 6


def random_block(rng):
    p = {name: rng.standard_normal((D, D)) / np.sqrt(D) for name in ["W_q", "W_k", "W_v", "W_o"]}
    p.update(ln1_gamma=np.ones(D), ln1_beta=np.zeros(D), ln2_gamma=np.ones(D), ln2_beta=np.zeros(D))
    p.update(W1=rng.standard_normal((D, H)) / np.sqrt(D), b1=np.zeros(H))
    p.update(W2=rng.standard_normal((H, D)) / np.sqrt(H), b2=np.zeros(D))
    return p


stack = [random_block(rng) for _ in range(depth)]


def transformer(X):
    for p in stack:
        X = at.transformer_block(X, p, heads, causal=True)
    return X


X = rng.standard_normal((N, T, D))
h = X
for layer, p in enumerate(stack, 1):
    h = at.transformer_block(h, p, heads, causal=True)
    print(f"after block {layer}: output std {h.std():.2f}")
X_changed = X.copy()
X_changed[:, -1] += 10.0
out, out_changed = transformer(X), transformer(X_changed)
print("earlier tokens unchanged:", np.allclose(out[:, :-1], out_changed[:, :-1]))
print("last token changed:", not np.allclose(out[:, -1], out_changed[:, -1]))

# %%
check("attention", "8.8")
# %% [markdown]
# ## All together
#
# Every public check of this assignment at once (the same as
# `python -m autograder check attention attention.py` in a terminal):

# %%
check("attention")
