"""A submitted notebook, as students leave it, turned into the module that is graded.

Kept: imports, function and class definitions, and assignments that call nothing the notebook
defines (constants, `rng = np.random.default_rng(0)`). Left out, as comments so that line numbers
still point into the notebook: magics and shell lines, check cells (`check(...)`, `grader.check`),
`import <assignment>` (the teaching notebooks import the student's .py), plotting, and every demo
statement that runs the student's code at import time (a demo cell calling an unfinished function
must not cost the functions that work).

Parsing a hostile file can take a lot of memory, so `neutralize` runs in a child process with a
memory and CPU cap (`neutralize_in_child`); the grader itself never parses submitted code.
"""

import ast
import json
import re
import resource
import subprocess
import sys

from autograder import ROOT
from autograder.policy import NOTEBOOK_PARSE_MEMORY_BYTES, NOTEBOOK_PARSE_SECONDS

# Imported only to draw or to check; a graded module needs none of them.
_LEFT_OUT_MODULES = {
    "autograder",
    "otter",
    "matplotlib",
    "seaborn",
    "IPython",
    "ipywidgets",
    "google",
    "tqdm",
    "plotly",
}
_LEFT_OUT_NAMES = {"check", "grader", "plt", "sns", "display", "get_ipython"}
_MAGIC = re.compile(r"^(\s*)([%!]|\w+\s*=\s*[%!])")
_CELL_MAGICS_WITH_PYTHON = ("%%time", "%%timeit", "%%capture", "%%writefile")


def neutralize(cells: list[str], module: str) -> dict:
    """{'source': graded module text, 'defined': top-level names defined, 'imports_module': bool},
    or {'error': why}. `cells` are the code cells' sources in order; `module` the assignment's."""
    defined = set()
    parsed = []
    for index, text in enumerate(cells):
        text = _without_magics(text)
        try:
            tree = ast.parse(text)
        except SyntaxError as err:
            return {"error": f"syntax error in code cell {index + 1}, line {err.lineno}: {err.msg}"}
        except (ValueError, RecursionError, MemoryError) as err:
            return {"error": f"code cell {index + 1} cannot be parsed: {type(err).__name__}"}
        parsed.append((text, tree))
        defined |= {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    imports_module = False
    parts = []
    left_out_names = set(_LEFT_OUT_NAMES) | {module}  # grows with what left-out statements bind
    for index, (text, tree) in enumerate(parsed):
        lines = text.splitlines()
        for node in tree.body:
            imports_module |= _imports(node, module)
            if not _kept(node, module, defined, left_out_names):
                left_out_names |= _bound_names(node) - defined
                for i in range(node.lineno - 1, node.end_lineno):
                    lines[i] = "# " + lines[i]
        parts.append(f"# --- code cell {index + 1}\n" + "\n".join(lines))
    return {"source": "\n".join(parts) + "\n", "defined": sorted(defined), "imports_module": imports_module}


def _without_magics(text):
    lines = text.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        if lines[0].split()[0] in _CELL_MAGICS_WITH_PYTHON:
            return "\n".join(["# " + lines[0]] + lines[1:])
        return "\n".join("# " + ln for ln in lines)
    # a line magic inside a block becomes `pass`, so the block stays valid Python
    return "\n".join(_MAGIC.sub(r"\1pass  # ", ln, count=1) if _MAGIC.match(ln) else ln for ln in lines)


def _imports(node, module):
    if isinstance(node, ast.Import):
        return any(a.name.split(".")[0] == module for a in node.names)
    return isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == module and not node.level


def _bound_names(node):
    names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def _kept(node, module, defined, left_out_names):
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return True
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        roots = (
            [a.name.split(".")[0] for a in node.names]
            if isinstance(node, ast.Import)
            else [(node.module or "").split(".")[0]]
        )
        relative = getattr(node, "level", 0)  # `from . import x` means nothing in a notebook
        return not relative and not any(r == module or r in _LEFT_OUT_MODULES for r in roots)
    if isinstance(node, ast.Expr):
        return isinstance(node.value, ast.Constant)  # a docstring
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
        calls = {_root(c.func) for c in ast.walk(node) if isinstance(c, ast.Call)}
        return not (names & left_out_names) and not (calls & defined)
    if isinstance(node, (ast.If, ast.Try)):  # `try: import torch / except ImportError: ...`
        blocks = [node.body, node.orelse] + (
            [h.body for h in node.handlers] + [node.finalbody] if isinstance(node, ast.Try) else []
        )
        return all(_kept(n, module, defined, left_out_names) or isinstance(n, ast.Pass) for b in blocks for n in b)
    return False


def _root(func):
    while isinstance(func, (ast.Attribute, ast.Call, ast.Subscript)):
        func = func.value if not isinstance(func, ast.Call) else func.func
    return func.id if isinstance(func, ast.Name) else None


def neutralize_in_child(cells: list[str], module: str) -> dict:
    """`neutralize` in a child process under a memory and CPU cap."""

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (NOTEBOOK_PARSE_MEMORY_BYTES, NOTEBOOK_PARSE_MEMORY_BYTES))
        resource.setrlimit(resource.RLIMIT_CPU, (NOTEBOOK_PARSE_SECONDS, NOTEBOOK_PARSE_SECONDS))

    code = f"import sys; sys.path.insert(0, {ROOT!r}); from autograder.notebook import _main; _main()"
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-S", "-c", code],
            input=json.dumps([cells, module]),
            capture_output=True,
            text=True,
            timeout=2 * NOTEBOOK_PARSE_SECONDS,
            preexec_fn=cap,
        )
    except subprocess.TimeoutExpired:
        return {"error": "reading the notebook's code took too long"}
    if done.returncode != 0:
        if "Traceback" in done.stderr and "MemoryError" not in done.stderr:
            raise RuntimeError(f"reading a notebook failed: {done.stderr[-1000:]}")  # a bug of the kit
        return {"error": "the notebook's code is too large or too deeply nested to read"}
    return json.loads(done.stdout)


def _main():
    cells, module = json.loads(sys.stdin.read())
    sys.stdout.write(json.dumps(neutralize(cells, module)))
