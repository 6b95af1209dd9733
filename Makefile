# stagetrace: make demo runs the quickstart, make test runs every check.
GO          ?= go
BIN         := $(CURDIR)/bin
STATICCHECK_VERSION := v0.7.0
STATICCHECK := $(BIN)/staticcheck
OUT         ?= stagetrace-out
FUZZTIME    ?= 10s

.PHONY: all demo test vet lint unit fuzz fuzz-short bench tools clean

all: test

## demo: run an instrumented chatbot turn, write $(OUT)/runs.jsonl, print the run
demo:
	$(GO) run ./examples/quickstart -out $(OUT)

## test: vet, staticcheck, the race-enabled test suite and short fuzz runs
test: vet lint unit fuzz-short

vet:
	$(GO) vet ./...

lint: $(STATICCHECK)
	$(STATICCHECK) ./...

$(STATICCHECK):
	GOBIN=$(BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

tools: $(STATICCHECK)

unit:
	$(GO) test -race -count=1 ./...

# Every fuzz target runs for FUZZTIME; go test -fuzz takes one target at a time.
FUZZ_TARGETS := \
	.:FuzzEncodeRoundTrip \
	.:FuzzDecodeLine

fuzz-short:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$pkg $$name ($(FUZZTIME))"; \
		$(GO) test -run='^$$' -fuzz="^$$name$$" -fuzztime=$(FUZZTIME) $$pkg; \
	done

## fuzz: longer fuzz runs
fuzz:
	$(MAKE) fuzz-short FUZZTIME=2m

## bench: the benchmarks recorded in BENCHMARKS.md
bench:
	$(GO) test -run='^$$' -bench=. -benchmem -count=6 -cpu=1 ./processor/ ./exporter/

clean:
	rm -rf $(BIN) $(OUT)
