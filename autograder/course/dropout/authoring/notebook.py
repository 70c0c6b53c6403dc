# %% [markdown]
# # Assignment 4: Dropout
#
# Dropout (Srivastava et al., 2014; lectures 002 and 003) fights overfitting: at every
# training step each unit is removed, with all its incoming and outgoing edges,
# independently with probability $p$, and forward and backward passes run on the
# resulting "thinned" network. A layer of $m$ units has $2^m$ thinned versions, so
# training with dropout is like training a huge ensemble that shares weights; at test
# time the full network stands in for the average of the ensemble.
#
# **What $p$ means.** In this kit $p$ is the probability of **dropping** a unit, as in
# lecture 002 ("drop out each node with probability $p$") and in PyTorch's
# `torch.nn.Dropout(p)`. The paper the lecture cites does the opposite: Srivastava et
# al. (2014) write $p$ for the probability of **retaining** a unit, $r_j \sim
# \text{Bernoulli}(p)$, and multiply the weights by $p$ at test time. Old CS231n starter
# code used $p$ both ways over the years. The same number means opposite things, so
# always read the docstring:
#
# | scheme | $p$ is | training | test time |
# |---|---|---|---|
# | Srivastava et al. 2014 | **retain** probability | $x \odot r$, $r_i \sim \text{Bernoulli}(p)$ | weights scaled by $p$ |
# | lecture 002, classic | drop probability | $x \odot \text{keep}$ | weights scaled by $1 - p$ |
# | inverted (this kit, `nn.Dropout`) | drop probability | $x \odot \text{keep}/(1 - p)$ | unchanged, out $= x$ |
# | some CS231n copies | keep probability | $x \odot \text{keep}/p$ | unchanged |
#
# with $\text{keep}_i \sim \text{Bernoulli}(1 - p)$ in our convention. The first two rows
# are the same algorithm: the paper's $p$ is the lecture's $1 - p$.
#
# **How to work.** You fill in `dropout.py`, the file next to this notebook. A function
# you have not written yet raises `NotImplementedError("Task 4.x: ...")`, so its cells
# fail until you do the task. With `%autoreload 2`, saving the file is enough: rerun the
# cell. Each section ends with a check cell running that task's public tests (the hidden
# tests are graded after you submit).

# %%
# %load_ext autoreload
# %autoreload 2
import dropout
import matplotlib.pyplot as plt
import numpy as np

from autograder.check import check

# %% [markdown]
# ## Task 4.1: dropout_forward
#
# **Inverted dropout.** In training, draw the keep-mask and rescale the survivors:
#
# $$\text{keep} = (\texttt{rng.random(x.shape)} \ge p), \qquad
#   \text{out} = \frac{x \odot \text{keep}}{1 - p}.$$
#
# A unit survives with probability $1 - p$, so
# $\mathbb{E}[\text{out}_i] = (1 - p)\cdot\frac{x_i}{1 - p} = x_i$: on average the
# next layer sees the same input as without dropout, and **nothing changes at test
# time** (`train=False` returns `x` unchanged). This is the scheme `nn.Dropout` uses.
#
# Randomness comes only from the `rng` you are given (a `np.random.Generator`); a given
# boolean `mask` (True = keep) replaces the draw, which makes results reproducible for
# tests. $p$ must satisfy $0 \le p < 1$ ($p = 1$ would divide by zero).

# %%
x = np.ones((3, 8))
out, cache = dropout.dropout_forward(x, 0.5, rng=np.random.default_rng(0))
print(out)  # zeros and 1/(1 - 0.5) = 2
print("mean:", out.mean(), "  test time:", dropout.dropout_forward(x, 0.5, train=False)[0][0, :4])
mask = np.array([True, False, True, True])
print(dropout.dropout_forward(np.array([1.0, 2.0, 3.0, 4.0]), 0.25, mask=mask)[0])  # [4/3, 0, 4, 16/3]

