"""Anchoring signed checkpoints to a public EVM chain (built in its own issue)."""
