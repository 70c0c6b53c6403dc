"""Assignment 7: initialisation and gradient flow.

What it teaches
    Why the first weights matter (seed 002: "use random initialization (this is important!)
    ... break symmetry"), how the fan-in/fan-out schemes of seed 004 calibrate the variance of
    each layer so that signals neither die out nor blow up, what the vanishing and exploding
    gradients of seeds 003/004 look like layer by layer, and two remedies: clipping the global
    gradient norm and normalising each batch (in training, then at inference with running
    statistics, seed 001's statistics "over the whole dataset").

Notation
    Weights are stored as PyTorch stores them: a Linear layer's W is (out, in) = (D_l, D_{l-1}),
    a convolution's is (C_out, C_in, KH, KW). fan_in = in·∏kernel, fan_out = out·∏kernel.
    A bias-free MLP: h_0 = X (N, D_0), z_l = h_{l−1} W_lᵀ, h_l = act(z_l), l = 1..L.

The schemes (gain g; PyTorch's torch.nn.init formulas)
    xavier (Glorot):   Var W = g²·2/(fan_in + fan_out)
                       uniform: U(−a, a), a = g·√(6/(fan_in + fan_out));  normal: std = g·√(2/(fan_in + fan_out))
    kaiming (He):      Var W = g²/fan_in, g = √2 for ReLU
                       uniform: a = g·√(3/fan_in);  normal: std = g/√fan_in
    orthogonal:        the Q of a QR decomposition of a Gaussian matrix, times g.
    U(−a, a) has variance a²/3, hence the √3 (and √6 = √3·√2) in the uniform bounds.

    Seed 004 lists a "Fan-in/Fan-out Gaussian (good for ReLU activations)": that is He's scheme
    (kaiming_normal), which may calibrate with either fan (torch's mode="fan_in" keeps the forward
    variance, mode="fan_out" the backward one); init_weights uses fan_in, torch's default.
    Glorot's (xavier) averages fan-in and fan-out and has no √2, which suits tanh. Seed 004
    suggests the SVD for orthogonal weights (U Vᵀ of a Gaussian matrix is orthogonal too); the
    spec fixes the QR steps of torch.nn.init.orthogonal_, whose sign fix makes Q uniformly
    distributed.

Where it departs from PyTorch
    Nowhere in the formulas. Randomness comes from a NumPy Generator (one call per init), so the
    numbers differ from torch's generator; the distributions are the same. Every function computes
    in float64 and returns float64 arrays (the grader compares at float64 precision).
"""

import numbers

import numpy as np

__all__ = [
    "fan_in_fan_out",
    "init_weights",
    "layer_activations",
    "layer_grad_norms",
    "clip_grad_norm",
    "batchnorm_forward",
    "batchnorm_backward",
    "batchnorm_running_update",
    "batchnorm_inference",
]

SCHEMES = ("xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal", "orthogonal")
ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")


# Input checks (they stay in the student skeleton). ---------------------------------


def _check_shape(fn, shape):
    """A tuple of at least two ints >= 1, else ValueError naming the function."""
    try:
        dims = tuple(shape)
    except TypeError:
        raise ValueError(f"{fn}: shape must be a tuple of ints, got {shape!r}") from None
    if len(dims) < 2:
        raise ValueError(
            f"{fn}: shape must have at least 2 dimensions (out, in, *kernel) for "
            f"fan_in and fan_out to be defined, got {dims}"
        )
    for d in dims:
        if isinstance(d, (bool, np.bool_)) or not isinstance(d, (numbers.Integral, np.integer)) or d < 1:
            raise ValueError(f"{fn}: shape must hold ints >= 1, got {dims}")
    return tuple(int(d) for d in dims)


def _real(fn, name, value):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"{fn}: {name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{fn}: {name} must be finite, got {value}")
    return value


def _as_array(fn, name, value):
    try:
        return np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{fn}: {name} must be a real array, got {type(value).__name__}") from exc


