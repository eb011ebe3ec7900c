"""Anchoring as the rest of Jiuyuan uses it: the backend chosen by a setting, and lookups.

``JIUYUAN_ANCHOR_BACKEND=web3`` anchors to the chain at ``JIUYUAN_CHAIN_RPC_URL``;
``null`` (the default) turns anchoring off: nothing is sent and entries have no anchor.
Other domains show an entry's anchor with :func:`anchor_for`.
"""

from __future__ import annotations

import logging

from sqlalchemy import Connection

from anchoring import repository as repo
from anchoring.anchorer import AnchorPolicy, StepReport, Web3Anchorer
from anchoring.errors import AnchoringConfigError
from anchoring.fees import gwei_to_wei
from anchoring.keys import AnchorKey
from anchoring.repository import AnchorRecord
from anchoring.runner import Anchorer, AnchorRunner
from api.config import Settings
from api.db import Database
from ledger.note import NoteVerifier

log = logging.getLogger(__name__)

__all__ = [
    "AnchorRecord",
    "Anchorer",
    "NullAnchorer",
    "anchor_for",
    "load_anchorer",
    "poll_interval",
    "start_anchoring",
]

DEV_FUNDING_WEI = 1000 * 10**18


class NullAnchorer:
    """Anchoring turned off: every step says so, nothing is written anywhere."""

    backend = "null"

    def describe(self) -> str:
        """Say that anchoring is off and how to turn it on."""
        return "null: anchoring is off (set JIUYUAN_ANCHOR_BACKEND=web3 and JIUYUAN_CHAIN_RPC_URL)"

    def step(self) -> StepReport:
        """Do nothing, and say so."""
        return StepReport("disabled", self.describe())


def anchor_for(conn: Connection, seq: int) -> AnchorRecord | None:
    """Return the confirmed anchor that covers entry ``seq`` (its earliest), or None yet.

    The anchored checkpoint's tree contains the entry (``tree_size > seq``), so an inclusion
    proof from the entry to that checkpoint exists; see :func:`anchoring.receipt.build_receipt`.
    """
    return repo.anchor_covering(conn, seq)


def load_key(settings: Settings) -> AnchorKey:
    """The anchoring key from the keystore (preferred) or the private key setting.

    :raises AnchoringConfigError: if neither is set or the one set cannot be used.
    """
    if settings.chain_keystore is not None:
        return AnchorKey.from_keystore(settings.chain_keystore, settings.chain_keystore_password)
    if settings.chain_private_key is not None:
        return AnchorKey.from_private_key(settings.chain_private_key)
    raise AnchoringConfigError(
        "anchoring needs a key: set JIUYUAN_CHAIN_KEYSTORE (and JIUYUAN_CHAIN_KEYSTORE_PASSWORD) "
        "or JIUYUAN_CHAIN_PRIVATE_KEY"
    )


def load_anchorer(settings: Settings, db: Database, verifier: NoteVerifier) -> Anchorer:
    """Return the anchorer the settings choose (no network call for ``web3`` but funding the
    in-process development chain).

    :raises AnchoringConfigError: if ``web3`` is chosen without an RPC URL or a usable key, or
        with a fee ceiling that is not a whole number of wei.
    """
    if settings.anchor_backend == "null":
        return NullAnchorer()
    from anchoring.chain import Web3Chain

    if not settings.chain_rpc_url:
        raise AnchoringConfigError(
            "JIUYUAN_ANCHOR_BACKEND=web3 needs JIUYUAN_CHAIN_RPC_URL (a JSON-RPC URL, "
            "or 'eth-tester' for web3's in-process development chain)"
        )
    try:
        ceiling = gwei_to_wei(settings.anchor_max_fee_gwei)
    except ValueError as exc:
        raise AnchoringConfigError(f"JIUYUAN_ANCHOR_MAX_FEE_GWEI: {exc}") from None
    chain = Web3Chain.connect(settings.chain_rpc_url, settings.chain_rpc_timeout_s)
    key = load_key(settings)
    if chain.in_process:
        log.warning(
            "anchoring to web3's in-process EthereumTesterProvider: a throw-away chain inside "
            "this process (no Node/anvil); its anchors vanish when the process stops"
        )
        if chain.balance(key.address) == 0:
            chain.fund_in_process(key.address, DEV_FUNDING_WEI)
    policy = AnchorPolicy(
        interval_s=settings.anchor_interval_s,
        confirmations=settings.anchor_confirmations,
        max_fee_wei=ceiling,
        stuck_after_s=settings.anchor_stuck_after_s,
    )
    return Web3Anchorer(
        db,
        chain,
        key,
        verifier,
        settings.log_origin,
        policy,
        expected_chain_id=settings.chain_id,
    )


def poll_interval(settings: Settings) -> float:
    """How often the worker looks at the chain: often enough to follow confirmations."""
    return min(15.0, max(0.05, settings.anchor_interval_s / 4))


def start_anchoring(
    settings: Settings, db: Database, verifier: NoteVerifier
) -> AnchorRunner | None:
    """Start the anchoring worker thread for the service, or None when anchoring is off.

    Several server processes may each start one: the lease lets one anchor at a time.

    :raises AnchoringConfigError: as :func:`load_anchorer`; a bad setting stops the service
        from starting, while an unreachable chain only delays anchoring.
    """
    anchorer = load_anchorer(settings, db, verifier)
    if isinstance(anchorer, NullAnchorer):
        log.info("anchoring is off (JIUYUAN_ANCHOR_BACKEND=null)")
        return None
    runner = AnchorRunner(db, anchorer, poll_s=poll_interval(settings))
    runner.start()
    return runner
