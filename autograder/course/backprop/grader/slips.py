"""Recordings of known slips that work a derivation out with one mistake (the grader's only: they
spell the right formulas out, so students do not get this file). Each returns a build function whose
REFERENCE outputs are what a submission with that slip returns; the reference's own functions give
the forward pass."""

import numpy as np

# The derivations this assignment asks for, written out for TAs (grader-only, as is this file).
ANSWERS = """
delta_output: ∂E/∂o_n = o_n − y_n, σ'(a^(2)_n) = o_n(1 − o_n), so δ_n = (o_n − y_n) o_n(1 − o_n)
delta_hidden: δ^(1)_{n,j} = δ_n w^(2)_j h_{n,j}(1 − h_{n,j})   (σ'(z) = σ(z)(1 − σ(z)))
delta_output_bce: ∂E/∂o_n = −y_n/o_n + (1 − y_n)/(1 − o_n); the sigmoid's derivative cancels its
    denominator: δ_n = o_n − y_n
tanh hidden units: tanh'(a) = 1 − tanh(a)² = 1 − h²
"""

# tests/test_leaks.py fails when one of these (regular expressions, case-insensitive) appears in a
# file of the student zip; each must match ANSWERS, the reference or the other grader-only files.
FORMULAS = [
    r"o_?n?\s*\(1\s*[−-]\s*o_?n?\)",  # σ'(a^(2)) = o(1 − o), o_n(1 − o_n)
    r"h_?\{?[nj, ]*\}?\s*\(1\s*[−-]\s*h",  # σ'(a^(1)) = h(1 − h), h_j(1 − h_j)
    r"σ\(z\)\s*\(1\s*[−-]\s*σ\(z\)\)",
    r"1\s*[−-]\s*h\s*(²|\^2|\*\*\s*2)",  # tanh' = 1 − h²
    r"1\s*[−-]\s*tanh\(a\)\s*(²|\^2)",
    r"o_n\s*[−-]\s*y_n",  # ∂E/∂o_n = o_n − y_n, and the cross-entropy's δ
    r"derivative cancels",
    r"cancels it",
    r"[−-]\s*y_n\s*/\s*o_n",  # the cross-entropy's ∂E/∂o_n
]


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def delta_output_without_sigma_prime(o, y):
    def build(s):
        s.output("delta", o - y)

    return build


def delta_hidden_without_sigma_prime(delta, w2, h):
    def build(s):
        s.output("delta_h", np.outer(delta, w2))

    return build


def delta_bce_keeping_sigma_prime(o, y):
    def build(s):
        s.output("delta", (o - y) * o * (1.0 - o))

    return build


def _deltas(s, params, X, y, output_deriv, hidden_deriv):
    """(h, δ, δ^(1)) of the sigmoid network, by the delta formulas with a sigmoid derivative dropped."""
    o, cache = s.student("mlp_forward")(params, X).unpack(2)
    h = cache["h"]
    delta = (o - y) * o * (1.0 - o) if output_deriv else o - y
    delta_h = s.lib("numpy.outer")(delta, params["w2"])
    return h, delta, (delta_h * h * (1.0 - h) if hidden_deriv else delta_h)


def bias_grad_by_hand(params, X, y, which, *, output_deriv=True, hidden_deriv=True):
    """grad_b2 or grad_b1 ("which") with one sigmoid derivative dropped."""

    def build(s):
        _, delta, delta_h = _deltas(s, params, X, y, output_deriv, hidden_deriv)
        s.output(which, s.lib("numpy.sum")(delta) if which == "grad_b2" else s.lib("numpy.sum")(delta_h, axis=0))

    return build


def mlp_backward_by_hand(params, X, y, *, output_deriv=True, hidden_deriv=True):
    """mlp_backward's four gradients with one sigmoid derivative dropped."""

    def build(s):
        h, delta, delta_h = _deltas(s, params, X, y, output_deriv, hidden_deriv)
        s.output("grads['W1']", delta_h.T @ X)
        s.output("grads['b1']", s.lib("numpy.sum")(delta_h, axis=0))
        s.output("grads['w2']", h.T @ delta)
        s.output("grads['b2']", s.lib("numpy.sum")(delta))

    return build


def tanh_bce_by_hand(params, X, y, *, keep_sigma_prime=False, hidden_local="tanh"):
    """tanh_bce_loss and tanh_bce_backward with o(1 − o) kept in δ, or the hidden units' local
    derivative taken as "sigmoid_formula_on_h" (the sigmoid's formula applied to tanh) or "sigmoid" (σ'(a^(1)))."""

    def build(s):
        s.output("E", s.student("tanh_bce_loss")(params, X, y))
        a1 = X @ params["W1"].T + params["b1"]
        h = np.tanh(a1)
        o = _sigmoid(h @ params["w2"] + params["b2"])
        delta = (o - y) * (o * (1.0 - o) if keep_sigma_prime else 1.0)
        local = {
            "tanh": 1.0 - h * h,
            "sigmoid_formula_on_h": h * (1.0 - h),
            "sigmoid": _sigmoid(a1) * (1.0 - _sigmoid(a1)),
        }[hidden_local]
        delta_h = np.outer(delta, params["w2"]) * local
        for key, g in (
            ("W1", delta_h.T @ X),
            ("b1", delta_h.sum(axis=0)),
            ("w2", h.T @ delta),
            ("b2", float(delta.sum())),
        ):
            s.output(f"grads[{key!r}]", g)

    return build