def _check_mlp(fn, Ws, X, activation):
    """X (N, D_0) and Ws = [W_1 (D_1, D_0), ..., W_L (D_L, D_{L−1})] as float64 copies."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"{fn}: activation must be one of {ACTIVATIONS}, got {activation!r}")
    X = _as_array(fn, "X", X)
    if X.ndim != 2:
        raise ValueError(f"{fn}: X must be (N, D_0), got shape {X.shape}")
    if isinstance(Ws, np.ndarray) or not isinstance(Ws, (list, tuple)) or len(Ws) == 0:
        raise ValueError(f"{fn}: Ws must be a non-empty list of weight matrices W_l (D_l, D_{{l-1}})")
    Ws = [_as_array(fn, f"Ws[{i}]", W) for i, W in enumerate(Ws)]
    width = X.shape[1]
    for i, W in enumerate(Ws):
        if W.ndim != 2 or W.shape[1] != width:
            raise ValueError(
                f"{fn}: Ws[{i}] must be (D_{i + 1}, {width}) to follow "
                f"{'X' if i == 0 else f'Ws[{i - 1}]'}, got shape {W.shape}"
            )
        width = W.shape[0]
    return Ws, X


# ## Task 7.1: fan_in_fan_out


def fan_in_fan_out(shape):
    """(fan_in, fan_out) of a weight of this shape, by PyTorch's rule.

        Linear (out, in):              fan_in = in,            fan_out = out
        Conv (out, in, KH, KW, ...):   fan_in = in·KH·KW·...,  fan_out = out·KH·KW·...

    A unit of the next layer sums fan_in inputs; a unit of this layer feeds fan_out outputs.

    Args:
        shape: a tuple of at least 2 ints (out, in, *kernel).

    Returns:
        (fan_in, fan_out), two ints.
    """
    shape = _check_shape("fan_in_fan_out", shape)
    # BEGIN SOLUTION (Task 7.1: return (fan_in, fan_out))
    receptive_field = int(np.prod(shape[2:]))  # 1 for a Linear layer
    return shape[1] * receptive_field, shape[0] * receptive_field
    # END SOLUTION


# ## Task 7.2: init_weights


def _orthogonal(shape, rng, gain):
    """torch.nn.init.orthogonal_'s steps on a Gaussian (rows, cols) matrix from rng."""
    # BEGIN SOLUTION (Task 7.2: return the orthogonal weight of this shape)
    rows = shape[0]
    cols = int(np.prod(shape[1:]))
    flat = rng.normal(size=(rows, cols))
    if rows < cols:
        flat = flat.T  # QR of a tall matrix
    q, r = np.linalg.qr(flat)  # q (max, min) with orthonormal columns
    q = q * np.sign(np.diag(r))  # the sign fix: Q is then unique and uniform
    if rows < cols:
        q = q.T
    return (gain * q).reshape(shape)
    # END SOLUTION


def init_weights(shape, scheme, rng, gain=None):
    """Draw a weight of the given shape with one of the fan-in/fan-out schemes.

        "xavier_uniform":  rng.uniform(−a, a, size=shape),  a = g·√(6/(fan_in + fan_out))
        "xavier_normal":   rng.normal(0, std, size=shape),  std = g·√(2/(fan_in + fan_out))
        "kaiming_uniform": rng.uniform(−a, a, size=shape),  a = g·√(3/fan_in)
        "kaiming_normal":  rng.normal(0, std, size=shape),  std = g/√fan_in
        "orthogonal":      QR of rng.normal(size=(rows, cols)), rows = shape[0],
                           cols = ∏shape[1:] (transposed first when rows < cols), Q's columns
                           times sign(diag R), transposed back, times g, reshaped to shape.

    Each scheme makes exactly one call to rng, so a given rng state fixes the values.
    gain=None means g = 1 for xavier and orthogonal, g = √2 (ReLU) for kaiming.

    Args:
        shape: (out, in, *kernel), at least 2 dimensions.
        scheme: one of the five names above.
        rng: a np.random.Generator.
        gain: g, a real number, or None for the default.

    Returns:
        float64 ndarray of the given shape.
    """
    fn = "init_weights"
    shape = _check_shape(fn, shape)
    if scheme not in SCHEMES:
        raise ValueError(f"{fn}: unknown scheme {scheme!r}; choose one of {SCHEMES}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"{fn}: rng must be a np.random.Generator, got {type(rng).__name__}")
    if gain is not None:
        gain = _real(fn, "gain", gain)
    fan_in, fan_out = fan_in_fan_out(shape)
    # BEGIN SOLUTION (Task 7.2: return the drawn weights)
    if gain is None:
        gain = np.sqrt(2.0) if scheme.startswith("kaiming") else 1.0
    if scheme == "xavier_uniform":
        a = gain * np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-a, a, size=shape)
    if scheme == "xavier_normal":
        return rng.normal(0.0, gain * np.sqrt(2.0 / (fan_in + fan_out)), size=shape)
    if scheme == "kaiming_uniform":
        a = gain * np.sqrt(3.0 / fan_in)
        return rng.uniform(-a, a, size=shape)
    if scheme == "kaiming_normal":
        return rng.normal(0.0, gain / np.sqrt(fan_in), size=shape)
    return _orthogonal(shape, rng, gain)
    # END SOLUTION


