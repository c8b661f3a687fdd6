"""Benchmarks: run on demand (`make bench`), never by the tests."""
