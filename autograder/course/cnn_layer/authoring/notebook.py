# %% [markdown]
# # Assignment 3: A convolution layer in NumPy
#
# A fully connected layer flattens a $3\times32\times32$ image into 3072 numbers and
# forgets where each pixel was. A convolution layer (lecture 003) slides small filters
# over the image instead: each output is the dot product of one filter with one small
# chunk of the input, plus a bias, $w^\top x + b$. You will write its forward pass, its
# backward pass and the 1-D case, all without Python loops over the batch, channels or
# positions.
#
# Layers follow the CS231n style: `conv2d_forward(...) -> (out, cache)` and
# `conv2d_backward(dout, cache) -> (dx, dw, db)`. Shapes use one letter set: $N$ batch,
# $C_\text{in}$/$C_\text{out}$ channels, $H, W$ input size, $KH, KW$ kernel size,
# $s$ stride, $P$ padding.
#
# **How to work.** You fill in `cnn_layer.py`, the file next to this notebook. A function
# you have not written yet raises `NotImplementedError("Task 3.x: ...")`, so its cells
# fail until you do the task. With `%autoreload 2`, saving the file is enough: rerun the
# cell. Each section ends with a check cell running that task's public tests (the hidden
# tests are graded after you submit).

# %%
# %load_ext autoreload
# %autoreload 2
import cnn_layer
import matplotlib.pyplot as plt
import numpy as np

from autograder.check import check
from autograder.gradcheck import numeric_grad, rel_error

# %% [markdown]
# ## Task 3.1: conv2d_forward
#
# **Shapes (lecture 003).** A $3\times32\times32$ image and one $3\times5\times5$
# filter (filters always extend the full depth of the input) give one $28\times28$
# activation map: the filter fits in $32 - 5 + 1 = 28$ positions along each axis. Six
# filters, a $6\times3\times5\times5$ weight array with a 6-vector of biases, give six
# maps stacked into a $6\times28\times28$ output; a batch
# $N\times C_\text{in}\times H\times W$ gives $N\times C_\text{out}\times H_\text{out}\times W_\text{out}$.
#
# **Kernel axes.** The lecture writes the filters as $C_\text{out}\times C_\text{in}\times K_w\times K_h$,
# width before height. This kit, like PyTorch's `Conv2d.weight`, stores them as
# `(C_out, C_in, KH, KW)`: **height first**, in the same order as the image's $(H, W)$.
# The lecture's $5\times5$ filters are square, so nothing changes there; for a
# $3\times5$ kernel the order matters.
#
# **Padding and stride.** The lecture only counts $32 - 5 + 1 = 28$ positions (no
# padding, stride 1). The general rule is the one in Dumoulin & Visin, *A guide to
# convolution arithmetic for deep learning* (2016), and it takes two lines. With $P$
# zeros added on each side, the padded axis has rows $0, \dots, H + 2P - 1$. With a
# stride $s$, output row $i$ reads rows $is$ to $is + KH - 1$, so it exists when
# $is + KH - 1 \le H + 2P - 1$, i.e. $i \le (H + 2P - KH)/s$. Counting
# $i = 0, 1, \dots$ up to that bound:
#
# $$H_\text{out} = \left\lfloor\frac{H + 2P - KH}{s}\right\rfloor + 1, \qquad
#   W_\text{out} = \left\lfloor\frac{W + 2P - KW}{s}\right\rfloor + 1,$$
#
# in code `H_out = (H + 2*P - KH)//s + 1`. With $P = 0$ and $s = 1$ it is the lecture's
# $32 - 5 + 1 = 28$. With $P = 2$ the size stays 32. With $s = 2$ it drops to
# $(32 - 5)//2 + 1 = 14$: the floor discards a window that would stick out of the
# image (the last window reads rows 26 to 30; row 31 is never read).
#
# **Values.** With $\tilde x$ the zero-padded input,
#
# $$\text{out}[n, o, i, j] = b[o] + \sum_{c=0}^{C_\text{in}-1}\sum_{p=0}^{KH-1}\sum_{q=0}^{KW-1}
#   w[o, c, p, q]\;\tilde x[n, c,\, i s + p,\, j s + q].$$
#
# This is **cross-correlation**: the kernel is not flipped. Lecture 003 ("slide over the
# image spatially, computing dot products", $w^\top x + b$) and PyTorch
# (`torch.nn.functional.conv2d`) both call it convolution, and so do we. Lecture 001,
# though, defines a true convolution,
#
# $$f(x)_{ij} = \sum_{k,l} w_{kl}\, x_{i-k,\,j-l},$$
#
# where the input index runs *backwards* as the kernel index runs forwards. The two differ
# only by flipping the kernel along both axes:
#
# $$\text{conv}(x, w) = \text{xcorr}(x, \text{flip}(w)), \qquad
#   \text{flip}(w)[p, q] = w[KH-1-p,\, KW-1-q].$$
#
# For a layer that *learns* its filters the flip does not matter: the network learns the
# flipped weights instead, so libraries skip it. It matters when a kernel is given to
# you (a blur or an edge detector written as a convolution), and it comes back in
# Task 3.2: with stride 1, $d\tilde x$ is a true convolution of dout with $w$ (summed
# over the output channels).
#
# **Without loops.** Unroll every $C_\text{in}\times KH\times KW$ window into one column
# of a matrix ("im2col", shape $(C_\text{in}KH\,KW,\; N H_\text{out} W_\text{out})$);
# then the whole layer is one matrix product with the $(C_\text{out},\, C_\text{in}KH\,KW)$
# matrix of filters. `numpy.lib.stride_tricks.sliding_window_view` gives you all the
# windows as a view.