# %% [markdown]
# **What the masks look like.** Left: one keep-mask for a $20\times60$ layer at
# $p = 0.3$ (dark = dropped). Right: the fraction of units dropped in each of 2000 rows of
# 100 units. The number of dropped units is Binomial$(100, p)$, so the fractions centre on
# $p$, not on $1 - p$: if yours centre on 0.7 you have the keep convention.
#
# **A slip in the slides.** Lecture 002 says that "the number of nodes in a thinned
# network follows a binomial distribution with success probability $p$". With its own
# $p$ (the drop probability), a thinned network of $m$ units keeps
# Binomial$(m, 1 - p)$ of them, on average $m(1 - p)$; it is the number of **dropped**
# units that is Binomial$(m, p)$. "Success probability $p$" is right only in Srivastava's
# convention, where $p$ is the retain probability. The printed counts check this.

# %%
p = 0.3
_, small = dropout.dropout_forward(np.ones((20, 60)), p, rng=np.random.default_rng(1))
_, big = dropout.dropout_forward(np.ones((2000, 100)), p, rng=np.random.default_rng(2))
fig, (left, right) = plt.subplots(1, 2, figsize=(12, 3.5))
left.imshow(small["mask"], cmap="gray")
left.set_title(f"keep-mask, p = {p}")
left.axis("off")
right.hist(1 - big["mask"].mean(axis=1), bins=25)
right.axvline(p, color="red", ls="--", label="p")
right.set_xlabel("fraction dropped per row")
right.legend()
plt.show()
kept = big["mask"].sum(axis=1)  # units kept in each row of m = 100
print(
    f"units kept per row: mean {kept.mean():.2f}, variance {kept.var():.2f}; "
    f"Binomial(100, 1 - p): mean {100 * (1 - p):.0f}, variance {100 * p * (1 - p):.0f}"
)

# %%
check("dropout", "4.1")
# %% [markdown]
# ## Task 4.2: dropout_backward
#
# With the mask fixed, the forward map is linear in $x$:
# $\text{out}_i = x_i\,\text{keep}_i/(1 - p)$ in training, $\text{out} = x$ at test time.
# Derive $\partial L/\partial x_i$ from $\partial L/\partial\,\text{out}_i$ for both modes.
#
# A dropped unit was not part of the thinned network and gets no gradient. Use the mask
# saved in the cache: drawing a new one would differentiate a different network.

# %%
x = np.arange(1.0, 9.0)
out, cache = dropout.dropout_forward(x, 0.5, rng=np.random.default_rng(3))
dx = dropout.dropout_backward(np.ones_like(x), cache)
print("out:", out)
print("dx: ", dx)  # 2 where a unit was kept, 0 where it was dropped

# %%
check("dropout", "4.2")
# %% [markdown]
# ## Task 4.3: classic_test_weights
#
# Lecture 002's original scheme does not rescale in training: a unit $h_i$ is present
# with probability $1 - p$ and sends $h_i W_{ji}$ when present, so the next layer
# receives on average
#
# $$\mathbb{E}\Big[\sum_i W_{ji}\, h_i\,\text{keep}_i\Big] = \sum_i (1 - p)\, W_{ji}\, h_i .$$
#
# At test time every unit is present, so to match this expectation "use the original
# network, but scale each weight by $1 - p$". Inverted dropout (Task 4.1) moves the same
# factor into training instead, which leaves the test-time network untouched.
#
# The cell below checks both claims by averaging over 20,000 random masks: classic
# training averages to `classic_test_weights(W, p) @ h`, inverted training to `W @ h`.

# %%
rng = np.random.default_rng(4)
W, h, p = rng.standard_normal((3, 5)), rng.standard_normal(5), 0.4
out, cache = dropout.dropout_forward(np.tile(h, (20_000, 1)), p, rng=rng)
classic = np.tile(h, (20_000, 1)) * cache["mask"]  # same masks, no rescaling
print("classic training, mean:", (classic @ W.T).mean(axis=0).round(3))
print("W·(1-p) at test:       ", (dropout.classic_test_weights(W, p) @ h).round(3))
print("inverted training, mean:", (out @ W.T).mean(axis=0).round(3))
print("W at test:              ", (W @ h).round(3))

# %%
check("dropout", "4.3")
# %% [markdown]
# ## All together
#
# Every public check of this assignment at once (the same as
# `python -m autograder check dropout dropout.py` in a terminal):

# %%
check("dropout")
