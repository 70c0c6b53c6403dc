"""Every limit, time-out, size cap and default tolerance of the grader, in one place.

The engine, the sandbox, the wire format and the kit's own tests (the hostile catalog included)
read these names; nothing restates a number. A graded test may ask for other tolerances, a longer
time-out or other per-test `Limits` (testcase.GradedTest), never for a bigger sandbox.
"""

from dataclasses import dataclass

# ---------------------------------------------------------------- judging values

RTOL = 1e-7  # float64 results: a few thousand ulps of room for another
ATOL = 1e-9  # summation order, far below any real mistake
FLOAT32_RTOL = 1e-4  # results a test asks for in float32 (torch)
FLOAT32_ATOL = 1e-6

# ---------------------------------------------------------------- one graded test


@dataclass(frozen=True)
class Limits:
    """Per-test resource limits applied in the test's child process."""

    cpu_seconds: int = 20
    memory_bytes: int = 1 << 30  # beyond the warm worker's own address space; 0: no cap
    file_bytes: int = 8 << 20  # biggest file (and the captured output) a test may write
    open_files: int = 64
    processes: int = 64

    def as_dict(self):
        return dict(self.__dict__)


TEST_TIMEOUT_SECONDS = 10.0  # CPU time of the test's processes, per graded test unless it asks for more
IMPORT_TIMEOUT_SECONDS = 10.0  # loading (compiling, importing) the submission, CPU time too
OUTPUT_KEEP_BYTES = 4096  # of what a test printed, kept for feedback

# ---------------------------------------------------------------- one sandbox (one submission)

SANDBOX_MEMORY_BYTES = 3 << 30  # the worker, every test and leftover, tmpfs files, shared memory
SANDBOX_TASKS = 512  # processes and threads together
TMP_KIB = 64 << 10  # size of the private /tmp and of /dev/shm
TMP_INODES = 16384  # files (and folders) each of them may hold
# A submission's CPU time for all its tests together (its own processes only, so a loaded machine
# costs it nothing): a share of the sum of their time-outs (a normal one needs a small fraction of
# that), never less than the floor. The same on every path (make grade, check, the Otter zip).
BUDGET_SHARE = 0.25
BUDGET_FLOOR_SECONDS = 30.0
BUDGET_DEFAULT_SECONDS = 300.0  # for callers that do not size it from their tests
BUDGET_WALL_FACTOR = 5.0  # wall-clock backstop of every CPU-time limit (sleeping uses no CPU): 5x as long
WORKER_START_SECONDS = 120.0  # the warm worker importing numpy/torch on a busy machine
WORKER_GRACE_SECONDS = 30.0  # beyond a test's time-out before the worker counts as gone

# ---------------------------------------------------------------- what crosses the sandbox boundary

MAX_FRAME_BYTES = 64 << 20  # one message, arrays included
MAX_HEAD_BYTES = 8 << 20  # its JSON part
MAX_VALUES = 1 << 20  # numbers, strings, lists, dicts in the JSON part
MAX_ARRAYS = 4096
MAX_DEPTH = 64

# ---------------------------------------------------------------- reading submissions

SUBMISSION_MAX_BYTES = 5 << 20
STUDENT_ID_MAX = 64  # longer ids are cut and keep a hash of the whole name
NOTEBOOK_PARSE_MEMORY_BYTES = 1 << 30  # the child process that reads a notebook's code
NOTEBOOK_PARSE_SECONDS = 20
