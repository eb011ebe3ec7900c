"""Appending entries to the log and reading them back with proofs."""
