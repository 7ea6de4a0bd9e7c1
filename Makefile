# Two entry points for a fresh machine (Debian, Python 3.11):
#   make experiment   set up, run the default experiment, print where the report is
#   make test         set up, run the test suite (on CORES cores)
PYTHON ?= python3
VENV ?= .venv
CORES ?= 2
BIN := $(VENV)/bin
STAMP := $(VENV)/.fitflow-installed

.PHONY: setup experiment test lint docs clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,slurm,jax,lab]'
	touch $@

experiment: $(STAMP)
	$(BIN)/snakemake --cores $(CORES) --workflow-profile workflow/profiles/default
	@$(BIN)/python -c "import yaml; print('Report: results/' + yaml.safe_load(open('config/config.yaml'))['experiment'] + '/report.html')"

test: $(STAMP)
	$(BIN)/python -m pytest -n $(CORES) --dist loadfile  # a file's tests share one worker, so its module fixtures run once

docs: $(STAMP)
	$(BIN)/mkdocs build --strict

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/snakemake --lint
	$(BIN)/snakefmt --check Snakefile workflow

clean:
	rm -rf results .snakemake site
