# One- or two-line targets; the steps live in scripts/ (set -eu).
.PHONY: build dev test bench deploy bundle generate deps

build: deps
	./scripts/build.sh

dev: build
	./scripts/dev.sh

test:
	./scripts/test.sh

deploy: build
	npx wrangler deploy

bundle: build
	./scripts/bundle.sh

generate:
	go generate ./room/...

deps:
	./scripts/deps.sh
