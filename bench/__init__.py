"""Benchmarks, run on demand (``make bench BENCH=name``); the tests run each at a tiny
size (its ``SMOKE_ARGS``) but never time them."""
