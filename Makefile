# The two commands a newcomer needs: `make demo` and `make test`. Both set up what is missing
# first (scripts/setup). Cargo's target directory lives outside the clone so that a fresh clone
# builds incrementally on a machine that built before.
SHELL := /bin/bash
export CARGO_TARGET_DIR ?= $(HOME)/.cache/cylwatch/target
TOOLS_DIR ?= $(HOME)/.cache/cylwatch/tools
export PATH := $(TOOLS_DIR)/bin:$(TOOLS_DIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
export CYLWATCH_TOOLS_DIR := $(TOOLS_DIR)

# Demo knobs: where to listen; the simulated city's size, seed, seconds between GPS fixes,
# speed (1 = real time) and simulated seconds between two injected anomalies.
DEMO_ADDR ?= 127.0.0.1:8080
VEHICLES ?= 200
CYLINDERS ?= 5000
CUSTOMERS ?= 5000
ENTERPRISES ?= 20
STATIONS ?= 100
SEED ?= 20261122
INTERVAL_S ?= 5
SPEED ?= 1
ANOMALY_EVERY_S ?= 20

.PHONY: demo test setup frontend lint migrate clean-test-dbs openapi

## Start PostgreSQL/PostGIS and Redis if needed, build, migrate, run the server and the
## simulated city (`cylwatch simulate` runs cylwatch-sim, built beside the server); open the
## printed URL.
demo: setup frontend
	cargo build --profile server -p cylwatch -p cylwatch-sim
	DEMO_ADDR=$(DEMO_ADDR) VEHICLES=$(VEHICLES) CYLINDERS=$(CYLINDERS) CUSTOMERS=$(CUSTOMERS) \
	  ENTERPRISES=$(ENTERPRISES) STATIONS=$(STATIONS) SEED=$(SEED) INTERVAL_S=$(INTERVAL_S) \
	  SPEED=$(SPEED) ANOMALY_EVERY_S=$(ANOMALY_EVERY_S) \
	  BIN=$(CARGO_TARGET_DIR)/server/cylwatch bash scripts/demo

## Everything CI checks: formatting, lints, unit tests, end-to-end API and browser tests.
test: setup frontend lint clean-test-dbs
	cargo test --workspace --all-targets

setup:
	bash scripts/setup

## Rewrite assets/openapi.json from the handlers' declarations (review the diff: it is the
## contract other systems build against).
openapi:
	CYLWATCH_BLESS=1 cargo test -p cylwatch --lib openapi

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
