"""Assignment 4: dropout, forward and backward.

What it teaches: training a random "thinned" network at every step (lecture 002,
Srivastava et al. 2014) and the two ways of making test time match training in
expectation: inverted dropout (scale the kept units by 1/(1−p) during training, use
the network unchanged at test time) and the lecture's classic scheme (no scaling in
training, weights multiplied by 1−p at test time).

Notation: p is the probability of DROPPING a unit, as in the lecture ("drop out each
node with probability p"; test weights scaled by 1 − p). PyTorch's ``nn.Dropout(p)``
uses p the same way (drop probability, inverted scaling). The paper the lecture cites
uses the opposite convention: Srivastava et al. (2014) write p for the probability of
RETAINING a unit (r_j ~ Bernoulli(p)) and scale the test-time weights by p, i.e. the
lecture's 1 − p. (Lecture 002 also says the thinned network's node count is binomial
"with success probability p"; with its drop probability p the kept count is
Binomial(m, 1 − p), and the dropped count is Binomial(m, p).) Beware of CS231n's
``dropout_forward``: its starter code has used p both ways over the years ("we drop
each neuron output with probability p" in early copies, "we keep each neuron output
with probability p" in later ones), so check the docstring before reusing a solution.

Shapes: x may have any shape; the keep-mask has x's shape.
Randomness only comes from a passed ``np.random.Generator``; nothing seeds NumPy's
global state.
"""

import numbers

import numpy as np

__all__ = ["dropout_forward", "dropout_backward", "classic_test_weights"]


# Input checks (they stay in the student skeleton). ---------------------------------


def _check_p(fn, p):
    """p must be a real number with 0 <= p < 1 (p = 1 would drop everything)."""
    if isinstance(p, bool) or not isinstance(p, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"{fn}: p must be a real number in [0, 1), got {type(p).__name__}")
    p = float(p)
    if not 0.0 <= p < 1.0:  # also rejects NaN
        raise ValueError(f"{fn}: p is the drop probability and must satisfy 0 <= p < 1, got p = {p}")
    return p


def _as_array(fn, name, value):
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{fn}: {name} must be a real array, got {type(value).__name__}") from exc


def _check_cache(fn, cache):
    if not isinstance(cache, dict) or not {"p", "train", "mask"} <= set(cache):
        raise TypeError(
            f"{fn}: cache must be the dict returned by dropout_forward "
            f"(keys 'p', 'train', 'mask'), got {type(cache).__name__}"
        )
    return cache


# ## Task 4.1: dropout_forward


def dropout_forward(x, p, train=True, rng=None, mask=None):
    """Inverted dropout, forward pass; p is the probability of DROPPING a unit.

    Training (train=True):
        keep_i ~ Bernoulli(1 − p), drawn as  keep = rng.random(x.shape) >= p
        (or keep = mask when a mask is given), and
        out = x · keep / (1 − p),
    so E[out_i] = x_i: the expectation matches the full network and nothing changes at
    test time. Test (train=False): out = x (a copy); no randomness is used.
    p = 0 keeps every unit (out equals x).

    Args:
        x: ndarray of any shape.
        p: drop probability, 0 <= p < 1.
        train: True for the training-time thinned network, False for test time.
        rng: np.random.Generator for the mask; np.random.default_rng() when None.
        mask: optional bool ndarray of x's shape, True = keep; overrides rng.

    Returns:
        (out, cache): out has x's shape; cache is the dict dropout_backward reads,
        {"p": p, "train": train, "mask": keep} with keep the bool keep-mask of x's
        shape (None at test time).
    """
    fn = "dropout_forward"
    x = _as_array(fn, "x", x)
    p = _check_p(fn, p)
    if mask is not None:
        mask = np.asarray(mask)
        if mask.dtype != np.bool_:
            raise ValueError(f"{fn}: mask must be a bool array (True = keep), got dtype {mask.dtype}")
        if mask.shape != x.shape:
            raise ValueError(f"{fn}: mask must have x's shape {x.shape}, got shape {mask.shape}")
        mask = mask.copy()
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise TypeError(f"{fn}: rng must be a np.random.Generator or None, got {type(rng).__name__}")
    # BEGIN SOLUTION (Task 4.1: return (out, cache))
    if not train:
        return x.copy(), {"p": p, "train": False, "mask": None}
    if mask is not None:
        keep = mask
    else:
        if rng is None:
            rng = np.random.default_rng()
        keep = rng.random(x.shape) >= p
    out = x * keep / (1.0 - p)
    cache = {"p": p, "train": True, "mask": keep}
    return out, cache
    # END SOLUTION


# ## Task 4.2: dropout_backward


def dropout_backward(dout, cache):
    """Inverted dropout, backward pass.

    The forward map is linear in x with a fixed mask, out_i = x_i keep_i / (1 − p)
    (training) and out = x (test time): derive ∂L/∂x from it, in both modes, with the
    mask saved in the cache.

    Args:
        dout: upstream gradient ∂L/∂out, x's shape.
        cache: the cache from dropout_forward.

    Returns:
        dx: ∂L/∂x, a new ndarray of x's shape.
    """
    fn = "dropout_backward"
    dout = _as_array(fn, "dout", dout)
    cache = _check_cache(fn, cache)
    if cache["train"] and dout.shape != np.shape(cache["mask"]):
        raise ValueError(
            f"{fn}: dout must have the forward input's shape {np.shape(cache['mask'])}, got shape {dout.shape}"
        )
    # BEGIN SOLUTION (Task 4.2: return dx)
    if not cache["train"]:
        return dout.copy()
    return dout * cache["mask"] / (1.0 - cache["p"])
    # END SOLUTION


# ## Task 4.3: classic_test_weights


def classic_test_weights(W, p):
    """The lecture's classic (non-inverted) dropout: test-time weights W · (1 − p).

    In training a unit is present with probability 1 − p and unscaled, so the expected
    input it sends through weight W is (1 − p) W; at test time every unit is present,
    and scaling its outgoing weights by 1 − p gives the same expectation. Inverted
    dropout (dropout_forward) moves this factor into training instead.

    Args:
        W: weights out of the dropped-out layer, any shape.
        p: drop probability, 0 <= p < 1.

    Returns:
        A new ndarray W · (1 − p), W's shape.
    """
    W = _as_array("classic_test_weights", "W", W)
    p = _check_p("classic_test_weights", p)
    # BEGIN SOLUTION (Task 4.3: return the test-time weights)
    return W * (1.0 - p)
    # END SOLUTION
