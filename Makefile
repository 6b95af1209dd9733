# stagetrace: make demo runs the quickstart, make test runs every check.
GO          ?= go
BIN         := $(CURDIR)/bin
STATICCHECK_VERSION := v0.7.0
STATICCHECK := $(BIN)/staticcheck
OUT         ?= stagetrace-out
FUZZTIME    ?= 10s

.PHONY: all demo serve node-optional test vet lint unit fuzz fuzz-short bench bench-store bench-postgres reliability chromium postgresql tools clean collector collector-test e2e flakes mdatagen fixtures node

all: test

## demo: run an instrumented chatbot turn; write $(OUT)/runs.jsonl, runs.db and report.html; print the run
demo:
	$(GO) run ./examples/quickstart -out $(OUT)

## serve: serve the demo's store (make demo first): OTLP on 4317 (gRPC) and 4318 (HTTP), the web UI on 4040; prints the URL
serve:
	$(GO) run ./cmd/stagetrace serve --db $(OUT)/runs.db

## test: vet, staticcheck, the race-enabled test suite (with the reliability suite in its short form) and short fuzz runs
test: vet lint unit collector-test e2e fuzz-short

vet:
	$(GO) vet ./...
	$(GO) vet -tags reliability ./reliability/
	$(GO) vet -tags scale ./integration/
	cd collector && $(GO) vet ./... && $(GO) vet -tags e2e ./...

lint: $(STATICCHECK)
	$(STATICCHECK) ./...
	cd collector && $(STATICCHECK) ./...

