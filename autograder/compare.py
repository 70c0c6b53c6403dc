"""Judge plain values: shapes, finiteness, then the worst element against a tolerance.

Works only on what came back through wire.py, so nothing here can be tricked by an object's
own comparison methods: every array is a base ndarray and every number a Python number.
"""

from dataclasses import dataclass

import numpy as np

from autograder.policy import ATOL, RTOL


@dataclass(frozen=True)
class Verdict:
    passed: bool
    message: str = ""


PASS = Verdict(True)


def unwrap(value):
    """(array or number or container, notes) with the sandbox's conversion wrappers removed.

    Wrappers are the dicts script.to_plain makes (a returned dict's own "$..." keys are escaped
    there); one that is not exactly that shape is left as a plain dict, to be judged as such.
    """
    if _is_wrapper(value, "$tensor", {"device": str, "dtype": str, "requires_grad": bool}):
        notes = [
            f"returned a torch tensor ({value['dtype']} on {value['device']}"
            + (", requires_grad" if value["requires_grad"] else "")
            + "); judged by its values"
        ]
        return value["$tensor"], notes
    if _is_wrapper(value, "$converted", {"type": str}):
        return value["$converted"], [f"returned a {value['type']}, not a plain ndarray; judged by its values"]
    return value, []


def _is_wrapper(value, tag, fields):
    return (
        isinstance(value, dict)
        and set(value) == {tag, *fields}
        and isinstance(value[tag], np.ndarray)
        and all(isinstance(value[k], t) for k, t in fields.items())
    )


def describe(value) -> str:
    value, _ = unwrap(value)
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape}, dtype {value.dtype}"
    if isinstance(value, dict) and isinstance(value.get("$unsupported"), str):
        return f"an object that is not an array or a number: {value['$unsupported']}"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of length {len(value)}"
    return f"{type(value).__name__} {value!r}"[:120]


def compare(expected, got, *, rtol=RTOL, atol=ATOL, name="value") -> Verdict:
    """Does `got` equal `expected` to within atol + rtol·|expected|, element by element?"""
    expected, _ = unwrap(expected)  # the reference's tensors are judged as values too
    got, notes = unwrap(got)
    if isinstance(got, dict) and isinstance(got.get("$unsupported"), str):
        return Verdict(False, f"{name}: expected {describe(expected)}, got {describe(got)}")
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return Verdict(False, f"{name}: expected a dict with keys {sorted(expected)}, got {describe(got)}")
        missing = sorted(set(expected) - set(got))
        if missing:
            return Verdict(False, f"{name}: missing keys {missing}")
        for key in expected:
            verdict = compare(expected[key], got[key], rtol=rtol, atol=atol, name=f"{name}[{key!r}]")
            if not verdict.passed:
                return verdict
        return PASS
    if isinstance(expected, tuple) and not _is_numeric_sequence(expected):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            return Verdict(False, f"{name}: expected a tuple of {len(expected)} values, got {describe(got)}")
        for i, (e, g) in enumerate(zip(expected, got, strict=False)):
            verdict = compare(e, g, rtol=rtol, atol=atol, name=f"{name}[{i}]")
            if not verdict.passed:
                return verdict
        return PASS
    if isinstance(expected, (str, type(None))):
        return (
            PASS
            if got == expected and type(got) is type(expected)
            else Verdict(False, f"{name}: expected {expected!r}, got {describe(got)}")
        )
    return _compare_arrays(expected, got, rtol, atol, name, notes)


def _is_numeric_sequence(value):
    return all(isinstance(v, (int, float)) for v in value)


def _as_numeric_array(value):
    try:
        array = np.asarray(value)
    except (ValueError, TypeError):
        return None
    return array if array.dtype.kind in "biuf" else None


def _compare_arrays(expected, got, rtol, atol, name, notes):
    exp = np.asarray(expected, dtype=np.float64)
    arr = _as_numeric_array(got)
    if arr is None:
        return Verdict(False, f"{name}: expected {describe(expected)}, got {describe(got)}")
    if isinstance(got, (list, tuple)) and np.ndim(expected) > 0:
        notes = notes + [f"returned a {type(got).__name__}, not an ndarray; judged by its values"]
    if arr.shape != exp.shape:
        if arr.size == exp.size and exp.ndim > 0:
            hint = " (same number of elements: a reshape or transpose slip?)"
        else:
            hint = ""
        return Verdict(False, f"{name}: shape mismatch: expected {exp.shape}, got {arr.shape}{hint}")
    arr = arr.astype(np.float64)
    bad = ~np.isfinite(arr) & np.isfinite(exp)
    if bad.any():
        idx = _index(np.argmax(bad), exp.shape)
        return Verdict(False, f"{name}: {int(bad.sum())} non-finite value(s), first at {idx}: got {arr[idx]}")
    err = np.abs(arr - exp)
    err = np.where(np.isnan(exp) & np.isnan(arr), 0.0, err)
    allowed = atol + rtol * np.abs(exp)
    if not (err <= allowed).all():
        with np.errstate(divide="ignore", invalid="ignore"):  # a zero tolerance is allowed
            excess = np.where(np.isfinite(err) & (err > allowed), err / allowed, 0.0)
        excess = np.where(np.isfinite(err), excess, np.inf)
        flat = int(np.argmax(excess))
        idx = _index(flat, exp.shape)
        e, g = exp[idx] if exp.ndim else float(exp), arr[idx] if arr.ndim else float(arr)
        n_bad = int((err > allowed).sum())
        where = f" at index {idx}" if exp.ndim else ""
        return Verdict(
            False,
            (
                f"{name}: {n_bad} of {exp.size} element(s) differ; worst{where}: expected {e:.10g}, got {g:.10g} "
                f"(abs err {abs(g - e):.3g}{f', rel err {abs(g - e) / abs(e):.3g}' if e else ''}; "
                f"tolerance {atol:g} + {rtol:g}·|expected|)"
            ),
        )
    if notes:
        return Verdict(True, "; ".join(notes))
    return PASS


def _index(flat, shape):
    return tuple(int(i) for i in np.unravel_index(flat, shape)) if shape else ()
