"""Assignment 1: backpropagation derived by hand.

What it teaches: the chain rule worked out on paper and then written as NumPy code,
with no autograd. We start with the two-node computation graph e = (a + b)(b + 1)
(lecture 000), then, from lecture 002, the gradient of linear regression's squared
error, the delta formulas of a two-layer sigmoid network trained on the squared error,
L1/L2 penalties added to the loss, and a gradient-descent step w ← w − η∇E(w).

Notation follows the lectures: c = a + b, d = b + 1 for the graph; for the network
a^(1) = pre-activations of the hidden layer, h = σ(a^(1)), a^(2) = the output unit's
pre-activation, o = σ(a^(2)), E = ½ Σ_n (y_n − o_n)², δ = ∂E/∂a^(2).
Beware: a^(l) is the PRE-activation here, as in lecture 002; lecture 000 writes z^(l)
for the pre-activation and a^(l) for the activation (our h).
Shapes use one letter set: N examples, D inputs (the lecture's d), H hidden units
(the lecture's d_1).

Where it departs from the lecture or PyTorch:
- the lecture's network has no biases; ours has b1 (one per hidden unit) and b2;
- E is a *sum* over examples (the lecture's ½ Σ_n), not the mean that
  ``torch.nn.MSELoss()`` returns by default, so gradients grow with N;
- the L2 penalty is λ/2‖W‖²_F with gradient λW, which is what ``weight_decay=λ``
  in ``torch.optim.SGD`` adds to the gradient.
"""
import numpy as np

__all__ = [
    "graph_example",
    "linear_regression_grad",
    "sigmoid",
    "mlp_forward",
    "mlp_loss",
    "mlp_backward",
    "l2_penalty",
    "l1_penalty",
    "sgd_step",
]

_MLP_KEYS = ("W1", "b1", "w2", "b2")


# Input checks (they stay in the student skeleton). ---------------------------------

def _as_array(fn, name, value):
    """`value` as a new float64 ndarray, or a TypeError naming `fn` and `name`."""
    try:
        return np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"{fn}: {name} must be a real number or array, got {type(value).__name__}"
        ) from exc


def _as_scalar(fn, name, value):
    """`value` as a Python float, or an error naming `fn` and `name`."""
    arr = _as_array(fn, name, value)
    if arr.ndim != 0:
        raise ValueError(f"{fn}: {name} must be a scalar, got shape {arr.shape}")
    return float(arr)


def _check_params(fn, params):
    """Validate the MLP parameter dict; return float64 copies (W1, b1, w2, b2)."""
    if not isinstance(params, dict):
        raise TypeError(f"{fn}: params must be a dict with keys {list(_MLP_KEYS)}, "
                        f"got {type(params).__name__}")
    missing = [k for k in _MLP_KEYS if k not in params]
    if missing:
        raise ValueError(f"{fn}: params is missing key(s) {missing}; "
                         f"expected keys {list(_MLP_KEYS)}")
    W1 = _as_array(fn, "params['W1']", params["W1"])
    if W1.ndim != 2:
        raise ValueError(f"{fn}: params['W1'] must be (H, D), got shape {W1.shape}")
    H = W1.shape[0]
    b1 = _as_array(fn, "params['b1']", params["b1"])
    if b1.shape != (H,):
        raise ValueError(f"{fn}: params['b1'] must be (H,) = ({H},) to match "
                         f"W1 {W1.shape}, got shape {b1.shape}")
    w2 = _as_array(fn, "params['w2']", params["w2"])
    if w2.shape != (H,):
        raise ValueError(f"{fn}: params['w2'] must be (H,) = ({H},) to match "
                         f"W1 {W1.shape}, got shape {w2.shape}")
    b2 = _as_scalar(fn, "params['b2']", params["b2"])
    return W1, b1, w2, b2


def _check_X(fn, X, D):
    """Validate X as (N, D) with D = W1.shape[1]; return a float64 copy."""
    X = _as_array(fn, "X", X)
    if X.ndim != 2 or X.shape[1] != D:
        raise ValueError(f"{fn}: X must be (N, D) with D = W1.shape[1] = {D}, "
                         f"got shape {X.shape}")
    return X


