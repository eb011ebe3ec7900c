"""Jiuyuan's pure ledger core: canonical encoding, hashing, Merkle proofs, checkpoints.

Nothing in this package touches a database, a network or a web framework; storage reaches it
through function arguments.
"""
