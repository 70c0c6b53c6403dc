"""Graded calls as data: a test records what it does to the student API, and the same steps run
on the reference (in the grader) and on the submission (in the sandbox).

    s = Script()
    Tensor = s.student("Tensor")
    a = Tensor(A, requires_grad=True)
    (a * a).sum().backward()
    s.output("a.grad", a.grad)

Each expression above returns a `Ref` that only records a step. `run` replays the steps on a
module and `to_plain` turns what the named outputs hold into plain data (see wire.py). This module
owns the recording's format: its encoding (`to_message`), decoding (`run`), references (`refs`) and
how it reads as Python (`describe_calls`, `runnable_calls`, used by `check`).
"""

import importlib
import operator
import re
import sys
import traceback

import numpy as np

# Libraries a script may name with `Script.lib`: inputs are built with them, never judged by them.
_LIB_ROOTS = ("numpy", "math", "torch")
_BINARY = {"add", "sub", "mul", "truediv", "pow", "matmul", "getitem"}
_UNARY = {"neg"}
# Where a probe may come from besides the engine's shared set (autograder/probes.py): an
# assignment's own probes, autograder/course/<name>/probes.py (its public tests use them) or
# autograder/course/<name>/grader/probes.py (grader only: never in a student zip).
_PROBE_MODULE = re.compile(r"^autograder\.course\.\w+\.(grader\.)?probes$")


class Ref:
    """A value that will exist when the script runs. Operators record steps."""

    __slots__ = ("_script", "_index")

    def __init__(self, script, index):
        object.__setattr__(self, "_script", script)
        object.__setattr__(self, "_index", index)

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)  # keep copy/pickle/numpy protocols away from recording
        return self._script._add("getattr", self, name)

    def __call__(self, *args, **kwargs):
        return self._script._add("call", self, list(args), kwargs)

    def __getitem__(self, key):
        return self._script._add("op", "getitem", self, key)

    def __bool__(self):
        raise TypeError("a Ref has no value while the script is being recorded")

    def __iter__(self):
        raise TypeError("a Ref's length is unknown while recording: use ref.unpack(n)")

    def unpack(self, n):
        """``out, cache = ref.unpack(2)``: the first n items, as Refs."""
        return tuple(self[i] for i in range(n))

    def __repr__(self):
        return f"Ref({self._index})"


def _binary(name, reflected=False):
    if reflected:
        return lambda self, other: self._script._add("op", name, other, self)
    return lambda self, other: self._script._add("op", name, self, other)


for _name in ("add", "sub", "mul", "truediv", "pow", "matmul"):
    setattr(Ref, f"__{_name}__", _binary(_name))
    setattr(Ref, f"__r{_name}__", _binary(_name, reflected=True))
Ref.__neg__ = lambda self: self._script._add("op", "neg", self)


class Script:
    """The recorded steps of one graded test and the names of its outputs."""

    def __init__(self):
        self.steps: list[list] = []
        self.outputs: dict[str, int] = {}
        self.inputs: dict = {}

    def _add(self, kind, *parts):
        self.steps.append([kind, *[_encode_arg(p) for p in parts]])
        return Ref(self, len(self.steps) - 1)

    def student(self, name: str) -> Ref:
        """A name from the submission's module (function, class or constant)."""
        return self._add("student", name)

    def lib(self, dotted: str) -> Ref:
        """A library object by dotted path, e.g. ``"torch.optim.SGD"``."""
        if dotted.split(".")[0] not in _LIB_ROOTS:
            raise ValueError(f"lib: {dotted!r} is not under {_LIB_ROOTS}")
        return self._add("lib", dotted)

    def probe(self, probe, *args) -> Ref:
        """A probe bound to the module under test: the name of one of the engine's shared probes
        (autograder/probes.py), or a function of an assignment's own probes module."""
        name = probe if isinstance(probe, str) else f"{probe.__module__}:{probe.__name__}"
        probe_parts(name)  # refuse a bad name while recording, not when grading
        return self._add("probe", name, list(args))

    def repeat(self, start: Ref, op: str, operand, times: int) -> Ref:
        """``x = start; x = x <op> operand`` `times` times, as one step (deep graphs)."""
        return self._add("repeat", start, op, operand, int(times))

    def value(self, value) -> Ref:
        """One object shared by every later step that uses the Ref (to see in-place changes)."""
        return self._add("const", value)

    def output(self, name: str, value) -> None:
        """Name a value to bring back (plain data only) and judge."""
        ref = value if isinstance(value, Ref) else self._add("const", value)
        self.outputs[name] = ref._index

    def to_message(self) -> dict:
        return {"steps": self.steps, "outputs": self.outputs}


