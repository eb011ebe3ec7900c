"""Errors of the anchoring package."""

from __future__ import annotations


class AnchoringError(Exception):
    """Base of every anchoring error; the message says what to do about it."""


class AnchoringConfigError(AnchoringError):
    """The settings cannot work (missing key, wrong chain, unreadable keystore): fix and restart."""


class ChainUnavailable(AnchoringError):
    """The chain's RPC endpoint could not be reached or did not answer: retry later."""


class ChainRejected(AnchoringError):
    """The node refused a transaction (funds, fees, nonce); the reason is the node's own."""