# ## Task 7.3: layer_activations


def _activate(z, activation):
    """act(z) for the four activations."""
    # BEGIN SOLUTION (Task 7.3: return act(z))
    if activation == "relu":
        return np.maximum(z, 0.0)
    if activation == "tanh":
        return np.tanh(z)
    if activation == "sigmoid":
        return 0.5 * (1.0 + np.tanh(0.5 * z))  # = 1/(1 + e^{−z}), without overflow
    return z
    # END SOLUTION


def layer_activations(Ws, X, activation):
    """The hidden layers of a bias-free MLP: h_0 = X, h_l = act(h_{l−1} W_lᵀ).

    Args:
        Ws: [W_1, ..., W_L], W_l of shape (D_l, D_{l−1}) (PyTorch's (out, in)).
        X: h_0, shape (N, D_0).
        activation: "relu", "tanh", "sigmoid" or "linear".

    Returns:
        [h_1, ..., h_L], h_l of shape (N, D_l).
    """
    Ws, X = _check_mlp("layer_activations", Ws, X, activation)
    # BEGIN SOLUTION (Task 7.3: return [h_1, ..., h_L])
    hs, h = [], X
    for W in Ws:
        h = _activate(h @ W.T, activation)
        hs.append(h)
    return hs
    # END SOLUTION


# ## Task 7.4: layer_grad_norms


def _activation_derivative(z, h, activation):
    """act'(z), given z and h = act(z)."""
    # BEGIN SOLUTION (Task 7.4: return act'(z))
    if activation == "relu":
        return (z > 0).astype(np.float64)  # 0 at z = 0, as PyTorch
    if activation == "tanh":
        return 1.0 - h**2
    if activation == "sigmoid":
        return h * (1.0 - h)
    return np.ones_like(z)
    # END SOLUTION


def layer_grad_norms(Ws, X, activation):
    """‖∂E/∂W_l‖_F for every layer, by backpropagation, for E = ½‖h_L‖² (summed over the batch).

    The forward pass is layer_activations': h_0 = X, z_l = h_{l−1} W_lᵀ, h_l = act(z_l), and
    E = ½ Σ_n Σ_j h_L[n, j]². Derive the backward pass: ∂E/∂h_L, then, layer by layer from the
    output down, ∂E/∂z_l, ∂E/∂W_l (W_l's shape (D_l, D_{l−1})) and the ∂E/∂h_{l−1} that the layer
    below needs, with act' of each activation. No autograd; check it against finite differences
    in the notebook.

    Returns:
        ndarray of shape (L,): entry l − 1 is ‖∂E/∂W_l‖_F.
    """
    Ws, X = _check_mlp("layer_grad_norms", Ws, X, activation)
    # BEGIN SOLUTION (Task 7.4: return the (L,) array of norms)
    zs, hs, h = [], [X], X
    for W in Ws:
        z = h @ W.T
        h = _activate(z, activation)
        zs.append(z)
        hs.append(h)
    norms = np.empty(len(Ws))
    grad_h = hs[-1]  # ∂E/∂h_L = h_L
    for l in range(len(Ws) - 1, -1, -1):
        delta = grad_h * _activation_derivative(zs[l], hs[l + 1], activation)
        norms[l] = np.linalg.norm(delta.T @ hs[l])
        grad_h = delta @ Ws[l]
    return norms
    # END SOLUTION


# ## Task 7.5: clip_grad_norm