def _check_y(fn, y, N):
    """Validate y as (N,) with N = X.shape[0]; return a float64 copy."""
    y = _as_array(fn, "y", y)
    if y.shape != (N,):
        raise ValueError(f"{fn}: y must be (N,) = ({N},) to match X, got shape {y.shape}")
    return y


def _check_lam(fn, lam):
    lam = _as_scalar(fn, "lam", lam)
    if not (lam >= 0.0 and np.isfinite(lam)):
        raise ValueError(f"{fn}: lam must be a finite number >= 0, got {lam}")
    return lam


# ## Task 1.1: graph_example

def graph_example(a, b):
    """Value and gradient of the lecture's graph e = (a + b)(b + 1).

    Forward, one node at a time:  c = a + b,  d = b + 1,  e = c·d.
    Reverse, local derivatives times the upstream derivative:
        de/da = de/dc · dc/da = d
        de/db = de/dd · dd/db + de/dc · dc/db = c + d   (b feeds two nodes: add both paths)

    Args:
        a, b: real numbers.

    Returns:
        (e, de_da, de_db) as Python floats; e.g. a = 2, b = 1 gives (6.0, 2.0, 5.0).
    """
    a = _as_scalar("graph_example", "a", a)
    b = _as_scalar("graph_example", "b", b)
    # BEGIN SOLUTION (Task 1.1: return (e, de_da, de_db))
    c = a + b
    d = b + 1.0
    e = c * d
    de_dc, de_dd = d, c          # e = c·d
    de_da = de_dc * 1.0          # c = a + b
    de_db = de_dd * 1.0 + de_dc * 1.0
    return float(e), float(de_da), float(de_db)
    # END SOLUTION


# ## Task 1.2: linear_regression_grad

def linear_regression_grad(w, X, y):
    """Gradient of the squared error of a linear hypothesis (lecture 002).

        o_n = ⟨w, x_n⟩,   E(w) = Σ_n (y_n − o_n)²
        ∂E/∂w_j = −2 Σ_n (y_n − o_n) x_{n,j},   i.e.  ∇E(w) = −2 Xᵀ(y − Xw)

    Note: no ½ in front of this E, so the 2 stays.

    Args:
        w: (D,) weights.
        X: (N, D) inputs, one example x_n per row.
        y: (N,) targets.

    Returns:
        (D,) ndarray ∇E(w).
    """
    fn = "linear_regression_grad"
    w = _as_array(fn, "w", w)
    if w.ndim != 1:
        raise ValueError(f"{fn}: w must be (D,), got shape {w.shape}")
    X = _as_array(fn, "X", X)
    if X.ndim != 2 or X.shape[1] != w.shape[0]:
        raise ValueError(f"{fn}: X must be (N, D) with D = len(w) = {w.shape[0]}, "
                         f"got shape {X.shape}")
    y = _check_y(fn, y, X.shape[0])
    # BEGIN SOLUTION (Task 1.2: return dE/dw, shape (D,))
    o = X @ w                    # (N,)
    return -2.0 * X.T @ (y - o)  # (D,)
    # END SOLUTION


# ## Task 1.3: sigmoid and mlp_forward

def sigmoid(z):
    """The logistic function σ(z) = 1 / (1 + e^{−z}), stable for large |z|.

    Computing e^{−z} directly overflows for z ≲ −710. Use u = e^{−|z|} ∈ (0, 1] instead:
        σ(z) = 1 / (1 + u)   for z ≥ 0,
        σ(z) = u / (1 + u)   for z < 0   (multiply top and bottom by e^{z}).
    Its derivative, used in backprop: σ'(z) = σ(z)(1 − σ(z)).

    Args:
        z: a number or an ndarray of any shape.

    Returns:
        σ(z): a float for a scalar z, else an ndarray of z's shape.
    """
    z = _as_array("sigmoid", "z", z)
    # BEGIN SOLUTION (Task 1.3: return sigma(z) without overflow)
    u = np.exp(-np.abs(z))
    s = np.where(z >= 0, 1.0 / (1.0 + u), u / (1.0 + u))
    return float(s) if s.ndim == 0 else s
    # END SOLUTION


