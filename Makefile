# make check: what CI runs (after starting PostgreSQL; see .ci/run).
# make run:   the demo on embedded SQLite.
GO ?= go

STATICCHECK = honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: check test vet lint fmt run bench

check: fmt vet lint test

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

lint:
	$(GO) run $(STATICCHECK) ./...

test:
	$(GO) test -race -count=1 ./...

run:
	$(GO) run ./cmd/sesame demo

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./internal/...
