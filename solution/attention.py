"""Assignment 8: self-attention, layer normalisation and residual blocks.

What it teaches
    The transformer's building blocks as the lecture notes list them (seed 001, 1.1.1-1.1.4):
    self-attention f(X) = softmax(QKᵀ/√d) V with (Q, K, V) = (X W_Q, X W_K, X W_V), its causal
    (masked) form and its backward pass; multi-head attention
    Linear(Concat(SA_1(x_1), ..., SA_k(x_k))); layer normalisation and its backward pass; the
    residual layer f(x) = x + g(x) that lets gradients pass through deep stacks; and the
    transformer layer that seed 001 §1.1.4 builds from them: "residual layers with multihead self
    attention subblocks and residual layers with two linear sub-blocks".

Notation
    Seed 001's row convention: X (N, T, D) holds N sequences of T tokens of width D, and a
    weight multiplies from the right, X @ W with W (D, D). Attention shapes: Q (..., T_q, d_k),
    K (..., T_k, d_k), V (..., T_k, d_v); the attention weights A (..., T_q, T_k), row i saying
    how much query i looks at each key j. h heads split D into h slices of d = D/h.

    Seed 001 writes normalisation as (x_i − μ)σ. It divides: (x_i − μ)/σ, with σ = √(var + ε)
    (ε inside the root), and layer norm takes μ and var over the features of each token (the
    last axis), batch norm (assignment 7) over the batch.

    Every function computes in float64 (NumPy's default for float64 inputs) and returns float64
    arrays; the grader compares at float64 precision, so do not cast to float32.

Where it departs from PyTorch
    PyTorch stores a linear layer's weight as (out, in) and computes x @ Wᵀ. Here W is applied
    as X @ W (seed 001), so torch.nn.MultiheadAttention's in_proj_weight is
    concat(W_qᵀ, W_kᵀ, W_vᵀ) and its out_proj.weight is W_oᵀ. The numbers are PyTorch's:
    scaled_dot_product_attention(..., is_causal=causal) and layer_norm.
"""

import numbers

import numpy as np

__all__ = [
    "softmax",
    "scaled_dot_product_attention",
    "attention_backward",
    "multihead_self_attention",
    "layer_norm",
    "residual_block",
    "layer_norm_backward",
    "transformer_block",
]


# Input checks (they stay in the student skeleton). ---------------------------------


def _as_array(fn, name, value):
    try:
        return np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{fn}: {name} must be a real array, got {type(value).__name__}") from exc


def _check_causal(fn, causal):
    if not isinstance(causal, (bool, np.bool_)):
        raise TypeError(f"{fn}: causal must be True or False, got {causal!r}")
    return bool(causal)


def _check_qkv(fn, Q, K, V):
    """Q (..., T_q, d_k), K (..., T_k, d_k), V (..., T_k, d_v) with the same leading dims."""
    Q, K, V = (_as_array(fn, n, a) for n, a in (("Q", Q), ("K", K), ("V", V)))
    for name, a, dims in (("Q", Q, "T_q, d_k"), ("K", K, "T_k, d_k"), ("V", V, "T_k, d_v")):
        if a.ndim < 2:
            raise ValueError(f"{fn}: {name} must be (..., {dims}), got shape {a.shape}")
    if not Q.shape[:-2] == K.shape[:-2] == V.shape[:-2]:
        raise ValueError(
            f"{fn}: Q, K and V must share their leading (batch) dimensions, got Q {Q.shape}, K {K.shape}, V {V.shape}"
        )
    if K.shape[-1] != Q.shape[-1]:
        raise ValueError(f"{fn}: d_k of Q {Q.shape} is {Q.shape[-1]} but d_k of K {K.shape} is {K.shape[-1]}")
    if V.shape[-2] != K.shape[-2]:
        raise ValueError(f"{fn}: T_k of K {K.shape} is {K.shape[-2]} but V {V.shape} has {V.shape[-2]} rows")
    return Q, K, V


# ## Task 8.1: softmax