def mlp_forward(params, X):
    """Forward pass of the two-layer sigmoid network (lecture 002, with biases).

    For each example n and hidden unit j:
        a^(1)_{n,j} = ⟨w^(1)_j, x_n⟩ + b^(1)_j      (w^(1)_j = row j of W1)
        h_{n,j}     = σ(a^(1)_{n,j})
        a^(2)_n     = ⟨w^(2), h_n⟩ + b^(2)
        o_n         = σ(a^(2)_n)
    In matrix form: h = σ(X W1ᵀ + b1), o = σ(h w2 + b2).

    Args:
        params: dict with W1 (H, D), b1 (H,), w2 (H,), b2 (float).
        X: (N, D) inputs.

    Returns:
        (o, cache): o (N,) outputs in (0, 1); cache a dict of what backprop reuses
        (X (N, D), h (N, H), o (N,)).
    """
    W1, b1, w2, b2 = _check_params("mlp_forward", params)
    X = _check_X("mlp_forward", X, W1.shape[1])
    # BEGIN SOLUTION (Task 1.3: return (o, cache))
    h = sigmoid(X @ W1.T + b1)   # (N, H)
    o = sigmoid(h @ w2 + b2)     # (N,)
    cache = {"X": X, "h": h, "o": o}
    return o, cache
    # END SOLUTION


# ## Task 1.4: mlp_loss

def mlp_loss(params, X, y):
    """The squared error E = ½ Σ_n (y_n − o_n)² of the network's outputs.

    A sum over the N examples, not a mean (torch's MSELoss(reduction='sum') / 2).

    Args:
        params: dict with W1 (H, D), b1 (H,), w2 (H,), b2 (float).
        X: (N, D) inputs.
        y: (N,) targets.

    Returns:
        E as a Python float.
    """
    W1, _, _, _ = _check_params("mlp_loss", params)
    X = _check_X("mlp_loss", X, W1.shape[1])
    y = _check_y("mlp_loss", y, X.shape[0])
    # BEGIN SOLUTION (Task 1.4: return E as a float)
    o, _ = mlp_forward(params, X)
    return float(0.5 * np.sum((y - o) ** 2))
    # END SOLUTION


# ## Task 1.5: mlp_backward

def mlp_backward(params, X, y):
    """Gradient of E = ½ Σ_n (y_n − o_n)² by the hand-derived delta formulas.

    Output layer (lecture 002: ∂E/∂w^(2)_j = ∂E/∂o · ∂o/∂a^(2) · ∂a^(2)/∂w^(2)_j):
        δ_n           = ∂E/∂a^(2)_n = −(y_n − o_n) o_n (1 − o_n)
        ∂E/∂w^(2)_j   = Σ_n δ_n h_{n,j}
        ∂E/∂b^(2)     = Σ_n δ_n
    Hidden layer (… · ∂a^(2)/∂h_j · ∂h_j/∂a^(1)_j · ∂a^(1)_j/∂w^(1)_{j,i}):
        δ^(1)_{n,j}       = δ_n w^(2)_j h_{n,j} (1 − h_{n,j})
        ∂E/∂w^(1)_{j,i}   = Σ_n δ^(1)_{n,j} x_{n,i}       (dW1 = δ^(1)ᵀ X)
        ∂E/∂b^(1)_j       = Σ_n δ^(1)_{n,j}

    Args:
        params: dict with W1 (H, D), b1 (H,), w2 (H,), b2 (float).
        X: (N, D) inputs.
        y: (N,) targets.

    Returns:
        dict with the same keys and shapes: W1 (H, D), b1 (H,), w2 (H,) ndarrays and
        b2 a Python float.
    """
    W1, b1, w2, b2 = _check_params("mlp_backward", params)
    X = _check_X("mlp_backward", X, W1.shape[1])
    y = _check_y("mlp_backward", y, X.shape[0])
    # BEGIN SOLUTION (Task 1.5: return the dict of gradients W1, b1, w2, b2 (b2 a float))
    o, cache = mlp_forward(params, X)
    h = cache["h"]                                   # (N, H)
    delta_o = (o - y) * o * (1.0 - o)                # (N,)   dE/da2
    dw2 = h.T @ delta_o                              # (H,)
    db2 = float(np.sum(delta_o))
    delta_h = np.outer(delta_o, w2) * h * (1.0 - h)  # (N, H) dE/da1
    dW1 = delta_h.T @ X                              # (H, D)
    db1 = np.sum(delta_h, axis=0)                    # (H,)
    return {"W1": dW1, "b1": db1, "w2": dw2, "b2": db2}
    # END SOLUTION


