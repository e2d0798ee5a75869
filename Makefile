# The user's interface to the project. Every target is a thin entry point into stack/bin
# (the native stack and the Node tool chain) or Docker Compose.
#
#   make up                               start the stack and the services (idempotent)
#   make down                             stop, keep the data
#   make clean                            stop and delete all data
#   make status                           health of each component; slots (retained WAL, lag), table sizes, group lag,
#                                         recent dead letters and stuck saga cases, WARN above thresholds (exit 1)
#   make logs                             where the logs are
#   make test                             lint, types, unit and integration tests, one chaos round
#   make topics                           topics and message counts
#   make tail TOPIC=name                  a topic's records, decoded, as JSON lines; follows until Ctrl-C
#        [KEY=k] [FROM=f] [COUNT=n]       only key k; FROM=beginning|end|<offset>|<ISO time>; stop after n
#   make events KEY=id [FORMAT=json]      every record with that key (order, product, user id), in time order
#   make dlq [SINCE=t] [FORMAT=json]      dead letters by reason and source, replayed or not; SINCE=<ISO time>|2h
#   make replay-dlq PARTITION=p OFFSET=o  send a dead letter back to its topic
#   make trace ORDER=id                   the order's trace in Zipkin: its link and each hop's start, duration and service
#   make rotate-keys                      a new token-signing key in user-svc; older tokens verify until they expire
#   make docs                             regenerate docs/asyncapi.yaml
#   make openapi                          docs/openapi/ from each service built offline
#   make format                           format the TypeScript (make lint checks it)
#   make fuzz [RUNS=500] [SEED=n]         made-up requests to every endpoint: never a 5xx, every 4xx problem+json
#   make chaos [ROUNDS=n]                 kill, freeze and double-kill components under order load, n rounds (default 1), check invariants
#   make bench                            offered-load benchmark, pgbench limit, report in tests/bench/results
#   make bench-floor                      the same pipeline with no service work: CPU per order it costs alone
#   make bench-ab A='label: cmd' B='label: cmd' [ROUNDS=n]
#                                         short bench runs of two variants alternated (each cmd sets its variant up), one table
#   make soak [DURATION=30m] [RATE=5]     order load with idle gaps on the native stack (orders/s); reports whether memory,
#                                         outbox/processed_events rows, WAL and consumer lag stay flat (tests/soak/results)
#
# STACK=native|docker chooses the stack; by default the one `make up` last started here
# (until `make clean`), else Docker Compose when a Docker engine answers, else the native one.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# Recorded by `make up`, so that down, status, logs and clean act on the stack it started,
# whether or not Docker answers meanwhile.
STACK_RECORD := .stack/stack
STACK ?= $(shell cat $(STACK_RECORD) 2>/dev/null || { docker info >/dev/null 2>&1 && echo docker || echo native; })
ifeq ($(filter $(STACK),native docker),)
$(error STACK must be native or docker, not '$(STACK)')
endif
export SHOP_STACK := $(STACK)

NODE := stack/bin/with-node

.PHONY: help up down status logs clean test lint format typecheck test-unit test-integration topics tail events dlq replay-dlq rotate-keys fuzz trace docs openapi chaos bench bench-ab bench-floor soak

# The comment block at the top of this file, up to its first non-comment line.
help:
	@sed -n '/^#/!q; s/^# \{0,1\}//; p' Makefile

up:
	@mkdir -p .stack && echo $(STACK) >$(STACK_RECORD)
ifeq ($(STACK),docker)
	docker compose up --build --detach --wait
else
	stack/bin/native up
endif

down:
ifeq ($(STACK),docker)
	docker compose stop
else
	stack/bin/native down
endif

status:
ifeq ($(STACK),docker)
	docker compose ps
	@$(NODE) node tools/src/status.ts
else
	stack/bin/native status
endif

logs:
ifeq ($(STACK),docker)
	docker compose logs --tail=100
else
	stack/bin/native logs
endif

clean:
ifeq ($(STACK),docker)
	docker compose down --volumes
else
	stack/bin/native clean
endif
	@rm -f $(STACK_RECORD)

# Static checks and unit tests first (fast, no stack), then the stack, then the tests
# that talk to it, then one round of faults under load (the short chaos run).
test: lint typecheck test-unit up test-integration
	@$(NODE) npm run -s test:summary
	@$(MAKE) --no-print-directory chaos ROUNDS=1

lint:
	$(NODE) npm run -s lint

format:
	$(NODE) npm run -s format

typecheck:
	$(NODE) npm run -s typecheck

test-unit:
	$(NODE) npm run -s test:unit

test-integration:
	$(NODE) npm run -s test:integration

# Inspection (the stack must be up): tools/src, which reads TOPIC, KEY, FROM, COUNT, SINCE,
# FORMAT, PARTITION and OFFSET from the environment (make passes command-line variables on).
topics:
	@$(NODE) node tools/src/topics.ts

tail:
	@$(NODE) node tools/src/tail.ts

events:
	@$(NODE) node tools/src/events.ts

dlq:
	@$(NODE) node tools/src/dlq.ts

replay-dlq:
	@$(NODE) node tools/src/replay-dead-letter.ts

rotate-keys:
	@$(NODE) node tools/src/rotate-signing-key.ts

trace:
	@$(NODE) node tools/src/trace.ts

# Fuzzing beyond the 25 requests per operation that make test sends (tests/integration/fuzz.test.ts).
RUNS ?= 500
SEED ?= 20261202
fuzz:
	@FUZZ_RUNS=$(RUNS) FUZZ_SEED=$(SEED) $(NODE) npx vitest run --project integration tests/integration/fuzz.test.ts

# Faults under load and benchmarks (the stack must be up; both take minutes).
ROUNDS ?= 1
chaos:
	@CHAOS_ROUNDS=$(ROUNDS) $(NODE) node tests/chaos/run.ts

bench:
	@$(NODE) node tests/bench/run.ts

bench-floor:
	@$(NODE) node tests/bench/floor.ts

# A and B come from the command line, which make exports to the recipe.
bench-ab:
	@ROUNDS=$(ROUNDS) $(NODE) node tests/bench/alternate.ts "$$A" "$$B"

# The soak restarts each service with short pruning windows and restores it at the end; it
# never starts or stops the stack (tests/soak/README.md).
DURATION ?= 30m
RATE ?= 5
soak:
	@SOAK_DURATION=$(DURATION) SOAK_RATE=$(RATE) $(NODE) node tests/soak/run.ts

# Generated documentation: the AsyncAPI document from schemas/ and connect/topics.conf, and the
# OpenAPI documents from an offline build of each service (no stack needed).
docs:
	@$(NODE) npm run -s docs:asyncapi

openapi:
	@$(NODE) npm run -s docs:openapi