$(STATICCHECK):
	GOBIN=$(BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

tools: $(STATICCHECK)

# The report's and serve's browser tests drive a real headless Chromium,
# and serve's Node client test the Node OpenTelemetry SDK. In CI they must
# not be skipped: STAGETRACE_REQUIRE_CHROMIUM and STAGETRACE_REQUIRE_NODE
# turn a missing tool into a failure there. The PostgreSQL store's tests
# start a throwaway cluster of Debian's postgresql (internal/pgtest); in CI
# a missing server fails them.
unit: chromium node-optional postgresql
	STAGETRACE_REQUIRE_CHROMIUM=$${CI:+1} STAGETRACE_REQUIRE_NODE=$${CI:+1} $(GO) test -race -count=1 ./...

# node-optional installs Node like make node when it can, and otherwise
# only warns: serve's Node client test is then skipped, loudly (outside CI).
node-optional:
	@if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then echo "node: $$(node --version)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; \
	else echo "node and npm are missing and cannot be installed here: run 'make node' as root; the serve test with the Node SDK will be skipped" >&2; fi

## chromium: install Debian's chromium, which the report's browser test drives
chromium:
	@if command -v chromium >/dev/null 2>&1; then echo "chromium: $$(command -v chromium)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "chromium is missing and cannot be installed here: run 'make chromium' as root (Debian's chromium package); the browser test will be skipped" >&2; fi

## postgresql: install Debian's postgresql, whose initdb and pg_ctl the PostgreSQL store's tests run (or set STAGETRACE_POSTGRES_URL)
postgresql:
	@if ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || command -v pg_ctl >/dev/null 2>&1; then echo "postgresql: $$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | tail -1)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	else echo "postgresql is missing and cannot be installed here: run 'make postgresql' as root (Debian's postgresql package) or set STAGETRACE_POSTGRES_URL; the PostgreSQL tests will be skipped" >&2; fi

# Every fuzz target runs for FUZZTIME; go test -fuzz takes one target at a time.
FUZZ_TARGETS := \
	.:FuzzEncodeRoundTrip \
	.:FuzzDecodeLine \
	./rules:FuzzLoad \
	./rules:FuzzGlob \
	./query:FuzzParse \
	./query:FuzzLogFilters \
	./sink/sqlitesink:FuzzDecodeAttrs \
	./sink/sqlitesink:FuzzLookupAttr \
	./sink/postgressink:FuzzText \
	./redact:FuzzGlob \
	./redact:FuzzRedactString \
	./redact:FuzzScrub \
	.:FuzzLimitDepth \
	./internal/yamlnode:FuzzCheckExpansion \
	./summary:FuzzSafe \
	./internal/ingest:FuzzDecodeTraces

# Go 1.26's fuzz coordinator can fail a target with a bare "context
# deadline exceeded" as -fuzztime runs out (golang/go#75804, fixed in Go
# 1.27): no input failed and none is written. Such a run is tried once
# more; a run that wrote a failing input, or failed any other way, fails.
fuzz-short:
	@set -e; log=$$(mktemp); trap 'rm -f $$log' EXIT; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		for try in 1 2; do \
			echo "fuzz $$pkg $$name ($(FUZZTIME))"; \
			if $(GO) test -run='^$$' -fuzz="^$$name$$" -fuzztime=$(FUZZTIME) $$pkg >$$log 2>&1; then cat $$log; break; fi; \
			cat $$log; \
			if [ $$try = 1 ] && grep -q 'context deadline exceeded' $$log && ! grep -q 'Failing input written' $$log; then \
				echo "fuzz $$pkg $$name: the fuzz engine's deadline race (golang/go#75804), no failing input: trying once more"; continue; fi; \
			exit 1; \
		done; \
	done

## fuzz: longer fuzz runs
fuzz:
	$(MAKE) fuzz-short FUZZTIME=2m

## flakes: repeat the race-enabled suite (root module, collector module, short reliability suite) N times to catch flaky tests: make flakes N=20 CPU=1,2
N   ?= 10
CPU ?= 1,2
flakes:
	$(GO) test -race -count=$(N) -cpu=$(CPU) -timeout 60m ./...
	cd collector && $(GO) test -race -count=$(N) -cpu=$(CPU) -timeout 60m ./...

## reliability: the full reliability suite (1,000,000 spans, a 30 s outage, kill -9, full disk, hostile input); see RELIABILITY.md
reliability:
	$(GO) test -tags reliability -count=1 -timeout 30m -v ./reliability/

## bench: the benchmarks recorded in BENCHMARKS.md (bench-store included); the paired ones (BenchmarkOverhead, BenchmarkExportPaired, BenchmarkLogExportPaired, BenchmarkProcessorPaired) give the summary table's ratios
bench: bench-store
	$(GO) test -run='^$$' -bench=. -benchmem -count=6 -cpu=1 ./processor/ ./integration/ ./rules/ ./sink/jsonlsink/ ./internal/pdataview/
	$(GO) test -run='^$$' -bench='Insert' -benchtime=20000x -count=3 ./sink/sqlitesink/
	cd collector && $(GO) test -run='^$$' -bench='Paired' -benchmem -count=6 -cpu=1 ./stagetraceprocessor/ ./stagetraceexporter/

## bench-store: the SQLite store at a million spans (scale build tag; about 15 minutes, 3 GB of temporary files and 3 GB of memory): ingest against JSON lines, then the goal queries against memquery, then what a store of one row per span costs at best (StoreFloor)
SCALE_SPANS ?= 1000000
bench-store:
	STAGETRACE_SCALE_SPANS=$(SCALE_SPANS) $(GO) test -tags scale -run='^$$' -bench='StoreIngest' -benchtime=1x -timeout=60m ./integration/
	STAGETRACE_SCALE_SPANS=$(SCALE_SPANS) $(GO) test -tags scale -run='^$$' -bench='StoreQueries' -benchtime=7x -timeout=60m ./integration/
	STAGETRACE_SCALE_SPANS=$(SCALE_SPANS) $(GO) test -tags scale -run='^$$' -bench='StoreFloor' -benchtime=1x -timeout=60m ./integration/

## bench-postgres: ingest of about 1,000,000 spans (1954 batches of 512) into SQLite and into PostgreSQL from one and from two writers, the two stores written in turn, round after round (BENCHMARKS.md)
BENCH_BATCHES ?= 1954
bench-postgres: postgresql
	$(GO) test -run='^$$' -bench='Ingest' -benchtime=$(BENCH_BATCHES)x -count=1 -cpu=1 -timeout 60m ./sink/postgressink/

## collector: build ./bin/otelcol-stagetrace with the pinned OpenTelemetry Collector Builder
BUILDER_VERSION := v0.165.0
BUILDER := $(BIN)/builder

$(BUILDER):
	GOBIN=$(BIN) $(GO) install go.opentelemetry.io/collector/cmd/builder@$(BUILDER_VERSION)

collector: $(BUILDER)
	cd collector && CGO_ENABLED=0 $(BUILDER) --config=builder-config.yaml --skip-compilation
	cd collector/_build && CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN)/otelcol-stagetrace .

## mdatagen: generate the collector components' status code and lifecycle tests from their metadata.yaml with the Collector's mdatagen, pinned like the builder (the module proxy does not serve it at this version yet; see collector/README.md)
MDATAGEN_VERSION := $(BUILDER_VERSION)
MDATAGEN := $(BIN)/mdatagen

$(MDATAGEN):
	GOBIN=$(BIN) $(GO) install go.opentelemetry.io/collector/cmd/mdatagen@$(MDATAGEN_VERSION)

mdatagen: $(MDATAGEN)
	cd collector/stagetraceprocessor && $(MDATAGEN) metadata.yaml
	cd collector/stagetraceexporter && $(MDATAGEN) metadata.yaml

## collector-test: the collector module's unit tests (its own go.mod)
collector-test: postgresql
	cd collector && $(GO) test -race -count=1 ./...

## e2e: build the collector and the command, send the collector OTLP from real clients (hostile input included), check JSONL, SQLite and what the command prints; two collectors writing one PostgreSQL through a restart of the server
e2e: collector postgresql
	$(GO) build -o $(BIN)/stagetrace ./cmd/stagetrace
	cd collector && STAGETRACE_BIN=$(BIN)/stagetrace $(GO) test -tags e2e -count=1 ./e2e/

## fixtures: record the OTLP that real JavaScript instrumentations of the openai and @anthropic-ai/sdk clients (and that client's own telemetry) export, npm packages pinned by fixtures/node/package-lock.json, driven against a fake provider on 127.0.0.1, into integration/testdata/instrumentations; the Go tests read them without Node
FIXTURES := integration/testdata/instrumentations

fixtures: node
	cd fixtures/node && npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(FIXTURES)
	cd fixtures/node && for rec in openinference:openai openllmetry:openai openinference:anthropic openllmetry:anthropic sdk:anthropic; do \
		node record.mjs $${rec%%:*} $${rec##*:} $(CURDIR)/$(FIXTURES)/$${rec%%:*}-$${rec##*:}.jsonl || exit 1; \
	done

## node: Node.js 20.6 or later and npm, for make fixtures (Debian's nodejs and npm when run as root)
node:
	@if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then echo "node: $$(node --version)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; \
	else echo "node and npm are missing: run 'make node' as root, or install Node.js 20.6 or later" >&2; exit 1; fi

clean:
	rm -rf $(BIN) $(OUT) collector/_build fixtures/node/node_modules cmd/stagetrace/testdata/node/node_modules