def valid_calls(message: dict, step: int) -> dict:
    """The steps before `step` (the call that must raise) and the outputs they already define."""
    return {
        "steps": message["steps"][:step],
        "outputs": {name: i for name, i in message["outputs"].items() if i < step},
    }


def _encode_arg(value):
    """Args are plain data, with Refs as {"$ref": i}; recursion covers lists, tuples and dicts."""
    if isinstance(value, Ref):
        return {"$ref": value._index}
    if isinstance(value, list):
        return [_encode_arg(v) for v in value]
    if isinstance(value, tuple):
        return {"$tuple": [_encode_arg(v) for v in value]}
    if isinstance(value, dict):
        return {"$dict": [[k, _encode_arg(v)] for k, v in value.items()]}
    if isinstance(value, np.ndarray):
        return {"$array": value.copy()}
    if isinstance(value, slice):
        return {"$slice": [value.start, value.stop, value.step]}
    return value


def refs(value):
    """The step indices an encoded argument (or a step's parts) refers to, depth first."""
    if isinstance(value, dict):
        if "$ref" in value:
            yield value["$ref"]
        for v in value.values():
            yield from refs(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from refs(v)


def _decode_arg(value, values):
    if isinstance(value, list):
        return [_decode_arg(v, values) for v in value]
    if isinstance(value, dict):
        if "$ref" in value:
            return values[value["$ref"]]
        if "$tuple" in value:
            return tuple(_decode_arg(v, values) for v in value["$tuple"])
        if "$dict" in value:
            return {k: _decode_arg(v, values) for k, v in value["$dict"]}
        if "$slice" in value:
            return slice(*value["$slice"])
        if "$array" in value:
            return value["$array"].copy()  # a fresh copy per run: mutation can't leak between runs
    return value


class StepError(Exception):
    """A step of the script raised; carries what feedback may show."""

    def __init__(self, step, exc, where):
        self.step, self.exc_type, self.where = step, type(exc).__name__, where
        self.message = _safe_str(exc)
        super().__init__(f"{self.exc_type}: {self.message}")


def _safe_str(exc):
    try:
        return str(exc)[:500]
    except BaseException:  # a hostile __str__
        return "<exception message could not be read>"


def run(message: dict, module, probes=None) -> dict:
    """Replay recorded steps against `module`; return {output name: raw value}.

    Raises StepError naming the step and the submission's own line where it failed.
    """
    values: list = []
    for index, step in enumerate(message["steps"]):
        try:
            values.append(_execute(step, values, module, probes))
        except BaseException as exc:  # SystemExit and KeyboardInterrupt from a submission too
            raise StepError(index, exc, _submission_frame(exc, module)) from None
    return {name: values[i] for name, i in message["outputs"].items()}


def _execute(step, values, module, probes):
    kind, *parts = step
    args = [_decode_arg(p, values) for p in parts]
    if kind == "student":
        if not hasattr(module, args[0]):
            raise AttributeError(f"the submission defines no {args[0]!r}")
        return getattr(module, args[0])
    if kind == "lib":
        return _resolve(args[0])
    if kind == "probe":
        return _find_probe(args[0], probes)(module, *args[1])
    if kind == "getattr":
        return getattr(args[0], args[1])
    if kind == "call":
        return args[0](*args[1], **args[2])
    if kind == "op":
        name, *operands = args
        return getattr(operator, name)(*operands)
    if kind == "repeat":
        x, op, operand, times = args
        fn = getattr(operator, op)
        for _ in range(times):
            x = fn(x, operand)
        return x
    if kind == "const":
        return args[0]
    raise ValueError(f"unknown step kind {kind!r}")


def probe_parts(name) -> tuple[str, str]:
    """(module, function) of a recorded probe name: "shared_name" (autograder/probes.py) or
    "module:function" (an assignment's probes module)."""
    module, _, function = name.rpartition(":")
    if module and not _PROBE_MODULE.match(module):
        raise ValueError(f"probe {name!r}: probes come from autograder/probes.py or an assignment's probes module")
    return module or "autograder.probes", function


def _find_probe(name, shared):
    module, function = probe_parts(name)
    if module == "autograder.probes" and shared is not None:
        return getattr(shared, function)
    return getattr(importlib.import_module(module), function)


def _resolve(dotted):
    parts = dotted.split(".")
    obj = importlib.import_module(parts[0])
    for i, part in enumerate(parts[1:], start=1):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            obj = importlib.import_module(".".join(parts[: i + 1]))
    return obj


def _submission_frame(exc, module):
    """The deepest traceback line inside the module under test, as 'file:line in func: code'."""
    filename = getattr(module, "__file__", None)
    try:
        frames = traceback.extract_tb(exc.__traceback__)
    except BaseException:
        return None
    mine = [f for f in frames if f.filename == filename]
    if not mine:
        return None
    f = mine[-1]
    return f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} in {f.name}: {(f.line or '').strip()}"


