# Solvent developer commands. Every target bootstraps what it needs (idempotently) first.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin

# Project-local tools first: anvil/cast/forge/solcjs from npm, ape/pytest/ruff from the venv.
export PATH := $(CURDIR)/node_modules/.bin:$(BIN):$(PATH)
# ape-config.yaml resolves the OpenZeppelin remapping through ${PWD}.
export PWD := $(CURDIR)

PY_STAMP := $(VENV)/.installed
# make compare-models writes here and renders the BENCHMARKS section from it
MODELS_OUT ?= reports/models
NPM_STAMP := node_modules/.installed

.PHONY: help setup node solc test test-slow bench-gas gas-snapshot lint analyze format demo bench backtest crash-replays sim compare-models campaign fuzz freeze clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

setup: $(PY_STAMP) $(NPM_STAMP) solc ## install Python deps, npm tools and the pinned solc

$(PY_STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	$(BIN)/pip check
	@touch $@

$(NPM_STAMP): package.json package-lock.json
	@node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' || { echo "Node >= 20 is required"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

solc: $(PY_STAMP) $(NPM_STAMP)
	@$(BIN)/python tools/install_solc.py

test: setup ## run the test suite on a local Anvil (extra pytest args: make test ARGS='-k oracle')
	$(BIN)/ape test $(ARGS)

test-slow: setup ## the slow tests (benchmarks' own tests, mutation checks, the operator path); CI runs them
	$(BIN)/ape test -m slow $(ARGS)

gas-snapshot: setup ## rerun the tests and rewrite gas-snapshot.json from their measurements
	GAS_SNAPSHOT_UPDATE=1 $(BIN)/ape test -m "slow or not slow" $(ARGS)

lint: setup ## ruff (format + lint) and forge fmt --check
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	forge fmt --check contracts interfaces

analyze: setup ## Slither static analysis: fails on high/medium findings in our contracts
	$(BIN)/python tools/slither_check.py

format: setup ## apply ruff and forge formatting
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
	forge fmt contracts interfaces

node: setup ## a persistent local Anvil on :8545 (state in .anvil/); NODE_ARGS="--block-time 2 --fresh"
	$(BIN)/ape run node $(NODE_ARGS)

demo: setup ## the main job: deploy, 300 traders, a price crash, the keeper liquidating (reports/demo/)
	$(BIN)/ape run demo $(DEMO_ARGS)

bench: setup ## measure everything and regenerate docs/BENCHMARKS.md (about 40 minutes)
	GAS_MEASUREMENTS_OUT=reports/bench/gas.json $(BIN)/ape test -q
	$(BIN)/ape run keeper_bench --out reports/bench/keeper.json
	$(BIN)/ape run fuzz_bench
	$(BIN)/ape run simulate --accounts 200 --out reports/bench/sim
	$(BIN)/ape run compare_models --out reports/bench/models
	$(BIN)/ape run backtest --out reports/bench/backtest
	$(BIN)/ape run crash_replays --out reports/bench/crash
	$(BIN)/python -m solvent.sim.montecarlo --out reports/bench/campaign
	$(BIN)/python -m solvent.bench.render --gas reports/bench/gas.json \
		--keeper reports/bench/keeper.json --fuzz reports/bench/fuzz.json \
		--sim reports/bench/sim/index.json --backtest reports/bench/backtest/summary.json \
		--crash reports/bench/crash/summary.json --campaign reports/bench/campaign/report.json \
		--models reports/bench/models/summary.json --out docs/BENCHMARKS.md

bench-gas: setup ## rewrite only the gas section of docs/BENCHMARKS.md from gas-snapshot.json
	$(BIN)/python -m solvent.bench.render --gas gas-snapshot.json --gas-only --out docs/BENCHMARKS.md

backtest: setup ## walk-forward backtest of the volatility forecasters on the real history (reports/backtest/)
	$(BIN)/ape run backtest $(ARGS)

crash-replays: setup ## real crashes under reactive vs predictive margin (reports/crash/, ~3-5 min); ARGS="--window real_ftx_2022"
	$(BIN)/ape run crash_replays $(ARGS)

sim: setup ## run the crash simulator (reports/sim/); SIM_ARGS="--scenario gap_30 --accounts 100"
	$(BIN)/ape run simulate $(SIM_ARGS)

compare-models: setup ## both risk models on one population, 4 crashes x 2 models (reports/models/, ~5 min); rewrites that section of docs/BENCHMARKS.md
	$(BIN)/ape run compare_models --out $(MODELS_OUT) $(ARGS)
	$(BIN)/python -m solvent.bench.render --models $(MODELS_OUT)/summary.json --models-only --out docs/BENCHMARKS.md

campaign: setup ## Monte Carlo: 200 paths x a 3x3 grid on Dask, 10 replayed on Anvil (reports/campaign/); ARGS="--scheduler tcp://host:8786"
	$(BIN)/python -m solvent.sim.montecarlo $(ARGS)

fuzz: setup ## deep stateful fuzzing campaign (>= 100k steps; replay with ARGS='--hypothesis-seed=N')
	HYPOTHESIS_PROFILE=deep $(BIN)/ape test tests/fuzz/test_protocol_machine.py -m "slow or not slow" -q $(ARGS)

freeze: $(PY_STAMP) ## rewrite requirements.txt from the venv
	{ head -2 requirements.txt; $(BIN)/pip freeze --exclude-editable | grep -v -i '^solvent'; } > requirements.tmp
	mv requirements.tmp requirements.txt

clean: ## remove build outputs (keeps the venv and node_modules)
	rm -rf .build contracts/.cache reports
