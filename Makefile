# Two commands for a fresh machine: `make demo` and `make test` (see README.md).
UV_VERSION := 0.13.9
UV := .tools/bin/uv
export UV_PYTHON_DOWNLOADS := never

.PHONY: demo test sync lint schema bench

$(UV):
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

sync: $(UV)
	$(UV) sync --frozen --quiet

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
