"""Anchoring signed checkpoints to a public EVM chain, and self-contained receipts.

The log's latest checkpoint goes on chain as 52 bytes of calldata once per interval
(:mod:`anchoring.encoding`), moved through pending → submitted → confirmed by
:mod:`anchoring.anchorer` under :mod:`anchoring.runner`'s lease and backoff; receipts are built
and checked by :mod:`anchoring.receipt`. docs/anchoring.md explains the formats and the trust
model; :func:`anchoring.service.anchor_for` is what other domains call.
"""
