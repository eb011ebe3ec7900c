"""web3 and eth-account, imported without their side effect on the interpreter.

On import, py_ecc (under eth-account) and py-evm (under web3's in-process tester) raise
``sys.setrecursionlimit`` to 100,000. The service relies on Python's default limit: the ledger
refuses deeply nested JSON by catching ``RecursionError``, and at 100,000 frames such a request
overflows the C stack and kills the whole process instead. Every import of those libraries in
Jiuyuan goes through here, and the limit is put back.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def recursion_limit_kept() -> Iterator[None]:
    """Run an import and restore the interpreter's recursion limit afterwards."""
    limit = sys.getrecursionlimit()
    try:
        yield
    finally:
        sys.setrecursionlimit(limit)


with recursion_limit_kept():
    from eth_account import Account
    from eth_account.signers.local import LocalAccount
    from hexbytes import HexBytes
    from web3 import HTTPProvider, Web3
    from web3.exceptions import TransactionNotFound, Web3Exception, Web3RPCError
    from web3.types import Wei


def in_process_provider() -> Any:
    """Return web3's in-process EthereumTesterProvider (py-evm), the limit kept."""
    with recursion_limit_kept():
        from web3 import EthereumTesterProvider

        return EthereumTesterProvider()


__all__ = [
    "Account",
    "HTTPProvider",
    "HexBytes",
    "LocalAccount",
    "TransactionNotFound",
    "Web3",
    "Web3Exception",
    "Web3RPCError",
    "Wei",
    "in_process_provider",
    "recursion_limit_kept",
]
