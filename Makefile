# The two commands a fresh machine needs: `make run` and `make test`.
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .uv/bin/uv
VENV := .venv
NODE_DIR := tests/node
NPM ?= npm
CONFIG ?= examples/quickstart.yaml
# The PostgreSQL leg of the suite; skipped (or failed, with PORTICO_REQUIRE_ALL=1) when unreachable.
export PORTICO_TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: run test lint fmt install node-deps clean bench

$(UV):
	$(PYTHON) -m venv .uv
	.uv/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	UV_PYTHON=$(PYTHON) $(UV) sync --frozen --quiet
	touch $@

install: $(VENV)/.installed

# Node 22, oidc-provider and the MCP servers/tools used by the suite, exactly as in tests/node/package-lock.json.
$(NODE_DIR)/node_modules/.installed: $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	cd $(NODE_DIR) && $(NPM) ci --no-audit --no-fund
	touch $@

node-deps: $(NODE_DIR)/node_modules/.installed

run: install
	$(VENV)/bin/portico serve --config $(CONFIG)

test: install
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy app oauth proxy migrations tests bench examples

fmt: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Benchmarks (never part of `make test`): echo upstream direct vs through Portico, wrk load; see bench/run.py.
# Writes bench/results/<date>.md. BENCH_ARGS=--quick for a seconds-long run.
# Peer gateways (bench/peers; off with --no-peers or --quick) install themselves into .bench-peers/ from PyPI
# and npm at bench time; supergateway runs on the suite's Node 22 (node-deps). BENCH_PEERS=a,b picks peers.
bench: install node-deps
	@command -v wrk >/dev/null 2>&1 || { apt-get install -y wrk || { apt-get update && apt-get install -y wrk; }; }
	$(VENV)/bin/python -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .uv
