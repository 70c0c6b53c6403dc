#!/usr/bin/env bash
# Grade a folder of submissions on a Slurm cluster: one array task per shard, then a merge job.
#
#   tools/slurm/submit.sh ASSIGNMENT SUBMISSIONS OUT [SHARDS]      (or: make slurm ...)
#
# Each array task runs `python -m autograder grade ASSIGNMENT SUBMISSIONS -o OUT --shard K/SHARDS`
# (K = the array index) into OUT/shard-K-of-SHARDS/; the merge job starts when every task has
# ended (afterany: a failed shard is then named by the merge, not left pending) and writes OUT/
# grades.csv, students.csv, feedback/ and report.html as one run would. An assignment with
# GPU-only tests asks each task for a GPU (--gres=gpu:1); GPUS=0 turns that off, GPUS=1 forces it.
# SUBMISSIONS "" grades the shipped samples. Extra sbatch options (partition, account, time):
# SBATCH_ARGS="--partition=gpu --time=02:00:00". DRY_RUN=1 prints the sbatch commands instead.
# OUT and SUBMISSIONS must be on a file system every node sees, as must this kit and its .venv.
set -euo pipefail

if [ $# -lt 3 ] || [ $# -gt 4 ]; then
    echo "usage: $0 ASSIGNMENT SUBMISSIONS OUT [SHARDS]   (SUBMISSIONS \"\" = the samples)" >&2
    exit 2
fi
assignment=$1 subs=$2 out=$3 shards=${4:-8}
kit=$(cd "$(dirname "$0")/../.." && pwd)
python=${PYTHON:-$kit/.venv/bin/python}
case $shards in '' | *[!0-9]* | 0) echo "$0: SHARDS must be a positive integer, got '$shards'" >&2; exit 2 ;; esac
[ -x "$python" ] || { echo "$0: no Python at $python (run make install, or set PYTHON)" >&2; exit 2; }
[ -z "$subs" ] || [ -d "$subs" ] || { echo "$0: submissions folder not found: $subs" >&2; exit 2; }
[ -z "$subs" ] || subs=$(cd "$subs" && pwd)
mkdir -p "$out/slurm-logs"
out=$(cd "$out" && pwd)

gres=()
needs_gpu=$(cd "$kit" && "$python" -c "import sys; from autograder import assignments
print(int(any(t.needs_gpu for t in assignments.get(sys.argv[1]).tests())))" "$assignment")
if [ "${GPUS:-$needs_gpu}" = 1 ]; then gres=(--gres=gpu:1); fi

# shellcheck disable=SC2206
extra=(${SBATCH_ARGS:-})
array=(sbatch --parsable --job-name="grade-$assignment" --array="1-$shards" "${gres[@]}" "${extra[@]}"
    --output="$out/slurm-logs/shard-%a-of-$shards.log" --chdir="$kit"
    "$kit/tools/slurm/shard.sbatch" "$python" "$assignment" "$out" "$shards" "$subs")
if [ -n "${DRY_RUN:-}" ]; then
    echo "${array[*]}"
    echo "sbatch --parsable --job-name=merge-$assignment --dependency=afterany:<array job> ${extra[*]}" \
        "--output=$out/slurm-logs/merge.log --chdir=$kit $kit/tools/slurm/merge.sbatch $python $out"
    exit 0
fi
array_job=$("${array[@]}")
array_job=${array_job%%;*}
merge_job=$(sbatch --parsable --job-name="merge-$assignment" --dependency="afterany:$array_job" "${extra[@]}" \
    --output="$out/slurm-logs/merge.log" --chdir="$kit" "$kit/tools/slurm/merge.sbatch" "$python" "$out")
merge_job=${merge_job%%;*}
echo "submitted: array job $array_job ($shards shards of $assignment), merge job $merge_job -> $out/grades.csv"
echo "watch: squeue -j $array_job,$merge_job    logs: $out/slurm-logs/"