def to_plain(value, _depth=0):
    """Convert what a submission returned into plain data (see wire.py), judging it as a value.

    NumPy subclasses become base ndarrays, torch tensors are detached and copied to the CPU,
    array-likes go through np.asarray. Anything else is described, not kept.
    """
    if _depth > 8:
        return {"$unsupported": "nested too deeply"}
    if value is None or type(value) in (bool, str, int, float):
        return value
    if isinstance(value, (np.bool_, np.integer, np.floating)):
        return value.item()
    if type(value) in (list, tuple):
        items = [to_plain(v, _depth + 1) for v in value]
        return tuple(items) if type(value) is tuple else items
    if type(value) is dict:  # "$..." keys are escaped so no returned dict passes for a wrapper below
        return {_plain_key(k): to_plain(v, _depth + 1) for k, v in value.items()}
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        array = value.detach().to("cpu").numpy().copy()
        return {
            "$tensor": np.array(array),
            "device": str(value.device),
            "dtype": str(value.dtype),
            "requires_grad": bool(value.requires_grad),
        }
    try:
        array = np.array(value, copy=True, subok=False)
    except BaseException as exc:
        return {"$unsupported": f"{type(value).__name__} ({type(exc).__name__} converting it)"}
    if array.dtype.kind not in "biuf":
        return {"$unsupported": f"{type(value).__name__} of dtype {array.dtype}"}
    if isinstance(value, np.ndarray) and type(value) is np.ndarray:
        return array
    return {"$converted": np.ascontiguousarray(array).view(np.ndarray), "type": type(value).__name__}


def _plain_key(key):
    key = str(key)
    return "$" + key if key.startswith("$") else key


# ---------------------------------------------------------------- a recording as the Python a student would write


