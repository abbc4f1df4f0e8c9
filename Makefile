# The two commands of the README, and a few more.
#   make demo    configure into build/, build, run every case, write results/summary.md
#   make check   configure, build, run the CTest suite
#   make bench   full-size runs recorded in docs/results/, then the pages rendered from them
#   make docs    render docs/*.md from docs/src/*.md and the runs in docs/results/
#   make fuzz    open-ended fuzzing (libFuzzer, clang): each target for its SECONDS, corpus kept
# Options: make demo CMAKE_FLAGS="-DCS_NATIVE=OFF" BUILD=build-portable
BUILD ?= build
CMAKE_FLAGS ?=
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all configure build demo check bench docs fuzz clean

all: build

configure:
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	@BUILD=$(BUILD) bash tools/run_demo.sh results

check: build
	@cd $(BUILD) && ctest --output-on-failure --timeout 600 -LE fuzz_long

fuzz: build
	@cd $(BUILD) && ctest --output-on-failure -L fuzz_long

bench: build
	@BUILD=$(BUILD) bash tools/run_bench.sh docs/results

docs:
	@python3 tools/docs_pages.py

clean:
	rm -rf $(BUILD) results