def clip_grad_norm(grads, max_norm):
    """Clip a list of gradients by their GLOBAL 2-norm, exactly as torch.nn.utils.clip_grad_norm_.

        total_norm = √(Σ_i ‖g_i‖²)                 (over every entry of every array)
        c = min(1, max_norm / (total_norm + 1e−6))
        clipped_i = c · g_i

    One factor for all arrays keeps the direction of the whole gradient; clipping each array
    by its own norm would change it. Textbooks write the factor max_norm/total_norm (rescale
    when total_norm > max_norm); PyTorch adds 1e−6 against a division by zero. The two differ
    only for tiny norms, and only a small test of such norms asks for PyTorch's 1e−6.

    Args:
        grads: a list (or tuple) of arrays of any shapes.
        max_norm: the largest allowed total norm, >= 0.

    Returns:
        (clipped, total_norm): a list of new arrays (the inputs are unchanged) and the total norm
        before clipping, a float.
    """
    fn = "clip_grad_norm"
    if isinstance(grads, np.ndarray) or not isinstance(grads, (list, tuple)):
        raise TypeError(f"{fn}: grads must be a list of arrays, got {type(grads).__name__}")
    grads = [_as_array(fn, f"grads[{i}]", g) for i, g in enumerate(grads)]
    max_norm = _real(fn, "max_norm", max_norm)
    if max_norm < 0:
        raise ValueError(f"{fn}: max_norm must be >= 0, got {max_norm}")
    # BEGIN SOLUTION (Task 7.5: return (clipped, total_norm))
    total_norm = float(np.sqrt(sum(np.sum(g**2) for g in grads)))
    coef = min(1.0, max_norm / (total_norm + 1e-6))
    return [g * coef for g in grads], total_norm
    # END SOLUTION


# ## Task 7.6: batchnorm_forward


def batchnorm_forward(x, gamma, beta, eps=1e-5):
    """Batch normalisation in training mode, over the batch axis 0.

        μ = (1/N) Σ_n x_n,   σ² = (1/N) Σ_n (x_n − μ)²   (biased, as PyTorch normalises)
        x̂ = (x − μ) / √(σ² + ε),   out = γ ⊙ x̂ + β

    Seed 001 writes the normalisation as (x_i − μ)σ; it is a division, by the standard
    deviation (plus ε inside the root, so a constant feature does not divide by zero).

    Args:
        x: (N, D), N >= 2.
        gamma, beta: (D,).
        eps: ε > 0.

    Returns:
        out (N, D) and cache = (x, gamma, beta, eps) for batchnorm_backward.
    """
    fn = "batchnorm_forward"
    x = _as_array(fn, "x", x)
    gamma = _as_array(fn, "gamma", gamma)
    beta = _as_array(fn, "beta", beta)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"{fn}: x must be (N, D) with N >= 2 (a batch variance needs two rows), got shape {x.shape}")
    for name, p in (("gamma", gamma), ("beta", beta)):
        if p.shape != (x.shape[1],):
            raise ValueError(
                f"{fn}: {name} must be (D,) = ({x.shape[1]},) for x of shape {x.shape}, got shape {p.shape}"
            )
    eps = _real(fn, "eps", eps)
    if eps <= 0:
        raise ValueError(f"{fn}: eps must be > 0, got {eps}")
    # BEGIN SOLUTION (Task 7.6: compute out (N, D))
    mu = x.mean(axis=0)
    var = ((x - mu) ** 2).mean(axis=0)  # biased: divide by N
    out = gamma * (x - mu) / np.sqrt(var + eps) + beta
    # END SOLUTION
    cache = (x, gamma, beta, eps)
    return out, cache


# ## Task 7.7: batchnorm_backward


def batchnorm_backward(dout, cache):
    """Backward pass of batchnorm_forward: the gradients of a scalar loss L given dout = ∂L/∂out.

    The cache holds the forward's inputs (x, γ, β, ε); recompute μ, σ² and x̂ from them.
    Derive ∂L/∂β, ∂L/∂γ and ∂L/∂x from the forward definitions (batchnorm_forward's docstring).
    μ and σ² are computed from every row of the batch, so ∂L/∂x is not just γ·dout/√(σ² + ε):
    follow the gradient through μ and σ² as well. Check it against finite differences in the
    notebook.

    Returns:
        dx (N, D), dgamma (D,), dbeta (D,).
    """
    fn = "batchnorm_backward"
    if not (isinstance(cache, tuple) and len(cache) == 4):
        raise ValueError(
            f"{fn}: cache must be the (x, gamma, beta, eps) tuple returned by "
            f"batchnorm_forward, got {type(cache).__name__}"
        )
    x, gamma, beta, eps = cache
    dout = _as_array(fn, "dout", dout)
    if dout.shape != x.shape:
        raise ValueError(f"{fn}: dout must have the forward output's shape (N, D) = {x.shape}, got shape {dout.shape}")
    # BEGIN SOLUTION (Task 7.7: return (dx, dgamma, dbeta))
    N = x.shape[0]
    mu = x.mean(axis=0)
    inv_std = 1.0 / np.sqrt(((x - mu) ** 2).mean(axis=0) + eps)
    x_hat = (x - mu) * inv_std
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx_hat = dout * gamma
    dx = (inv_std / N) * (N * dx_hat - dx_hat.sum(axis=0) - x_hat * (dx_hat * x_hat).sum(axis=0))
    return dx, dgamma, dbeta
    # END SOLUTION


