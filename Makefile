# statectl: see README.md. `make demo` runs the main job on a local lab
# cluster; `make test` runs every test.
GO       ?= go
BIN      := bin
PKGS     := ./runner/...
LABDIR   ?= $(CURDIR)/.lab
export PATH := $(PATH):/usr/local/go/bin

.PHONY: all build test unit fuzz vet fmt-check bench demo demo-down deps clean

all: build

build:
	$(GO) build -o $(BIN)/statectl ./runner/cmd/statectl

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

# Benchmarks, printed as a table. Figures are recorded in docs/benchmarks.md.
bench:
	@mkdir -p $(BIN); $(GO) test -run '^$$' -bench . -benchmem -count 1 $(PKGS) | tee $(BIN)/bench.out | \
	  awk 'BEGIN{printf "%-50s %12s %14s %12s %12s\n","benchmark","iterations","time/op","bytes/op","allocs/op"} \
	       /^Benchmark/{printf "%-50s %12s %11s %s %9s %s %9s %s\n",$$1,$$2,$$3,$$4,$$5,$$6,$$7,$$8}'

# The main job on a local 3-member lab cluster (see README.md).
demo: deps build
	bash scripts/demo.sh $(LABDIR)

demo-down: build
	$(BIN)/statectl lab down --dir $(LABDIR)

clean:
	rm -rf $(BIN)
