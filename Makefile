# statectl: see README.md. `make demo` runs the main job on a local lab
# cluster; `make test` runs every test.
GO       ?= go
BIN      := bin
PKGS     := ./runner/...
LABDIR   ?= $(CURDIR)/.lab
export PATH := $(PATH):/usr/local/go/bin

.PHONY: all build plugins test unit fuzz vet fmt-check bench bench-watch bench-fleet bench-rolling demo demo-down deps clean

all: build

build:
	$(GO) build -o $(BIN)/statectl ./runner/cmd/statectl

# State module plugins (docs/plugins.md). Tests build their own copies.
plugins:
	$(GO) build -o $(BIN)/statectl-module-file ./runner/cmd/statectl-module-file

deps:
	bash scripts/install-deps.sh

vet:
	$(GO) vet $(PKGS)

fmt-check:
	@out=$$(gofmt -l runner); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# Every test: unit, script (CLI) and integration tests against real incusd
# daemons the tests start themselves, then short fuzz runs. With CI=true the
# integration tests fail (never skip) when incusd is missing.
test: fmt-check vet build
	$(GO) test -count=1 -timeout 30m $(PKGS)
	$(MAKE) fuzz

FUZZTIME ?= 10s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzRender$$' -fuzztime $(FUZZTIME) ./runner/render
	$(GO) test -run '^$$' -fuzz '^FuzzYAML$$' -fuzztime $(FUZZTIME) ./runner/render

# Benchmarks, printed as a table (every figure a benchmark reports, custom
# ones such as peak-RSS-MB, reads/op and x-floor included). -p 1: one
# package at a time, so benchmarks never share the 2 cores with each other.
# Figures are recorded in docs/benchmarks.md.
BENCHTIME ?= 1s
bench:
	@mkdir -p $(BIN); \
	$(GO) test -p 1 -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -count 1 -timeout 30m $(PKGS) | tee $(BIN)/bench.out | \
	  awk 'BEGIN{printf "%-52s %10s  %s\n","benchmark","iterations","figures per op"} \
	       /^Benchmark/{r=""; for(i=3;i<NF;i+=2) r=r sprintf("%14s %-12s",$$i,$$(i+1)); printf "%-52s %10s  %s\n",$$1,$$2,r} \
	       /^(FAIL|panic)/{print; bad=1} END{exit bad}'

# Watch latency alone: 20 out-of-band drifts on a 3-member lab, default
# flags; prints p50/p95 (docs/benchmarks.md, "Watch: detection to correction").
bench-watch:
	$(GO) test -count=1 -run '^$$' -bench '^BenchmarkWatchDriftToCorrection$$' -benchtime 1x -timeout 10m ./runner/watch

# Two 3-member clusters formed from scratch, --parallel 1 vs 2 (docs/benchmarks.md, section 8).
bench-fleet:
	$(GO) test -count=1 -run '^TestFleetParallel$$' -v -timeout 10m ./runner/cli | grep -E 'formed with|^(ok|FAIL|---)'

# Rolling maintenance: incus.maintenance --batch 1 on a 3-member lab with
# statectl lab restart as the command, a client reading all along; prints
# time per member and failed reads (docs/benchmarks.md, "Rolling maintenance").
bench-rolling:
	CI=true $(GO) test -count=1 -v -run '^TestRollingMaintenance$$' -timeout 10m ./runner/cli | \
	  grep -E 'rolling_lab_test|statectl: batch|^  +incus-|^(--- |ok|FAIL)'

# The main job on a local 3-member lab cluster (see README.md).
demo: deps build
	bash scripts/demo.sh $(LABDIR)

demo-down: build
	$(BIN)/statectl lab down --dir $(LABDIR)

clean:
	rm -rf $(BIN)