# %%
x = np.random.default_rng(0).standard_normal((2, 3, 32, 32))  # N = 2 images, 3x32x32
w = np.random.default_rng(1).standard_normal((6, 3, 5, 5))  # six 3x5x5 filters
out, cache = cnn_layer.conv2d_forward(x, w, np.zeros(6))
print(out.shape)  # (2, 6, 28, 28)
print(cnn_layer.conv2d_forward(x, w, np.zeros(6), stride=2, padding=2)[0].shape)  # (2, 6, 16, 16)

# %% [markdown]
# Both operations on a $4\times4$ input with an unsymmetric $2\times2$ kernel. Lecture
# 001's sum is evaluated directly, at the $3\times3$ positions where the whole kernel
# lies inside the image. It equals `conv2d_forward` with the flipped kernel, not with
# the kernel itself.

# %%
x = np.arange(16.0).reshape(4, 4)
k = np.array([[1.0, 2.0], [3.0, 4.0]])
lecture_001 = np.array(
    [[sum(k[a, b] * x[i - a, j - b] for a in range(2) for b in range(2)) for j in range(1, 4)] for i in range(1, 4)]
)
xcorr = cnn_layer.conv2d_forward(x[None, None], k[None, None], np.zeros(1))[0][0, 0]
conv = cnn_layer.conv2d_forward(x[None, None], k[::-1, ::-1][None, None], np.zeros(1))[0][0, 0]
print("xcorr(x, k), what the layer computes:\n", xcorr)
print("lecture 001's convolution of x with k:\n", lecture_001)
print("equal to xcorr(x, flip(k)):", np.allclose(lecture_001, conv))

# %% [markdown]
# A tiny case you can check by hand: a $4\times4$ input and a $2\times2$ filter of ones
# sum each $2\times2$ window (top-left: $0 + 1 + 4 + 5 = 10$). A filter with a single 1
# in its top-left corner copies the top-left pixel of each window: no flip.

# %%
x = np.arange(16.0).reshape(1, 1, 4, 4)
print(cnn_layer.conv2d_forward(x, np.ones((1, 1, 2, 2)), np.zeros(1))[0][0, 0])
corner = np.array([[[[1.0, 0.0], [0.0, 0.0]]]])
print(cnn_layer.conv2d_forward(x, corner, np.zeros(1))[0][0, 0])  # = x[0, 0, :3, :3]

# %% [markdown]
# **Feature maps.** Filters are feature detectors. Below, a digit-like $28\times28$
# "7" goes through a layer of three hand-made $3\times3$ filters (vertical edges,
# horizontal edges, a blur) with $P = 1$, which keeps the size: $(28 + 2 - 3)//1 + 1 = 28$.
# Red is positive, blue negative: the edge filters respond with opposite signs on the two
# sides of a stroke.

# %%
img = np.zeros((28, 28))
img[5:8, 6:23] = 1.0  # the bar of the 7
for r in range(8, 25):  # its diagonal stroke
    c = int(round(22 - (r - 8) * 0.7))
    img[r, c - 1 : c + 2] = 1.0
sobel = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
filters = np.stack([sobel, sobel.T, np.ones((3, 3)) / 9])[:, None]  # (C_out=3, C_in=1, 3, 3)
maps, _ = cnn_layer.conv2d_forward(img[None, None], filters, np.zeros(3), padding=1)

