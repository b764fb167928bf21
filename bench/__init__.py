"""Benchmarks, run on demand (``make bench BENCH=name``), never as timed tests."""
