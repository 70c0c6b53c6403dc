"""Assignment 1: backpropagation derived by hand.

What it teaches: the chain rule worked out on paper and then written as NumPy code, with
no autograd. We start with the computation graph e = (a + b)(b + 1) of lecture 000 (in
code, then by hand at numbers of your own), then, from lecture 002, the gradient of
linear regression's squared error and the two-layer sigmoid network: you derive its
error signals δ and every gradient, then do it again from scratch for a variant (tanh
hidden units, a sigmoid output and the cross-entropy loss). L1/L2 penalties and a
gradient-descent step w ← w − η∇E(w) (lecture 002) finish it. The next assignment
builds the engine that automates all of this.

Notation follows the lectures: c = a + b, d = b + 1 for the graph; for the network
a^(1) = pre-activations of the hidden layer, h = σ(a^(1)), a^(2) = the output unit's
pre-activation, o = σ(a^(2)), E = ½ Σ_n (y_n − o_n)², δ = ∂E/∂a^(2), δ^(1) = ∂E/∂a^(1).
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

import hashlib

import numpy as np

__all__ = [
    "graph_example",
    "graph_inputs",
    "graph_by_hand",
    "linear_regression_grad",
    "sigmoid",
    "mlp_forward",
    "mlp_loss",
    "delta_output",
    "grad_b2",
    "delta_hidden",
    "grad_b1",
    "mlp_backward",
    "tanh_bce_loss",
    "delta_output_bce",
    "tanh_bce_backward",
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
        raise TypeError(f"{fn}: {name} must be a real number or array, got {type(value).__name__}") from exc


def _as_scalar(fn, name, value):
    """`value` as a Python float, or an error naming `fn` and `name`."""
    arr = _as_array(fn, name, value)
    if arr.ndim != 0:
        raise ValueError(f"{fn}: {name} must be a scalar, got shape {arr.shape}")
    return float(arr)


def _check_params(fn, params):
    """Validate the MLP parameter dict; return float64 copies (W1, b1, w2, b2)."""
    if not isinstance(params, dict):
        raise TypeError(f"{fn}: params must be a dict with keys {list(_MLP_KEYS)}, got {type(params).__name__}")
    missing = [k for k in _MLP_KEYS if k not in params]
    if missing:
        raise ValueError(f"{fn}: params is missing key(s) {missing}; expected keys {list(_MLP_KEYS)}")
    W1 = _as_array(fn, "params['W1']", params["W1"])
    if W1.ndim != 2:
        raise ValueError(f"{fn}: params['W1'] must be (H, D), got shape {W1.shape}")
    H = W1.shape[0]
    b1 = _as_array(fn, "params['b1']", params["b1"])
    if b1.shape != (H,):
        raise ValueError(f"{fn}: params['b1'] must be (H,) = ({H},) to match W1 {W1.shape}, got shape {b1.shape}")
    w2 = _as_array(fn, "params['w2']", params["w2"])
    if w2.shape != (H,):
        raise ValueError(f"{fn}: params['w2'] must be (H,) = ({H},) to match W1 {W1.shape}, got shape {w2.shape}")
    b2 = _as_scalar(fn, "params['b2']", params["b2"])
    return W1, b1, w2, b2


def _check_X(fn, X, D):
    """Validate X as (N, D) with D = W1.shape[1]; return a float64 copy."""
    X = _as_array(fn, "X", X)
    if X.ndim != 2 or X.shape[1] != D:
        raise ValueError(f"{fn}: X must be (N, D) with D = W1.shape[1] = {D}, got shape {X.shape}")
    return X


def _check_y(fn, y, N):
    """Validate y as (N,) with N = X.shape[0]; return a float64 copy."""
    y = _as_array(fn, "y", y)
    if y.shape != (N,):
        raise ValueError(f"{fn}: y must be (N,) = ({N},) to match X, got shape {y.shape}")
    return y


def _check_same_shape(fn, o, y):
    """o and y as float64 copies of one shape."""
    o, y = _as_array(fn, "o", o), _as_array(fn, "y", y)
    if o.shape != y.shape:
        raise ValueError(f"{fn}: o and y must have the same shape, got {o.shape} and {y.shape}")
    return o, y


def _check_lam(fn, lam):
    lam = _as_scalar(fn, "lam", lam)
    if not (lam >= 0.0 and np.isfinite(lam)):
        raise ValueError(f"{fn}: lam must be a finite number >= 0, got {lam}")
    return lam


# ## Task 1.1: graph_example and graph_by_hand


def graph_example(a, b):
    """Value and gradient of the lecture's graph e = (a + b)(b + 1).

    Forward, one node at a time:  c = a + b,  d = b + 1,  e = c·d.
    Reverse: start from de/de = 1 and multiply each node's local derivative by the
    derivative arriving from above (the chain rule). Where a variable feeds more than one
    node, the contributions of its paths add.

    Args:
        a, b: real numbers.

    Returns:
        (e, de_da, de_db) as Python floats; e.g. a = 2, b = 1 gives (6.0, 2.0, 5.0).
    """
    a = _as_scalar("graph_example", "a", a)
    b = _as_scalar("graph_example", "b", b)
    # TODO (Task 1.1): your code here.
    raise NotImplementedError('Task 1.1: graph_example — return (e, de_da, de_db)')


GRAPH_KEYS = ("a", "b", "c", "d", "e", "de_dc", "de_dd", "de_da", "de_db")


def graph_inputs(student_id):
    """Your own numbers (a, b) for graph_by_hand, derived from your student id (given code).

    Every student gets their own small integers, so hand-worked answers cannot be passed
    around. Your id is the one the course grades you under: on Gradescope, the Student ID
    (SID) of your account, or your email if the course uses no SIDs; when TAs collect files,
    the name of your file or folder without its extension (s1234567.py -> "s1234567").
    The feedback of graph_by_hand names the id it was graded with. Case and surrounding
    spaces do not matter.

    Returns:
        (a, b) as floats: integers in [-9, 9] with a ≠ 0, b ∉ {0, −1} and a + b ≠ 0.
    """
    if not isinstance(student_id, str) or not student_id.strip():
        raise ValueError(f"graph_inputs: student_id must be a non-empty string, got {student_id!r}")
    digest = hashlib.sha256(student_id.strip().lower().encode("utf-8")).digest()
    for i in range(0, len(digest), 2):
        a, b = digest[i] % 19 - 9, digest[i + 1] % 19 - 9
        if a != 0 and b not in (0, -1) and a + b != 0:
            return float(a), float(b)
    return 2.0, 1.0  # all 16 pairs excluded: about one id in 10^16


def graph_by_hand(student_id):
    """graph_example's graph worked BY HAND at your own (a, b) = graph_inputs(student_id).

    On paper: the forward pass node by node (c, d, e), then the reverse pass (de/dc, de/dd,
    then de/da and de/db). Write the numbers you found here as literals, e.g. "c": 7.0; the
    grader calls this function with your id and checks every entry against your numbers.

    Args:
        student_id: your id (see graph_inputs).

    Returns:
        dict with the float entries "a", "b", "c", "d", "e", "de_dc", "de_dd", "de_da", "de_db".
    """
    a, b = graph_inputs(student_id)
    # TODO (Task 1.1): your code here.
    raise NotImplementedError('Task 1.1: graph_by_hand — return a dict of the GRAPH_KEYS holding your hand-worked numbers')


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
        raise ValueError(f"{fn}: X must be (N, D) with D = len(w) = {w.shape[0]}, got shape {X.shape}")
    y = _check_y(fn, y, X.shape[0])
    # TODO (Task 1.2): your code here.
    raise NotImplementedError('Task 1.2: linear_regression_grad — return dE/dw, shape (D,)')


# ## Task 1.3: sigmoid and mlp_forward


def sigmoid(z):
    """The logistic function σ(z) = 1 / (1 + e^{−z}), stable for large |z|.

    Computing e^{−z} directly overflows for z ≲ −710. Use u = e^{−|z|} ∈ (0, 1] instead:
        σ(z) = 1 / (1 + u)   for z ≥ 0,
        σ(z) = u / (1 + u)   for z < 0   (multiply top and bottom by e^{z}).
    Neither branch overflows, so no overflow warning either (the graded test turns one into an error).

    Args:
        z: a number or an ndarray of any shape.

    Returns:
        σ(z): a float for a scalar z, else an ndarray of z's shape.
    """
    z = _as_array("sigmoid", "z", z)
    # TODO (Task 1.3): your code here.
    raise NotImplementedError('Task 1.3: sigmoid — return sigma(z) without overflow')


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
    # TODO (Task 1.3): your code here.
    raise NotImplementedError('Task 1.3: mlp_forward — return (o, cache)')


# ## Task 1.3 (continued): mlp_loss


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
    # TODO (Task 1.3): your code here.
    raise NotImplementedError('Task 1.3: mlp_loss — return E as a float')


# ## Task 1.4: the output layer's δ and b2's gradient


def delta_output(o, y):
    """The output unit's error signal δ_n = ∂E/∂a^(2)_n of the squared error.

    E = ½ Σ_n (y_n − o_n)² with o_n = σ(a^(2)_n). Derive δ_n by the chain rule
    E → o_n → a^(2)_n (lecture 002 does it on its way to ∂E/∂w^(2)_j) and write it in
    terms of o_n and y_n only.

    Args:
        o: outputs o_n in (0, 1), any shape (usually (N,)).
        y: targets, o's shape.

    Returns:
        ndarray of o's shape.
    """
    o, y = _check_same_shape("delta_output", o, y)
    # TODO (Task 1.4): your code here.
    raise NotImplementedError('Task 1.4: delta_output — return dE/da2 for every example')


def grad_b2(params, X, y):
    """∂E/∂b^(2) for E = ½ Σ_n (y_n − o_n)², where a^(2)_n = ⟨w^(2), h_n⟩ + b^(2).

    Lecture 002 derives ∂E/∂w^(2)_j; the bias follows the same chain with a different last
    factor, ∂a^(2)_n/∂b^(2). Mind that E sums over the N examples.

    Args:
        params: dict with W1 (H, D), b1 (H,), w2 (H,), b2 (float).
        X: (N, D) inputs.
        y: (N,) targets.

    Returns:
        a Python float.
    """
    W1, _, _, _ = _check_params("grad_b2", params)
    X = _check_X("grad_b2", X, W1.shape[1])
    y = _check_y("grad_b2", y, X.shape[0])
    # TODO (Task 1.4): your code here.
    raise NotImplementedError('Task 1.4: grad_b2 — return dE/db2 as a float')


# ## Task 1.5: the hidden layer's δ and b1's gradient


def delta_hidden(delta, w2, h):
    """The hidden units' error signals δ^(1)_{n,j} = ∂E/∂a^(1)_{n,j}, from the output's δ_n.

    Continue the chain below the output: a^(2)_n = ⟨w^(2), h_n⟩ + b^(2) and
    h_{n,j} = σ(a^(1)_{n,j}) (sigmoid hidden units). Each δ^(1)_{n,j} uses only example n.

    Args:
        delta: (N,) the output's δ_n = ∂E/∂a^(2)_n (from delta_output).
        w2: (H,) output weights.
        h: (N, H) hidden activations h_{n,j}.

    Returns:
        (N, H) ndarray.
    """
    fn = "delta_hidden"
    delta, w2, h = _as_array(fn, "delta", delta), _as_array(fn, "w2", w2), _as_array(fn, "h", h)
    if delta.ndim != 1 or w2.ndim != 1 or h.shape != (delta.shape[0], w2.shape[0]):
        raise ValueError(
            f"{fn}: need delta (N,), w2 (H,) and h (N, H); got shapes {delta.shape}, {w2.shape} and {h.shape}"
        )
    # TODO (Task 1.5): your code here.
    raise NotImplementedError('Task 1.5: delta_hidden — return dE/da1, shape (N, H)')


def grad_b1(params, X, y):
    """∂E/∂b^(1) for E = ½ Σ_n (y_n − o_n)², where a^(1)_{n,j} = ⟨w^(1)_j, x_n⟩ + b^(1)_j.

    Args:
        params: dict with W1 (H, D), b1 (H,), w2 (H,), b2 (float).
        X: (N, D) inputs.
        y: (N,) targets.

    Returns:
        (H,) ndarray.
    """
    W1, _, w2, _ = _check_params("grad_b1", params)
    X = _check_X("grad_b1", X, W1.shape[1])
    y = _check_y("grad_b1", y, X.shape[0])
    # TODO (Task 1.5): your code here.
    raise NotImplementedError('Task 1.5: grad_b1 — return dE/db1, shape (H,)')


# ## Task 1.6: mlp_backward


def mlp_backward(params, X, y):
    """Every gradient of E = ½ Σ_n (y_n − o_n)²: backpropagation through the whole network.

    Put Tasks 1.4 and 1.5 together (no autograd): one forward pass, the output's δ, the
    hidden δ^(1), then each parameter's gradient. Lecture 002's worked example gives the
    output weights, ∂E/∂w^(2)_j = Σ_n δ_n h_{n,j}; W1's gradient follows the same pattern
    one layer down.

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
    # TODO (Task 1.6): your code here.
    raise NotImplementedError('Task 1.6: mlp_backward — return the dict of gradients W1, b1, w2, b2 (b2 a float)')


