# Research compendium: do safety-aligned VLMs degrade differently under image corruptions?
#
#   make reproduce              run every notebook in order on params/demo.yaml (offline demo;
#                               unchanged notebooks are skipped, FORCE=1 runs all)
#   make reproduce PARAMS=paper the paper's models and datasets (GPU + network)
#   make test                   unit tests + a papermill smoke run of every notebook
#
# Both create and use their own environment in .venv (make setup).

PARAMS ?= demo
RUN    ?= $(PARAMS)
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.setup-done
P      := params/$(PARAMS).yaml
RUNNER := $(PY) -m vlmrobust.runner --params $(P)

.DEFAULT_GOAL := help
.PHONY: help setup reproduce check-params test test-fast lab bench clean sync browser zoo-seeds seed-runs po-aug-variants \
        verify zoo-train zoo-ship publish binder-url preflight gpu-smoke \
        convert-internvl zoo corruptions inference scoring severity confound probit ethics structure audit text report

help:  ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 18

# --- environment ------------------------------------------------------------
# torch is installed first and pinned: an unpinned torch pulls gigabytes of CUDA.
# The stamp makes `make setup` a no-op while pyproject.toml is unchanged.
setup: $(STAMP)  ## create .venv with the pinned dependencies (no-op when up to date)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[dev,lab]"
	@touch $(STAMP)
	@echo "environment ready: $(VENV)"

# --- the study ----------------------------------------------------------------
# Each stage target runs one notebook; the runner first checks that the artifacts the
# notebook reads exist (vlmrobust.artifacts.NEEDS) and otherwise says which target makes
# them (e.g. `make scoring` on a fresh run: "run 02_inference (`make inference`) first").
check-params: setup  ## validate params/$(PARAMS).yaml (fails fast, naming file, key, value)
	@$(PY) -m vlmrobust.params check $(P)

preflight: check-params  ## models, datasets and disk checked before any download (run by reproduce)
	@$(PY) -m vlmrobust.preflight --params $(P)

reproduce: check-params preflight  ## run every notebook in order -> outputs/<run>/ (unchanged ones are skipped; FORCE=1 runs all)
	$(RUNNER) $(if $(FORCE),--force)

zoo: check-params  ## 00: install the shipped demo zoo (or train it when the params change its recipe), goal check
	$(RUNNER) --only 00
corruptions: check-params  ## 01: sample the benchmark, pre-generate corrupted images
	$(RUNNER) --only 01
inference: check-params  ## 02: run every model on every condition
	$(RUNNER) --only 02
scoring: check-params  ## 03: scores, accuracy, CE/mCE/Rel. mCE, paper tables and figures
	$(RUNNER) --only 03
severity: check-params  ## 04: severity ablation: Table 6, Figures 5 and 7, reversal scan, power
	$(RUNNER) --only 04
confound: check-params  ## 05: format and pre-training confounds: compliance, verbosity A/B, denominators, controlled Rel. mCE
	$(RUNNER) --only 05
probit: check-params  ## 06: probit lines, effective robustness, the pair contrast
	$(RUNNER) --only 06
ethics: check-params  ## 07: ethics statistics: intervals, paired tests, noise band, mixed model, subgroups
	$(RUNNER) --only 07
structure: check-params  ## 08: prediction structure: RAS, quadrants, destructive/corrective, discriminative subset
	$(RUNNER) --only 08
audit: check-params  ## 09: audit of the paper's published numbers
	$(RUNNER) --only 09
text: check-params  ## 10: misleading text in the prompt, alone and with corrupted images
	$(RUNNER) --only 10
convert-internvl: setup  ## paper mode: OpenGVLab/InternVL2_5-2B (remote code) -> checkpoints/InternVL2_5-2B-hf, then compared with the remote-code model
	$(PY) -m vlmrobust.convert_internvl --source OpenGVLab/InternVL2_5-2B \
	    --processor-from OpenGVLab/InternVL2_5-2B-MPO-hf --out checkpoints/InternVL2_5-2B-hf --verify \
	    $(if $(DEVICE),--device $(DEVICE))
