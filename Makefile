# The two commands a newcomer needs: `make demo` and `make test`. Both set up what is missing
# first (scripts/setup). Cargo's target directory lives outside the clone so that a fresh clone
# builds incrementally on a machine that built before.
SHELL := /bin/bash
export CARGO_TARGET_DIR ?= $(HOME)/.cache/cylwatch/target
TOOLS_DIR ?= $(HOME)/.cache/cylwatch/tools
export PATH := $(TOOLS_DIR)/bin:$(TOOLS_DIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
export CYLWATCH_TOOLS_DIR := $(TOOLS_DIR)

# Demo knobs: where to listen, how many simulated vehicles, seconds between fixes.
DEMO_ADDR ?= 127.0.0.1:8080
VEHICLES ?= 200
INTERVAL_S ?= 2

.PHONY: demo test setup frontend lint migrate clean-test-dbs

## Start PostgreSQL/PostGIS and Redis if needed, build, migrate, run the server and the
## simulated city; open the printed URL.
demo: setup frontend
	cargo build --profile server -p cylwatch
	DEMO_ADDR=$(DEMO_ADDR) VEHICLES=$(VEHICLES) INTERVAL_S=$(INTERVAL_S) \
	  BIN=$(CARGO_TARGET_DIR)/server/cylwatch bash scripts/demo

## Everything CI checks: formatting, lints, unit tests, end-to-end API and browser tests.
test: setup frontend lint clean-test-dbs
	cargo test --workspace --all-targets

setup:
	bash scripts/setup

## Apply migrations/ to the demo database with sqlx-cli (the server also does this at start).
DATABASE_URL ?= postgres://cylwatch:cylwatch@127.0.0.1:5432/cylwatch
migrate: setup
	sqlx migrate run --source migrations --database-url $(DATABASE_URL)

frontend:
	trunk build --release

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy -p cylwatch-frontend --target wasm32-unknown-unknown -- -D warnings

# Databases left behind by an interrupted test run.
clean-test-dbs:
	@PGPASSWORD=cylwatch psql -qAtX -h 127.0.0.1 -U cylwatch -d postgres \
	  -c "SELECT datname FROM pg_database WHERE datname LIKE 'cylwatch\_test\_%'" | \
	  while read -r db; do PGPASSWORD=cylwatch psql -qX -h 127.0.0.1 -U cylwatch -d postgres \
	    -c "DROP DATABASE IF EXISTS \"$$db\" WITH (FORCE)"; done
