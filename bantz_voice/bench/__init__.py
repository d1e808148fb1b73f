"""Shared pieces of the benchmarks (scripts/bench_*.py): statistics, a private PulseAudio server."""
