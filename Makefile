# netlab: make targets. `make help` lists them.
GO      ?= go
BIN     := bin/netlab
FUZZTIME ?= 20s

.PHONY: help build fopnp test unit fuzz bench graphs clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

build: ## build bin/netlab
	$(GO) build -o $(BIN) ./cmd/netlab

fopnp: build ## the fopnp playground (until the provider lands: validate, plan and draw it)
	$(BIN) validate labs/fopnp.yaml
	$(BIN) plan labs/fopnp.yaml
	$(BIN) graph labs/fopnp.yaml -o fopnp.svg

test: build unit fuzz ## everything CI runs: vet, every test, a short fuzz run
	@echo "make test: all passed"

unit: ## go vet and the tests
	$(GO) vet ./...
	$(GO) test -count=1 ./...

fuzz: ## fuzz the lab loader for FUZZTIME (default 20s)
	$(GO) test ./spec -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)

bench: ## planner benchmarks: 250/500/1000 nodes, 2 links per node
	$(GO) test ./planner -run '^$$' -bench . -benchmem -count 3

graphs: build ## redraw the pictures in docs/
	for f in labs/*.yaml; do n=$$(basename $$f .yaml); $(BIN) graph $$f -o docs/$$n.svg; done

clean: ## remove build output
	rm -rf bin
