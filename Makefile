# Two commands for a fresh machine: `make demo` and `make test` (see README.md).
UV_VERSION := 0.13.9
UV := .tools/bin/uv
export UV_PYTHON_DOWNLOADS := never

.PHONY: demo test test-engines-off sync lint schema bench web

$(UV):
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

# The Node clients of the conformance suite (clients/package-lock.json), when npm is
# here; without it those tests skip locally and fail under CI=true.
sync: $(UV)
	$(UV) sync --frozen --quiet
	@if command -v npm >/dev/null; then \
	  echo "npm ci in clients/ (the pinned GraphQL clients of the conformance suite)"; \
	  npm ci --prefix clients --no-audit --no-fund --loglevel=error; \
	  echo "npm ci in web/ (the usage page's toolchain; its build is committed)"; \
	  npm ci --prefix web --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the client conformance tests will skip"; fi

demo: sync
	.venv/bin/usage-gateway serve --demo

test: sync
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy .
	.venv/bin/pytest

# The read, write and limit suites once more on Strawberry and graphql-core as
# released (schema/engine.py's switch off): the fast paths change speed, never answers.
ENGINE_SUITES := tests/resolvers/test_usage_views.py tests/resolvers/test_record_usage_over_http.py \
  tests/schema tests/system/test_accepted_ranges.py
test-engines-off: sync
	USAGE_GATEWAY_ENGINE_FAST_PATHS=false .venv/bin/pytest -q $(ENGINE_SUITES)

# The reference usage page (/usage): web/ (Vite + TypeScript, types generated from
# schema.graphql and the documents it sends) built into gateway/static/usage/, which
# is committed, so `make demo` needs no npm. Run it after changing web/, the schema
# or those documents; tests/gateway/test_usage_page.py fails until the build is current.
web:
	npm ci --prefix web --no-audit --no-fund --loglevel=error
	npm run build --prefix web

schema: sync
	.venv/bin/usage-gateway export-schema --output schema.graphql

# Benchmarks against the local PostgreSQL and Redis (needs wrk): see README, Performance.
bench: $(UV)
	$(UV) sync --frozen --quiet --group bench
	.venv/bin/python -m bench.run