# ## Task 7.8: batchnorm_running_update


def batchnorm_running_update(running_mean, running_var, x, momentum=0.1):
    """Update batch norm's running statistics with one training batch, as PyTorch does.

        new_mean = (1 − momentum)·running_mean + momentum·μ_B
        new_var  = (1 − momentum)·running_var  + momentum·s²_B

    with μ_B the batch mean over axis 0 and s²_B the UNBIASED batch variance (divide by N − 1),
    as batch_norm(training=True) updates its running buffers (it normalises the batch itself with
    the biased one). Note PyTorch's momentum weighs the NEW statistic (an EMA with β = 1 − momentum).
    Over many batches these estimate seed 001's statistics "over the whole dataset".

    Args:
        running_mean, running_var: (D,).
        x: a training batch (N, D), N >= 2.
        momentum: in [0, 1].

    Returns:
        (new_mean, new_var), two new (D,) arrays; the inputs are unchanged.
    """
    fn = "batchnorm_running_update"
    running_mean = _as_array(fn, "running_mean", running_mean)
    running_var = _as_array(fn, "running_var", running_var)
    x = _as_array(fn, "x", x)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(
            f"{fn}: x must be (N, D) with N >= 2 (an unbiased variance needs two rows), got shape {x.shape}"
        )
    for name, p in (("running_mean", running_mean), ("running_var", running_var)):
        if p.shape != (x.shape[1],):
            raise ValueError(
                f"{fn}: {name} must be (D,) = ({x.shape[1]},) for x of shape {x.shape}, got shape {p.shape}"
            )
    momentum = _real(fn, "momentum", momentum)
    if not 0.0 <= momentum <= 1.0:
        raise ValueError(f"{fn}: momentum must be in [0, 1], got {momentum}")
    # BEGIN SOLUTION (Task 7.8: return (new_mean, new_var))
    batch_mean = x.mean(axis=0)
    batch_var = x.var(axis=0, ddof=1)  # unbiased, as PyTorch's running_var
    new_mean = (1.0 - momentum) * running_mean + momentum * batch_mean
    new_var = (1.0 - momentum) * running_var + momentum * batch_var
    return new_mean, new_var
    # END SOLUTION


# ## Task 7.9: batchnorm_inference


def batchnorm_inference(x, gamma, beta, running_mean, running_var, eps=1e-5):
    """Batch normalisation at test time, as torch.nn.functional.batch_norm(training=False).

        out = γ ⊙ (x − running_mean)/√(running_var + ε) + β

    The statistics are the running estimates, not the batch's: each row is normalised on its own,
    so the output for one example does not depend on the rest of the batch (a batch of one works).

    Args:
        x: (N, D), N >= 1; gamma, beta, running_mean, running_var: (D,); eps > 0.

    Returns:
        out (N, D).
    """
    fn = "batchnorm_inference"
    x = _as_array(fn, "x", x)
    if x.ndim != 2:
        raise ValueError(f"{fn}: x must be (N, D), got shape {x.shape}")
    params = {}
    for name, p in (("gamma", gamma), ("beta", beta), ("running_mean", running_mean), ("running_var", running_var)):
        p = _as_array(fn, name, p)
        if p.shape != (x.shape[1],):
            raise ValueError(
                f"{fn}: {name} must be (D,) = ({x.shape[1]},) for x of shape {x.shape}, got shape {p.shape}"
            )
        params[name] = p
    eps = _real(fn, "eps", eps)
    if eps <= 0:
        raise ValueError(f"{fn}: eps must be > 0, got {eps}")
    # BEGIN SOLUTION (Task 7.9: return out (N, D))
    p = params
    return p["gamma"] * (x - p["running_mean"]) / np.sqrt(p["running_var"] + eps) + p["beta"]
    # END SOLUTION