def softmax(z, axis=-1):
    """softmax(z)_i = e^{z_i} / Σ_j e^{z_j} along `axis`, numerically stable.

    Subtracting the maximum first changes nothing mathematically (the factor e^{−max} cancels)
    and keeps every exponent <= 0, so logits of ±1e4 give finite weights instead of
    e^{10000} = inf and inf/inf = nan. Entries of −inf get weight exactly 0.

    Args:
        z: an array with at least one dimension.
        axis: the axis that sums to 1 (default: the last).

    Returns:
        an array of z's shape.
    """
    fn = "softmax"
    z = _as_array(fn, "z", z)
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (numbers.Integral, np.integer)):
        raise TypeError(f"{fn}: axis must be an int, got {axis!r}")
    if not -z.ndim <= axis < z.ndim:
        raise ValueError(f"{fn}: axis {axis} is out of range for z of shape {z.shape}")
    # BEGIN SOLUTION (Task 8.1: return softmax(z) along axis)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)
    # END SOLUTION


# ## Task 8.2: scaled_dot_product_attention


def _causal_mask(T_q, T_k):
    """(T_q, T_k) bool, True where key j comes after query i (j > i): those weights are 0."""
    return np.triu(np.ones((T_q, T_k), dtype=bool), k=1)


def scaled_dot_product_attention(Q, K, V, causal=False):
    """Attention: A = softmax(Q Kᵀ / √d_k) over the last axis, out = A V.

        S = Q Kᵀ / √d_k                   (..., T_q, T_k): query i's score for key j
        S_ij = −∞ where j > i              (causal only: a token sees itself and the past)
        A = softmax(S, axis=−1),  out = A V

    The 1/√d_k keeps the scores' variance near 1 whatever the width (a dot product of d_k
    unit-variance terms has variance d_k), so the softmax is not pushed into saturation.
    The mask is applied before the softmax, so each row still sums to 1 over the keys it may see.
    Equals torch.nn.functional.scaled_dot_product_attention(Q, K, V, is_causal=causal)
    (its causal mask is the top-left aligned j > i, also when T_q ≠ T_k).

    Args:
        Q: (..., T_q, d_k); K: (..., T_k, d_k); V: (..., T_k, d_v); the same leading dims.
        causal: mask out the keys j > i.

    Returns:
        out (..., T_q, d_v), A (..., T_q, T_k).
    """
    fn = "scaled_dot_product_attention"
    Q, K, V = _check_qkv(fn, Q, K, V)
    causal = _check_causal(fn, causal)
    # BEGIN SOLUTION (Task 8.2: return (out, A))
    scores = Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])
    if causal:
        scores = np.where(_causal_mask(Q.shape[-2], K.shape[-2]), -np.inf, scores)
    A = softmax(scores, axis=-1)
    return A @ V, A
    # END SOLUTION


# ## Task 8.3: attention_backward


def attention_backward(dout, Q, K, V, causal=False):
    """Gradients of a scalar loss L through scaled_dot_product_attention, given dout = ∂L/∂out.

    The forward pass, step by step (the derivation is yours):
        S = Q Kᵀ / √d_k,   S_ij = −∞ where j > i if causal
        A = softmax(S) row by row,   out = A V
    Derive ∂L/∂V, ∂L/∂A, ∂L/∂S (through the softmax of each row) and from it ∂L/∂Q and ∂L/∂K,
    batched over the leading axes. Check your result against finite differences in the notebook.

    Args:
        dout: (..., T_q, d_v); Q, K, V and causal as in scaled_dot_product_attention.

    Returns:
        dQ, dK, dV, of Q's, K's and V's shapes.
    """
    fn = "attention_backward"
    Q, K, V = _check_qkv(fn, Q, K, V)
    causal = _check_causal(fn, causal)
    dout = _as_array(fn, "dout", dout)
    expected = Q.shape[:-1] + V.shape[-1:]
    if dout.shape != expected:
        raise ValueError(f"{fn}: dout must have out's shape (..., T_q, d_v) = {expected}, got shape {dout.shape}")
    # BEGIN SOLUTION (Task 8.3: return (dQ, dK, dV))
    scale = 1.0 / np.sqrt(Q.shape[-1])
    _, A = scaled_dot_product_attention(Q, K, V, causal)
    dV = np.swapaxes(A, -1, -2) @ dout
    dA = dout @ np.swapaxes(V, -1, -2)
    dS = A * (dA - np.sum(dA * A, axis=-1, keepdims=True))
    dQ = dS @ K * scale
    dK = np.swapaxes(dS, -1, -2) @ Q * scale
    return dQ, dK, dV
    # END SOLUTION


