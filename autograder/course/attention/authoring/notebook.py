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
# and lecture 000 says what they make: transformers are residual layers around attention
# and two-layer linear sub-blocks, repeated. You will write each block in NumPy, check it
# against PyTorch's numbers, and see why the residual connection lets gradients through
# deep stacks.
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
# Back through $\text{out} = AV$, the softmax and $S = QK^\top/\sqrt{d_k}$:
#
# $$dV = A^\top d\text{out}, \quad dA = d\text{out}\,V^\top, \quad
#   dS_{ij} = A_{ij}\Big(dA_{ij} - \sum_{j'} dA_{ij'}A_{ij'}\Big), \quad
#   dQ = \frac{dS\,K}{\sqrt{d_k}}, \quad dK = \frac{dS^\top Q}{\sqrt{d_k}} .$$
#
# The middle formula is the softmax's Jacobian $\text{diag}(a) - aa^\top$ applied to a row.
# Masked weights are 0, so their $dS$ is 0: nothing flows back through the future. A check
# against central differences:

# %%
rng = np.random.default_rng(1)
Qs, Ks, Vs = rng.standard_normal((3, 4)), rng.standard_normal((5, 4)), rng.standard_normal((5, 2))
dout = rng.standard_normal((3, 2))
dQ, dK, dV = at.attention_backward(dout, Qs, Ks, Vs, causal=True)
numeric = np.zeros_like(Ks)
for idx in np.ndindex(Ks.shape):
    step = np.zeros_like(Ks)
    step[idx] = 1e-6
    plus = at.scaled_dot_product_attention(Qs, Ks + step, Vs, causal=True)[0]
    minus = at.scaled_dot_product_attention(Qs, Ks - step, Vs, causal=True)[0]
    numeric[idx] = np.sum((plus - minus) * dout) / 2e-6
print("largest |dK − numerical|:", np.abs(dK - numeric).max())

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
# ## All together
#
# Every public check of this assignment at once (the same as
# `python -m autograder check attention attention.py` in a terminal):

# %%
check("attention")
