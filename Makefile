# The alliance workbook. Two commands on a fresh machine with Python >= 3.11:
#   make reproduce   execute every notebook on the shipped data, write reports/
#   make test        run the whole test suite (notebooks included)
# Both install the pinned dependency set from requirements.lock into .venv.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# Seeds and hashing fixed so that numbers and figure files are identical run to run.
# notebooks executed at the same time by `make reproduce` (outputs do not depend on it)
JOBS ?= 2
export PYTHONHASHSEED := 0
export SOURCE_DATE_EPOCH := 0
export MPLBACKEND := Agg
# One BLAS thread unless you set it: the same floating-point order on every machine, and no
# oversubscription when the power analysis runs worker processes (threaded OpenBLAS made the
# small-matrix SEM code up to 90x slower on a busy 2-core machine; see benchmarks/README.md).
OPENBLAS_NUM_THREADS ?= 1
OMP_NUM_THREADS ?= 1
MKL_NUM_THREADS ?= 1
export OPENBLAS_NUM_THREADS OMP_NUM_THREADS MKL_NUM_THREADS
# Data: everything is shipped in data/ (the Metapsy databases in data/metapsy/), so neither
# target downloads anything.

.PHONY: all install reproduce test docs oracles data lock bench clean help

help:
	@echo "make reproduce  - run every notebook, write reports/ (HTML, figures, ledger, index)"
	@echo "make test       - run the whole test suite"
	@echo "make docs       - build the API reference (Sphinx) into docs/_build/html/"
	@echo "make oracles    - regenerate tests/fixtures/ with R (needs the Debian R packages)"
	@echo "make data       - re-export data/raw/ from R's metadat (needs R)"
	@echo "make lock       - re-pin requirements.lock from pyproject.toml"
	@echo "make bench      - run the benchmarks (needs R), write benchmarks/results/"

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-virtualenv -r requirements.lock
	$(PY) -m pip install --quiet --require-virtualenv --no-deps --no-build-isolation -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (alliance workbook)" > /dev/null
	touch $(STAMP)

reproduce: $(STAMP)
	$(PY) tools/reproduce.py --jobs $(JOBS)

test: $(STAMP)
	$(PY) -m pytest

docs: $(STAMP)
	$(PY) tools/build_docs.py --out docs/_build/html

oracles:
	Rscript tests/oracles/run_all.R

data:
	Rscript data/scripts/import_metadat.R
	Rscript data/scripts/import_trials.R
	$(PY) -m analysis.datasets --write-checksums
	$(PY) -c 'from analysis import datasets; datasets.write_checksums("data/trials")'

lock:
	$(PYTHON) -m venv .lockvenv
	.lockvenv/bin/pip install --quiet pip-tools==7.6.2
	.lockvenv/bin/pip-compile --quiet --allow-unsafe --extra notebooks --extra dev --strip-extras \
	  --no-emit-index-url --no-emit-find-links --no-emit-trusted-host \
	  --output-file requirements.lock pyproject.toml
	rm -rf .lockvenv
	$(PYTHON) tools/lock_to_environment.py

bench: $(STAMP)
	for script in benchmarks/bench_*.py; do $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) docs/_build reports/api reports/*.html reports/*.pdf reports/*.png reports/figures reports/notebooks reports/ledger.csv
