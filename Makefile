# netlab: make targets. `make help` lists them.
GO      ?= go
BIN     := bin/netlab
FUZZTIME ?= 5s
BENCHNODES ?= 20000
# Every go test has an explicit -timeout: go's own 10 minutes is too short
# for some runs, and a hung test must not hold CI to its 90 minutes. A
# runtime's end-to-end pass (tests/) takes about 5 minutes here on runc and
# 7 on Docker (288 s and 422 s on a quiet machine, 5 December 2026), with
# E2EPARALLEL tests at once; its watchdog removes the tests' labs a minute
# before the timeout ends the process.
E2ETIMEOUT ?= 15m
E2EPARALLEL ?= 4
# FUZZTIME plus the run over the seed corpus and the build: raise it with FUZZTIME.
FUZZTIMEOUT ?= 5m
BENCHTIMEOUT ?= 15m

.PHONY: help web build setup setup-tests image-tools images fopnp-root fopnp-images netlab-images fopnp test unit fuzz fuzz-long bench bench-big bench-up bench-relay soak graphs clean

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-13s %s\n", $$1, $$2}'

web: ## rebuild the class server's front end, web/dist (committed), from web/src: npm ci, then esbuild
	cd web && npm ci --no-audit --no-fund && npm run build

build: ## build bin/netlab and bin/netlab-init, the nodes' init (static: they run in nodes)
	CGO_ENABLED=0 $(GO) build -o bin/ ./cmd/netlab ./cmd/netlab-init

# Without Kubernetes' client and SQLite, a fresh build takes a third of the
# CPU; netlab doctor, --runtime kubernetes and netlab serve say what is not
# built in. A whole netlab already in bin/ (make build) is kept whole.
# The playground's netlab has no debugging information for debuggers
# (DWARF; a panic's trace still names functions, files and lines): its cold
# build takes a seventh less CPU (106-110 CPU-s against 125-127, two pairs).
# make build keeps it.
PLAYGROUND_FLAGS = -gcflags=all=-dwarf=false -ldflags=-w

build-playground: ## build bin/netlab without the Kubernetes runtime and the class server's database (what make fopnp needs), unless bin/ has the whole one
	@if [ -x bin/netlab ] && ! $(GO) version -m bin/netlab 2>/dev/null | grep -q -- '-tags=nokube'; then \
	  $(MAKE) --no-print-directory build; \
	else \
	  echo "CGO_ENABLED=0 nice -n 10 $(GO) build -tags nokube,noserve $(PLAYGROUND_FLAGS) -o bin/ ./cmd/netlab ./cmd/netlab-init"; \
	  CGO_ENABLED=0 nice -n 10 $(GO) build -tags nokube,noserve $(PLAYGROUND_FLAGS) -o bin/ ./cmd/netlab ./cmd/netlab-init; \
	fi

setup: image-tools ## install Docker, nftables, iptables, busybox-static; start dockerd; build netlab/tiny (root)
	scripts/setup.sh

image-tools: ## install what the image builds need: mmdebstrap, openssl, openssh-client (root)
	scripts/setup.sh --image-tools

setup-tests: ## setup, and what only the tests use (chromium, for the class server's browser test) (root)
	scripts/setup.sh --tests

images: fopnp-images netlab-images ## build every lab image from Debian's packages: fopnp/*, netlab/host, netlab/router (cached; root)

fopnp-images: setup fopnp-root ## build the playground's images, fopnp/* (cached; root)
	labs/fopnp/image/build.sh

fopnp-root: image-tools ## make the playground's Debian root (cached), which needs no Docker (root)
	labs/fopnp/image/build.sh --root

netlab-images: setup ## build the course labs' images, netlab/host and netlab/router (cached; root)
	labs/netlab/image/build.sh

# The Go build (CPU and the module download) runs while the machine is set
# up and the images build (the packages' download, then dpkg): on a fresh
# machine each hides part of the other's time. The build needs nothing
# setup installs (bootstrap.sh installs Go). The playground's Debian root
# (fopnp-root) needs only the image tools, installed first, and is made
# while setup installs Docker and the rest; only the import waits for
# Docker. The build runs at nice 10 (build-playground): the root's packages are
# installed one after the other, on one core, and take longer than the
# build, which uses both; niced, the build has the other core and what the
# root leaves, and no longer slows the root.
fopnp: ## bring up the fopnp playground (only its images and the playground's netlab are built), and say how to get in (root)
	$(MAKE) --no-print-directory -j3 fopnp-images build-playground
	$(BIN) up labs/fopnp.yaml
	@echo
	@echo "Get in:  ssh -p 2201 root@127.0.0.1   (password abc123; h2-h4 on 2202-2204)"
	@echo "    or:  $(BIN) exec fopnp h1         (any node: h1-h4, modemA, modemB, isp, backbone, example, ftp, mail, www)"
	@echo "Remove:  $(BIN) down fopnp"

