"""A JSON-RPC connection to an EVM chain: the few calls anchoring and receipt checks make.

Every failure to reach the node surfaces as :class:`ChainUnavailable` (retry later), a node's
refusal of a transaction as :class:`ChainRejected`. web3's own retries are off: the anchoring
worker owns the backoff, so an outage costs one short timeout per attempt, never a hung worker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

from anchoring.errors import AnchoringConfigError, ChainRejected, ChainUnavailable
from anchoring.ethereum import (
    HexBytes,
    HTTPProvider,
    TransactionNotFound,
    Web3,
    Web3Exception,
    Web3RPCError,
    Wei,
    in_process_provider,
)

log = logging.getLogger(__name__)

IN_PROCESS = "eth-tester"
"""The RPC 'URL' that selects web3's in-process EthereumTesterProvider (development only)."""

T = TypeVar("T")

# What nodes say when a transaction they are sent again is already in their pool: success.
_ALREADY_KNOWN = ("already known", "already imported", "known transaction", "alreadyknown")


@dataclass(frozen=True)
class FeeQuote:
    """The chain's fee market now: the latest block's base fee and a suggested tip (wei)."""

    base_fee: int
    priority_fee: int


@dataclass(frozen=True)
class MinedTx:
    """A transaction's receipt: where it was mined and what it cost."""

    tx_hash: bytes
    block_number: int
    block_hash: bytes
    success: bool
    gas_used: int
    effective_gas_price: int


@dataclass(frozen=True)
class ChainTx:
    """A transaction as the node returns it (mined or still in its pool)."""

    tx_hash: bytes
    sender: str
    to: str | None
    data: bytes
    nonce: int
    block_number: int | None
    block_hash: bytes | None


