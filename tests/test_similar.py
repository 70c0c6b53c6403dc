"""`similar`: the samples plus a planted copy (variables renamed, functions reordered, comments
gone) of one of them; the copy and its source must be the most similar pair. backprop answers worked
at another student's numbers are flagged, and untrusted text reaches the report only escaped."""

import ast
import csv
import hashlib
import re

import pytest

from autograder import assignments, cli, similar
from autograder.course import samples
from solution import backprop

ASSIGNMENT = "dropout"  # its samples: the reference, the blank skeleton and the known-buggy ones


def disguise(source):
    """The copy a student would hand in: every argument and local variable renamed (a whole-word
    find-and-replace, as an editor does), the functions in reverse order."""
    tree = ast.parse(source)
    local = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            local |= {a.arg for a in node.args.args + node.args.kwonlyargs}
            local |= {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    lines = source.splitlines(keepends=True)
    starts = [n.lineno - 1 - len(n.decorator_list) for n in tree.body if isinstance(n, ast.FunctionDef)]
    ends = starts[1:] + [len(lines)]
    blocks = ["".join(lines[a:b]).rstrip("\n") + "\n\n\n" for a, b in zip(starts, ends, strict=True)]
    text = "".join(lines[: starts[0]]) + "".join(blocks[::-1])
    for name in sorted(local):
        text = re.sub(rf"\b{re.escape(name)}\b", "q" + hashlib.md5(name.encode()).hexdigest()[:6], text)
    ast.parse(text)
    return text


def _ids_with_different_numbers(n):
    ids, seen = [], set()
    i = 0
    while len(ids) < n:
        i += 1
        sid = f"s{i:04d}"
        if backprop.graph_inputs(sid) not in seen:
            seen.add(backprop.graph_inputs(sid))
            ids.append(sid)
    return ids


def _literal_answers(values):
    body = ", ".join(f'"{k}": {v!r}' for k, v in values.items())
    return f"\n\ndef graph_by_hand(student_id):\n    return {{{body}}}\n"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """The dropout samples, a planted copy of one buggy sample, and a hostile file."""
    tmp = tmp_path_factory.mktemp("similar")
    made = samples.sources(ASSIGNMENT)
    copied = sorted(n for n in made if n not in ("reference", "blank"))[len(made) // 3]
    made["zz_planted"] = disguise(made[copied])
    defs = [n.name for n in ast.parse(made[copied]).body if isinstance(n, ast.FunctionDef)]
    assert [n.name for n in ast.parse(made["zz_planted"]).body if isinstance(n, ast.FunctionDef)] == defs[::-1]
    assert "keep" in made[copied] and not re.search(r"\bkeep\b", made["zz_planted"])  # renamed
    made["hostile"] = made["reference"] + '\n\ndef extra():\n    return "</pre><script>alert(1)</script>"\n'
    samples.write(ASSIGNMENT, str(tmp / "subs"), made)
    out = tmp / "out"
    assert cli.main(["similar", ASSIGNMENT, str(tmp / "subs"), "-o", str(out), "-t", "0.0"]) == 0
    with open(out / "similarity.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return rows, (out / "similarity.html").read_text(), copied


@pytest.fixture(scope="module")
def backprop_report(tmp_path_factory):
    """backprop submissions: one copies another's numbers, one calls graph_inputs with another's
    id, one writes its own numbers as literals."""
    tmp = tmp_path_factory.mktemp("similar-backprop")
    reference = samples.reference_source("backprop")
    giver, taker, own, namer = _ids_with_different_numbers(4)
    made = {
        "reference": reference,
        giver: reference,
        taker: reference + _literal_answers(backprop.graph_by_hand(giver)),  # the later def wins
        own: reference + _literal_answers(backprop.graph_by_hand(own)),
        namer: reference.replace("a, b = graph_inputs(student_id)", f'a, b = graph_inputs("{giver}")', 1),
    }
    assert made[namer] != reference
    samples.write("backprop", str(tmp / "subs"), made)
    assert cli.main(["similar", "backprop", str(tmp / "subs"), "-o", str(tmp / "out")]) == 0
    return made, (tmp / "out" / "similarity.html").read_text(), (giver, taker, own, namer)


def test_the_planted_copy_ranks_first(report):
    rows, _, copied = report
    top = rows[0]
    assert {top["student_a"], top["student_b"]} == {copied, "zz_planted"}, rows[:3]
    assert int(top["shared_tokens"]) > int(rows[1]["shared_tokens"]), rows[:3]


def test_the_report_marks_the_matching_regions_and_escapes_submissions(report):
    _, page, copied = report
    first = page.split("<h3 id='pair1'>")[1].split("<h3 id='pair2'>")[0]
    assert copied in first and "zz_planted" in first and "<mark>" in first
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_answers_worked_at_another_students_numbers_are_flagged(backprop_report):
    made, page, (giver, taker, own, namer) = backprop_report
    flags = similar.per_student_flags(assignments.get("backprop").reference(), made)
    assert giver in flags[taker] and "not its own" in flags[taker]
    assert giver in flags[namer] and "another student's id" in flags[namer]
    assert own not in flags and giver not in flags and "reference" not in flags
    assert f"graph_by_hand holds the numbers of {giver}" in page


def test_graph_literals_reads_tokens_without_running_anything():
    source = 'def graph_by_hand(i):\n    import os; os.system("x")\n    return {"a": -3.0, "b": 2, "e": 1e1}\n'
    assert similar.graph_literals(source, ["a", "b", "e"]) == {"a": -3.0, "b": 2.0, "e": 10.0}
    assert similar.graph_literals("def f(:\n  'unterminated", ["a"]) == {}


def test_the_skeleton_alone_is_similar_to_nothing(tmp_path):
    a = assignments.get("backprop")
    skeleton = similar.skeleton_source(a)
    pairs = similar.compare_all({"x": skeleton, "y": skeleton + "\n# mine\n"}, skeleton)
    assert pairs == []
