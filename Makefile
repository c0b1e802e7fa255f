# One- or two-line targets; the steps live in scripts/ (set -eu).
.PHONY: build dev test bench deploy bundle generate deps token chat

build: deps
	./scripts/build.sh

dev: build
	./scripts/dev.sh

test:
	./scripts/test.sh

deploy: build
	npx wrangler deploy

bench: build
	./scripts/bench.sh

bundle: build
	./scripts/bundle.sh

generate:
	./scripts/generate.sh

deps:
	./scripts/deps.sh

# make token user=alice [ttl=1h] [rooms='lobby,team-*'] [role=moderator]: a signed token for a protected room.
token:
	go run ./cmd/chattoken -user "$(user)" -ttl "$(or $(ttl),1h)" -rooms "$(rooms)" -role "$(role)"

# make chat user=alice [room=lobby]: the terminal chat against make dev.
chat:
	go run ./cmd/chat -room "$(or $(room),lobby)" -user "$(user)"
