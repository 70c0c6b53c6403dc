"""Sharded grading and merge: a fixed 1/N of the entries per shard, chosen by the id alone, and a
merge that writes what one run over all the submissions writes, or refuses shards that do not fit
together, saying which."""

import json
import os
import shutil
from collections import Counter

import pytest

from autograder import assignments, cli, shard
from autograder.course import samples
from autograder.errors import KitError

ASSIGNMENT = "momentum"  # quick to grade, and its samples draw no unseeded random numbers
SHARDS = 3


def _files(folder):
    """{relative path: content} of a gradebook folder (JSON parsed), per-test timings left out."""
    out = {}
    for dirpath, _, names in os.walk(folder):
        if os.path.relpath(dirpath, folder).startswith("shard-"):
            continue
        for name in names:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, folder)
            with open(path, encoding="utf-8") as f:
                text = f.read()
            if name.endswith(".json"):
                data = json.loads(text)
                for t in data["tests"]:
                    t.pop("seconds")
                text = data
            out[rel] = text
    return out


def _explained(message):
    """A failed test's message as the kit explains it (its hint, the slip it recognised): what
    remains when the values a submission's own random draws produced are left out."""
    return [line for line in message.splitlines() if line.startswith(("Hint:", "Likely slip:"))]


def assert_same_gradebook(got_folder, want_folder):
    """Every file of a single run's gradebook, and the same content. A failed test's message is
    compared by its explanation only: some samples draw from unseeded random generators (dropout's
    global_np_random, keep_mask_inverted), so the values their messages quote differ between two
    single runs too; their points and status are compared exactly, here and in grades.csv."""
    got, want = _files(got_folder), _files(want_folder)
    assert sorted(got) == sorted(want)
    random_draws = set()
    for name in (n for n in want if n.startswith("feedback/") and n.endswith(".json")):
        g, w = got[name], want[name]
        for a, b in zip(g["tests"], w["tests"], strict=True):
            if b["status"] == "failed" and (a["message"], a["output"]) != (b["message"], b["output"]):
                random_draws.add(name[: -len(".json")])
                a, b = (
                    dict(a, message=_explained(a["message"]), output=""),
                    dict(b, message=_explained(b["message"]), output=""),
                )
            assert a == b, f"{name}: {b['name']} differs from a single run's"
        assert {k: v for k, v in g.items() if k != "tests"} == {k: v for k, v in w.items() if k != "tests"}, name
    for name in want:
        if name.startswith("feedback/") and name[: -len(".md")] in random_draws:
            assert got[name].split("## Details")[0] == want[name].split("## Details")[0], name
        elif not name.endswith(".json") or not name.startswith("feedback/"):
            assert got[name] == want[name], f"{name} differs from a single run's"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The samples (plus extra ids) graded once in one run and once as SHARDS shards + merge."""
    tmp = tmp_path_factory.mktemp("shard")
    subs = tmp / "subs"
    samples.write(ASSIGNMENT, str(subs))
    for i in range(6):  # more ids, so that every shard holds some
        (subs / f"s{i:04d}.py").write_text((subs / "reference.py").read_text())
    single, sharded = tmp / "single", tmp / "sharded"
    assert cli.main(["grade", ASSIGNMENT, str(subs), "-o", str(single), "-q", "-j", "2"]) == 0
    for k in range(1, SHARDS + 1):
        assert (
            cli.main(["grade", ASSIGNMENT, str(subs), "-o", str(sharded), "-q", "-j", "2", "--shard", f"{k}/{SHARDS}"])
            == 0
        )
    pristine = tmp / "shards-only"
    shutil.copytree(sharded, pristine)
    assert cli.main(["merge", str(sharded), "-q"]) == 0
    return subs, single, sharded, pristine


def test_shard_membership_depends_on_the_id_alone():
    ids = [f"student{i}" for i in range(3000)]
    first = {s: shard.shard_of(s, 8) for s in ids}
    again = {s: shard.shard_of(s, 8) for s in reversed(ids)}
    assert first == again
    counts = Counter(first.values())
    assert sorted(counts) == list(range(1, 9))
    assert all(300 <= c <= 450 for c in counts.values()), counts  # 375 expected each


def test_each_entry_is_graded_in_exactly_one_shard(graded):
    subs, single, _, pristine = graded
    seen = Counter()
    for k in range(1, SHARDS + 1):
        with open(pristine / shard.folder_name(k, SHARDS) / "shard.json") as f:
            manifest = json.load(f)
        ids = [r["student"] for r in manifest["results"]]
        assert ids, f"shard {k} is empty"
        assert all(shard.shard_of(s, SHARDS) == k for s in ids)
        seen.update(ids)
    with open(single / "students.csv") as f:
        everyone = [line.split(",")[0] for line in f.read().splitlines()[1:]]
    assert sorted(seen) == sorted(everyone) and set(seen.values()) == {1}


def test_merged_shards_equal_a_single_run(graded):
    _, single, sharded, _ = graded
    assert_same_gradebook(sharded, single)


def _fresh(pristine, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(pristine, out)
    return out


def _edit(out, k, change):
    path = out / shard.folder_name(k, SHARDS) / "shard.json"
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest))


def _refused(out, capsys):
    with pytest.raises(SystemExit) as err:
        cli.main(["merge", str(out), "-q"])
    assert not (out / "grades.csv").exists()
    return str(err.value.code)


def test_merge_refuses_a_missing_shard(graded, tmp_path, capsys):
    out = _fresh(graded[3], tmp_path)
    shutil.rmtree(out / "shard-2-of-3")
    assert "missing shards: shard-2-of-3" in _refused(out, capsys)


def test_merge_refuses_an_unfinished_shard(graded, tmp_path, capsys):
    out = _fresh(graded[3], tmp_path)
    os.remove(out / "shard-3-of-3" / "shard.json")
    assert "unfinished shards" in _refused(out, capsys) and "shard-3-of-3" in _refused(out, capsys)


def test_merge_refuses_overlapping_shards(graded, tmp_path, capsys):
    out = _fresh(graded[3], tmp_path)
    stolen = json.loads((out / "shard-1-of-3" / "shard.json").read_text())["results"][0]
    _edit(out, 2, lambda m: m["results"].append(stolen))
    message = _refused(out, capsys)
    assert "overlapping shards" in message and stolen["student"] in message
    assert "shard-1-of-3" in message and "shard-2-of-3" in message


def test_merge_refuses_shards_of_another_assignment(graded, tmp_path, capsys):
    out = _fresh(graded[3], tmp_path)
    other = next(name for name in assignments.ASSIGNMENTS if name != ASSIGNMENT)
    _edit(out, 2, lambda m: m.update(assignment=other))
    message = _refused(out, capsys)
    assert "different assignments" in message and other in message and ASSIGNMENT in message


def test_merge_refuses_shards_of_another_kit_version(graded, tmp_path, capsys):
    out = _fresh(graded[3], tmp_path)
    _edit(out, 3, lambda m: m["kit"].update(code="0123456789abcdef"))
    message = _refused(out, capsys)
    assert "different kit versions" in message and "0123456789abcdef" in message


def test_merge_refuses_shards_split_differently(graded, tmp_path, capsys):
    out = _fresh(graded[3], tmp_path)
    shutil.copytree(out / "shard-1-of-3", out / "shard-1-of-4")
    _edit(out, 1, lambda m: None)  # untouched; the -of-4 folder's manifest says 1/3
    assert "shard-1-of-4" in _refused(out, capsys)


def test_merge_refuses_shards_of_other_submissions(graded, tmp_path, capsys):
    out = _fresh(graded[3], tmp_path)
    _edit(out, 1, lambda m: m["entries"].append(["late", "late.py"]))
    assert "different submissions folders" in _refused(out, capsys)


def test_bad_shard_specs_are_refused():
    for spec in ("0/3", "4/3", "3", "a/b", "1/0"):
        with pytest.raises(KitError) as err:
            cli.main(["grade", ASSIGNMENT, "-q", "--shard", spec])
        assert "--shard" in str(err.value)
