# %% [markdown]
# # Assignment 2: Automatic differentiation, three ways
#
# In assignment 1 you derived a network's gradients by hand, one δ at a time. Every
# deep-learning library does that bookkeeping for you: it needs the gradient of the loss
# with respect to every parameter, for any network. This assignment builds the three
# ways of getting it (lecture 000 and the "Approaches to Differentiation" slide of
# lecture 004):
#
# | method | task | cost for $f:\mathbb{R}^A\to\mathbb{R}^B$ | exact? |
# |---|---|---|---|
# | finite differences | 2.1 | $2A$ evaluations of $f$ | no: $O(\epsilon^2)$ + round-off |
# | forward mode (dual numbers) | 2.2, 2.3 | one pass per **input** | yes |
# | reverse mode (backpropagation) | 2.4, 2.5 | one pass per **output** | yes |
#
# **How to work.** You fill in `autodiff.py`, the file next to this notebook. Each
# function you have not written yet raises `NotImplementedError("Task 2.x: ...")`,
# so a cell that calls it fails until you do the task; that is expected. Thanks to
# `%autoreload 2` below, saving `autodiff.py` is enough: rerun a cell and it uses your
# new code. Each section ends with a check cell that runs the public tests of that task,
# judged exactly as the grader judges them (the hidden tests are graded after you
# submit).

# %%
# %load_ext autoreload
# %autoreload 2
import autodiff
import matplotlib.pyplot as plt
import numpy as np

from autograder.check import check

# %% [markdown]
# ## The running example
#
# Lecture 000 draws the computation graph of
#
# $$e = (a + b)\cdot(b + 1)$$
#
# with one node per operation: $c = a + b$, $d = b + 1$, $e = c\cdot d$. The chain rule,
# $F'(x) = f'(g(x))\,g'(x)$, applied node by node gives
#
# $$\frac{de}{da} = \frac{de}{dc}\frac{dc}{da} = d, \qquad
#   \frac{de}{db} = \frac{de}{dd}\frac{dd}{db} + \frac{de}{dc}\frac{dc}{db} = c + d .$$
#
# $b$ feeds two nodes, so its two paths **add**. By hand at $a = 2$, $b = 1$:
# $c = 3$, $d = 2$, $e = 6$, $\;de/da = 2$, $\;de/db = 3 + 2 = 5$. Every method below
# must reproduce these numbers.

# %% [markdown]
# ## Task 2.1: numerical_gradient
#
# The centered finite difference (lecture 004) perturbs one coordinate at a time:
#
# $$\frac{\partial f}{\partial x_i}(x) \approx
#   \frac{f(x + \epsilon\, d_i) - f(x - \epsilon\, d_i)}{2\epsilon}$$
#
# where $d_i$ is the one-hot array that is 1 at index $i$. Its error is
# $O(\epsilon^2)$ from the Taylor expansion plus about $u\,|f|/\epsilon$ from rounding
# ($u \approx 10^{-16}$ in float64), so $\epsilon$ can be neither too large nor too
# small; $\epsilon = 10^{-6}$ is a good compromise. `x` may have any shape, and it must
# be unchanged when you return (work on a copy, or restore each entry).
#
# It is slow ($2A$ calls of $f$) and approximate, but it needs nothing but $f$ itself,
# which makes it *the* reference every other method is checked against.


# %%
def f(x):
    return np.sum(x**2)  # gradient 2x


print(autodiff.numerical_gradient(f, np.array([[1.0, 2.0], [3.0, -1.0]])))


def e_of(v):
    return (v[0] + v[1]) * (v[1] + 1)  # the lecture's graph, x = (a, b)


print(autodiff.numerical_gradient(e_of, np.array([2.0, 1.0])))  # ≈ [2, 5]

# %% [markdown]
# The step size matters. Here is the error of the centered difference for
# $\frac{d}{dx}\sin x$ at $x = 1$, against $\epsilon$: truncation error on the right,
# round-off on the left.

# %%
eps = np.logspace(-12, -1, 45)
err = [abs(autodiff.numerical_gradient(np.sin, np.array(1.0), eps=h) - np.cos(1.0)) for h in eps]
plt.loglog(eps, err, ".-")
plt.xlabel("eps")
plt.ylabel("|error|")
plt.title("centered difference of sin at x = 1")
plt.show()