verify: check-params  ## compare outputs/<run>/ with the published results/<run>/ (tables column by column, predictions)
	$(PY) -m vlmrobust.verify --params $(P)
report: check-params  ## outputs/<run>/report/index.html from what the run has made (make reproduce builds it too)
	$(PY) -m vlmrobust.report --params $(P)

# --- development --------------------------------------------------------------
test: setup browser  ## unit tests + papermill smoke run of every notebook (params/smoke.yaml)
	$(PY) -m pytest

browser:  ## Chromium from Debian's packages, for the report's browser test (no-op when installed)
	@[ -n "$${CHROMIUM:-}" ] || tools/ensure-chromium

test-fast: setup  ## unit tests only (skip the notebook smoke run)
	$(PY) -m pytest -m "not notebooks"

zoo-train: check-params  ## retrain the shipped zoo from scratch (scratch folder, ~20 min) and compare its goals with the shipped zoo's and the seed ranges
	$(PY) -m vlmrobust.zoo.retrain --params $(P)

zoo-ship: check-params  ## after a recipe change: retrain (or reuse zoo-train's) and make it the shipped zoo; then make reproduce publish
	$(PY) -m vlmrobust.zoo.retrain --params $(P) --ship

publish: check-params  ## make this run's tables and predictions the published results/<run>/ (after zoo-ship and reproduce)
	$(PY) -m vlmrobust.verify --params $(P) --publish

zoo-seeds: check-params  ## the zoo's goals over training seeds 0 1 2 -> outputs/<run>/zoo-seeds/ (about 50 min untrained; not in reproduce)
	$(PY) zoo-experiments/zoo_seeds.py --params $(P) --seeds $(or $(SEEDS),0 1 2)

po-aug-variants: check-params  ## po-aug retrained alone with each augmentation variant, per zoo seed -> outputs/<run>/po-aug-variants/ (about 7 min per seed and variant; not in reproduce)
	$(PY) zoo-experiments/po_aug_variants.py --params $(P) --seeds $(or $(SEEDS),0 1 2)

seed-runs: check-params  ## the whole pipeline on the zoo-seeds' zoos 1 2 -> outputs/<run>-seed<k>/, findings and safety goals side by side (about 14 min per seed; not in reproduce)
	$(PY) zoo-experiments/seed_runs.py --params $(P) --seeds $(or $(SEEDS),1 2)

gpu-smoke: setup  ## paper mode, small: every paper model (P0 in bf16 and NF4) on 20 items x 2 conditions -> benchmarks/results/gpu_smoke.json (TINY=1: tiny random models)
	$(PY) benchmarks/gpu_smoke.py $(if $(TINY),--tiny)

bench: setup  ## speed benchmarks -> benchmarks/results/*.json
	@mkdir -p benchmarks/results
	@for b in $(filter-out benchmarks/_common.py benchmarks/from_nothing.py benchmarks/cpu_kinds.py benchmarks/gpu_smoke.py,$(wildcard benchmarks/*.py)); do \
	    echo "== $$b"; $(PY) $$b || exit 1; done
	@echo "(benchmarks/from_nothing.py and cpu_kinds.py run alone: half an hour and ten minutes)"

binder-url:  ## the Binder link (and badge) for this clone's GitHub remote
	@$(PYTHON) tools/binder_url.py

lab: setup  ## open JupyterLab on the notebooks
	$(VENV)/bin/jupyter lab notebooks/

sync: setup  ## re-pair each notebook's .ipynb with its .py after editing either (jupytext)
	$(VENV)/bin/jupytext --sync notebooks/[0-9]*.py

clean:  ## remove one run's outputs: make clean RUN=demo
	@test -n "$(RUN)" || (echo "usage: make clean RUN=<run>"; exit 1)
	rm -rf outputs/$(RUN)