def describe_calls(message, *, exact=False) -> list[str]:
    """A recorded test as the Python a student would write: `x3 = conv2d_forward(x, w, b, ...)`.
    Arrays are rounded and elided unless `exact` (then every value is written in full)."""
    names, lines = {}, []

    def arg(v):
        if isinstance(v, list):
            return "[" + ", ".join(map(arg, v)) + "]"
        if isinstance(v, dict):
            if "$ref" in v:
                return names[v["$ref"]]
            if "$tuple" in v:
                items = list(map(arg, v["$tuple"]))
                return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
            if "$dict" in v:
                return "{" + ", ".join(f"{k!r}: {arg(x)}" for k, x in v["$dict"]) + "}"
            if "$slice" in v:
                return ":".join("" if p is None else str(p) for p in v["$slice"])
            if "$array" in v:
                return _exact_array(v["$array"]) if exact else _array_text(v["$array"])
        if exact and isinstance(v, float) and not np.isfinite(v):
            return f"float({str(v)!r})"
        return repr(v)

    for i, (kind, *parts) in enumerate(message["steps"]):
        if kind in ("student", "lib"):
            names[i] = parts[0]
            continue
        if kind == "getattr":
            names[i] = f"{arg(parts[0])}.{parts[1]}"
            continue
        if kind == "call":
            call_args = (
                [arg(a) for a in parts[1]] + [f"{k}={arg(x)}" for k, x in parts[2]["$dict"]]
                if isinstance(parts[2], dict) and "$dict" in parts[2]
                else [arg(a) for a in parts[1]]
            )
            text = f"{arg(parts[0])}({', '.join(call_args)})"
        elif kind == "op":
            op, *operands = parts
            if op == "getitem":
                text = f"{arg(operands[0])}[{arg(operands[1])}]"
            elif op == "neg":
                text = f"-{arg(operands[0])}"
            else:
                text = f"{arg(operands[0])} {_SYMBOLS.get(op, op)} {arg(operands[1])}"
        elif kind == "repeat":
            start, op, operand, times = parts
            if exact:
                lines += [
                    f"x{i} = {arg(start)}",
                    f"for _ in range({times}):",
                    f"    x{i} = x{i} {_SYMBOLS.get(op, op)} {arg(operand)}",
                ]
                names[i] = f"x{i}"
                continue
            text = f"{arg(start)}, then `x = x {op} {arg(operand)}` {times} times"
        elif kind == "probe":
            args = ", ".join(["_module", *map(arg, parts[1])]) if exact else ""
            module, function = probe_parts(parts[0])
            text = f"{_probe_alias(module)}.{function}({args})" if exact else f"(a grader helper: {function})"
        else:
            text = arg(parts[0])
        names[i] = f"x{i}"
        lines.append(f"x{i} = {text}")
    if exact:
        return lines + [f"print({name!r}, x{i})" for name, i in message["outputs"].items()]
    judged = ", ".join(f"{name} (x{i})" for name, i in message["outputs"].items())
    return lines + [f"judged: {judged}"]


_SYMBOLS = {"add": "+", "sub": "-", "mul": "*", "truediv": "/", "pow": "**", "matmul": "@"}


def runnable_calls(message, module) -> list[str]:
    """describe_calls, exact, as a script: the imports it needs, then the calls."""
    steps = message["steps"]
    student = sorted({s[1] for s in steps if s[0] == "student"})
    libs = sorted({s[1].split(".")[0] for s in steps if s[0] == "lib"} - {"numpy"})
    header = ["import numpy", "from numpy import array, float16, float32, float64, int32, int64, bool_"]
    header += [f"import {lib}" for lib in libs]
    probe_modules = sorted({probe_parts(s[1])[0] for s in steps if s[0] == "probe"})
    if probe_modules:  # grader helpers (autograder/probes.py or the assignment's) bound to the module
        header += [f"import {m} as {_probe_alias(m)}" for m in probe_modules] + [f"import {module} as _module"]
    if student:
        header.append(f"from {module} import {', '.join(student)}")
    return header + describe_calls(message, exact=True)


def _probe_alias(module):
    return module.rpartition(".")[0].rpartition(".")[2] + "_probes" if module.count(".") > 1 else "probes"


def _array_text(a):
    body = np.array2string(a, precision=4, threshold=12, edgeitems=2, separator=", ", max_line_width=10**6)
    return f"array({' '.join(body.split())}, shape={a.shape}, dtype={a.dtype})"


def _exact_array(a):
    """An array as Python that rebuilds it bit for bit (repr of a Python float round-trips)."""
    values = a.astype(np.float64).tolist() if a.dtype.kind == "f" else a.tolist()
    text = repr(values).replace("nan", "float('nan')").replace("inf", "float('inf')")
    return f"array({text}, dtype={a.dtype.name if a.dtype.kind != 'b' else 'bool_'})"