# kube-e2e comes last: its cold build (about 18 minutes, at nice 19) is
# cached by its inputs, and a machine without the rest working has no use
# for a cluster.
test: setup-tests images build unit fuzz kube-e2e ## everything CI runs: set-up, vet, every test (end-to-end included, the Kubernetes runtime's on the test cluster), a short fuzz run
	@echo "make test: all passed"

unit: ## go vet, staticcheck and the tests; the end-to-end tests in tests/ need root and Docker, and run on both runtimes
	$(GO) vet ./...
	$(GO) vet -tags nokube,noserve ./runtimes ./serve/store ./hostcheck ./cmd/netlab
	$(GO) test -tags nokube,noserve -count=1 -timeout 2m ./runtimes ./serve/store
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
	NETLAB_E2E=1 $(GO) test -count=1 -timeout $(E2ETIMEOUT) -parallel $(E2EPARALLEL) ./...
	NETLAB_E2E=1 NETLAB_RUNTIME=runc $(GO) test -count=1 -timeout $(E2ETIMEOUT) -parallel $(E2EPARALLEL) ./lab ./tests

fuzz: ## every fuzz target for FUZZTIME (default 5s) each: the lab loader, the publish and impairment parsers, the Kathará and containerlab converters, the capture's frame decoder and pcap reader
	for t in FuzzParse FuzzParseCost FuzzPublish FuzzImpairment; do \
	  GO=$(GO) sh scripts/fuzz.sh ./spec $$t $(FUZZTIME) $(FUZZTIMEOUT) || exit 1; done
	for t in FuzzKathara FuzzKatharaStartup FuzzClab; do \
	  GO=$(GO) sh scripts/fuzz.sh ./convert $$t $(FUZZTIME) $(FUZZTIMEOUT) || exit 1; done
	for t in FuzzSummary FuzzPcapReader; do \
	  GO=$(GO) sh scripts/fuzz.sh ./capture $$t $(FUZZTIME) $(FUZZTIMEOUT) || exit 1; done

fuzz-long: ## every fuzz target for 10 minutes each (about an hour)
	$(MAKE) fuzz FUZZTIME=10m FUZZTIMEOUT=15m

bench: ## load, plan and draw generated chains and stars of 1,000 to BENCHNODES (20,000) nodes; ns/node stays flat
	$(GO) test ./planner ./graph -run '^$$' -bench . -benchmem -benchtime 1x -timeout $(BENCHTIMEOUT) -args -nodes $(BENCHNODES)

bench-big: ## make bench up to 100,000 nodes, the most a lab may have (several minutes, about 3 GB)
	$(MAKE) bench BENCHNODES=100000 BENCHTIMEOUT=60m

bench-up: ## netlab up/down on both runtimes vs plain docker run/rm for chain and star labs of 10, 50, 100 nodes (root)
	scripts/bench-up.sh

bench-relay: ## throughput of an impaired link's relay against a plain veth link (root)
	scripts/bench-relay.sh

SOAK ?= 100
soak: build ## SOAK (default 100) cycles of up, random edit, up, a node restarted, down on a 20-node lab (NETLAB_RUNTIME=runc for runc); counts failures and leftovers (root; not in CI)
	log=$$(mktemp); NETLAB_E2E=1 NETLAB_SOAK=$(SOAK) $(GO) test -count=1 -timeout $$(( $(SOAK) * 30 + 300 ))s -run '^TestSoak$$' -v ./tests >$$log 2>&1; \
	  code=$$?; grep -E '^(=== RUN|--- |\s+soak_test|ok|FAIL|panic)' $$log; rm -f $$log; exit $$code

graphs: build ## redraw the pictures in docs/
	for f in labs/*.yaml; do n=$$(basename $$f .yaml); $(BIN) graph $$f -o docs/$$n.svg; done

clean: ## remove build output
	rm -rf bin

.PHONY: kube-build kube-up kube-down kube-status kube-test kube-e2e
KUBETIMEOUT ?= 45m

kube-build: ## build the test cluster's Kubernetes binaries from the Go module proxy (cached; ~18 min cold on 2 cores, at nice 19)
	k8s/cluster/build/build.sh

kube-up: ## start the Kubernetes test cluster: a control plane and two simulated hosts (root; see docs/kubernetes.md)
	scripts/k8s-cluster.sh up

kube-down: ## stop the Kubernetes test cluster and put the host back as it was (root)
	scripts/k8s-cluster.sh down

kube-status: ## what of the Kubernetes test cluster runs, its nodes and its memory
	scripts/k8s-cluster.sh status

kube-test: ## the Kubernetes test cluster's end-to-end tests: up, pods with NET_ADMIN on both hosts, exec, down, host clean (root)
	NETLAB_E2E=1 NETLAB_K8S=1 $(GO) test -count=1 -timeout $(KUBETIMEOUT) -run 'TestK8s' -v ./tests

kube-e2e: ## the kubernetes runtime's end-to-end tests as CI runs them: binaries (cached), cluster up, tests, down, host checked, also on failure (root)
	GO=$(GO) E2EPARALLEL=$(E2EPARALLEL) scripts/k8s-e2e.sh