# %%
check("autodiff", "2.1")
# %% [markdown]
# ## Task 2.2: Dual numbers and elementary functions
#
# Forward mode carries a pair (value, derivative) through the program. Write it as a
# dual number $a + a'\varepsilon$ with the rule $\varepsilon^2 = 0$; then arithmetic
# does the differentiation for us:
#
# $$(a + a'\varepsilon) + (b + b'\varepsilon) = (a + b) + (a' + b')\varepsilon, \qquad
#   (a + a'\varepsilon)(b + b'\varepsilon) = ab + (a'b + ab')\varepsilon,$$
#
# $$\frac{a + a'\varepsilon}{b + b'\varepsilon} = \frac{a}{b} + \frac{a'b - ab'}{b^2}\varepsilon,
#   \qquad (a + a'\varepsilon)^p = a^p + p\,a^{p-1}a'\varepsilon ,$$
#
# and for any smooth $g$, $g(a + a'\varepsilon) = g(a) + g'(a)\,a'\varepsilon$: the
# chain rule. So `sin(Dual(a, a'))` is `Dual(sin a, cos a · a')`, `exp` gives
# `Dual(e^a, e^a · a')`, `sigmoid` gives $\sigma(a)(1 - \sigma(a))\,a'$, and so on.
#
# On the lecture's graph, seed the input you differentiate by with derivative 1 and the
# others with 0. One forward pass gives the derivative with respect to **one** input:
# two passes for $de/da$ and $de/db$.

# %%
a, b = autodiff.Dual(2.0, 1.0), autodiff.Dual(1.0, 0.0)  # seed a
print("seed a:", (a + b) * (b + 1))  # Dual(6, de/da = 2)
a, b = autodiff.Dual(2.0, 0.0), autodiff.Dual(1.0, 1.0)  # seed b
print("seed b:", (a + b) * (b + 1))  # Dual(6, de/db = 5)
print(autodiff.sin(autodiff.Dual(0.5, 1.0)), np.cos(0.5))

# %%
check("autodiff", "2.2")
# %% [markdown]
# ## Task 2.3: derivative (forward mode)
#
# `derivative(f, x)` evaluates $f$ on $x + 1\cdot\varepsilon$ and reads off the
# $\varepsilon$ part: $f(x + \varepsilon) = f(x) + f'(x)\,\varepsilon$. The result is
# exact (up to floating point), with no step size to choose. `f` must be built from
# `Dual` arithmetic and the module's `exp, log, sin, cos, tanh, sigmoid`.
#
# Below, $f(x) = x\sin x + e^{-x^2}$ and its derivative, by forward mode and by hand:
# $f'(x) = \sin x + x\cos x - 2x\,e^{-x^2}$.


# %%
def f(x):
    return x * autodiff.sin(x) + autodiff.exp(-(x**2))


xs = np.linspace(-4, 4, 101)
fwd = [autodiff.derivative(f, x) for x in xs]
exact = np.sin(xs) + xs * np.cos(xs) - 2 * xs * np.exp(-(xs**2))
print("max |forward mode - exact| =", np.max(np.abs(np.array(fwd) - exact)))
plt.plot(xs, [f(x) for x in xs], label="f(x)")
plt.plot(xs, fwd, label="derivative(f, x)")
plt.legend()
plt.show()

# %%
check("autodiff", "2.3")
# %% [markdown]
# ## Task 2.4: Tensor operations (reverse mode)
#
# Reverse mode records the graph while computing forward, then walks it backwards. Each
# node $z$ receives the **cumulative gradient** $\partial L/\partial z$ from the nodes
# that use it, multiplies it by its **local gradient** $\partial z/\partial x$, and
# passes $\partial L/\partial x = \partial L/\partial z \cdot \partial z/\partial x$ to
# each input $x$ (lecture 000, "Compute Graph for a Single Layer").
#
# *Notation warning.* That slide writes $z^{(l)}$ for the layer's output before the
# activation (computed from $W^{(l)}$, $b^{(l)}$ and $a^{(l-1)}$) and $a^{(l)}$ for the
# value after the activation. Lecture 002, which the backprop assignment follows, uses
# $a^{(l)}$ for the value **before** the activation and $h$ for the value after it. Same
# letter, opposite meaning: check which lecture a formula with $a$ comes from.
#
# Each op's forward value and its `_backward` closure sit side by side:
#
# | op | forward | what `_backward` adds to each input's `.grad` ($g = \partial L/\partial\,\text{out}$) |
# |---|---|---|
# | `a + b`, `a - b` | $a \pm b$ | $g$, $\pm g$ |
# | `a * b` | $ab$ | $g\,b$, $g\,a$ |
# | `a / b` | $a/b$ | $g/b$, $-g\,a/b^2$ |
# | `a ** p` | $a^p$ | $g\,p\,a^{p-1}$ |
# | `A @ B` | $AB$, (N,K)@(K,M) | $g B^\top$ (N,K), $A^\top g$ (K,M) |
# | `sum`, `mean` | $\sum_i a_i$, $\frac1n\sum_i a_i$ | $g$ (resp. $g/n$) copied back to $a$'s shape |
# | `exp`, `log` | $e^a$, $\ln a$ | $g\,e^a$, $g/a$ |
# | `relu`, `sigmoid`, `tanh` | | $g\,[a > 0]$, $g\,\sigma(1-\sigma)$, $g\,(1 - \tanh^2 a)$ |
#
# **Broadcasting.** When NumPy broadcasts an operand (a bias `(3,)` added to a `(2, 3)`
# matrix), each copy receives part of the gradient, so the operand's gradient is the
# upstream gradient **summed** back to its own shape. The helper `_unbroadcast` (given)
# does that:

# %%
print(autodiff._unbroadcast(np.ones((2, 3)), (3,)))  # [2. 2. 2.]: summed over the rows
print(autodiff._unbroadcast(np.ones((2, 3)), (2, 1)))  # [[3.] [3.]]

# %% [markdown]
# You can drive a single node's `_backward` by hand before Task 2.5 exists: pretend
# $\partial L/\partial\,\text{out} = 1$ and look at what reaches the inputs. `b` is a
# scalar broadcast over three elements, so its gradient is a sum.

# %%
a = autodiff.Tensor([1.0, 2.0, 3.0], requires_grad=True)
b = autodiff.Tensor(4.0, requires_grad=True)
out = a * b
print(out)
out.grad = np.ones(3)  # dL/dout = 1 ...
out._backward()  # ... through this node's local rule only
print("a.grad =", a.grad, "  b.grad =", b.grad)  # [4 4 4] and 1 + 2 + 3 = 6

# %% [markdown]
# The public test of Task 2.4 builds a small graph and calls `backward()`, so it passes
# once Task 2.5 is done too.

# %%
check("autodiff", "2.4")
# %% [markdown]
# ## Task 2.5: backward
#
# `backward()` runs the whole reverse sweep:
#
# 1. order the nodes **topologically** (every node after the nodes it was computed
#    from), with an explicit stack: a recursive walk hits Python's recursion limit on a
#    deep graph;
# 2. seed $\partial L/\partial L = 1$;
# 3. visit the nodes in reverse order, calling each one's `_backward`.
#
# A node used twice (the lecture's $b$) receives both contributions, which is why
# `_backward` **adds** into `.grad`. Leaves accumulate across calls, as in PyTorch.
#
# **Forward vs reverse mode.** For $f:\mathbb{R}^A\to\mathbb{R}^B$, a forward pass
# seeded on input $j$ gives column $j$ of the Jacobian; a reverse sweep seeded on
# output $i$ gives row $i$. A loss has $B = 1$ output and millions of inputs
# (parameters): one reverse sweep gives the whole gradient, where forward mode would
# need one pass per parameter. That is why training uses reverse mode
# (backpropagation). On the lecture's graph, one sweep gives both $de/da$ and $de/db$:

# %%
a = autodiff.Tensor(2.0, requires_grad=True)
b = autodiff.Tensor(1.0, requires_grad=True)
c, d = a + b, b + 1
e = c * d
e.backward()
print("e =", e.data, " de/da =", a.grad, " de/db =", b.grad)  # 6, 2, 5

# %% [markdown]
# **Gradient check.** The standard test of a backward pass compares it with finite
# differences on random inputs. Here is a small network-like loss of a weight matrix,
# 20 random draws, and the relative error
# $\|g_\text{rev} - g_\text{num}\| / (\|g_\text{rev}\| + \|g_\text{num}\|)$ of each. A
# correct implementation sits around $10^{-9}$ or below; a wrong local derivative shows
# up as $10^{-2}$ or worse.


# %%
def loss(W, X):
    h = (X @ W).tanh()
    return (h.sigmoid() * h).mean() + 0.01 * (W**2).sum()


rng = np.random.default_rng(0)
errors = []
for _trial in range(20):
    X, W0 = rng.standard_normal((5, 4)), rng.standard_normal((4, 3))
    W = autodiff.Tensor(W0, requires_grad=True)
    loss(W, autodiff.Tensor(X)).backward()
    num = autodiff.numerical_gradient(lambda w, X=X: loss(autodiff.Tensor(w), autodiff.Tensor(X)).data, W0)
    errors.append(np.linalg.norm(W.grad - num) / (np.linalg.norm(W.grad) + np.linalg.norm(num)))

plt.semilogy(errors, "o")
plt.axhline(1e-7, color="red", ls="--", label="1e-7: suspicious above this")
plt.xlabel("random draw")
plt.ylabel("relative error")
plt.ylim(1e-13, 1)
plt.title("reverse mode vs finite differences")
plt.legend()
plt.show()

# %% [markdown]
# Finally, depth. A chain of 100,000 multiplications is far deeper than Python's
# recursion limit (about 1,000 frames); with an explicit stack it is no problem.
# $\frac{d}{dx}\,(x \cdot 1.00001^{100000}) = 1.00001^{100000} \approx e$.

# %%
x = autodiff.Tensor(1.0, requires_grad=True)
y = x
for _ in range(100_000):
    y = y * 1.00001
y.backward()
print(x.grad, 1.00001**100_000)

# %%
check("autodiff", "2.5")
# %% [markdown]
# ## All together
#
# The cell below runs every public check of this assignment at once (the same as
# `python -m autograder check autodiff autodiff.py` in a terminal).

# %%
check("autodiff")
