"""The ledger's own exceptions: every bad input to the pure core surfaces as one of these."""


class LedgerError(Exception):
    """Base class of every error raised by the ledger core."""


class VerificationError(LedgerError):
    """A proof, signature or log that does not verify, or malformed proof input."""


class MalformedEntryError(LedgerError):
    """An entry that cannot be encoded."""