# ## Task 1.6: L1/L2 penalties

def l2_penalty(W, lam):
    """L2 regularization ("weight decay"), lecture 002: value and gradient.

        R(W)  = λ/2 ‖W‖²_F = λ/2 Σ_{i,j} W_{ij}²
        ∇R(W) = λ W

    Args:
        W: weights, an ndarray of any shape (a matrix W^(ℓ) or a vector).
        lam: λ ≥ 0.

    Returns:
        (value, grad): value a Python float, grad an ndarray of W's shape.
    """
    W = _as_array("l2_penalty", "W", W)
    lam = _check_lam("l2_penalty", lam)
    # BEGIN SOLUTION (Task 1.6: return (value, grad))
    value = 0.5 * lam * float(np.sum(W * W))
    return value, lam * W
    # END SOLUTION


def l1_penalty(W, lam):
    """L1 regularization, lecture 002: value and (sub)gradient.

        R(W)  = λ ‖W‖₁ = λ Σ_{i,j} |W_{ij}|
        ∇R(W) = λ sign(W)    with sign(0) = 0 (the subgradient torch uses too)

    A descent step with this subgradient does not make weights exactly zero: it jumps
    across 0 (a weight whose optimum is 0 keeps jumping, of order ηλ from it). Exact
    zeros come from the proximal step w ← sign(z)·max(|z| − ηλ, 0), z = w − η∇E(w).

    Args:
        W: weights, an ndarray of any shape.
        lam: λ ≥ 0.

    Returns:
        (value, grad): value a Python float, grad an ndarray of W's shape.
    """
    W = _as_array("l1_penalty", "W", W)
    lam = _check_lam("l1_penalty", lam)
    # BEGIN SOLUTION (Task 1.6: return (value, grad))
    value = lam * float(np.sum(np.abs(W)))
    return value, lam * np.sign(W)
    # END SOLUTION


# ## Task 1.7: sgd_step

def sgd_step(params, grads, lr):
    """One gradient-descent step on every parameter: w_new = w − η ∂E/∂w.

    Args:
        params: dict name -> ndarray or float (e.g. mlp_forward's W1, b1, w2, b2).
        grads: dict with exactly the same keys, each of its parameter's shape.
        lr: the step size η.

    Returns:
        A new dict with the updated parameters; scalars (like b2) stay Python floats.
        `params` and `grads` are left untouched.
    """
    fn = "sgd_step"
    if not isinstance(params, dict) or not isinstance(grads, dict):
        raise TypeError(f"{fn}: params and grads must be dicts, got "
                        f"{type(params).__name__} and {type(grads).__name__}")
    if set(params) != set(grads):
        missing = sorted(set(params) - set(grads))
        extra = sorted(set(grads) - set(params))
        raise ValueError(f"{fn}: grads must have the same keys as params; "
                         f"missing from grads: {missing}, not in params: {extra}")
    for key in params:
        p_shape, g_shape = np.shape(params[key]), np.shape(grads[key])
        if p_shape != g_shape:
            raise ValueError(f"{fn}: grads[{key!r}] must have params[{key!r}]'s shape "
                             f"{p_shape}, got shape {g_shape}")
    lr = _as_scalar(fn, "lr", lr)
    # BEGIN SOLUTION (Task 1.7: return a new dict of updated parameters)
    new = {}
    for key, value in params.items():
        updated = np.asarray(value, dtype=np.float64) - lr * np.asarray(grads[key], dtype=np.float64)
        new[key] = float(updated) if updated.ndim == 0 else updated
    return new
    # END SOLUTION
