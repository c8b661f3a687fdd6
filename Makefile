# Two commands for a fresh machine: `make demo` and `make test` (see README.md).
UV_VERSION := 0.13.9
UV := .tools/bin/uv
export UV_PYTHON_DOWNLOADS := never

.PHONY: demo test sync lint schema bench

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
	else echo "npm not found: the client conformance tests will skip"; fi

demo: sync
	.venv/bin/usage-gateway serve --demo

test: sync
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy .
	.venv/bin/pytest

schema: sync
	.venv/bin/usage-gateway export-schema --output schema.graphql

# Benchmarks against the local PostgreSQL and Redis (needs wrk): see README, Performance.
bench: $(UV)
	$(UV) sync --frozen --quiet --group bench
	.venv/bin/python -m bench.run
