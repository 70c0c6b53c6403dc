# The kit's commands. Every target sets up .venv first, so a fresh clone needs only Python 3.11+.
# Override the torch build for a GPU machine:  make test TORCH=torch==2.11.0
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
TORCH ?= torch==2.13.0
PY := $(VENV)/bin/python
ASSIGNMENT ?= all
SUBMISSIONS ?=
OUT ?= out
JOBS ?=
PYTEST_ARGS ?=

.PHONY: install test lint grade slurm bench assignments dist goldens clean FORCE

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
	@$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; exit $$rc

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

grade: install
	$(PY) -m autograder grade $(ASSIGNMENT) $(SUBMISSIONS) -o $(OUT) $(if $(JOBS),-j $(JOBS))

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
	rm -rf $(OUT) dist .pytest_cache .hypothesis
