"""Turn a reference module into a student skeleton: every `# BEGIN SOLUTION` ... `# END SOLUTION`
block becomes a stub that raises NotImplementedError naming its task (Otter's marker words)."""

import ast
import re

from autograder.errors import KitError

BEGIN = re.compile(r"^(?P<indent>\s*)# BEGIN SOLUTION(?:\s*\((?P<label>[^)]*(?:\([^)]*\)[^)]*)*)\))?\s*$")
END = re.compile(r"^\s*# END SOLUTION\s*$")
LOOKS_LIKE_MARKER = re.compile(r"^\s*#\s*(BEGIN|END)\b")
TASK = re.compile(r"^Task (?P<task>\d+\.\d+)(?::\s*(?P<hint>.*))?$")


class MarkerError(KitError, ValueError):
    """A malformed marker; the message names the file and line."""


def solution_blocks(source: str, filename: str):
    """[(begin line, end line, indent, task, hint)], 1-based inclusive; validates the markers."""
    blocks, open_block = [], None
    for number, line in enumerate(source.splitlines(), start=1):
        begin, end = BEGIN.match(line), END.match(line)
        if LOOKS_LIKE_MARKER.match(line) and not (begin or end):
            raise MarkerError(f"{filename}:{number}: unrecognised solution marker: {line.strip()}")
        if begin:
            if open_block:
                raise MarkerError(
                    f"{filename}:{number}: BEGIN SOLUTION inside the block opened at line {open_block[0]}"
                )
            label = TASK.match((begin["label"] or "").strip())
            if not label:
                raise MarkerError(f"{filename}:{number}: BEGIN SOLUTION needs a label '(Task A.B: hint)'")
            open_block = (number, begin["indent"], label["task"], (label["hint"] or "").strip())
        elif end:
            if not open_block:
                raise MarkerError(f"{filename}:{number}: END SOLUTION without a BEGIN SOLUTION")
            start, indent, task, hint = open_block
            if number == start + 1:
                raise MarkerError(f"{filename}:{start}: empty solution block")
            blocks.append((start, number, indent, task, hint))
            open_block = None
    if open_block:
        raise MarkerError(f"{filename}:{open_block[0]}: BEGIN SOLUTION is never closed")
    return blocks


def _enclosing_names(tree):
    """{line: 'Class.method' or 'function'} for every line inside a function body."""
    names = {}

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                qual = f"{prefix}{child.name}"
                for line in range(child.lineno, (child.end_lineno or child.lineno) + 1):
                    names[line] = qual
                visit(child, qual + ".")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return names


def make_skeleton(source: str, filename: str) -> str:
    blocks = solution_blocks(source, filename)
    names = _enclosing_names(ast.parse(source, filename))
    lines = source.splitlines()
    out, cursor = [], 0
    for start, end, indent, task, hint in blocks:
        where = names.get(start)
        if where is None:
            raise MarkerError(f"{filename}:{start}: a solution block must sit inside a function body")
        out += lines[cursor : start - 1]
        message = f"Task {task}: {where}" + (f" — {hint}" if hint else "")
        out.append(f"{indent}# TODO (Task {task}): your code here.")
        out.append(f"{indent}raise NotImplementedError({message!r})")
        cursor = end
    out += lines[cursor:]
    return "\n".join(out) + "\n"


def solution_lines(source: str, filename: str) -> set[str]:
    """The stripped, distinctive lines found only inside solution blocks (for leak scans).

    A line that also appears in the given code (outside every block) is not a secret, and
    neither is a short control-flow header such as `if velocity is None:`, which any caller of
    the API may write.
    """
    lines = source.splitlines()
    inside = set()
    for start, end, *_ in solution_blocks(source, filename):
        inside.update(range(start, end - 1))  # 0-based indices of the block bodies
    secret = {lines[i].strip() for i in inside}
    given = {line.strip() for i, line in enumerate(lines) if i not in inside}
    return {text for text in secret - given if len(text) >= 12 and not text.startswith("#") and not _HEADER.match(text)}


_HEADER = re.compile(r"^(if|elif|else|for|while|with|try|except|finally)\b.{0,30}:$")