# ## Task 1.7: another network, derived from scratch


def tanh_bce_loss(params, X, y):
    """The binary cross-entropy of a network with tanh hidden units and a sigmoid output.

        h = tanh(X W1ᵀ + b1)   (N, H),      o = σ(h·w2 + b2)   (N,)
        E = −Σ_n [ y_n log o_n + (1 − y_n) log(1 − o_n) ]      (a sum, y_n in [0, 1])

    Mind log(0): o_n rounds to exactly 1 once a^(2)_n ≳ 37 (then log(1 − o_n) = −∞), and to
    exactly 0 only once a^(2)_n ≲ −745 (e^{−745} is the last float64 above 0). Computed from the
    pre-activation, E = Σ_n [log(1 + e^{a^(2)_n}) − y_n a^(2)_n] has no such problem
    (np.logaddexp(0, a) is log(1 + e^a) without overflow).

    Args:
        params: dict with W1 (H, D), b1 (H,), w2 (H,), b2 (float).
        X: (N, D) inputs.
        y: (N,) targets in [0, 1].

    Returns:
        E as a Python float.
    """
    W1, b1, w2, b2 = _check_params("tanh_bce_loss", params)
    X = _check_X("tanh_bce_loss", X, W1.shape[1])
    y = _check_y("tanh_bce_loss", y, X.shape[0])
    # TODO (Task 1.7): your code here.
    raise NotImplementedError('Task 1.7: tanh_bce_loss — return E as a float')


