"""Signed checkpoints of the log: the latest, by size, the verifier key, and on demand."""
