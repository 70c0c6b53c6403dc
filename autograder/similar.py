"""`python -m autograder similar A SUBS -o OUT`: which submissions share code.

copydetect fingerprints each submission (MOSS's winnowing over tokens, with names, strings and
comments normalised, so renamed variables do not hide a copy and reordered functions lose only the
passages across their boundaries). Two kinds of code are no evidence of copying and are left out
before any pair is compared, as MOSS does: the skeleton's given code, and passages found in more
than `common` submissions (the one obvious way to write a line). Out come OUT/similarity.html (the
pairs at or above the threshold, most similar first, with the matching regions marked) and
OUT/similarity.csv.

Where the reference has per-student answers, each graph_by_hand is also read (as tokens, never
run) for answers worked at another student's numbers, or another student's id written into the
code; such a submission is flagged.

Submissions are untrusted: nothing here runs them (a notebook's code is extracted by submissions.py
in a child process), and their text reaches the report only HTML-escaped.
"""

import contextlib
import csv
import html
import io
import os
import tokenize
from dataclasses import dataclass

from autograder import ROOT, submissions

NOISE = 25  # copydetect's defaults: k-grams of 25 tokens, winnowing guarantees matches of 30
GUARANTEE = 30
MOSS_COMMON = 10  # MOSS's -m: a passage in more submissions than this is ignored


@dataclass
class Pair:
    a: str
    b: str
    tokens: int  # how much code they share (normalised tokens): the rank, as MOSS ranks by lines matched
    sim_a: float  # share of a's fingerprinted code found in b
    sim_b: float
    regions_a: list  # [(start, end)] character ranges of the matching code
    regions_b: list

    @property
    def share(self):
        return max(self.sim_a, self.sim_b)


def _fingerprint(source, name, boilerplate):
    from copydetect import CodeFingerprint

    return CodeFingerprint(f"{name}.py", NOISE, GUARANTEE - NOISE + 1, boilerplate, fp=io.StringIO(source))


