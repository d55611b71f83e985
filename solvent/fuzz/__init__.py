"""Stateful fuzzing of the deployed protocol: a driver (ape or fast path), a shadow model, the
invariants and a Hypothesis state machine. See docs/fuzzing.md."""