class Web3Chain:
    """One EVM chain reached through web3 (anvil, a public node, or the in-process tester)."""

    def __init__(self, w3: Web3, description: str, hidden: tuple[str, ...] = ()) -> None:
        self.w3 = w3
        self.description = description
        self._hidden = tuple(h for h in hidden if len(h) > 1)  # never in a message

    def _scrub(self, text: str) -> str:
        for secret in self._hidden:
            text = text.replace(secret, "/…")
        return text

    @classmethod
    def connect(cls, url: str, timeout_s: float = 10.0) -> Web3Chain:
        """Return a chain for an ``http(s)://`` JSON-RPC URL, or ``eth-tester`` (in-process).

        No request is made here; the first call that needs the node may raise
        :class:`ChainUnavailable`.

        :raises AnchoringConfigError: if the URL is neither.
        """
        if url == IN_PROCESS:
            return cls(Web3(in_process_provider()), "web3's in-process EthereumTesterProvider")
        if not url.startswith(("http://", "https://")):
            raise AnchoringConfigError(
                f"JIUYUAN_CHAIN_RPC_URL must be an http(s):// JSON-RPC URL or {IN_PROCESS!r}"
            )
        provider = HTTPProvider(
            url, request_kwargs={"timeout": timeout_s}, exception_retry_configuration=None
        )
        parts = urlsplit(url)
        hidden = (parts.path + ("?" + parts.query if parts.query else ""), parts.path)
        return cls(Web3(provider), _redact_url(url), hidden)

    @property
    def in_process(self) -> bool:
        return self.description.startswith("web3's in-process")

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except (OSError, Web3Exception) as exc:
            reason = self._scrub(_reason(exc))
            raise ChainUnavailable(f"{what} at {self.description} failed: {reason}") from exc

    def chain_id(self) -> int:
        """Return the chain id the node reports (EIP-155)."""
        return self._call("eth_chainId", lambda: int(self.w3.eth.chain_id))

    def head(self) -> int:
        """Return the number of the latest block."""
        return self._call("eth_blockNumber", lambda: int(self.w3.eth.block_number))

    def fee_quote(self) -> FeeQuote:
        """Return the latest base fee and the node's suggested priority fee."""

        def quote() -> FeeQuote:
            block = self.w3.eth.get_block("latest")
            base = int(block.get("baseFeePerGas", 0))
            return FeeQuote(base, int(self.w3.eth.max_priority_fee))

        return self._call("reading the fee market", quote)

    def nonce(self, address: str, block: Literal["latest", "pending"]) -> int:
        """Return the transaction count of ``address`` in the latest block or with its pool."""
        checksum = Web3.to_checksum_address(address)
        return self._call(
            "eth_getTransactionCount",
            lambda: int(self.w3.eth.get_transaction_count(checksum, block)),
        )

    def balance(self, address: str) -> int:
        """Return the balance of ``address`` in wei."""
        checksum = Web3.to_checksum_address(address)
        return self._call("eth_getBalance", lambda: int(self.w3.eth.get_balance(checksum)))

    def estimate_gas(self, sender: str, data: bytes) -> int:
        """Return the node's gas estimate for a self-addressed transaction carrying ``data``."""
        checksum = Web3.to_checksum_address(sender)
        tx: Any = {"from": checksum, "to": checksum, "value": 0, "data": data}
        return self._call("eth_estimateGas", lambda: int(self.w3.eth.estimate_gas(tx)))

    def broadcast(self, raw: bytes) -> None:
        """Send a signed transaction; one the node already holds counts as sent.

        :raises ChainRejected: if the node refuses it (nonce, fee, funds), with its reason.
        :raises ChainUnavailable: if the node cannot be reached.
        """
        try:
            self.w3.eth.send_raw_transaction(raw)
        except Web3RPCError as exc:
            reason = self._scrub(_reason(exc))
            if any(marker in reason.lower() for marker in _ALREADY_KNOWN):
                return
            raise ChainRejected(reason) from exc
        except (OSError, Web3Exception) as exc:
            raise ChainUnavailable(
                f"eth_sendRawTransaction at {self.description} failed: {self._scrub(_reason(exc))}"
            ) from exc

    def receipt(self, tx_hash: bytes) -> MinedTx | None:
        """Return the receipt of a mined transaction, or None while it is not in a block."""

        def fetch() -> MinedTx | None:
            try:
                r = self.w3.eth.get_transaction_receipt(HexBytes(tx_hash))
            except TransactionNotFound:
                return None
            if r.get("blockNumber") is None:
                return None
            return MinedTx(
                tx_hash=bytes(r["transactionHash"]),
                block_number=int(r["blockNumber"]),
                block_hash=bytes(r["blockHash"]),
                success=int(r["status"]) == 1,
                gas_used=int(r["gasUsed"]),
                effective_gas_price=int(r.get("effectiveGasPrice", 0)),
            )

        return self._call("eth_getTransactionReceipt", fetch)

    def transaction(self, tx_hash: bytes) -> ChainTx | None:
        """Return a transaction the node knows (mined or pending), or None."""

        def fetch() -> ChainTx | None:
            try:
                tx = self.w3.eth.get_transaction(HexBytes(tx_hash))
            except TransactionNotFound:
                return None
            number = tx.get("blockNumber")
            block_hash = tx.get("blockHash")
            return ChainTx(
                tx_hash=bytes(tx["hash"]),
                sender=str(tx["from"]),
                to=None if tx.get("to") is None else str(tx["to"]),
                data=bytes(tx["input"]),
                nonce=int(tx["nonce"]),
                block_number=None if number is None else int(number),
                block_hash=None if block_hash is None else bytes(block_hash),
            )

        return self._call("eth_getTransactionByHash", fetch)

    def block_hash(self, number: int) -> bytes | None:
        """Return the hash of the canonical block at ``number``, or None past the head."""

        def fetch() -> bytes | None:
            try:
                block = self.w3.eth.get_block(number)
            except Web3Exception as exc:
                if "not found" in str(exc).lower():
                    return None
                raise
            value = block.get("hash")
            return None if value is None else bytes(value)

        return self._call("eth_getBlockByNumber", fetch)

    def fund_in_process(self, address: str, wei: int) -> None:
        """Give ``address`` ether from the in-process chain's prefunded account (dev only)."""
        if not self.in_process:
            raise AnchoringConfigError("only the in-process development chain can be funded")
        rich = self.w3.eth.accounts[0]
        to = Web3.to_checksum_address(address)
        tx_hash = self.w3.eth.send_transaction({"from": rich, "to": to, "value": Wei(wei)})
        self.w3.eth.wait_for_transaction_receipt(tx_hash)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, Web3RPCError):
        message = exc.rpc_response.get("error", {}) if exc.rpc_response else {}
        if isinstance(message, dict) and message.get("message"):
            return str(message["message"])
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 300 else text[:300] + "…"


def _redact_url(url: str) -> str:
    """The URL without credentials, path or query (RPC providers put API keys in them)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    path = parts.path if len(parts.path) <= 1 else "/…"
    return f"{parts.scheme}://{host}{port}{path}"