# ## Task 8.4: multihead_self_attention


def _split_heads(Y, num_heads):
    """(N, T, D) -> (N, h, T, d): head k gets the features k·d .. (k+1)·d − 1."""
    # BEGIN SOLUTION (Task 8.4: return the (N, h, T, d) heads)
    N, T, D = Y.shape
    return Y.reshape(N, T, num_heads, D // num_heads).transpose(0, 2, 1, 3)
    # END SOLUTION


def multihead_self_attention(X, W_q, W_k, W_v, W_o, num_heads, causal=False):
    """Multi-head self-attention, seed 001's Linear(Concat(SA_1(x_1), ..., SA_h(x_h))).

        Q = X W_q, K = X W_k, V = X W_v              (N, T, D) each
        split the last axis into h heads of d = D/h features, in order
        head_k = attention(Q_k, K_k, V_k)           (N, T, d), causal if asked
        out = Concat(head_1, ..., head_h) W_o        (N, T, D)

    The split is a reshape to (N, T, h, d) and a transpose to (N, h, T, d), so that the
    attention's batch axes are (N, h) and its rows are the T tokens; concatenating undoes both.
    Equals torch.nn.MultiheadAttention(D, h, bias=False, batch_first=True) with
    in_proj_weight = concat(W_qᵀ, W_kᵀ, W_vᵀ) and out_proj.weight = W_oᵀ.

    Args:
        X: (N, T, D).
        W_q, W_k, W_v, W_o: (D, D), applied from the right.
        num_heads: h >= 1, dividing D.
        causal: each token attends only to itself and earlier tokens.

    Returns:
        (N, T, D).
    """
    fn = "multihead_self_attention"
    X = _as_array(fn, "X", X)
    if X.ndim != 3:
        raise ValueError(f"{fn}: X must be (N, T, D), got shape {X.shape}")
    D = X.shape[2]
    Ws = []
    for name, W in (("W_q", W_q), ("W_k", W_k), ("W_v", W_v), ("W_o", W_o)):
        W = _as_array(fn, name, W)
        if W.shape != (D, D):
            raise ValueError(f"{fn}: {name} must be (D, D) = ({D}, {D}) for X of shape {X.shape}, got shape {W.shape}")
        Ws.append(W)
    W_q, W_k, W_v, W_o = Ws
    if (
        isinstance(num_heads, (bool, np.bool_))
        or not isinstance(num_heads, (numbers.Integral, np.integer))
        or num_heads < 1
    ):
        raise ValueError(f"{fn}: num_heads must be an int >= 1, got {num_heads!r}")
    if D % num_heads:
        raise ValueError(f"{fn}: D = {D} is not divisible by num_heads = {num_heads}")
    causal = _check_causal(fn, causal)
    # BEGIN SOLUTION (Task 8.4: return the (N, T, D) output)
    N, T, _ = X.shape
    heads, _ = scaled_dot_product_attention(
        _split_heads(X @ W_q, num_heads), _split_heads(X @ W_k, num_heads), _split_heads(X @ W_v, num_heads), causal
    )
    concat = heads.transpose(0, 2, 1, 3).reshape(N, T, D)  # (N, h, T, d) -> (N, T, h·d)
    return concat @ W_o
    # END SOLUTION


# ## Task 8.5: layer_norm


def layer_norm(x, gamma, beta, eps=1e-5):
    """Layer normalisation over the last axis (the D features of each token).

        μ = mean(x, axis=−1),  σ² = mean((x − μ)², axis=−1)   (biased)
        out = γ ⊙ (x − μ)/√(σ² + ε) + β

    As torch.nn.functional.layer_norm(x, (D,), γ, β, ε), in float64. Unlike batch norm, each
    token is normalised on its own: nothing depends on the other rows of the batch.

    Args:
        x: (..., D); gamma, beta: (D,); eps > 0.

    Returns:
        x's shape.
    """
    fn = "layer_norm"
    x = _as_array(fn, "x", x)
    gamma = _as_array(fn, "gamma", gamma)
    beta = _as_array(fn, "beta", beta)
    if x.ndim < 1:
        raise ValueError(f"{fn}: x must be (..., D), got shape {x.shape}")
    for name, p in (("gamma", gamma), ("beta", beta)):
        if p.shape != x.shape[-1:]:
            raise ValueError(
                f"{fn}: {name} must be (D,) = ({x.shape[-1]},) for x of shape {x.shape}, got shape {p.shape}"
            )
    if isinstance(eps, (bool, np.bool_)) or not isinstance(eps, (numbers.Real, np.floating, np.integer)) or not eps > 0:
        raise ValueError(f"{fn}: eps must be a number > 0, got {eps!r}")
    # BEGIN SOLUTION (Task 8.5: return the normalised x)
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    return gamma * (x - mu) / np.sqrt(var + eps) + beta
    # END SOLUTION


# ## Task 8.6: residual_block


def residual_block(x, W1, b1, W2, b2):
    """A residual layer f(x) = x + g(x) with a two-layer MLP g (seed 001):

        out = x + relu(x W1 + b1) W2 + b2

    The skip connection adds the identity to the block's Jacobian: ∂out/∂x = I + ∂g/∂x, so a
    gradient reaches early layers even when every g is small; without it the backward signal is
    a product of L small Jacobians and vanishes with depth.

    Args:
        x: (..., D); W1: (D, H); b1: (H,); W2: (H, D); b2: (D,).

    Returns:
        x's shape.
    """
    fn = "residual_block"
    x = _as_array(fn, "x", x)
    W1, b1, W2, b2 = (_as_array(fn, n, a) for n, a in (("W1", W1), ("b1", b1), ("W2", W2), ("b2", b2)))
    if x.ndim < 1:
        raise ValueError(f"{fn}: x must be (..., D), got shape {x.shape}")
    D = x.shape[-1]
    if W1.ndim != 2 or W1.shape[0] != D:
        raise ValueError(f"{fn}: W1 must be (D, H) with D = {D} for x of shape {x.shape}, got shape {W1.shape}")
    H = W1.shape[1]
    for name, a, want in (("b1", b1, (H,)), ("W2", W2, (H, D)), ("b2", b2, (D,))):
        if a.shape != want:
            raise ValueError(f"{fn}: {name} must be {want} for x {x.shape} and W1 {W1.shape}, got shape {a.shape}")
    # BEGIN SOLUTION (Task 8.6: return x + g(x))
    return x + np.maximum(x @ W1 + b1, 0.0) @ W2 + b2
    # END SOLUTION


# ## Task 8.7: layer_norm_backward


def layer_norm_backward(dout, x, gamma, eps=1e-5):
    """Gradients of a scalar loss L through layer_norm(x, gamma, beta, eps), given dout = ∂L/∂out.

    The forward pass over the last axis (D features), as layer_norm:
        μ = mean(x, axis=−1),  σ² = mean((x − μ)², axis=−1),  x̂ = (x − μ)/√(σ² + ε)
        out = γ ⊙ x̂ + β
    Derive ∂L/∂x (μ and σ² depend on every feature of the token), ∂L/∂γ and ∂L/∂β (summed over
    every leading axis). β does not change the gradients, so it is not an argument.

    Args:
        dout: x's shape (..., D); x: (..., D); gamma: (D,); eps > 0.

    Returns:
        dx (..., D), dgamma (D,), dbeta (D,).
    """
    fn = "layer_norm_backward"
    x = _as_array(fn, "x", x)
    gamma = _as_array(fn, "gamma", gamma)
    dout = _as_array(fn, "dout", dout)
    if x.ndim < 1:
        raise ValueError(f"{fn}: x must be (..., D), got shape {x.shape}")
    if gamma.shape != x.shape[-1:]:
        raise ValueError(
            f"{fn}: gamma must be (D,) = ({x.shape[-1]},) for x of shape {x.shape}, got shape {gamma.shape}"
        )
    if dout.shape != x.shape:
        raise ValueError(f"{fn}: dout must have x's shape {x.shape}, got shape {dout.shape}")
    if isinstance(eps, (bool, np.bool_)) or not isinstance(eps, (numbers.Real, np.floating, np.integer)) or not eps > 0:
        raise ValueError(f"{fn}: eps must be a number > 0, got {eps!r}")
    # BEGIN SOLUTION (Task 8.7: return (dx, dgamma, dbeta))
    D = x.shape[-1]
    mu = x.mean(axis=-1, keepdims=True)
    inv_std = 1.0 / np.sqrt(((x - mu) ** 2).mean(axis=-1, keepdims=True) + eps)
    x_hat = (x - mu) * inv_std
    lead = tuple(range(x.ndim - 1))
    dgamma = (dout * x_hat).sum(axis=lead)
    dbeta = dout.sum(axis=lead)
    dx_hat = dout * gamma
    dx = (inv_std / D) * (
        D * dx_hat - dx_hat.sum(axis=-1, keepdims=True) - x_hat * (dx_hat * x_hat).sum(axis=-1, keepdims=True)
    )
    return dx, dgamma, dbeta
    # END SOLUTION


# ## Task 8.8: transformer_block

BLOCK_PARAMS = ("W_q", "W_k", "W_v", "W_o", "ln1_gamma", "ln1_beta", "ln2_gamma", "ln2_beta", "W1", "b1", "W2", "b2")


def transformer_block(X, params, num_heads, causal=False):
    """Seed 001's transformer layer, pre-norm: a residual attention sub-block, then a residual MLP.

        h   = X + MHSA(LN₁(X))          MHSA = multihead_self_attention(·, W_q, W_k, W_v, W_o, num_heads, causal)
        out = h + MLP(LN₂(h))           MLP(z) = relu(z W1 + b1) W2 + b2,  LNᵢ = layer_norm(·, lni_gamma, lni_beta)

    Equals torch.nn.TransformerEncoderLayer(D, num_heads, dim_feedforward=H, dropout=0.0,
    activation="relu", batch_first=True, norm_first=True) with zero attention biases,
    in_proj_weight = concat(W_qᵀ, W_kᵀ, W_vᵀ), out_proj.weight = W_oᵀ, linear1.weight = W1ᵀ
    and linear2.weight = W2ᵀ (PyTorch stores (out, in)).

    Args:
        X: (N, T, D).
        params: a dict with exactly the keys W_q, W_k, W_v, W_o (D, D), ln1_gamma, ln1_beta,
            ln2_gamma, ln2_beta (D,), W1 (D, H), b1 (H,), W2 (H, D), b2 (D,).
        num_heads: h >= 1, dividing D.
        causal: each token attends only to itself and earlier tokens.

    Returns:
        (N, T, D).
    """
    fn = "transformer_block"
    X = _as_array(fn, "X", X)
    if X.ndim != 3:
        raise ValueError(f"{fn}: X must be (N, T, D), got shape {X.shape}")
    if not isinstance(params, dict) or set(params) != set(BLOCK_PARAMS):
        got = sorted(params) if isinstance(params, dict) else type(params).__name__
        raise ValueError(f"{fn}: params must be a dict with exactly the keys {BLOCK_PARAMS}, got {got}")
    p = {name: _as_array(fn, f"params[{name!r}]", params[name]) for name in BLOCK_PARAMS}
    causal = _check_causal(fn, causal)
    # BEGIN SOLUTION (Task 8.8: return the (N, T, D) output)
    attn_in = layer_norm(X, p["ln1_gamma"], p["ln1_beta"])
    h = X + multihead_self_attention(attn_in, p["W_q"], p["W_k"], p["W_v"], p["W_o"], num_heads, causal)
    z = layer_norm(h, p["ln2_gamma"], p["ln2_beta"])
    return h + np.maximum(z @ p["W1"] + p["b1"], 0.0) @ p["W2"] + p["b2"]
    # END SOLUTION