def common_limit(n):
    """A passage in more than this many of n submissions is treated as given code: MOSS's 10, or a
    fifth of the submissions if fewer (what a fifth of a class shares is a common source, not one
    pair's copy), and at least 2."""
    return min(MOSS_COMMON, max(2, n // 5))


def compare_all(sources: dict, skeleton: str, *, common=None) -> list[Pair]:
    """Every pair of {student: source} that shares fingerprints, most similar first."""
    import numpy as np
    from copydetect import CodeFingerprint, compare_files

    given = CodeFingerprint("skeleton.py", NOISE, 1, fp=io.StringIO(skeleton)).hashes
    first = {s: _fingerprint(src, s, np.array(sorted(given))) for s, src in sources.items()}
    counts = {}
    for fp in first.values():
        for h in fp.hashes:
            counts[h] = counts.get(h, 0) + 1
    limit = common_limit(len(sources)) if common is None else common
    shared = {h for h, c in counts.items() if c > limit}
    boilerplate = np.array(sorted(set(given) | shared))
    prints = {s: _fingerprint(src, s, boilerplate) for s, src in sources.items()}
    students = sorted(s for s, fp in prints.items() if fp.token_coverage > 0)
    pairs = []
    for i, a in enumerate(students):
        for b in students[i + 1 :]:
            if not prints[a].hashes & prints[b].hashes:
                continue
            tokens, (sim_a, sim_b), (slices_a, slices_b) = compare_files(prints[a], prints[b])
            regions = _regions(slices_a, sources[a]), _regions(slices_b, sources[b])
            pairs.append(Pair(a, b, int(tokens), float(sim_a), float(sim_b), *regions))
    pairs.sort(key=lambda p: (-p.tokens, -p.share, p.a, p.b))
    return pairs


def _regions(slices, source):
    if len(slices) == 0 or slices.ndim != 2:
        return []
    return [(int(s), min(int(e), len(source))) for s, e in zip(slices[0], slices[1], strict=True)]


# ---------------------------------------------------------------- per-student answers: whose numbers?
# An assignment whose reference has per-student answers (graph_inputs(id), graph_by_hand(id) -> {GRAPH_KEYS}).


def graph_literals(source, keys) -> dict:
    """{key: number} for each `"key": <number>` in the source with a key in `keys` (tokens only,
    nothing is run)."""
    keys = set(keys)
    found, window = {}, []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT):
                continue
            window = (window + [tok])[-4:]
            if tok.type == tokenize.NUMBER:
                sign = -1.0 if len(window) >= 2 and window[-2].string == "-" else 1.0
                head = window[:-2] if sign < 0 else window[:-1]
                if len(head) >= 2 and head[-1].string == ":" and head[-2].type == tokenize.STRING:
                    key = head[-2].string.strip("'\"")
                    if key in keys:
                        with contextlib.suppress(ValueError):
                            found[key] = sign * float(tok.string.replace("_", ""))
    except (tokenize.TokenError, SyntaxError, ValueError):
        pass
    return found


def string_literals(source) -> set:
    out = set()
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.STRING and len(tok.string) <= 200:
                out.add(tok.string.strip("'\"").strip().lower())
    except (tokenize.TokenError, SyntaxError, ValueError):
        pass
    return out


def has_per_student_answers(reference) -> bool:
    return all(hasattr(reference, n) for n in ("graph_inputs", "graph_by_hand", "GRAPH_KEYS"))


def per_student_flags(reference, sources: dict) -> dict:
    """{student: reason} for submissions whose graph_by_hand holds another student's numbers (and
    not their own) or that name another student's id."""
    numbers = {s: reference.graph_by_hand(s) for s in sources}
    flags = {}
    for student, source in sources.items():
        literals = graph_literals(source, reference.GRAPH_KEYS)
        reasons = []
        if len(literals) >= len(reference.GRAPH_KEYS) - 2 and not _matches(literals, numbers[student]):
            owners = [o for o in sorted(sources) if o != student and _matches(literals, numbers[o])]
            if owners:
                a, b = reference.graph_inputs(student)
                reasons.append(
                    f"graph_by_hand holds the numbers of {', '.join(owners[:5])}"
                    f"{' and others' if len(owners) > 5 else ''}, not its own (a={a:g}, b={b:g})"
                )
        named = sorted(o for o in sources if o != student and o.strip().lower() in string_literals(source))
        if named:
            reasons.append(f"the code names another student's id: {', '.join(named[:5])}")
        if reasons:
            flags[student] = "; ".join(reasons)
    return flags


def _matches(literals, values):
    return all(abs(v - values[k]) <= 1e-6 * max(1.0, abs(values[k])) for k, v in literals.items())


# ---------------------------------------------------------------- the report


def _marked(source, regions):
    out, at = [], 0
    for start, end in sorted(regions):
        if start < at:
            start = at
        out += [html.escape(source[at:start]), "<mark>", html.escape(source[start:end]), "</mark>"]
        at = max(at, end)
    return "".join(out + [html.escape(source[at:])])


def write_report(assignment, pairs, flags, sources, out, threshold, limit) -> str:
    os.makedirs(out, exist_ok=True)
    shown = [p for p in pairs if p.share >= threshold]
    with open(os.path.join(out, "similarity.csv"), "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["rank", "student_a", "student_b", "shared_tokens", "similarity_a", "similarity_b"])
        for rank, p in enumerate(shown, 1):
            writer.writerow([rank, p.a, p.b, p.tokens, f"{p.sim_a:.3f}", f"{p.sim_b:.3f}"])
    esc = html.escape
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{esc(assignment)}: code similarity</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:.3em .6em}pre{font-size:12px;background:#f7f7f7;padding:.5em;"
        "overflow-x:auto;max-height:40em}mark{background:#ffd54f}.pair{display:flex;gap:1em}"
        ".pair>div{flex:1;min-width:0}</style></head><body>",
        f"<h1>{esc(assignment)}: code similarity</h1>",
        f"<p>{len(sources)} submissions, {len(pairs)} pairs share code; {len(shown)} at or above "
        f"{threshold:.0%}. Fingerprints by copydetect (winnowing, k={NOISE}, guarantee {GUARANTEE}); the "
        f"skeleton's code and passages found in more than {limit} submissions are ignored. "
        "Similarity a = the share of a's fingerprinted code also found in b. A high score is a reason "
        "to look, not proof.</p>",
    ]
    if flags:
        parts += ["<h2>Per-student answers</h2><table><tr><th>student</th><th>flag</th></tr>"]
        parts += [f"<tr><td>{esc(s)}</td><td>{esc(r)}</td></tr>" for s, r in sorted(flags.items())]
        parts += ["</table>"]
    parts += [
        "<h2>Pairs</h2><table><tr><th>#</th><th>a</th><th>b</th><th>shared tokens</th><th>similarity a</th>"
        "<th>similarity b</th></tr>"
    ]
    parts += [
        f"<tr><td><a href='#pair{i}'>{i}</a></td><td>{esc(p.a)}</td><td>{esc(p.b)}</td><td>{p.tokens}</td>"
        f"<td>{p.sim_a:.0%}</td><td>{p.sim_b:.0%}</td></tr>"
        for i, p in enumerate(shown, 1)
    ]
    parts += ["</table>"]
    for i, p in enumerate(shown, 1):
        parts += [
            f"<h3 id='pair{i}'>{i}. {esc(p.a)} ({p.sim_a:.0%}) and {esc(p.b)} ({p.sim_b:.0%})</h3><div class='pair'>",
            f"<div><b>{esc(p.a)}</b><pre>{_marked(sources[p.a], p.regions_a)}</pre></div>",
            f"<div><b>{esc(p.b)}</b><pre>{_marked(sources[p.b], p.regions_b)}</pre></div></div>",
        ]
    parts += ["</body></html>\n"]
    path = os.path.join(out, "similarity.html")
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join(parts))
    return path


def read_sources(assignment, folder) -> tuple[dict, dict]:
    """({student: source}, {student: why it could not be read})."""
    sources, unread = {}, {}
    for student, path in submissions.discover(folder, assignment):
        try:
            sources[student], _ = submissions.read_submission(path, assignment)
        except submissions.SubmissionError as err:
            unread[student] = str(err)
    return sources, unread


def skeleton_source(assignment) -> str:
    """The student skeleton (generated from solution/ and committed): the given code."""
    with open(os.path.join(ROOT, "assignments", assignment.name, assignment.filename), encoding="utf-8") as f:
        return f.read()


def main(assignment, folder, out, threshold=0.5):
    sources, unread = read_sources(assignment, folder)
    limit = common_limit(len(sources))
    pairs = compare_all(sources, skeleton_source(assignment), common=limit)
    reference = assignment.reference()
    flags = per_student_flags(reference, sources) if has_per_student_answers(reference) else {}
    path = write_report(assignment.name, pairs, flags, sources, out, threshold, limit)
    for student, why in sorted(unread.items()):
        print(f"{student}: not compared: {why}")
    for p in [p for p in pairs if p.share >= threshold][:10]:
        print(f"{p.tokens:6d} tokens {p.sim_a:5.0%} {p.sim_b:5.0%}  {p.a}  {p.b}")
    for student, reason in sorted(flags.items()):
        print(f"flagged {student}: {reason}")
    print(f"{assignment.name}: {len(sources)} submissions compared -> {path}")
    return 0