def delta_output_bce(o, y):
    """δ_n = ∂E/∂a^(2)_n for the cross-entropy E of tanh_bce_loss, with o_n = σ(a^(2)_n).

    Derive it: ∂E/∂o_n first, then the sigmoid's derivative. Something cancels.

    Args:
        o: outputs o_n in (0, 1), any shape (usually (N,)).
        y: targets, o's shape.

    Returns:
        ndarray of o's shape.
    """
    o, y = _check_same_shape("delta_output_bce", o, y)
    # TODO (Task 1.7): your code here.
    raise NotImplementedError('Task 1.7: delta_output_bce — return dE/da2 for every example')


def tanh_bce_backward(params, X, y):
    """Every gradient of tanh_bce_loss's E, by your own derivation (no autograd).

    The same four steps as mlp_backward, with two local derivatives changed: the output's
    δ (delta_output_bce) and the hidden units' activation, tanh instead of σ.

    Args:
        params: dict with W1 (H, D), b1 (H,), w2 (H,), b2 (float).
        X: (N, D) inputs.
        y: (N,) targets in [0, 1].

    Returns:
        dict with the same keys and shapes as params: W1 (H, D), b1 (H,), w2 (H,) ndarrays
        and b2 a Python float.
    """
    W1, b1, w2, b2 = _check_params("tanh_bce_backward", params)
    X = _check_X("tanh_bce_backward", X, W1.shape[1])
    y = _check_y("tanh_bce_backward", y, X.shape[0])
    # TODO (Task 1.7): your code here.
    raise NotImplementedError('Task 1.7: tanh_bce_backward — return the dict of gradients W1, b1, w2, b2 (b2 a float)')


# ## Task 1.8: L1/L2 penalties


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
    # TODO (Task 1.8): your code here.
    raise NotImplementedError('Task 1.8: l2_penalty — return (value, grad)')


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
    # TODO (Task 1.8): your code here.
    raise NotImplementedError('Task 1.8: l1_penalty — return (value, grad)')


# ## Task 1.9: sgd_step


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
        raise TypeError(f"{fn}: params and grads must be dicts, got {type(params).__name__} and {type(grads).__name__}")
    if set(params) != set(grads):
        missing = sorted(set(params) - set(grads))
        extra = sorted(set(grads) - set(params))
        raise ValueError(
            f"{fn}: grads must have the same keys as params; missing from grads: {missing}, not in params: {extra}"
        )
    for key in params:
        p_shape, g_shape = np.shape(params[key]), np.shape(grads[key])
        if p_shape != g_shape:
            raise ValueError(f"{fn}: grads[{key!r}] must have params[{key!r}]'s shape {p_shape}, got shape {g_shape}")
    lr = _as_scalar(fn, "lr", lr)
    # TODO (Task 1.9): your code here.
    raise NotImplementedError('Task 1.9: sgd_step — return a new dict of updated parameters')
