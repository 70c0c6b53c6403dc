# The kit's commands. Every target sets up .venv first, so a fresh clone needs only Python 3.11+.
# Override the torch build for a GPU machine:  make test TORCH=torch==2.11.0
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
TORCH ?= torch==2.13.0
PY := $(VENV)/bin/python
ASSIGNMENT ?= all
SUBMISSIONS ?=
OUT ?=
# grade writes out/<assignment>/ (all: one folder per assignment under out/) unless OUT= is given
GRADE_OUT = $(or $(OUT),$(if $(filter all,$(ASSIGNMENT)),out,out/$(ASSIGNMENT)))
JOBS ?=
PYTEST_ARGS ?=
# pytest-xdist workers for `make test` (one per core; 0: everything in one process)
TEST_WORKERS ?= auto

.PHONY: help install test lint grade notebook slurm bench assignments dist goldens clean FORCE

help:
	@echo "make install     set up .venv (Python 3.11+, $(TORCH), JupyterLab, the test tools); then: source .venv/bin/activate"
	@echo "make grade       grade the sample submissions of every assignment into out/<assignment>/, with a verdict each"
	@echo "make grade ASSIGNMENT=cnn_layer SUBMISSIONS=dir/ [OUT=out/cnn_layer] [JOBS=4]   grade real submissions"
	@echo "make slurm ASSIGNMENT=cnn_layer SUBMISSIONS=dir/ OUT=out/cnn_layer [SHARDS=8]   grade on a Slurm cluster"
	@echo "make notebook ASSIGNMENT=momentum   open an assignment's notebook in JupyterLab (assignments/<name>/)"
	@echo "make test        the kit's own tests (what CI runs: .ci/run); PYTEST_ARGS=... passes options to pytest, TEST_WORKERS=0 runs it in one process"
	@echo "make lint        ruff check and ruff format --check"
	@echo "make dist        student zips, Otter autograder zips, solutions.zip, MANIFEST.sha256 in dist/"
	@echo "make assignments regenerate assignments/ and public.expected from solution/ and the course folders"
	@echo "make bench       conv2d vs torch, grading throughput vs otter run, the GPU training stage"
	@echo "make goldens     on a CUDA GPU: record PyTorch outputs of every graded test"
	@echo "make clean       remove out/, dist/ and test caches"

install: $(VENV)/.installed

# .installed holds the torch pin it was built with: another TORCH=... reinstalls torch in place.
ifneq ($(shell cat $(VENV)/.installed 2>/dev/null),$(TORCH))
$(VENV)/.installed: FORCE
endif
$(VENV)/.installed: pyproject.toml
	@echo "make: setting up $(VENV) with $(TORCH) (first time: a few minutes)"
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check --progress-bar on "$(TORCH)" $$($(PY) tools/requirements.py)
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	@# The kit runs from this checkout: the .pth puts it on the venv's path (after site-packages), so
	@# `python -m autograder check` and the notebooks work inside assignments/<name>/ too.
	$(PY) -c "import os, sysconfig; open(os.path.join(sysconfig.get_path('purelib'), 'dl_assignment_kit.pth'), 'w').write(os.getcwd() + '\n')"
	echo "$(TORCH)" > $@

# pytest exits 5 when it collects no tests: that is a failure of the kit, said plainly.
test: install
	@$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; exit $$rc

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

grade: install
	$(PY) -m autograder grade $(ASSIGNMENT) $(SUBMISSIONS) -o $(GRADE_OUT) $(if $(JOBS),-j $(JOBS))

notebook: install
	@test "$(ASSIGNMENT)" != all || { echo "make notebook: name one, e.g. make notebook ASSIGNMENT=momentum" >&2; exit 2; }
	@test -d assignments/$(ASSIGNMENT) || { echo "make notebook: no assignments/$(ASSIGNMENT)/" >&2; exit 2; }
	cd assignments/$(ASSIGNMENT) && $(abspath $(VENV))/bin/jupyter lab $(ASSIGNMENT).ipynb

# On a Slurm cluster: one array task per shard, then a merge job (tools/slurm/submit.sh says more).
SHARDS ?= 8
slurm: install
	@if [ "$(ASSIGNMENT)" = all ]; then echo "make slurm: name one assignment, e.g. make slurm ASSIGNMENT=cnn_layer SUBMISSIONS=dir/ OUT=out/cnn_layer SHARDS=8" >&2; exit 2; fi
	bash tools/slurm/submit.sh $(ASSIGNMENT) "$(SUBMISSIONS)" $(if $(filter out,$(OUT)),out/$(ASSIGNMENT),$(OUT)) $(SHARDS)

bench: install
	$(PY) -m bench

assignments: install
	$(PY) -m tools.generate

dist: install
	$(PY) -m tools.dist

goldens: install
	$(PY) -m tools.goldens

FORCE:

clean:
	rm -rf out $(OUT) dist .pytest_cache .hypothesis
