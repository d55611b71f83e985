"""Crash simulator: price paths, trader populations, keepers with latency and failures."""
