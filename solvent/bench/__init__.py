"""`make bench`: measurements rendered into docs/BENCHMARKS.md."""