fig, axes = plt.subplots(1, 4, figsize=(12, 3))
for ax, im, title in zip(axes, [img, *maps[0]], ["input", "vertical edges", "horizontal edges", "blur"], strict=False):
    lim = np.abs(im).max()
    ax.imshow(im, cmap="RdBu_r", vmin=-lim, vmax=lim)
    ax.set_title(title)
    ax.axis("off")
plt.show()

# %%
check("cnn_layer", "3.1")

# %% [markdown]
# ## Task 3.2: conv2d_backward
#
# Each output is linear in $w$, $b$ and $\tilde x$ (the padded input). With
# $\text{dout} = \partial L/\partial\,\text{out}$, derive $db$, $dw$ and $d\tilde x$ by the
# chain rule, summing over every output that used the quantity; $dx$ is $d\tilde x$ with
# the padding cropped off. Overlapping windows **add** into $d\tilde x$ (an input pixel is
# used by several outputs, like $b$ in $e = (a+b)(b+1)$). In im2col form, find the
# gradient of the columns, $d\text{cols}$, then fold it back onto the image ("col2im").
#
# The cell below checks all three against centered finite differences of
# $L = \sum \text{out}\odot\text{dout}$ (whose gradient with respect to out is dout),
# with stride 2 and padding 1, using the kit's shared gradient check (`rel_error` is
# CS231n's relative error: about $10^{-7}$ or less when the gradient is right).

# %%
rng = np.random.default_rng(2)
x, w, b = rng.standard_normal((2, 2, 5, 5)), rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3)
out, cache = cnn_layer.conv2d_forward(x, w, b, stride=2, padding=1)
dout = rng.standard_normal(out.shape)
dx, dw, db = cnn_layer.conv2d_backward(dout, cache)


def L(x_, w_, b_):
    return np.sum(cnn_layer.conv2d_forward(x_, w_, b_, stride=2, padding=1)[0] * dout)


print("dx relative error:", rel_error(dx, numeric_grad(lambda a: L(a, w, b), x)))
print("dw relative error:", rel_error(dw, numeric_grad(lambda a: L(x, a, b), w)))
print("db relative error:", rel_error(db, numeric_grad(lambda a: L(x, w, a), b)))

# %% [markdown]
# What $dx$ looks like: if the upstream gradient is a single 1 at output position
# $(i, j)$, $dx$ is the filter itself, placed on the window that output was computed
# from. Two such positions, two copies of the filter.

# %%
x = np.zeros((1, 1, 12, 12))
kernel = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
out, cache = cnn_layer.conv2d_forward(x, kernel, np.zeros(1))
dout = np.zeros(out.shape)
dout[0, 0, 1, 2] = dout[0, 0, 6, 7] = 1.0
dx, _, _ = cnn_layer.conv2d_backward(dout, cache)
plt.imshow(dx[0, 0], cmap="viridis")
plt.colorbar()
plt.title("dx for two unit dout entries")
plt.show()

# %%
check("cnn_layer", "3.2")
# %% [markdown]
# ## Task 3.3: conv1d_forward
#
# The 1-D layer slides a $C_\text{in}\times K$ filter along a sequence of length $L$:
#
# $$\text{out}[n,o,i] = b[o] + \sum_{c}\sum_{p=0}^{K-1} w[o,c,p]\;\tilde x[n,c,\,is+p],
#   \qquad L_\text{out} = \left\lfloor\frac{L + 2P - K}{s}\right\rfloor + 1 .$$
#
# A sequence is an image of height 1, so you can reuse `conv2d_forward`; pad $L$
# yourself (padding $H$ too would add rows of zeros). Below, a filter of five weights
# $1/5$ with $P = 2$ is a moving average that keeps the length:
# $(200 + 4 - 5)//1 + 1 = 200$.

# %%
t = np.linspace(0, 4 * np.pi, 200)
signal = np.sin(t) + 0.3 * np.random.default_rng(3).standard_normal(200)
smooth = cnn_layer.conv1d_forward(signal[None, None], np.full((1, 1, 5), 0.2), np.zeros(1), padding=2)
print(smooth.shape)  # (1, 1, 200)
plt.plot(t, signal, ".", ms=3, label="input")
plt.plot(t, smooth[0, 0], label="conv1d, K = 5, P = 2")
plt.legend()
plt.show()

# %%
check("cnn_layer", "3.3")
# %% [markdown]
# ## All together
#
# Every public check of this assignment at once (the same as
# `python -m autograder check cnn_layer cnn_layer.py` in a terminal):

# %%
check("cnn_layer")
